"""One operation at a time per instance on a compute host, in arrival
order, and the tombstones of removals: the mechanics that
nova.compute.manager.ComputeManager's invariant (a destroy wins over
spawns) rests on. See that class for the invariant and why it holds.
"""

import collections
import contextlib
import itertools
import threading

from oslo_log import log as logging

from nova import exception

LOG = logging.getLogger(__name__)

#: How many removals (instance, workflow) -> generation to remember.
TOMBSTONES = 10000

#: Operations that make something on the host for an instance: refused
#: after a removal by the same workflow at their generation or newer.
CREATIONS = frozenset(['spawn', 'prepare_block_devices'])
#: Operations that remove it: each records its tombstone on arrival.
REMOVALS = frozenset(['destroy', 'cleanup_block_devices'])


class Operation:
    """One call on an instance, in its place in the instance's queue."""

    __slots__ = ('name', 'workflow_id', 'generation', 'superseded', 'deferred')

    def __init__(self, name, workflow_id=None, generation=None):
        self.name = name
        self.workflow_id = workflow_id
        self.generation = generation
        #: Set by a destroy that arrived while this spawn was queued or
        #: running; the driver's spawn receives it as its interrupt.
        self.superseded = threading.Event()
        #: What a destroy that stopped waiting leaves to do in its turn.
        self.deferred = None


class _Queue:
    """The operations of one instance on this host, in arrival order.

    The first one acts; the others wait on ``turn``, a condition of the
    InstanceQueues' guard lock.
    """

    __slots__ = ('operations', 'turn')

    def __init__(self, guard):
        self.operations = collections.deque()
        self.turn = threading.Condition(guard)


class InstanceQueues:
    """The queues of operations of one host's instances, and its
    tombstones. A guard lock protects both; it is never held while an
    operation acts."""

    def __init__(self, host):
        self.host = host
        self._guard = threading.Lock()
        #: instance uuid -> _Queue, while it has operations.
        self.queues = {}
        #: (instance uuid, workflow id) -> the highest generation at which
        #: the workflow removed the instance here (destroy or block device
        #: cleanup), oldest first.
        self.tombstones = collections.OrderedDict()

    def _enqueue(self, instance_uuid, operation):
        """Put ``operation`` last in the instance's queue (guard held)."""
        queue = self.queues.get(instance_uuid)
        if queue is None:
            queue = self.queues[instance_uuid] = _Queue(self._guard)
        queue.operations.append(operation)
        return queue

    def hand_over(self, instance_uuid, queue):
        """End the turn of the queue's first operation; start the next.

        A destroy that stopped waiting left its work in its operation:
        this thread does it in that turn, then hands over again.
        """
        while True:
            with self._guard:
                queue.operations.popleft()
                if not queue.operations:
                    del self.queues[instance_uuid]
                    return
                head = queue.operations[0]
                if head.deferred is None:
                    queue.turn.notify_all()
                    return
            try:
                head.deferred()
            except Exception:
                LOG.exception(
                    'Deferred %s of instance %s on %s failed',
                    head.name,
                    instance_uuid,
                    self.host,
                )

    def leave(self, instance_uuid, operation, queue):
        """Give up an operation's place without acting."""
        with self._guard:
            if queue.operations[0] is not operation:
                queue.operations.remove(operation)
                return
        self.hand_over(instance_uuid, queue)

    def _record_removal(self, instance_uuid, workflow_id, generation):
        """Remember that the workflow removed the instance here at
        ``generation`` (guard held); forget the oldest beyond
        TOMBSTONES."""
        if workflow_id is None or generation is None:
            return
        key = (instance_uuid, workflow_id)
        self.tombstones[key] = max(
            generation, self.tombstones.get(key, generation)
        )
        self.tombstones.move_to_end(key)
        while len(self.tombstones) > TOMBSTONES:
            self.tombstones.popitem(last=False)

    def _refuse_after_removal(self, instance_uuid, operation):
        """Refuse a creation that comes after its own workflow removed
        the instance here at its generation or a newer one (guard held).

        :raises InstanceDeployFailure: it comes too late.
        """
        if operation.workflow_id is None or operation.generation is None:
            return
        removed = self.tombstones.get((instance_uuid, operation.workflow_id))
        if removed is not None and operation.generation <= removed:
            LOG.warning(
                'Refusing %s of %s on %s: workflow %s removed it here at '
                'generation %s',
                operation.name,
                instance_uuid,
                self.host,
                operation.workflow_id,
                removed,
            )
            raise exception.InstanceDeployFailure(
                reason='the build step was reverted before its %s '
                '(workflow %s, generation %s) reached %s: the instance '
                'was removed there at generation %s'
                % (
                    operation.name,
                    operation.workflow_id,
                    operation.generation,
                    self.host,
                    removed,
                )
            )

    def arrive(self, instance_uuid, name, workflow_id=None, generation=None):
        """Take a place in the instance's queue -> (operation, queue).

        A creation arriving after its workflow's removal is refused at
        once, a removal records its tombstone at once (before its fencing
        check: a stale removal's tombstone only refuses calls as stale as
        itself).

        :raises InstanceDeployFailure: a creation that comes too late.
        """
        operation = Operation(name, workflow_id, generation)
        with self._guard:
            if name in CREATIONS:
                self._refuse_after_removal(instance_uuid, operation)
            if name in REMOVALS:
                self._record_removal(instance_uuid, workflow_id, generation)
            return operation, self._enqueue(instance_uuid, operation)

    @contextlib.contextmanager
    def turn(self, instance_uuid, operation, queue, check):
        """Wait for the operation's turn, ``check(operation)`` (the
        fencing check, just before the act), act, then hand over.

        :yields: the Operation.
        """
        with self._guard:
            queue.turn.wait_for(lambda: queue.operations[0] is operation)
        try:
            check(operation)
            yield operation
        finally:
            self.hand_over(instance_uuid, queue)

    def arrive_to_destroy(
        self, instance_uuid, workflow_id, generation, wait, destroy
    ):
        """A destroy's arrival: record its tombstone, supersede every
        spawn queued ahead of it, and wait for its turn at most ``wait``
        seconds.

        :returns: the queue, the destroy's turn come (the caller acts,
            then hands over); or None when the wait ended first: then
            ``destroy`` runs in the turn, on the thread that ends the
            turn before it.
        """
        operation = Operation('destroy', workflow_id, generation)
        with self._guard:
            self._record_removal(instance_uuid, workflow_id, generation)
            queue = self._enqueue(instance_uuid, operation)
            for ahead in queue.operations:
                if ahead.name == 'spawn':
                    ahead.superseded.set()
            if queue.turn.wait_for(
                lambda: queue.operations[0] is operation, wait
            ):
                return queue
            operation.deferred = destroy
            LOG.warning(
                'Destroy of %s on %s still waits behind %s; it will run in '
                'its turn',
                instance_uuid,
                self.host,
                ', '.join(
                    op.name
                    for op in itertools.takewhile(
                        lambda op: op is not operation, queue.operations
                    )
                ),
            )
            return None

    def queued(self, instance_uuid):
        """Names of the instance's operations, the acting one first."""
        with self._guard:
            queue = self.queues.get(instance_uuid)
            return [op.name for op in queue.operations] if queue else []
