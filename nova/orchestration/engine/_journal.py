"""Journal: a workflow's rows as its engine sees them, and the fenced write.

Every state change goes through the declared transition tables
(``states.py``) and is kept as *dirty* until the next write, so that one
write (one transaction) carries everything that changed since the last
one: "task N SUCCESS" and "task N+1 RUNNING" commit together. Listeners
hear of a transition only once it is durable.
"""

import collections
import logging

from nova.orchestration import states
from nova.orchestration.exceptions import OrchestrationError
from nova.orchestration.persistence.base import TASK_MUTABLE
from nova.orchestration.persistence.base import new_task_row

LOG = logging.getLogger(__name__)
_TT = states.TASK_TRANSITIONS

Event = collections.namedtuple(
    'Event',
    'kind workflow_id name state result failure generation',
    defaults=(None,),
)
Event.__doc__ = """A transition given to listeners (kind 'workflow' or 'task').

Emitted after the transition is durably written. ``result`` is the task's
result (task SUCCESS), ``failure`` a Failure (task FAILURE/REVERT_FAILURE).
``generation`` is the fencing token the transition was written under: a
listener that acts on the event (writes rows) fences its writes with it,
since its owner may have been adopted away between the commit and the
telling (a process paused in between)."""


def blank_row(name):
    """A task row before anything ran (the columns an engine writes)."""
    row = new_task_row(None, name, 0)
    return {col: row[col] for col in ('name',) + TASK_MUTABLE}


class Journal:
    """The rows, what changed since the last write, and ``save``.

    ``generation`` is the fencing token of this engine's claim: every write
    carries it, and a write that finds another generation raises
    OwnershipLost with nothing committed (invariant I8).
    """

    def __init__(
        self, backend, policy, workflow_id, name, names, listeners=()
    ):
        self.backend = backend
        self.policy = policy
        self.workflow_id = workflow_id
        self.name = name
        self.rows = [blank_row(n) for n in names]
        self.state = states.PENDING
        self.generation = 0
        self.owned = False
        self._listeners = list(listeners)
        #: Whether anyone listens (callers skip building events if not).
        self.listening = bool(self._listeners)
        self._dirty = {}
        self._wf_dirty = {}
        self._new_rows = []
        self._events = []
        self._lease_renewed = None

    def own(self, generation, since):
        """This engine holds the workflow under ``generation``, with a
        lease set by a claim that started at ``since`` (the clock's
        monotonic time read before the claim: a stall between the claim
        and this call must count against the lease)."""
        self.generation = generation
        self.owned = True
        self._lease_renewed = since

    # -- changes -------------------------------------------------------------
    def task(self, i, event):
        """Move task ``i`` by ``event`` (InvalidTransition if illegal)."""
        row = self.rows[i]
        try:
            row['state'] = _TT[(row['state'], event)]
        except KeyError:
            states.task_transition(row['state'], event, row['name'])
        self._dirty[i] = row
        return row

    def touch(self, i):
        """Task ``i`` changed outside a transition (result, attempt)."""
        self._dirty[i] = self.rows[i]
        return self.rows[i]

    def workflow(self, event):
        """Move the workflow by ``event`` (InvalidTransition if illegal)."""
        self.state = states.workflow_transition(
            self.state, event, self.workflow_id
        )
        self._wf_dirty['state'] = self.state
        if self._listeners:
            self._events.append(
                Event(
                    'workflow',
                    self.workflow_id,
                    self.name,
                    self.state,
                    None,
                    None,
                    self.generation,
                )
            )

    def retract(self, state, *columns):
        """Take back an unwritten move of the workflow to its current
        state (back to ``state``) and the ``columns`` set with it."""
        undone = self.state
        self.state = state
        self._wf_dirty.pop('state', None)
        for col in columns:
            self._wf_dirty.pop(col, None)
        self._events = [
            e
            for e in self._events
            if e.kind != 'workflow' or e.state != undone
        ]

    def set(self, **columns):
        """Workflow columns to write with the next save."""
        self._wf_dirty.update(columns)

    def insert_all(self):
        """Write every task row with the next save (the workflow was
        created without them)."""
        self._new_rows = [
            dict(r, workflow_id=self.workflow_id, position=i)
            for i, r in enumerate(self.rows)
        ]

    def emit(self, i, result=None, failure=None):
        """Tell listeners, after the next save, of task ``i``'s state."""
        if self._listeners:
            row = self.rows[i]
            self._events.append(
                Event(
                    'task',
                    self.workflow_id,
                    row['name'],
                    row['state'],
                    result,
                    failure,
                    self.generation,
                )
            )

    def forget_start_events(self):
        """Drop the RUNNING events of starts that were never written."""
        self._events = [
            e
            for e in self._events
            if e.kind != 'task' or e.state != states.RUNNING
        ]

    @property
    def changed(self):
        return bool(self._dirty or self._wf_dirty or self._new_rows)

    # -- the fenced write ----------------------------------------------------
    def save(self, release=False, release_until=None, check_abort=True):
        """Write every change in one fenced transaction, or nothing.

        Raises OwnershipLost (another generation holds the row) or, with
        ``check_abort``, AbortRequested; both commit nothing. A write
        that fails for a database reason is tried again
        ``policy.save_attempts`` times in all: the transaction rolled
        back, so the same write can be repeated. ``release`` frees the
        row with ``release_until`` as its lease (see Backend.save).
        """
        policy, clock = self.policy, self.policy.clock
        # The guard UPDATE renews the lease every lease/3 only.
        mono = clock.monotonic()
        renew = mono - self._lease_renewed >= policy.lease_seconds / 3.0
        attempts = policy.save_attempts
        for attempt in range(attempts):
            try:
                self.backend.save(
                    self.workflow_id,
                    self.generation,
                    tasks=list(self._dirty.values()),
                    workflow=self._wf_dirty or None,
                    check_abort=check_abort,
                    lease_seconds=policy.lease_seconds if renew else None,
                    release=release,
                    release_until=release_until,
                    new_tasks=self._new_rows,
                )
                break
            except OrchestrationError:
                # Fencing, an abort request, a missing workflow: trying
                # again would not change the answer.
                raise
            except Exception:
                if attempt == attempts - 1:
                    raise
                LOG.warning(
                    'workflow %s: write failed, retrying',
                    self.workflow_id,
                    exc_info=True,
                )
                clock.sleep(policy.save_retry_delay * (attempt + 1))
        if renew:
            self._lease_renewed = mono
        if release:
            self.owned = False
        self._dirty.clear()
        self._wf_dirty.clear()
        self._new_rows = []
        if self._events:
            self._notify()

    def _notify(self):
        events, self._events = self._events, []
        for ev in events:
            for listener in self._listeners:
                try:
                    listener(ev)
                except Exception:
                    LOG.exception(
                        'workflow %s: listener %r failed on %s %s %s '
                        '(ignored)',
                        self.workflow_id,
                        listener,
                        ev.kind,
                        ev.name,
                        ev.state,
                    )

    def lease_is_fresh(self):
        """True while the lease was renewed less than lease/3 ago by this
        engine's clock (thread-safe: a read of one number)."""
        return (
            self.policy.clock.monotonic() - self._lease_renewed
            < self.policy.lease_seconds / 3.0
        )

    def confirm_lease(self):
        """Make sure the lease still holds before a step starts.

        Writes renew the lease every lease/3; when that much time passed
        since the last renewal (the engine stalled after writing a start:
        a pause, a swap storm), renew it now through a fenced write,
        which raises OwnershipLost if another owner adopted meanwhile. A
        stale engine must not start a step (invariant I8). Costs nothing
        when the engine is not late.

        No check closes the gap between itself and the act: a step that
        must never run twice passes ``workflow_generation`` to whoever
        carries it out, which refuses a stale one (design 4.4).
        """
        # Again if the write itself stalled: the lease it renewed counts
        # from before the write.
        policy = self.policy
        while (
            policy.clock.monotonic() - self._lease_renewed
            >= policy.lease_seconds / 3.0
        ):
            self.save(check_abort=False)

    def disown(self):
        """Stop writing: ownership is lost or given up."""
        self.owned = False
