"""Failure decisions (retry controllers) and reverts, for the run loop.

Reverts go in reverse order of completion: a node reverts once every
successor in the revert set has reverted (counters over the reversed edges,
a heap on completion order), so independent branches revert in parallel and
a chain reverts strictly backwards.
"""

import heapq
import json
import logging

from nova.orchestration import retry as retry_mod
from nova.orchestration import states
from nova.orchestration.persistence.base import utcnow

LOG = logging.getLogger(__name__)

REVERTED, IGNORED = states.REVERTED, states.IGNORED
SUCCESS = states.SUCCESS
_REVERTIBLE = frozenset(
    (states.SUCCESS, states.FAILURE, states.RUNNING, states.REVERTING)
)


class _RevertPass:
    __slots__ = ('pending', 'heap', 'final', 'scopes')

    def __init__(self, pending, heap, final, scopes):
        self.pending = pending  # node index -> successors not yet reverted
        self.heap = heap
        self.final = final
        self.scopes = scopes


class RevertMixin:
    """Decisions after failures, and revert passes (mixed into Runtime)."""

    def _complete_revert(self, i, ok, value):
        row = self._rows[i]
        now = utcnow()
        if ok:
            self._row_event(i, 'reverted')
            row['revert_finished_at'] = now
            self._emit(i)
            rp = self._revert
            pending = rp.pending
            for p in self._compiled.nodes[i].preds:
                if p in pending:
                    pending[p] -= 1
                    if pending[p] == 0:
                        heapq.heappush(rp.heap, (-self._seq[p], p))
            return
        # A failed revert stops the reverts of what it depends on: undoing a
        # predecessor under a half-reverted step could make things worse.
        self._row_event(i, 'revert_fail')
        row['failure'] = self._encode_failure(value)
        row['revert_finished_at'] = now
        self._revert_failures[row['name']] = value
        LOG.error(
            'workflow %s: revert of %s failed: %s',
            self.workflow_id,
            row['name'],
            value.brief(),
        )
        self._emit(i, failure=value)

    # -- decisions and reverts ----------------------------------------------
    def _decide(self):
        failed = [i for i in self._failed if i is not None]
        self._failed = []
        nodes = self._compiled.nodes
        revert_all = self._aborting
        scopes = set()
        for i in failed if not revert_all else ():
            node, failure = nodes[i], self._fail[i]
            scope = node.scope
            while scope is not None:
                decision = self._ask(scope, node.name, failure)
                if decision == retry_mod.RETRY:
                    scopes.add(scope)
                    break
                if decision == retry_mod.REVERT_ALL:
                    revert_all = True
                    break
                scope = nodes[scope].scope
            else:
                revert_all = True
        if revert_all:
            if (
                self._wf_state == states.RUNNING
                or self._wf_state == states.PENDING
            ):
                self._wf_event(
                    'fail' if self._wf_state == states.RUNNING else 'abort'
                )
            self._wf_dirty['failure'] = self._failure_summary()
            self._begin_revert(range(len(nodes)), True, ())
            return
        outer = [
            s
            for s in scopes
            if not any(o != s and s in nodes[o].members for o in scopes)
        ]
        members = []
        for s in outer:
            self._retrying.add(s)
            self._rows[s]['result'] = self._encode_retry(s)
            self._dirty[s] = self._rows[s]
            members.extend(nodes[s].members)
        self._begin_revert(members, False, outer)

    def _ask(self, scope, name, failure):
        node = self._compiled.nodes[scope]
        history = self._history[scope]
        if history.attempts:
            history.attempts[-1][1][name] = failure
        try:
            kw = self._kwargs(node)
            params = node.atom._on_failure_params
            if params is not None:
                kw = {k: v for k, v in kw.items() if k in params}
            decision = node.atom.on_failure(**kw)
        except Exception:
            LOG.exception(
                'workflow %s: retry %s on_failure raised; reverting all',
                self.workflow_id,
                node.name,
            )
            return retry_mod.REVERT_ALL
        if decision not in retry_mod.DECISIONS:
            LOG.error(
                'workflow %s: retry %s returned %r; reverting all',
                self.workflow_id,
                node.name,
                decision,
            )
            return retry_mod.REVERT_ALL
        self._rows[scope]['result'] = self._encode_retry(scope)
        self._dirty[scope] = self._rows[scope]
        return decision

    def _failure_summary(self):
        return json.dumps(
            {
                n: {'exc_type': f.exc_type, 'message': f.message}
                for n, f in self._failures.items()
            },
            default=repr,
        )

    def _begin_revert(self, indices, final, scopes):
        rows, nodes = self._rows, self._compiled.nodes
        pending = {}
        for i in indices:
            if rows[i]['state'] in _REVERTIBLE:
                pending[i] = 0
                self._waiting.pop(i, None)
        heap = []
        for i in pending:
            cnt = 0
            for s in nodes[i].succs:
                if s in pending:
                    cnt += 1
            pending[i] = cnt
            if cnt == 0:
                heap.append((-self._seq[i], i))
        heapq.heapify(heap)
        self._ready.clear()
        self._halt = True
        self._revert = _RevertPass(pending, heap, final, scopes)

    def _end_revert_pass(self):
        rp, self._revert = self._revert, None
        if rp.final or self._revert_failures:
            if not rp.final:
                if self._wf_state == states.RUNNING:
                    self._wf_event('fail')
                self._wf_dirty['failure'] = self._failure_summary()
            self._final = True
            return
        nodes, rows = self._compiled.nodes, self._rows
        for s in rp.scopes:
            for m in nodes[s].members:
                row = rows[m]
                if row['state'] in (REVERTED, IGNORED):
                    self._row_event(m, 'reset')
                    row['result'] = row['failure'] = None
                    self._res[m] = self._fail[m] = None
                    self._failures.pop(row['name'], None)
                    if m in self._history:
                        self._history[m] = retry_mod.History()
                        self._retrying.discard(m)
            for m in nodes[s].members:
                self._remaining[m] = sum(
                    1
                    for p in nodes[m].preds
                    if p == s or rows[p]['state'] != SUCCESS
                )
            self._ready.append(s)
        self._halt = False
