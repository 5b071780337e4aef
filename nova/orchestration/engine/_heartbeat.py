"""Heartbeat: renew every lease an owner holds, in one statement, periodically.

A conductor runs one per process (design 4.4: every lease/3 seconds). An
engine also renews its own lease when it writes, but a long task writes
nothing for minutes: without a heartbeat its lease would expire and a sweeper
would adopt the workflow (the old engine would then be fenced).
"""

import logging
import threading

from nova.orchestration.persistence.base import DEFAULT_LEASE_SECONDS

LOG = logging.getLogger(__name__)


class Heartbeat:
    """Calls ``backend.extend_leases(owner, lease_seconds, ids)`` every
    ``interval`` seconds (default lease/3) in a daemon thread.

    ``workflow_ids`` (a callable returning the ids of the workflows this
    owner's engines are running now) keeps the lease of a workflow whose
    engine died from being renewed by a process that lives on; None
    renews every lease of ``owner``.

    Use as a context manager or call start()/stop(). A failed renewal is
    logged and retried at the next beat.
    """

    def __init__(
        self,
        backend,
        owner,
        lease_seconds=DEFAULT_LEASE_SECONDS,
        interval=None,
        workflow_ids=None,
    ):
        self.backend = backend
        self.workflow_ids = workflow_ids
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.interval = interval or lease_seconds / 3.0
        self._stop = threading.Event()
        self._thread = None
        self.beats = 0

    def beat(self):
        """Renew now; -> number of workflows renewed (0 on error)."""
        try:
            ids = self.workflow_ids() if self.workflow_ids else None
            n = self.backend.extend_leases(self.owner, self.lease_seconds, ids)
        except Exception:
            LOG.exception('heartbeat of %s failed; retrying', self.owner)
            return 0
        self.beats += 1
        return n

    def _run(self):
        while not self._stop.wait(self.interval):
            self.beat()

    def start(self):
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name='orchestration-heartbeat', daemon=True
            )
            self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
