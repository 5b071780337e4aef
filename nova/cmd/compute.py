"""nova-compute: serve one host's hypervisor on topic compute.<host>.

Loads ``[compute] compute_driver`` for ``[DEFAULT] host``, reports the
node's capacity, and serves the compute RPC API until SIGTERM or SIGINT,
then stops taking calls, lets in-flight ones finish, and exits 0.
"""

import signal
import sys
import threading

from oslo_log import log as logging

from nova import config
from nova import rpc
from nova import service
from nova.compute import manager as compute_manager
import nova.conf
from nova.db import api as db_api
from nova.virt import driver as virt_driver

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def main(argv=None):
    """Run nova-compute; return the exit code."""
    config.parse_args(sys.argv if argv is None else argv)
    try:
        driver = virt_driver.load_compute_driver(CONF.host)
        db_api.get_engine()
    except (virt_driver.ComputeDriverNotFound, db_api.DBUnavailable) as exc:
        print('nova-compute: %s' % exc, file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in _STOP_SIGNALS:
        signal.signal(signum, lambda *_: stop.set())
    server = service.Service(
        'nova-compute',
        'compute',
        compute_manager.ComputeManager(CONF.host, driver),
        host=CONF.host,
    )
    server.start()
    try:
        # A timed wait keeps the main thread responsive to signals.
        while not stop.wait(1):
            pass
        LOG.info('nova-compute on %s stopping', CONF.host)
    finally:
        server.stop()
        rpc.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
