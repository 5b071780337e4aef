"""The Backend interface the engine and the conductor use.

Rows are plain dicts with the column names of design 4.3. JSON columns
(``store``, ``result``, ``failure``) hold already-encoded text: the engine
encodes once (checking size and serializability) and backends store text.

Ownership (design 4.4): ``claim`` bumps ``generation``; every engine write goes
through ``save`` which is fenced by that generation, so a stale owner's write
fails with OwnershipLost before anything of it commits.
"""

import abc
import datetime

from nova.orchestration import states
from nova.orchestration.exceptions import AbortRequested as AbortRequested

# AbortRequested (re-exported above) is defined with the other errors; the
# engine and callers import it from here as they did before it moved.

#: Default cap, in bytes, of one encoded task result/failure. MySQL columns are
#: LONGTEXT so the cap is a choice, not a column limit: large results belong in
#: their own tables, a workflow row is not a blob store.
DEFAULT_RESULT_SIZE_LIMIT = 64 * 1024
#: The encoded store may be this many times larger than a result.
STORE_SIZE_FACTOR = 16

WORKFLOW_COLUMNS = (
    'id',
    'name',
    'factory',
    'factory_version',
    'state',
    'store',
    'target_type',
    'target_id',
    'request_id',
    'project_id',
    'user_id',
    'owner',
    'generation',
    'lease_expires_at',
    'abort_requested',
    'adoptions',
    'failure',
    'created_at',
    'updated_at',
    'finished_at',
)
TASK_COLUMNS = (
    'workflow_id',
    'name',
    'position',
    'state',
    'attempt',
    'result',
    'failure',
    'started_at',
    'finished_at',
    'revert_started_at',
    'revert_finished_at',
)
#: Task columns an engine write sets (all of them, every time: one compiled
#: statement serves every transition).
TASK_MUTABLE = (
    'state',
    'attempt',
    'result',
    'failure',
    'started_at',
    'finished_at',
    'revert_started_at',
    'revert_finished_at',
)

ACTIVE_STATES = tuple(
    s for s in states.WORKFLOW_STATES if s not in states.WORKFLOW_TERMINAL
)


#: Seconds a claim holds a workflow unless renewed, where nobody says
#: otherwise (nova sets ``[orchestration] lease_seconds``).
DEFAULT_LEASE_SECONDS = 30

#: The lease of a workflow released for immediate adoption (hand-back,
#: free, abort of a waiting workflow): long expired whatever the clocks
#: say. "Now" would not do: adoption needs lease < now, and a sweep in
#: the same clock tick (SQLite's clock ticks in milliseconds) misses it.
EXPIRED_LEASE = datetime.datetime(2000, 1, 1)

#: The owner of a workflow an operator freed while its owner's lease was
#: still running (see ``Backend.free``). No engine has this name (theirs
#: are ``host:boot_id:pid:nonce``): nobody renews it, and nobody claims
#: the row before the lease runs out.
FREED_OWNER = '(freed by an operator)'


def utcnow():
    """Naive UTC now (what every timestamp column stores)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def new_task_row(workflow_id, name, position):
    return {
        'workflow_id': workflow_id,
        'name': name,
        'position': position,
        'state': states.PENDING,
        'attempt': 0,
        'result': None,
        'failure': None,
        'started_at': None,
        'finished_at': None,
        'revert_started_at': None,
        'revert_finished_at': None,
    }


class Backend(abc.ABC):
    """Where workflows live. See MemoryBackend and SQLBackend."""

    result_size_limit = DEFAULT_RESULT_SIZE_LIMIT

    def upgrade(self):  # noqa: B027 (optional hook)
        """Create or upgrade the schema (no-op for memory)."""

    @abc.abstractmethod
    def create_workflow(
        self,
        workflow,
        tasks=(),
        owner=None,
        lease_seconds=DEFAULT_LEASE_SECONDS,
        connection=None,
    ):
        """Insert a workflow row (dict of WORKFLOW_COLUMNS, missing ones
        default) and its task rows [(name, position)] in one transaction.

        With ``owner`` the row is claimed at once (generation 1) and the
        generation is returned; else 0. ``connection`` (SQL only) is a caller's
        SQLAlchemy Connection inside its own transaction: nothing is committed
        here, the row appears when the caller commits.
        """

    @abc.abstractmethod
    def claim(self, workflow_id, owner, lease_seconds, generation=None):
        """Take ownership if free (owner NULL) or its lease expired.

        With ``generation``, only while the row still has it: a caller
        that decided from what it read (a completion checking its token)
        claims only if nothing was written since.

        A live lease is never taken over, not even by the same owner name: a
        duplicate request must not fence the engine already running it.

        Returns (generation, adoptions) or None when someone else holds it or
        it is finished. Taking it from another owner counts one adoption
        (``free`` counted it already for a row it freed).
        Raises WorkflowNotFound.
        """

    @abc.abstractmethod
    def load(self, workflow_id):
        """(workflow row dict, [task row dicts by position]);
        WorkflowNotFound."""

    @abc.abstractmethod
    def save(
        self,
        workflow_id,
        generation,
        tasks=(),
        workflow=None,
        check_abort=True,
        lease_seconds=DEFAULT_LEASE_SECONDS,
        release=False,
        release_until=None,
        new_tasks=(),
    ):
        """The fenced write: one transaction, or nothing.

        Guard first: the workflow row must still have ``generation`` (else
        OwnershipLost) and, with ``check_abort``, no abort request (else
        AbortRequested); the guard also renews the lease unless
        ``lease_seconds`` is None (the engine renews every lease/3 only:
        lease_expires_at is indexed, rewriting it on every commit costs).
        Then task updates (dicts with 'name' and TASK_MUTABLE), inserts
        (``new_tasks``: full task rows) and ``workflow`` column updates.
        ``release`` frees the row (owner NULL) and sets lease_expires_at to
        ``release_until`` (a pending step's deadline, so the sweeper wakes it
        for its timeout) or NULL.
        """

    @abc.abstractmethod
    def extend_leases(self, owner, lease_seconds, workflow_ids=None):
        """Renew the leases ``owner`` holds, in one statement; -> count.

        ``workflow_ids`` limits the renewal to the workflows the caller
        really runs: a lease whose engine died must run out even though
        its process lives on (invariant I3), so heartbeats pass the ids
        of their live engines. None renews every lease of ``owner``.
        """

    @abc.abstractmethod
    def release(self, workflow_id, generation):
        """Give a workflow up (owner NULL, lease expired: a sweeper adopts
        it) if we still hold ``generation``; -> bool."""

    @abc.abstractmethod
    def find_adoptable(self, grace_seconds=60, limit=100):
        """Ids of workflows to adopt: PENDING unowned older than the grace
        period (a lost cast), or active with an expired lease (dead owner,
        freed by an operator, or a waiting step past its deadline)."""

    @abc.abstractmethod
    def request_abort(self, workflow_id, connection=None):
        """Persist an abort request; -> False when the workflow is finished.

        With ``connection`` (SQL backends: a SQLAlchemy Connection in a
        transaction, as ``create_workflow`` takes) the request commits or
        rolls back with the caller's other writes; the memory backend
        ignores it. Raises WorkflowNotFound.
        """

    # Operator queries (see nova-manage workflow ...).
    @abc.abstractmethod
    def list_workflows(
        self, state=None, target=None, owner=None, older_than=None, limit=100
    ):
        """Workflow rows (no store) newest first; target is (type, id) or an
        id."""

    def get_workflow(self, workflow_id):
        """Workflow row with 'tasks' (rows by position); WorkflowNotFound."""
        row, tasks = self.load(workflow_id)
        row['tasks'] = tasks
        return row

    @abc.abstractmethod
    def stats(self):
        """{'by_state': {state: count}, 'owned': n, 'expired_leases': n,
        'abort_requested': n}."""

    @abc.abstractmethod
    def purge(self, before, batch_size=1000, dry_run=False):
        """Delete finished workflows finished before ``before`` (datetime). ->
        count."""

    @abc.abstractmethod
    def free(self, workflow_id, generation=None):
        """Free an unfinished workflow for adoption now; -> bool.

        Sets owner NULL and an expired lease and bumps the generation (so
        the old owner's next write fails) and ``adoptions``: whoever
        claims a freed workflow takes over a turn that did not end
        cleanly, and a workflow that keeps killing its engines must reach
        ``max_adoptions`` however it was freed. With ``generation`` the
        row is freed only while it still has that generation: a stale
        engine freeing "its" workflow must not fence the new owner.

        Without ``generation`` (an operator), a lease an owner still holds
        is kept until it runs out, under the owner ``FREED_OWNER``: the
        owner may be alive, and its queued steps start only while its
        lease is fresh by its own clock (invariant I8). Nobody may claim
        the row before then, not even a completion (whereas a row its
        owner handed back is claimed at once); so the workflow is adopted
        at most ``lease_seconds`` later.
        """

    @abc.abstractmethod
    def free_owned_by(self, owner):
        """Free every unfinished workflow ``owner`` holds, as ``free``
        does; -> count. For an owner proven dead (a restarted conductor
        freeing what its previous incarnation held) instead of waiting
        for its leases to run out."""

    def close(self):  # noqa: B027 (optional hook)
        """Release connections."""
