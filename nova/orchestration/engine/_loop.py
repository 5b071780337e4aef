"""The run loop, declared as phases and the events that move between them.

::

    step --more--> step            work was started or is in flight
    step --stop--> hand_back       stop() was called and nothing runs
    step --failed--> decide        drained with failures or an abort
    step --reverted--> end_revert  drained at the end of a revert pass
    step --drained--> finish       drained with nothing left to decide
    decide --revert--> step
    end_revert --retry--> step     a retry scope runs again
    end_revert --final--> finish   the workflow ends REVERTED or FAILED
    finish --aborted--> decide     an abort landed before the last write
    finish --done--> done
    hand_back --done--> done

Failures are decided once the in-flight work has drained ("quiesce, then
decide"): simpler to reason about, and retries never race a running
sibling. Every iteration of ``step`` makes at most one fenced write
holding every change since the last one, and a start is always written
before it executes.
"""

import datetime
import json
import logging

from nova.orchestration import states
from nova.orchestration.engine._scheduler import NOT_STARTED
from nova.orchestration.engine._scheduler import Job
from nova.orchestration.exceptions import InvalidTransition
from nova.orchestration.exceptions import NotSerializable
from nova.orchestration.exceptions import OrchestrationError
from nova.orchestration.exceptions import ResultTooLarge
from nova.orchestration.exceptions import TaskTimeout
from nova.orchestration.exceptions import WorkflowFailed
from nova.orchestration.failure import Failure
from nova.orchestration.persistence.base import EXPIRED_LEASE
from nova.orchestration.persistence.base import AbortRequested
from nova.orchestration.task import Pending

LOG = logging.getLogger(__name__)

_FORWARD = (states.PENDING, states.RUNNING)
#: The key of a waiting step's result: its completion token and deadline.
PENDING_KEY = '__pending__'

LOOP_TRANSITIONS = {
    ('step', 'more'): 'step',
    ('step', 'stop'): 'hand_back',
    ('step', 'failed'): 'decide',
    ('step', 'reverted'): 'end_revert',
    ('step', 'drained'): 'finish',
    ('decide', 'revert'): 'step',
    ('end_revert', 'retry'): 'step',
    ('end_revert', 'final'): 'finish',
    ('finish', 'aborted'): 'decide',
    ('finish', 'done'): 'done',
    ('hand_back', 'done'): 'done',
}


def loop_transition(phase, event):
    """The phase after ``event``; InvalidTransition if the table has none."""
    try:
        return LOOP_TRANSITIONS[(phase, event)]
    except KeyError:
        raise InvalidTransition('run loop', phase, event) from None


class RunLoop:
    """Drives one owned workflow through the phases above."""

    def __init__(self, compiled, journal, values, scheduler, reverter):
        self.nodes = compiled.nodes
        self.journal = journal
        self.values = values
        self.scheduler = scheduler
        self.reverter = reverter
        self.stop_requested = False
        self.handed_back = False
        self._phases = {
            'step': self._step,
            'decide': self._decide,
            'end_revert': self.reverter.end_pass,
            'finish': self._finish,
            'hand_back': self._hand_back,
        }

    def run(self):
        phase, phases = 'step', self._phases
        while phase != 'done':
            event = phases[phase]()
            phase = LOOP_TRANSITIONS.get((phase, event)) or loop_transition(
                phase, event
            )

    # -- phases --------------------------------------------------------------
    def _step(self):
        scheduler, reverter = self.scheduler, self.reverter
        if scheduler.waiting:
            self._expire_waits()
        if self.stop_requested:
            # Graceful hand-back: start nothing new, persist what the
            # in-flight steps finish, then release the workflow.
            self._flush(())
            if not scheduler.inflight:
                return 'stop'
            self._handle(scheduler.wait())
            return 'more'
        jobs = self._next_jobs()
        if not jobs and not scheduler.inflight:
            if reverter.decision_due:
                return 'failed'
            if reverter.revert_pass is not None:
                return 'reverted'
            return 'drained'
        jobs = self._flush(jobs)
        if jobs:
            self.journal.confirm_lease()
            self._handle(scheduler.dispatch(jobs, self._prepare))
        if scheduler.inflight:
            self._handle(scheduler.wait())
        return 'more'

    def _decide(self):
        self.reverter.decide()
        return 'revert'

    def _finish(self):
        journal, reverter = self.journal, self.reverter
        clock = journal.policy.clock
        if reverter.final:
            journal.workflow(
                'revert_fail' if reverter.revert_failures else 'reverted'
            )
            journal.set(finished_at=clock.utcnow(), **reverter.final_columns())
            journal.save(release=True, check_abort=False)
            failures = dict(reverter.failures)
            failures.update(reverter.revert_failures)
            raise WorkflowFailed(journal.workflow_id, journal.state, failures)
        prev = journal.state
        waiting = bool(self.scheduler.waiting)
        if not waiting:
            if prev != states.RUNNING:
                raise OrchestrationError(
                    'workflow %s: nothing left to run in state %s'
                    % (journal.workflow_id, prev)
                )
            journal.workflow('succeed')
            journal.set(finished_at=clock.utcnow())
        try:
            journal.save(
                release=True,
                release_until=self.scheduler.earliest_deadline(),
                check_abort=prev == states.RUNNING,
            )
        except AbortRequested:
            # The abort landed before this last write: nothing of it
            # committed. Revert, as an abort at any other boundary would.
            if not waiting:
                journal.retract(prev, 'finished_at')
            self.reverter.abort()
            return 'aborted'
        return 'done'

    def _hand_back(self):
        # Check no abort: a requested abort stays in the row, and the
        # adopter reverts.
        self.journal.save(
            release=True, release_until=EXPIRED_LEASE, check_abort=False
        )
        self.handed_back = True
        LOG.info(
            'workflow %s: handed back at a step boundary (generation %s)',
            self.journal.workflow_id,
            self.journal.generation,
        )
        return 'done'

    # -- starting work -------------------------------------------------------
    def _next_jobs(self):
        reverter = self.reverter
        if reverter.revert_pass is not None:
            return reverter.next_reverts()
        if reverter.halted or not self.scheduler.ready:
            return []
        journal = self.journal
        now = journal.policy.clock.utcnow()
        jobs = []
        for i in self.scheduler.take_ready():
            row = journal.rows[i]
            prev = (
                row['state'],
                row['attempt'],
                row['started_at'],
                row['finished_at'],
                row['result'],
            )
            journal.task(i, 'retry' if prev[0] == states.SUCCESS else 'start')
            row['attempt'] += 1
            row['started_at'] = now
            row['finished_at'] = None
            jobs.append(Job('exec', i, prev))
            if journal.listening:
                journal.emit(i)
        return jobs

    def _flush(self, jobs):
        """Write the changes (and the starts of ``jobs``) -> the jobs to
        run: none when an abort was requested (their starts are undone:
        nothing of them committed)."""
        journal = self.journal
        if not journal.changed:
            return jobs
        try:
            journal.save(
                check_abort=(
                    journal.state in _FORWARD
                    and self.reverter.revert_pass is None
                    and not self.reverter.abort_due
                )
            )
            return jobs
        except AbortRequested:
            pass
        ready = self.scheduler.ready
        for job in reversed(jobs):
            if job.kind == 'exec':
                row = journal.rows[job.idx]
                (
                    row['state'],
                    row['attempt'],
                    row['started_at'],
                    row['finished_at'],
                    row['result'],
                ) = job.prev
                ready.appendleft(job.idx)
        journal.forget_start_events()
        self.reverter.abort()
        journal.save(check_abort=False)
        return []

    def _prepare(self, job):
        if job.kind == 'revert':
            return self.reverter.prepare(job.idx)
        node = self.nodes[job.idx]
        engine_args = None
        if node.atom._engine_args:
            engine_args = {
                'workflow_id': self.journal.workflow_id,
                'workflow_generation': self.journal.generation,
            }
        return node.atom.execute, self.values.kwargs(node, engine_args)

    # -- completions ---------------------------------------------------------
    def _handle(self, results):
        for job, ok, value in results:
            if value is NOT_STARTED:
                # It waited in the queue for longer than our lease can be
                # trusted: renew it (fenced) before letting it start.
                self.journal.confirm_lease()
                self.scheduler.resubmit(job)
            elif job.kind == 'revert':
                self.reverter.reverted(job.idx, ok, value)
            else:
                self.completed(job.idx, ok, value)

    def completed(self, i, ok, value):
        """Node ``i``'s execute returned ``value`` (``ok``) or failed."""
        node = self.nodes[i]
        values = self.values
        if ok and isinstance(value, Pending):
            return self._wait_for(i, value.token)
        if ok:
            try:
                if node.is_retry:
                    values.history[i].attempts.append((value, {}))
                    try:
                        values.encode(value, node.name)
                    except Exception:
                        values.history[i].attempts.pop()
                        raise
                    values.result[i] = value
                    values.retrying.discard(i)
                    encoded = values.encode_retry(i)
                else:
                    encoded = values.encode(value, node.name)
                    values.result[i] = value
            except (NotSerializable, ResultTooLarge) as e:
                ok, value = False, Failure.from_exception(e)
        if not ok:
            return self.reverter.task_failed(i, value)
        journal = self.journal
        row = journal.task(i, 'succeed')
        row['result'] = encoded
        row['finished_at'] = journal.policy.clock.utcnow()
        self.reverter.ranked(i)
        self.scheduler.succeeded(i, journal.rows)
        if journal.listening:
            journal.emit(i, result=value)

    def _wait_for(self, i, token):
        timeout = self.nodes[i].atom.timeout
        deadline = None
        if timeout is not None:
            deadline = self.journal.policy.clock.utcnow() + datetime.timedelta(
                seconds=timeout
            )
        self.journal.touch(i)['result'] = json.dumps(
            {
                PENDING_KEY: token,
                'deadline': deadline.isoformat() if deadline else None,
            }
        )
        self.reverter.ranked(i)
        self.scheduler.waiting[i] = (token, deadline)

    def _expire_waits(self):
        for i, token, deadline in self.scheduler.expired_waits():
            self.reverter.task_failed(
                i,
                Failure.from_exception(
                    TaskTimeout(
                        'task %r: no completion for token %r before its '
                        'deadline %s'
                        % (self.nodes[i].name, token, deadline.isoformat())
                    )
                ),
            )

    def abandon(self):
        """Stop at once after losing ownership: no more writes nor side
        effects."""
        self.scheduler.withdraw_all()
        self.journal.disown()
