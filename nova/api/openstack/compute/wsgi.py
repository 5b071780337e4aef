"""WSGI module of the compute API for uWSGI and mod_wsgi.

``application`` is built at import from ``$OS_NOVA_CONFIG_DIR/nova.conf``
(default /etc/nova); see :func:`nova.api.openstack.wsgi_app.init_application`.
"""

from nova.api.openstack import wsgi_app

application = wsgi_app.init_application()
