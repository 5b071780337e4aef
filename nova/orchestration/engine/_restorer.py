"""Restore: an engine's memory rebuilt from persisted rows (resume).

What a resumed engine does with what it finds (design 4.2):

* SUCCESS steps are skipped, with their stored results;
* a step found RUNNING is waited for when it had returned Pending, run
  again when it declares itself idempotent, else failed as interrupted
  (and reverted);
* a REVERTING or ABORTING workflow resumes its revert, with the reasons
  it was reverting for (invariant I7);
* a retry scope caught between its revert and its next attempt resumes
  that revert.
"""

import datetime
import json

from nova.orchestration import retry as retry_mod
from nova.orchestration import states
from nova.orchestration.engine._loop import PENDING_KEY
from nova.orchestration.exceptions import OrchestrationError
from nova.orchestration.failure import Failure


def _parse_dt(text):
    return datetime.datetime.fromisoformat(text) if text else None


def restore(loop, tasks, workflow_failure):
    """Fill ``loop``'s collaborators from ``tasks`` (rows by position) and
    the workflow row's ``failure`` column."""
    nodes = loop.nodes
    journal, values = loop.journal, loop.values
    scheduler, reverter = loop.scheduler, loop.reverter
    rows = journal.rows
    order = []
    retrying = []
    for i, t in enumerate(tasks):
        row = rows[i]
        for k in row:
            if k != 'name':
                row[k] = t[k]
        st = row['state']
        if t['failure']:
            failure = Failure.from_dict(json.loads(t['failure']))
            values.failure[i] = failure
            if st == states.REVERT_FAILURE:
                reverter.revert_failures[row['name']] = failure
            else:
                reverter.failures[row['name']] = failure
        if nodes[i].is_retry and t['result']:
            data = json.loads(t['result'])
            values.result[i] = data['value']
            values.history[i] = retry_mod.History.from_json(data['history'])
            if data.get('retrying'):
                values.retrying.add(i)
                retrying.append(i)
        elif st == states.SUCCESS:
            values.result[i] = json.loads(t['result'])
        if st != states.PENDING:
            order.append(
                (
                    t['finished_at']
                    or t['started_at']
                    or journal.policy.clock.utcnow(),
                    i,
                )
            )
    reverter.restore_reasons(workflow_failure)
    for _, i in sorted(order):
        reverter.ranked(i)
    scheduler.ready.clear()
    scheduler.recount(range(len(nodes)), rows)
    if journal.state in (states.REVERTING, states.ABORTING):
        reverter.begin(range(len(nodes)), True, ())
        return
    if journal.state not in (states.PENDING, states.RUNNING):
        return
    _restore_forward(loop, retrying)


def _restore_forward(loop, retrying):
    nodes, rows = loop.nodes, loop.journal.rows
    scheduler, reverter = loop.scheduler, loop.reverter
    in_retry = set()
    for r in retrying:
        in_retry.update(nodes[r].members)
    for i, nd in enumerate(nodes):
        st = rows[i]['state']
        if st == states.RUNNING:
            data = None
            if rows[i]['result'] and not nd.is_retry:
                data = json.loads(rows[i]['result'])
            if isinstance(data, dict) and PENDING_KEY in data:
                scheduler.waiting[i] = (
                    data[PENDING_KEY],
                    _parse_dt(data['deadline']),
                )
            elif nd.atom.idempotent:
                scheduler.ready.append(i)
            else:
                reverter.task_failed(
                    i,
                    Failure.from_exception(
                        OrchestrationError(
                            'task %r was interrupted (found RUNNING after its '
                            'owner stopped) and is not idempotent' % nd.name
                        )
                    ),
                )
        elif st == states.PENDING and scheduler.remaining[i] == 0:
            scheduler.ready.append(i)
        elif st == states.FAILURE and i not in in_retry:
            reverter.failed.append(i)
            reverter.halted = True
    if retrying:
        outer = [
            s
            for s in retrying
            if not any(o != s and s in nodes[o].members for o in retrying)
        ]
        members = [m for s in outer for m in nodes[s].members]
        reverter.begin(members, False, outer)
