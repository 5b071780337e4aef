"""Serve the compute API on cheroot, a production-grade threaded WSGI
server, in this process.

nova-api runs one :class:`APIServer` as its main job; nova-all starts one
beside its other services. ``port=0`` picks a free port (tests), which
:attr:`APIServer.port` reports after :meth:`APIServer.start`.
"""

import threading

from cheroot import wsgi as cheroot_wsgi
from oslo_log import log as logging

from nova.api.openstack import wsgi_app
import nova.conf

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# Seconds a stop waits for requests in flight before closing sockets.
_SHUTDOWN_TIMEOUT = 5


class APIServer:
    """The compute API on ``host``:``port``, served by a thread pool.

    :param host: address to listen on (default ``[DEFAULT]
        osapi_compute_listen``).
    :param port: port (default ``[DEFAULT] osapi_compute_listen_port``;
        0 for a free one).
    :param app: WSGI app to serve (default: the paste pipeline).
    """

    def __init__(self, host=None, port=None, app=None):
        self.host = host if host is not None else CONF.osapi_compute_listen
        self.port = (
            port if port is not None else CONF.osapi_compute_listen_port
        )
        self._app = app
        self._server = None
        self._thread = None

    def start(self):
        """Bind and serve in a background thread; return self.

        :raises OSError: when the address cannot be bound (in use, ...).
        """
        app = self._app if self._app is not None else wsgi_app.load_app()
        server = cheroot_wsgi.Server(
            (self.host, self.port),
            app,
            numthreads=CONF.osapi_compute_workers,
            server_name='nova-api',
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        server.prepare()  # binds now, so errors surface to the caller
        self.port = server.bind_addr[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve, name='nova-api-%d' % self.port, daemon=True
        )
        self._thread.start()
        LOG.info(
            'Compute API listening on http://%s:%d/v2.1', self.host, self.port
        )
        return self

    @property
    def url(self):
        """Base URL of the v2.1 API (for clients and tests)."""
        host = self.host if self.host not in ('0.0.0.0', '::') else '127.0.0.1'
        if ':' in host:
            host = '[%s]' % host
        return 'http://%s:%d/v2.1' % (host, self.port)

    def stop(self):
        """Stop accepting, finish requests in flight, join the thread."""
        if self._server is None:
            return
        self._server.stop()
        self._thread.join(_SHUTDOWN_TIMEOUT + 5)
        self._server = None
        LOG.info('Compute API on port %d stopped', self.port)

    def wait(self):
        """Block until the server thread ends (after :meth:`stop`)."""
        if self._thread is not None:
            self._thread.join()
