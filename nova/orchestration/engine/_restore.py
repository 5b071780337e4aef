"""Rebuilding an engine's in-memory state from persisted rows (resume)."""

import datetime
import json

from nova.orchestration import retry as retry_mod
from nova.orchestration import states
from nova.orchestration.engine._runtime import PENDING_KEY
from nova.orchestration.exceptions import OrchestrationError
from nova.orchestration.exceptions import WorkflowFailed
from nova.orchestration.failure import Failure
from nova.orchestration.persistence.base import utcnow


def _parse_dt(text):
    return datetime.datetime.fromisoformat(text) if text else None


class RestoreMixin:
    """Resume support for Engine: restore rows, poison over-adopted rows."""

    def _poison(self, adoptions, max_adoptions):
        failure = Failure.from_exception(
            OrchestrationError(
                'workflow %s was adopted %d times (max_adoptions %d): '
                'set FAILED for an operator instead of cycling between owners'
                % (self.workflow_id, adoptions, max_adoptions)
            )
        )
        self._failures['adoptions'] = failure
        self._wf_event('poison')
        self._wf_dirty['failure'] = self._failure_summary()
        self._wf_dirty['finished_at'] = utcnow()
        self._save(release=True)
        self._owned = False
        raise WorkflowFailed(self.workflow_id, self._wf_state, self._failures)

    def _restore(self, tasks):
        """Rebuild in-memory state from persisted task rows (by position)."""
        nodes, rows = self._compiled.nodes, self._rows
        order = []
        retrying = []
        for i, t in enumerate(tasks):
            row = rows[i]
            for k in row:
                if k != 'name':
                    row[k] = t[k]
            st = row['state']
            if t['failure']:
                self._fail[i] = Failure.from_dict(json.loads(t['failure']))
                if st == states.REVERT_FAILURE:
                    self._revert_failures[row['name']] = self._fail[i]
                else:
                    self._failures[row['name']] = self._fail[i]
            if nodes[i].is_retry and t['result']:
                data = json.loads(t['result'])
                self._res[i] = data['value']
                self._history[i] = retry_mod.History.from_json(data['history'])
                if data.get('retrying'):
                    self._retrying.add(i)
                    retrying.append(i)
            elif st == states.SUCCESS:
                self._res[i] = json.loads(t['result'])
            if st != states.PENDING:
                order.append(
                    (t['finished_at'] or t['started_at'] or utcnow(), i)
                )
        for rank, (_, i) in enumerate(sorted(order)):
            self._seq[i] = rank + 1
        self._seq_counter = len(order)
        self._ready.clear()
        for i, nd in enumerate(nodes):
            self._remaining[i] = sum(
                1 for p in nd.preds if rows[p]['state'] != states.SUCCESS
            )
        wf_state = self._wf_state
        if wf_state in (states.REVERTING, states.ABORTING):
            self._aborting = wf_state == states.ABORTING
            self._begin_revert(range(len(nodes)), True, ())
            return
        if wf_state not in (states.PENDING, states.RUNNING):
            return
        for i, nd in enumerate(nodes):
            st = rows[i]['state']
            if st == states.RUNNING:
                data = None
                if rows[i]['result'] and not nd.is_retry:
                    data = json.loads(rows[i]['result'])
                if isinstance(data, dict) and PENDING_KEY in data:
                    self._waiting[i] = (
                        data[PENDING_KEY],
                        _parse_dt(data['deadline']),
                    )
                elif nd.atom.idempotent:
                    self._ready.append(i)
                else:
                    self._fail_task(
                        i,
                        Failure.from_exception(
                            OrchestrationError(
                                'task %r was interrupted (found RUNNING after '
                                'its owner stopped) and is not idempotent'
                                % nd.name
                            )
                        ),
                    )
            elif st == states.PENDING and self._remaining[i] == 0:
                self._ready.append(i)
            elif st == states.FAILURE and not any(
                i in nodes[r].members for r in retrying
            ):
                self._failed.append(i)
                self._halt = True
        if retrying:
            outer = [
                s
                for s in retrying
                if not any(o != s and s in nodes[o].members for o in retrying)
            ]
            members = [m for s in outer for m in nodes[s].members]
            self._begin_revert(members, False, outer)
