"""Run a nova process on native threads, with eventlet kept out of it.

No nova service is monkey-patched: the RPC servers use oslo.messaging's
``threading`` executor, periodic tasks and workflows run on threads, the
API on cheroot. eventlet is still installed, because oslo.service
requires it, and two things import it unless told not to:

* oslo.service loads its eventlet backend by default, and oslo.messaging
  imports oslo.service's components when it is itself imported;
* futurist and oslo.utils try ``import eventlet`` to learn whether it is
  there.

Importing eventlet costs about 0.2 s at start and, from eventlet 0.40
on, prints its deprecation warning on stderr: on every ``nova-manage``
call. :func:`enable` prevents both. It must run before oslo.messaging,
oslo.service or futurist is imported, which is why the ``nova.cmd``
package, the parent of every entry point, calls it first.

This module imports nothing from nova: it runs before nova's
configuration is registered.
"""

import sys

from oslo_service import backend as service_backend


def enable():
    """Select oslo.service's threading backend and keep eventlet out.

    eventlet is marked ``None`` in :data:`sys.modules`, so any later
    ``import eventlet`` raises ImportError, which the probing libraries
    read as "eventlet is not installed". The threading backend needs
    cotyledon (the ``oslo.service[threading]`` requirement). A process that
    imported eventlet already (a test runner exercising
    nova.orchestration's green executor, an application embedding nova)
    keeps it, and a backend selected already is left as it is: this
    only decides for a process that has not decided.
    """
    if 'eventlet' not in sys.modules:
        sys.modules['eventlet'] = None
    if service_backend.get_backend_type() is None:
        service_backend.init_backend(service_backend.BackendType.THREADING)
