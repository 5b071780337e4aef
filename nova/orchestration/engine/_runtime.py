"""The run loop: ready tracking, dispatch, fenced flushes, failure decisions,
reverts.

Cost model (why it is written this way):

* Ready tasks are found with per-node counters of unfinished predecessors,
  decremented when a predecessor succeeds: O(successors) per completion, no
  graph rescans.
* Every loop iteration makes at most one fenced write holding every change
  since the last one: when serial, "task N SUCCESS" and "task N+1 RUNNING" go
  in the same transaction. A start is always persisted before it executes.
* A single ready task with no timeout runs inline in the engine's thread (no
  executor hop); several ready tasks go to the executor and really run in
  parallel.
* Failures are decided once the in-flight work has drained ("quiesce, then
  decide"): simpler to reason about, and retries never race a running sibling.
"""

import collections
import datetime
import heapq
import json
import logging
import threading
import time

import futurist.waiters

from nova.orchestration import retry as retry_mod
from nova.orchestration import states
from nova.orchestration.engine import _executors
from nova.orchestration.engine._reverts import RevertMixin
from nova.orchestration.engine._values import ValuesMixin
from nova.orchestration.exceptions import Aborted
from nova.orchestration.exceptions import NotSerializable
from nova.orchestration.exceptions import OrchestrationError
from nova.orchestration.exceptions import OwnershipLost
from nova.orchestration.exceptions import ResultTooLarge
from nova.orchestration.exceptions import TaskTimeout
from nova.orchestration.exceptions import WorkflowFailed
from nova.orchestration.failure import Failure
from nova.orchestration.persistence.base import EXPIRED_LEASE
from nova.orchestration.persistence.base import AbortRequested
from nova.orchestration.persistence.base import utcnow
from nova.orchestration.task import Pending

LOG = logging.getLogger(__name__)

PENDING, RUNNING, SUCCESS = states.PENDING, states.RUNNING, states.SUCCESS
FAILURE, REVERTING, REVERTED = (
    states.FAILURE,
    states.REVERTING,
    states.REVERTED,
)
_TT = states.TASK_TRANSITIONS
PENDING_KEY = '__pending__'
#: The lease a handed-back workflow gets: long expired, so any sweeper
#: adopts it at once whatever the clocks say.
HANDED_BACK_LEASE = EXPIRED_LEASE
#: Attempts of a fenced write that failed for a database reason (not fencing).
SAVE_ATTEMPTS = 3

Event = collections.namedtuple(
    'Event', 'kind workflow_id name state result failure'
)
Event.__doc__ = """A transition given to listeners (kind 'workflow' or 'task').

Emitted after the transition is durably written. ``result`` is the task's
result (task SUCCESS), ``failure`` a Failure (task FAILURE/REVERT_FAILURE)."""


class _Job:
    __slots__ = ('kind', 'idx', 'cancel', 'deadline', 'prev')

    def __init__(self, kind, idx, prev=None):
        self.kind = kind
        self.idx = idx
        self.cancel = None
        self.deadline = None
        self.prev = prev


class Runtime(ValuesMixin, RevertMixin):
    """Mixin holding the run loop; Engine provides setup, loading and the
    API."""

    # -- state ---------------------------------------------------------------
    def _init_state(self):
        nodes = self._compiled.nodes
        n = len(nodes)
        self._rows = [
            {
                'name': nd.name,
                'state': PENDING,
                'attempt': 0,
                'result': None,
                'failure': None,
                'started_at': None,
                'finished_at': None,
                'revert_started_at': None,
                'revert_finished_at': None,
            }
            for nd in nodes
        ]
        self._res = [None] * n
        self._fail = [None] * n
        self._seq = [0] * n
        self._seq_counter = 0
        self._remaining = [len(nd.preds) for nd in nodes]
        self._ready = collections.deque(
            i for i in range(n) if not nodes[i].preds
        )
        self._history = {
            nd.index: retry_mod.History() for nd in nodes if nd.is_retry
        }
        self._retrying = set()
        self._waiting = {}  # node index -> (token, deadline datetime|None)
        self._inflight = {}  # future -> _Job
        self._dirty = {}
        self._wf_dirty = {}
        self._new_tasks = []
        self._failed = []
        self._failures = {}
        self._revert_failures = {}
        self._revert = None
        self._halt = False
        self._stop_requested = False
        self._handed_back = False
        self._aborting = False
        self._final = False
        self._events = []

    def _row_event(self, i, event):
        row = self._rows[i]
        try:
            row['state'] = _TT[(row['state'], event)]
        except KeyError:
            states.task_transition(row['state'], event, row['name'])
        self._dirty[i] = row
        return row

    def _wf_event(self, event):
        self._wf_state = states.workflow_transition(
            self._wf_state, event, self.workflow_id
        )
        self._wf_dirty['state'] = self._wf_state
        if self._listeners:
            self._events.append(
                Event(
                    'workflow',
                    self.workflow_id,
                    self.name,
                    self._wf_state,
                    None,
                    None,
                )
            )

    def _emit(self, i, result=None, failure=None):
        if self._listeners:
            self._events.append(
                Event(
                    'task',
                    self.workflow_id,
                    self._rows[i]['name'],
                    self._rows[i]['state'],
                    result,
                    failure,
                )
            )

    # -- the loop ------------------------------------------------------------
    def _loop(self):
        while True:
            if self._stop_requested:
                # Graceful hand-back: start nothing new, persist what the
                # in-flight steps finish, then release the workflow.
                self._flush()
                if not self._inflight:
                    self._hand_back()
                    return
                self._wait()
                continue
            jobs = self._next_jobs()
            if not jobs and not self._inflight:
                if self._waiting:
                    self._check_deadlines()
                if self._failed:
                    self._decide()
                    continue
                if self._revert is not None:
                    self._end_revert_pass()
                    continue
                self._finish()
                return
            jobs = self._flush(jobs)
            if jobs:
                self._dispatch(jobs)
            if self._inflight:
                self._wait()

    def _next_jobs(self):
        jobs = []
        if self._revert is not None:
            heap = self._revert.heap
            now = utcnow()
            while heap:
                i = heapq.heappop(heap)[1]
                row = self._row_event(i, 'revert')
                row['revert_started_at'] = now
                jobs.append(_Job('revert', i))
                if self._listeners:
                    self._emit(i)
        elif not self._halt and self._ready:
            now = utcnow()
            ready = self._ready
            while ready:
                i = ready.popleft()
                row = self._rows[i]
                prev = (
                    row['state'],
                    row['attempt'],
                    row['started_at'],
                    row['finished_at'],
                    row['result'],
                )
                self._row_event(i, 'retry' if prev[0] == SUCCESS else 'start')
                row['attempt'] += 1
                row['started_at'] = now
                row['finished_at'] = None
                jobs.append(_Job('exec', i, prev))
                if self._listeners:
                    self._emit(i)
        return jobs

    def _save(self, release=False, release_until=None):
        check_abort = not (
            self._aborting
            or self._revert is not None
            or self._wf_state in (states.REVERTING, states.ABORTING)
        )
        # Renew the lease in the guard UPDATE every lease/3 only.
        mono = time.monotonic()
        renew = mono - self._lease_renewed >= self._lease_seconds / 3.0
        for attempt in range(SAVE_ATTEMPTS):
            try:
                self._backend.save(
                    self.workflow_id,
                    self._generation,
                    tasks=list(self._dirty.values()),
                    workflow=self._wf_dirty or None,
                    check_abort=check_abort,
                    lease_seconds=self._lease_seconds if renew else None,
                    release=release,
                    release_until=release_until,
                    new_tasks=self._new_tasks,
                )
                break
            except (OwnershipLost, AbortRequested):
                raise
            except Exception:
                # The transaction rolled back: the same write can be retried.
                # After the last attempt the engine stops; its lease expires
                # and another owner resumes from the last committed write.
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
                LOG.warning(
                    'workflow %s: write failed, retrying',
                    self.workflow_id,
                    exc_info=True,
                )
                time.sleep(0.2 * (attempt + 1))
        if renew:
            self._lease_renewed = mono
        self._dirty.clear()
        self._wf_dirty.clear()
        self._new_tasks = []
        if self._events:
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

    def _flush(self, jobs=()):
        if not (self._dirty or self._wf_dirty or self._new_tasks):
            return jobs
        try:
            self._save()
            return jobs
        except AbortRequested:
            pass
        # Abort requested: nothing committed. Undo the starts, keep the
        # completions, and revert once in-flight work drains.
        for job in reversed(jobs):
            if job.kind == 'exec':
                row = self._rows[job.idx]
                (
                    row['state'],
                    row['attempt'],
                    row['started_at'],
                    row['finished_at'],
                    row['result'],
                ) = job.prev
                self._ready.appendleft(job.idx)
        self._events = [
            e for e in self._events if e.kind != 'task' or e.state != RUNNING
        ]
        self._begin_abort()
        self._save()
        return []

    def _begin_abort(self):
        LOG.info('workflow %s: abort requested, reverting', self.workflow_id)
        self._aborting = True
        self._halt = True
        self._failures.setdefault(
            self.name,
            Failure.from_exception(
                Aborted('workflow %s aborted on request' % self.workflow_id)
            ),
        )
        if self._wf_state != states.ABORTING:
            self._wf_event('abort')
        self._failed.append(None)  # marker: decide (revert all) once drained

    def _dispatch(self, jobs):
        nodes = self._compiled.nodes
        if len(jobs) == 1 and not self._inflight:
            job = jobs[0]
            if job.kind == 'revert' or nodes[job.idx].atom.timeout is None:
                try:
                    fn, kw = self._callable(job)
                except Exception:
                    self._complete(job, False, Failure())
                    return
                self._complete(job, *_executors.call(fn, kw, None))
                return
        for job in jobs:
            try:
                fn, kw = self._callable(job)
            except Exception:
                self._complete(job, False, Failure())
                continue
            job.cancel = threading.Event()
            timeout = (
                nodes[job.idx].atom.timeout if job.kind == 'exec' else None
            )
            if timeout is not None:
                job.deadline = time.monotonic() + timeout
            fut = self._executor.submit(_executors.call, fn, kw, job.cancel)
            self._inflight[fut] = job

    def _callable(self, job):
        if job.kind == 'revert':
            return self._revert_call(job.idx)
        node = self._compiled.nodes[job.idx]
        return node.atom.execute, self._kwargs(node)

    def _wait(self):
        timeout = None
        deadlines = [j.deadline for j in self._inflight.values() if j.deadline]
        if deadlines:
            timeout = max(0.0, min(deadlines) - time.monotonic())
        wdl = [d for _, d in self._waiting.values() if d is not None]
        if wdl:
            t = max(0.0, (min(wdl) - utcnow()).total_seconds())
            timeout = t if timeout is None else min(timeout, t)
        done, _ = futurist.waiters.wait_for_any(list(self._inflight), timeout)
        for fut in done:
            job = self._inflight.pop(fut, None)
            if job is not None:
                self._complete(job, *fut.result())
        if deadlines or wdl:
            self._check_deadlines()

    def _check_deadlines(self):
        now = time.monotonic()
        for fut, job in list(self._inflight.items()):
            if job.deadline is not None and job.deadline <= now:
                del self._inflight[fut]
                job.cancel.set()
                name = self._rows[job.idx]['name']
                LOG.warning(
                    'workflow %s: task %s timed out', self.workflow_id, name
                )
                self._complete(
                    job,
                    False,
                    Failure.from_exception(
                        TaskTimeout(
                            'task %r exceeded its timeout of %ss'
                            % (
                                name,
                                self._compiled.nodes[job.idx].atom.timeout,
                            )
                        )
                    ),
                )
        if self._waiting:
            wall = utcnow()
            for i, (token, deadline) in list(self._waiting.items()):
                if deadline is not None and deadline <= wall:
                    del self._waiting[i]
                    self._fail_task(
                        i,
                        Failure.from_exception(
                            TaskTimeout(
                                'task %r: no completion for token %r before '
                                'its '
                                'deadline %s'
                                % (
                                    self._rows[i]['name'],
                                    token,
                                    deadline.isoformat(),
                                )
                            )
                        ),
                    )

    # -- completions ---------------------------------------------------------
    def _complete(self, job, ok, value):
        i = job.idx
        if job.kind == 'revert':
            return self._complete_revert(i, ok, value)
        node = self._compiled.nodes[i]
        row = self._rows[i]
        if ok and isinstance(value, Pending):
            return self._set_pending(i, value.token)
        if ok:
            try:
                if node.is_retry:
                    self._res[i] = value
                    self._history[i].attempts.append((value, {}))
                    self._retrying.discard(i)
                    self._encode(value, node.name)
                    row['result'] = self._encode_retry(i)
                else:
                    row['result'] = self._encode(value, node.name)
                    self._res[i] = value
            except (NotSerializable, ResultTooLarge) as e:
                if node.is_retry:
                    self._history[i].attempts.pop()
                ok, value = False, Failure.from_exception(e)
        if not ok:
            return self._fail_task(i, value)
        self._row_event(i, 'succeed')
        row['finished_at'] = utcnow()
        self._seq_counter += 1
        self._seq[i] = self._seq_counter
        remaining, rows, ready = self._remaining, self._rows, self._ready
        for s in node.succs:
            remaining[s] -= 1
            if remaining[s] == 0 and rows[s]['state'] == PENDING:
                ready.append(s)
        if self._listeners:
            self._emit(i, result=value)

    def _fail_task(self, i, failure):
        row = self._row_event(i, 'fail')
        row['failure'] = self._encode_failure(failure)
        row['finished_at'] = utcnow()
        self._fail[i] = failure
        self._seq_counter += 1
        self._seq[i] = self._seq_counter
        self._failures[row['name']] = failure
        self._failed.append(i)
        self._halt = True
        LOG.info(
            'workflow %s: task %s failed: %s',
            self.workflow_id,
            row['name'],
            failure.brief(),
        )
        self._emit(i, failure=failure)

    def _set_pending(self, i, token):
        row = self._rows[i]
        timeout = self._compiled.nodes[i].atom.timeout
        deadline = None
        if timeout is not None:
            deadline = utcnow() + datetime.timedelta(seconds=timeout)
        row['result'] = json.dumps(
            {
                PENDING_KEY: token,
                'deadline': deadline.isoformat() if deadline else None,
            }
        )
        self._dirty[i] = row
        self._seq_counter += 1
        self._seq[i] = self._seq_counter
        self._waiting[i] = (token, deadline)

    # -- the end -------------------------------------------------------------
    def _finish(self):
        release_until = None
        if self._final:
            self._wf_event(
                'revert_fail' if self._revert_failures else 'reverted'
            )
            self._wf_dirty['finished_at'] = utcnow()
            if self._revert_failures:
                self._wf_dirty['failure'] = json.dumps(
                    {
                        **json.loads(self._failure_summary()),
                        **{
                            n: {
                                'exc_type': f.exc_type,
                                'message': 'revert failed: ' + f.message,
                            }
                            for n, f in self._revert_failures.items()
                        },
                    }
                )
        elif self._waiting:
            deadlines = [d for _, d in self._waiting.values() if d is not None]
            release_until = min(deadlines) if deadlines else None
        else:
            if self._wf_state != states.RUNNING:
                raise OrchestrationError(
                    'workflow %s: nothing left to run in state %s'
                    % (self.workflow_id, self._wf_state)
                )
            self._wf_event('succeed')
            self._wf_dirty['finished_at'] = utcnow()
        self._save(release=True, release_until=release_until)
        self._owned = False
        if self._wf_state in (states.REVERTED, states.FAILED):
            failures = dict(self._failures)
            failures.update(self._revert_failures)
            raise WorkflowFailed(self.workflow_id, self._wf_state, failures)

    def stop(self):
        """Hand the workflow back at the next step boundary.

        Thread-safe; meant for a service that is shutting down. No new
        step starts; steps already running finish and are persisted; then
        the workflow is released with an expired lease so that another
        owner's sweeper adopts it at once, and ``run()`` returns with
        ``stopped`` True and the workflow still unfinished.
        """
        self._stop_requested = True

    @property
    def stopped(self):
        """True when ``run()`` returned because of :meth:`stop`."""
        return self._handed_back

    def _hand_back(self):
        self._save(release=True, release_until=HANDED_BACK_LEASE)
        self._owned = False
        self._handed_back = True
        LOG.info('workflow %s: handed back at a step boundary '
                 '(generation %s)', self.workflow_id, self._generation)

    def _abandon(self):
        """Stop at once after losing ownership: no more writes nor side
        effects."""
        for job in self._inflight.values():
            if job.cancel is not None:
                job.cancel.set()
        self._inflight.clear()
        self._owned = False
