"""nova-api: serve the compute REST API v2.1.

``nova-api --config-file /etc/nova/nova.conf`` listens on ``[DEFAULT]
osapi_compute_listen``:``osapi_compute_listen_port`` until SIGTERM or
SIGINT, then finishes the requests in flight and exits 0. It needs the
conductor and scheduler services (and compute hosts) reachable over
``[DEFAULT] transport_url``, and the shared database.
"""

import signal
import sys
import threading

from oslo_log import log as logging

from nova import config
from nova.api import server as api_server
from nova.api.openstack import wsgi_app
import nova.conf

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def main(argv=None):
    """Run nova-api; the return value is the exit code."""
    config.parse_args(sys.argv if argv is None else argv)

    try:
        app = wsgi_app.load_app()
    except wsgi_app.PasteConfigNotFound as exc:
        print('nova-api: %s' % exc, file=sys.stderr)
        return 2
    api = api_server.APIServer(
        CONF.osapi_compute_listen, CONF.osapi_compute_listen_port, app=app
    )
    try:
        api.start()
    except OSError as exc:
        print(
            'nova-api: cannot listen on %s:%s: %s'
            % (CONF.osapi_compute_listen, CONF.osapi_compute_listen_port, exc),
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()

    def _on_signal(signum, frame):
        LOG.info('nova-api: signal %d received, stopping', signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print('nova-api: compute API at %s' % api.url, flush=True)
    while not stop.wait(1):
        pass
    api.stop()
    return 0
