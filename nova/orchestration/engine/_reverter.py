"""Reverter: why a workflow fails, what retry controllers decide, and the
revert passes that follow.

Reverts go in reverse order of completion: a node reverts once every
successor in the revert set has reverted (counters over the reversed edges,
a heap on completion order), so independent branches revert in parallel and
a chain reverts strictly backwards. A successor whose revert failed blocks
its predecessors for good (invariant I2), in a live run and after a resume.
"""

import heapq
import json
import logging

from nova.orchestration import retry as retry_mod
from nova.orchestration import states
from nova.orchestration.engine._scheduler import Job
from nova.orchestration.exceptions import Aborted
from nova.orchestration.failure import Failure

LOG = logging.getLogger(__name__)

_REVERTIBLE = frozenset(
    (states.SUCCESS, states.FAILURE, states.RUNNING, states.REVERTING)
)
#: Workflow states in which a failure starts a revert of everything.
_FORWARD = (states.PENDING, states.RUNNING)


class _RevertPass:
    __slots__ = ('pending', 'heap', 'final', 'scopes')

    def __init__(self, pending, heap, final, scopes):
        self.pending = pending  # node index -> successors not yet reverted
        self.heap = heap
        self.final = final  # the whole workflow reverts (not a retry)
        self.scopes = scopes  # retry scopes that run again afterwards


class Reverter:
    """Failures, decisions and revert passes of one workflow.

    ``failures`` maps a task name (or the workflow's name, for an abort or
    a poison) to the Failure that is why the workflow reverts: it is
    written to the workflow row as soon as a revert is decided, so that a
    resumed revert gives the same ``flow_failures`` to every revert
    (invariant I7).
    """

    def __init__(self, compiled, journal, values, scheduler):
        self.nodes = compiled.nodes
        self.journal = journal
        self.values = values
        self.scheduler = scheduler
        self.failures = {}
        self.revert_failures = {}
        self.failed = []  # failed nodes not decided on yet
        self.abort_due = False  # an abort waits for its decision
        self.halted = False  # start no new step
        self.revert_pass = None
        self.final = False  # the last revert pass ended
        self.rank = [0] * len(compiled.nodes)  # completion order
        self._counter = 0

    def ranked(self, i):
        """Node ``i`` just finished (or started waiting): order it."""
        self._counter += 1
        self.rank[i] = self._counter

    @property
    def decision_due(self):
        return bool(self.failed) or self.abort_due

    # -- why -----------------------------------------------------------------
    def task_failed(self, i, failure):
        """Task ``i`` failed: record it; decide once in-flight work drains."""
        journal = self.journal
        row = journal.task(i, 'fail')
        row['failure'] = self.values.encode_failure(failure)
        row['finished_at'] = journal.policy.clock.utcnow()
        self.values.failure[i] = failure
        self.ranked(i)
        self.failures[row['name']] = failure
        self.failed.append(i)
        self.halted = True
        LOG.info(
            'workflow %s: task %s failed: %s',
            journal.workflow_id,
            row['name'],
            failure.brief(),
        )
        journal.emit(i, failure=failure)

    def abort(self):
        """An abort was requested: revert everything once work drains.

        The workflow goes ABORTING with the Aborted failure in the same
        write, so that a resumed workflow still reverts as an abort.
        """
        journal = self.journal
        LOG.info(
            'workflow %s: abort requested, reverting', journal.workflow_id
        )
        self.halted = True
        self.abort_due = True
        self.failures.setdefault(
            journal.name,
            Failure.from_exception(
                Aborted('workflow %s aborted on request' % journal.workflow_id)
            ),
        )
        if journal.state != states.ABORTING:
            journal.workflow('abort')
        journal.set(failure=self.summary())

    def summary(self):
        """The ``failure`` column: why the workflow reverts or failed."""
        return json.dumps(
            {
                n: {
                    'exc_type': f.exc_type,
                    'exc_type_names': list(f.exc_type_names),
                    'message': f.message,
                }
                for n, f in self.failures.items()
            },
            default=repr,
        )

    def restore_reasons(self, text):
        """Take back the reasons written by ``summary`` (after a resume);
        the task rows' own failures, already restored, are richer."""
        if not text:
            return
        try:
            data = json.loads(text)
        except ValueError:
            return
        for name, f in data.items():
            if name not in self.failures:
                self.failures[name] = Failure(
                    exc_type=f.get('exc_type') or 'Exception',
                    exc_type_names=f.get('exc_type_names'),
                    message=f.get('message'),
                )

    # -- decisions -----------------------------------------------------------
    def decide(self):
        """Ask retry controllers about the failures; start a revert pass."""
        failed = self.failed
        self.failed = []
        revert_all = self.abort_due or self.journal.state not in _FORWARD
        self.abort_due = False
        scopes = set()
        for i in failed if not revert_all else ():
            node, failure = self.nodes[i], self.values.failure[i]
            scope = node.scope
            while scope is not None:
                decision = self._ask(scope, node.name, failure)
                if decision == retry_mod.RETRY:
                    scopes.add(scope)
                    break
                if decision == retry_mod.REVERT_ALL:
                    revert_all = True
                    break
                scope = self.nodes[scope].scope
            else:
                revert_all = True
        if revert_all:
            journal = self.journal
            if journal.state in _FORWARD:
                journal.workflow(
                    'fail' if journal.state == states.RUNNING else 'abort'
                )
            journal.set(failure=self.summary())
            self.begin(range(len(self.nodes)), True, ())
            return
        nodes = self.nodes
        outer = [
            s
            for s in scopes
            if not any(o != s and s in nodes[o].members for o in scopes)
        ]
        members = []
        for s in outer:
            self.values.retrying.add(s)
            self.journal.touch(s)['result'] = self.values.encode_retry(s)
            members.extend(nodes[s].members)
        self.begin(members, False, outer)

    def _ask(self, scope, name, failure):
        node = self.nodes[scope]
        history = self.values.history[scope]
        if history.attempts:
            history.attempts[-1][1][name] = failure
        wid = self.journal.workflow_id
        try:
            kw = self.values.kwargs(node, self._engine_args())
            params = node.atom._on_failure_params
            if params is not None:
                kw = {k: v for k, v in kw.items() if k in params}
            decision = node.atom.on_failure(**kw)
        except Exception:
            LOG.exception(
                'workflow %s: retry %s on_failure raised; reverting all',
                wid,
                node.name,
            )
            return retry_mod.REVERT_ALL
        if decision not in retry_mod.DECISIONS:
            LOG.error(
                'workflow %s: retry %s returned %r; reverting all',
                wid,
                node.name,
                decision,
            )
            return retry_mod.REVERT_ALL
        self.journal.touch(scope)['result'] = self.values.encode_retry(scope)
        return decision

    def _engine_args(self):
        return {
            'workflow_id': self.journal.workflow_id,
            'workflow_generation': self.journal.generation,
        }

    # -- revert passes -------------------------------------------------------
    def begin(self, indices, final, scopes):
        """Revert ``indices`` (those that ran), latest first."""
        rows, nodes = self.journal.rows, self.nodes
        waiting = self.scheduler.waiting
        pending = {}
        for i in indices:
            if rows[i]['state'] in _REVERTIBLE:
                pending[i] = 0
                waiting.pop(i, None)
        heap = []
        for i in pending:
            # A successor whose revert failed blocks this node for good.
            cnt = sum(
                1
                for s in nodes[i].succs
                if s in pending or rows[s]['state'] == states.REVERT_FAILURE
            )
            pending[i] = cnt
            if cnt == 0:
                heap.append((-self.rank[i], i))
        heapq.heapify(heap)
        self.scheduler.ready.clear()
        self.halted = True
        self.revert_pass = _RevertPass(pending, heap, final, scopes)

    def next_reverts(self):
        """Start the reverts whose successors are all reverted."""
        heap = self.revert_pass.heap
        if not heap:
            return []
        journal = self.journal
        now = journal.policy.clock.utcnow()
        jobs = []
        while heap:
            i = heapq.heappop(heap)[1]
            journal.task(i, 'revert')['revert_started_at'] = now
            jobs.append(Job('revert', i))
            journal.emit(i)
        return jobs

    def prepare(self, i):
        """(fn, kwargs) of node ``i``'s revert."""
        kw = self.values.revert_kwargs(i, self._engine_args(), self.failures)
        return self.nodes[i].atom.revert, kw

    def reverted(self, i, ok, value):
        """Node ``i``'s revert returned (``ok``) or raised ``value``."""
        journal = self.journal
        now = journal.policy.clock.utcnow()
        if ok:
            journal.task(i, 'reverted')['revert_finished_at'] = now
            journal.emit(i)
            rp = self.revert_pass
            for p in self.nodes[i].preds:
                if p in rp.pending:
                    rp.pending[p] -= 1
                    if rp.pending[p] == 0:
                        heapq.heappush(rp.heap, (-self.rank[p], p))
            return
        # A failed revert stops the reverts of what it depends on: undoing a
        # predecessor under a half-reverted step could make things worse.
        row = journal.task(i, 'revert_fail')
        row['failure'] = self.values.encode_failure(value)
        row['revert_finished_at'] = now
        self.revert_failures[row['name']] = value
        LOG.error(
            'workflow %s: revert of %s failed: %s',
            journal.workflow_id,
            row['name'],
            value.brief(),
        )
        journal.emit(i, failure=value)

    def end_pass(self):
        """The revert pass drained: -> 'final' (the workflow ends
        REVERTED or FAILED) or 'retry' (its retry scopes run again)."""
        rp, self.revert_pass = self.revert_pass, None
        journal = self.journal
        if rp.final or self.revert_failures:
            if not rp.final:
                if journal.state == states.RUNNING:
                    journal.workflow('fail')
                journal.set(failure=self.summary())
            self.final = True
            return 'final'
        nodes, rows, values = self.nodes, journal.rows, self.values
        for s in rp.scopes:
            for m in nodes[s].members:
                if rows[m]['state'] == states.REVERTED:
                    row = journal.task(m, 'reset')
                    row['result'] = row['failure'] = None
                    values.forget(m)
                    self.failures.pop(row['name'], None)
            self.scheduler.recount(nodes[s].members, rows, scope=s)
            self.scheduler.ready.append(s)
        self.halted = False
        return 'retry'

    def final_columns(self):
        """Workflow columns of the end of a revert (REVERTED or FAILED)."""
        if not self.revert_failures:
            return {}
        failure = json.loads(self.summary())
        for n, f in self.revert_failures.items():
            failure[n] = {
                'exc_type': f.exc_type,
                'message': 'revert failed: ' + f.message,
            }
        return {'failure': json.dumps(failure)}
