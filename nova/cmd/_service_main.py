"""Run one nova service in the foreground until SIGTERM or SIGINT."""

import signal
import sys
import threading

from oslo_log import log as logging

from nova import config
from nova import rpc
from nova.db import api as db_api

LOG = logging.getLogger(__name__)


def serve(binary, make_service, argv=None):
    """Parse the command line, start ``make_service()``, wait, stop.

    The service stops gracefully on SIGTERM/SIGINT: it takes no new RPC
    and hands running work back before the process exits.
    """
    config.parse_args(sys.argv if argv is None else argv)
    try:
        db_api.get_engine()
    except db_api.DBUnavailable as exc:
        print('%s: %s' % (binary, exc), file=sys.stderr)
        return 2
    # Handlers first: a SIGTERM while the service starts still stops it
    # cleanly instead of killing the process half-started.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    svc = make_service()
    svc.start()
    while not stop.wait(1):
        pass
    LOG.info('%s: stopping', binary)
    svc.stop()
    rpc.cleanup()
    return 0
