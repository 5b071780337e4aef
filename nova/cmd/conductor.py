"""nova-conductor: runs workflows; any number per deployment.

``[conductor] workers`` > 1 forks that many worker processes, each a
separate workflow owner; the parent forwards SIGTERM to them and waits.
"""

import os
import signal
import sys

from nova import config
from nova import service
from nova.cmd import _service_main
from nova.conductor import manager
import nova.conf

CONF = nova.conf.CONF


def _make_service():
    return service.Service(
        'nova-conductor', CONF.conductor.topic, manager.ConductorManager()
    )


def _run_workers(count):
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            code = _service_main.serve('nova-conductor', _make_service)
            os._exit(code or 0)
        children.append(pid)

    def forward(signum, _frame):
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    for child in children:
        _pid, code = os.waitpid(child, 0)
        status = status or os.waitstatus_to_exitcode(code)
    return status


def main():
    # Peek at [conductor] workers before forking: each worker parses the
    # configuration again for itself.
    config.parse_args(sys.argv, configure_db=False)
    workers = CONF.conductor.workers
    if workers <= 1:
        sys.exit(_service_main.serve('nova-conductor', _make_service))
    CONF.clear()
    sys.exit(_run_workers(workers))
