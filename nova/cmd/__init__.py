"""The entry points of nova's binaries (see ``setup.cfg``).

Importing this package, which Python does before any entry point module,
makes the process run on native threads with eventlet kept out of it
(:mod:`nova.native_threads`). That has to happen before anything imports
oslo.messaging, so it stays the first statement here.
"""

from nova import native_threads

native_threads.enable()
