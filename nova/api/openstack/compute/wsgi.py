"""WSGI module of the compute API for uWSGI and mod_wsgi.

``application`` is built at import from ``$OS_NOVA_CONFIG_DIR/nova.conf``
(default /etc/nova); see :func:`nova.api.openstack.wsgi_app.init_application`.

Like every nova binary (``nova/cmd/__init__.py``), the API runs on native
threads with eventlet kept out of the process: that must be decided before
anything imports oslo.messaging, hence before the other imports.
"""

from nova import native_threads

native_threads.enable()

from nova.api.openstack import wsgi_app  # noqa: E402

application = wsgi_app.init_application()
