"""nova-scheduler: serve select_destinations on the 'scheduler' topic.

Exit codes: 0 after a clean stop (SIGTERM or SIGINT), 1 when the
configuration names an unknown filter, 2 when the database cannot be
used.
"""

import signal
import sys
import threading

from oslo_log import log as logging

from nova import config
from nova import rpc
from nova import service
from nova.db import api as db_api
from nova.scheduler import filters
from nova.scheduler import manager

LOG = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_CONFIG = 1
EXIT_DB_UNAVAILABLE = 2


def main(argv=None):
    """Run nova-scheduler until SIGTERM or SIGINT."""
    config.parse_args(sys.argv if argv is None else argv)
    try:
        scheduler = manager.SchedulerManager()
    except filters.FilterNotFound as exc:
        print('ERROR: %s' % exc, file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        db_api.get_engine()
    except db_api.DBUnavailable as exc:
        print('ERROR: %s' % exc, file=sys.stderr)
        return EXIT_DB_UNAVAILABLE
    server = service.Service('nova-scheduler', 'scheduler', scheduler)
    stop = threading.Event()

    def _request_stop(signum, frame):
        LOG.info('nova-scheduler got signal %s, stopping', signum)
        stop.set()

    previous = {
        signum: signal.signal(signum, _request_stop)
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        server.start()
        # A timed wait keeps the main thread responsive to signals.
        while not stop.wait(1):
            pass
    finally:
        server.stop()
        rpc.cleanup()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return EXIT_OK
