"""nova-all: the embedded nova, every service in one process.

Works with no configuration file at all: SQLite under ``[DEFAULT]
state_path`` (~/.nova), the in-process transport, the fake hypervisor
on the hosts of ``[all] compute_hosts``, and the compute API on
``[DEFAULT] osapi_compute_listen``:``osapi_compute_listen_port``. The
schema is created or upgraded on start. Ctrl-C (or SIGTERM) stops it.
"""

import signal
import sys
import threading

from oslo_log import log as logging

from nova import config
from nova import embedded
from nova import rpc
from nova.api import server as api_server
import nova.conf
from nova.db import api as db_api
from nova.db import defaults
from nova.db import migration

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def prepare_database():
    """Create or upgrade the embedded schema and its default catalog."""
    engine = db_api.get_engine()
    migration.db_sync(engine)
    with engine.begin() as conn:
        defaults.ensure_defaults(conn)


def main(argv=None):
    CONF.set_default('transport_url', rpc.IN_PROCESS_URL)
    config.parse_args(sys.argv if argv is None else argv)
    try:
        prepare_database()
    except db_api.DBUnavailable as exc:
        print('nova-all: %s' % exc, file=sys.stderr)
        return 2

    stack = embedded.EmbeddedNova().start()
    api = api_server.APIServer(
        CONF.osapi_compute_listen, CONF.osapi_compute_listen_port
    )
    try:
        api.start()
    except OSError as exc:
        stack.stop()
        print(
            'nova-all: cannot listen on %s:%s: %s'
            % (CONF.osapi_compute_listen, CONF.osapi_compute_listen_port, exc),
            file=sys.stderr,
        )
        return 2
    print(
        'nova-all: compute API at http://%s:%d/v2.1 (state in %s, '
        'database %s, compute hosts %s); Ctrl-C stops'
        % (
            CONF.osapi_compute_listen,
            api.port,
            CONF.state_path,
            CONF.database.connection,
            ', '.join(stack.compute_hosts),
        ),
        flush=True,
    )

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    print('nova-all: stopping', flush=True)
    api.stop()
    stack.stop()
    rpc.cleanup()
    return 0


def _console_main():
    sys.exit(main())
