"""Scheduler: which steps are ready, which run, which wait for a remote
completion, and their deadlines.

Cost model (why it is written this way):

* Ready steps are found with per-node counters of unfinished predecessors,
  decremented when a predecessor succeeds: O(successors) per completion,
  no graph rescans.
* A single ready step with no timeout runs inline in the engine's thread
  (no executor hop); several ready steps go to the work pool and really
  run in parallel.
"""

import collections
import threading

from nova.orchestration import states
from nova.orchestration.engine._pool import StepCall
from nova.orchestration.engine._pool import run_step
from nova.orchestration.exceptions import TaskTimeout
from nova.orchestration.failure import Failure


class Job:
    """One execute or revert the engine started."""

    __slots__ = ('kind', 'idx', 'prev', 'call', 'deadline')

    def __init__(self, kind, idx, prev=None):
        self.kind = kind  # 'exec' or 'revert'
        self.idx = idx
        self.prev = prev  # the row's columns before an exec started
        self.call = None
        self.deadline = None


#: What a queued call returns when it did not start because the engine's
#: lease might have run out while it waited in the queue.
NOT_STARTED = object()


class _GuardedCall(StepCall):
    """A StepCall that can be withdrawn atomically before it starts, and
    that does not start while ``may_start()`` is False."""

    __slots__ = ('_lock', '_started', '_may_start')

    def __init__(self, fn, kwargs, may_start):
        super().__init__(fn, kwargs, threading.Event())
        self._lock = threading.Lock()
        self._started = False
        self._may_start = may_start

    def __call__(self):
        with self._lock:
            if self.cancel.is_set():
                return False, None
            if not self._may_start():
                # The engine renews its lease (fenced) and queues it again.
                return False, NOT_STARTED
            self._started = True
        return super().__call__()

    def withdraw(self):
        """Cancel: -> True when the step had not started (it never will),
        False when it is running (it is told through ``cancelled()``)."""
        with self._lock:
            self.cancel.set()
            return not self._started


class Scheduler:
    """Ready counters, in-flight jobs, and steps waiting for completions.

    ``waiting`` maps a node to (token, deadline datetime or None) for the
    steps that returned Pending.
    """

    def __init__(self, compiled, pool, clock, may_start):
        nodes = compiled.nodes
        #: Whether a queued step may start now (the lease is surely ours).
        self.may_start = may_start
        self.nodes = nodes
        self.pool = pool
        self.clock = clock
        self.remaining = [len(nd.preds) for nd in nodes]
        self.ready = collections.deque(
            i for i in range(len(nodes)) if not nodes[i].preds
        )
        self.inflight = {}  # future -> Job
        self.waiting = {}

    # -- readiness -----------------------------------------------------------
    def succeeded(self, i, rows):
        """Node ``i`` succeeded: successors it was the last blocker of
        become ready."""
        remaining, ready = self.remaining, self.ready
        for s in self.nodes[i].succs:
            remaining[s] -= 1
            if remaining[s] == 0 and rows[s]['state'] == states.PENDING:
                ready.append(s)

    def recount(self, members, rows, scope=None):
        """Recompute the counters of ``members`` from ``rows`` (after a
        resume, or before a retry scope runs again: ``scope`` then counts
        as unfinished)."""
        for m in members:
            self.remaining[m] = sum(
                1
                for p in self.nodes[m].preds
                if p == scope or rows[p]['state'] != states.SUCCESS
            )

    def take_ready(self):
        ready, self.ready = list(self.ready), collections.deque()
        return ready

    # -- running -------------------------------------------------------------
    def dispatch(self, jobs, prepare):
        """Start ``jobs``; ``prepare(job)`` -> (fn, kwargs) or raises.

        -> [(job, ok, value)] of what already finished: a lone job with no
        timeout runs inline, a job whose arguments could not be bound
        fails at once; the others go to the pool.
        """
        done = []
        inline = len(jobs) == 1 and not self.inflight
        for job in jobs:
            try:
                fn, kw = prepare(job)
            except Exception:
                done.append((job, False, Failure()))
                continue
            timeout = (
                self.nodes[job.idx].atom.timeout
                if job.kind == 'exec'
                else None
            )
            if inline and timeout is None:
                done.append((job, *run_step(fn, kw)))
                continue
            job.call = _GuardedCall(fn, kw, self.may_start)
            if timeout is not None:
                job.deadline = self.clock.monotonic() + timeout
            self.inflight[self.pool.submit(job.call)] = job
        return done

    def resubmit(self, job):
        """Queue again a job that did not start (NOT_STARTED)."""
        call = job.call
        job.call = _GuardedCall(call.fn, call.kwargs, self.may_start)
        self.inflight[self.pool.submit(job.call)] = job

    def wait(self):
        """Wait for in-flight jobs or the next deadline.

        -> [(job, ok, value)]: finished jobs, and jobs past their timeout
        (withdrawn, failed with TaskTimeout); a job that did not start
        comes back with value NOT_STARTED.
        """
        timeout = self._next_deadline()
        done = self.pool.wait_any(list(self.inflight), timeout)
        out = []
        for fut in done:
            job = self.inflight.pop(fut, None)
            if job is not None:
                out.append((job, *fut.result()))
        if timeout is not None:
            out.extend(self._timed_out())
        return out

    def _next_deadline(self):
        clock = self.clock
        timeout = None
        deadlines = [j.deadline for j in self.inflight.values() if j.deadline]
        if deadlines:
            timeout = max(0.0, min(deadlines) - clock.monotonic())
        wdl = [d for _, d in self.waiting.values() if d is not None]
        if wdl:
            t = max(0.0, (min(wdl) - clock.utcnow()).total_seconds())
            timeout = t if timeout is None else min(timeout, t)
        return timeout

    def _timed_out(self):
        now = self.clock.monotonic()
        out = []
        for fut, job in list(self.inflight.items()):
            if (
                job.deadline is not None
                and job.deadline <= now
                and not fut.done()
            ):
                del self.inflight[fut]
                # Invariant I6: a queued step that timed out never starts.
                fut.cancel()
                job.call.withdraw()
                name = self.nodes[job.idx].name
                out.append(
                    (
                        job,
                        False,
                        Failure.from_exception(
                            TaskTimeout(
                                'task %r exceeded its timeout of %ss'
                                % (name, self.nodes[job.idx].atom.timeout)
                            )
                        ),
                    )
                )
        return out

    def expired_waits(self):
        """Pop the waiting steps past their deadline -> [(i, token,
        deadline)]."""
        if not self.waiting:
            return []
        wall = self.clock.utcnow()
        out = []
        for i, (token, deadline) in list(self.waiting.items()):
            if deadline is not None and deadline <= wall:
                del self.waiting[i]
                out.append((i, token, deadline))
        return out

    def earliest_deadline(self):
        """The first deadline of a waiting step, or None."""
        deadlines = [d for _, d in self.waiting.values() if d is not None]
        return min(deadlines) if deadlines else None

    def withdraw_all(self):
        """Stop at once: cancel what is queued, flag what runs."""
        for fut, job in self.inflight.items():
            fut.cancel()
            job.call.withdraw()
        self.inflight.clear()
