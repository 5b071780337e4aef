"""The invariants checked once a workflow has been driven to its end.

They read the whole side-effect ledger (every execute and revert start and
end, by which engine, under which generation), the backend events (claims,
releases, frees) and the final rows. See invariants.py for the checks made
as things happen.
"""

import collections

from nova.orchestration import states
from nova.tests.unit.orchestration.simulation.invariants import _short

OK, FAIL = 'ok', 'fail'


def check_end(world):
    """Every end-of-run check; violations go to ``world.violations``."""
    snap = world.snapshot()
    if snap is None:
        return
    row, rows = snap
    tasks = {t['name']: t for t in rows}
    by_task = collections.defaultdict(list)
    for e in world.ledger:
        by_task[e.task].append(e)
    poisoned = _check_adoptions(world, row)
    _check_converged(world, row, tasks)
    _check_outcome(world, row, tasks, by_task)
    _check_revert_order(world)
    _check_revert_reasons(world, row)
    _check_at_least_once(world, row, by_task, poisoned)


def _last(entries, kind, before=None):
    """Index in ``entries`` of the last entry of ``kind`` (before index)."""
    stop = len(entries) if before is None else before
    for i in range(stop - 1, -1, -1):
        if entries[i].kind == kind:
            return i
    return None


def _check_converged(world, row, tasks):
    """I3: driven to the end, every workflow finishes."""
    if row['state'] in states.WORKFLOW_TERMINAL:
        return
    world.violate(
        'I3',
        'did not converge: still %s, owner %s, lease %s, steps %s, after '
        'delivering every completion, letting every lease and deadline '
        'pass and sweeping'
        % (
            row['state'],
            row['owner'],
            row['lease_expires_at'],
            {n: t['state'] for n, t in tasks.items()},
        ),
    )


def _check_outcome(world, row, tasks, by_task):
    """I1: SUCCESS only if every step succeeded (and was not undone);
    REVERTED only if every step that started was reverted."""
    state = row['state']
    steps = world.flow.steps
    if state == states.SUCCESS:
        bad = {
            n: t['state']
            for n, t in tasks.items()
            if t['state'] != states.SUCCESS
        }
        if bad:
            world.violate('I1', 'SUCCESS but steps are %s' % bad)
        for name in steps:
            entries = by_task[name]
            i = _last(entries, 'exec')
            if i is None:
                world.violate('I1', 'SUCCESS but %s never executed' % name)
            elif any(e.kind == 'revert' for e in entries[i:]):
                world.violate(
                    'I1',
                    'SUCCESS but %s was reverted after its last execute'
                    % name,
                )
    elif state == states.REVERTED:
        bad = {
            n: t['state']
            for n, t in tasks.items()
            if t['state'] not in (states.PENDING, states.REVERTED)
        }
        if bad:
            world.violate('I1', 'REVERTED but steps are %s' % bad)
        for name in steps:
            entries = by_task[name]
            i = _last(entries, 'exec')
            if i is not None and not any(
                e.kind == 'revert-end' and e.detail == OK for e in entries[i:]
            ):
                world.violate(
                    'I1',
                    'REVERTED but %s, executed by %s (ledger #%d), was not '
                    'reverted afterwards'
                    % (name, entries[i].actor, entries[i].seq),
                )
    elif state == states.FAILED:
        failed_revert = any(
            t['state'] == states.REVERT_FAILURE for t in tasks.values()
        )
        if not failed_revert and 'adopt' not in (row['failure'] or ''):
            world.violate(
                'I1',
                'FAILED with no failed revert and no poison: %s'
                % (row['failure'],),
            )


def _check_revert_order(world):
    """I2: a step's revert never starts while the revert of a successor
    that ran after it is unfinished or failed (live or after a resume)."""
    ledger = world.ledger
    succ = world.flow.successors
    seen = set()
    for k, e in enumerate(ledger):
        if e.kind != 'revert':
            continue
        mine = _last_of(ledger, 'exec', e.task, k)
        for s in sorted(succ.get(e.task, ())):
            theirs = _last_of(ledger, 'exec', s, k)
            if theirs is None or (mine is not None and theirs < mine):
                continue
            ends = [
                x.detail
                for x in ledger[theirs + 1 : k]
                if x.task == s and x.kind == 'revert-end'
            ]
            if FAIL in ends:
                why = 'the revert of its successor %s failed' % s
            elif OK not in ends:
                why = (
                    'its successor %s (executed by %s, ledger #%d) was '
                    'not reverted yet'
                    % (s, ledger[theirs].actor, ledger[theirs].seq)
                )
            else:
                continue
            if (e.task, s) not in seen:
                seen.add((e.task, s))
                world.violate(
                    'I2',
                    'the revert of %s began (%s, ledger #%d) although %s'
                    % (e.task, e.actor, e.seq, why),
                )


def _last_of(ledger, kind, task, before):
    for i in range(before - 1, -1, -1):
        if ledger[i].kind == kind and ledger[i].task == task:
            return i
    return None


def _check_adoptions(world, row):
    """I4: every takeover of a turn that did not end cleanly counts toward
    max_adoptions, however the row was freed; past the limit the workflow
    ends FAILED with that reason (abort requested or not), and the engine
    that found it poisoned runs no step. -> whether it was poisoned."""
    holder, clean, expected = None, True, 0
    reported = False
    poison = None
    limit = world.flow.max_adoptions
    for ev in world.events:
        if ev.kind == 'claim':
            if holder is not None and not clean:
                expected += 1
            adoptions = ev.data[1]
            if adoptions < expected and not reported:
                reported = True
                world.violate(
                    'I4',
                    'the claim by %s takes over the %d-th turn that did not '
                    'end cleanly, but the row counts %d adoptions'
                    % (ev.actor, expected, adoptions),
                )
            if limit is not None and adoptions > limit and poison is None:
                poison = ev
            holder, clean = ev.actor, False
        elif ev.kind == 'release' and ev.actor == holder:
            clean = True
        elif ev.kind == 'free':
            expected += 1
            clean = True
    if poison is None:
        return False
    if row['state'] != states.FAILED or 'adopt' not in (row['failure'] or ''):
        world.violate(
            'I4',
            '%s claimed the workflow for the %d-th adoption (max_adoptions '
            '%d) but it ended %s with failure %s'
            % (
                poison.actor,
                poison.data[1],
                limit,
                row['state'],
                row['failure'],
            ),
        )
    ran = [
        e
        for e in world.ledger
        if e.seq > poison.seq
        and e.actor == poison.actor
        and e.kind in ('exec', 'revert')
    ]
    if ran:
        world.violate(
            'I4',
            '%s found the workflow poisoned and still ran %s of %s'
            % (poison.actor, ran[0].kind, ran[0].task),
        )
    return True


def _check_revert_reasons(world, row):
    """I7: why a workflow reverts survives a resume."""
    first = None
    seen = set()

    def once(key, message):
        if key not in seen:
            seen.add(key)
            world.violate('I7', message)

    for e in world.ledger:
        if e.kind != 'revert' or e.wf_state not in (
            states.REVERTING,
            states.ABORTING,
        ):
            continue
        reasons = frozenset(_short(t) for t in e.detail or ())
        if not reasons:
            once(
                ('empty', e.task),
                'revert of %s by %s got no flow_failures: why the workflow '
                'reverts was lost' % (e.task, e.actor),
            )
        if e.wf_state == states.ABORTING and 'Aborted' not in reasons:
            once(
                ('abort', e.task),
                'revert of %s by %s in an ABORTING workflow got '
                'flow_failures %s, without Aborted'
                % (e.task, e.actor, sorted(reasons)),
            )
        if first is None:
            first = reasons
        elif not first <= reasons:
            once(
                ('lost', e.task),
                'revert of %s by %s sees flow_failures %s; the first '
                'revert saw %s'
                % (e.task, e.actor, sorted(reasons), sorted(first)),
            )
    if row['state'] in (states.REVERTED, states.FAILED):
        if not row['failure']:
            world.violate(
                'I7', 'ended %s with no failure recorded' % row['state']
            )
        elif first and 'Aborted' in first and 'Aborted' not in row['failure']:
            world.violate(
                'I7',
                'aborted, but the recorded failure does not say so: %s'
                % row['failure'],
            )


def _check_at_least_once(world, row, by_task, poisoned):
    """I9: per attempt, a step that is not idempotent executes at most
    once (a revert separates attempts), and a revert that started is
    finished, by the same engine or after a resume."""
    for name, step in world.flow.steps.items():
        executed = None
        for e in by_task[name]:
            if e.kind == 'revert-end' and e.detail == OK:
                executed = None
            elif e.kind == 'exec':
                if executed is not None and not step.idempotent:
                    world.violate(
                        'I9',
                        '%s is not idempotent but %s executed it again '
                        '(ledger #%d) after %s did (#%d) with no revert in '
                        'between'
                        % (name, e.actor, e.seq, executed.actor, executed.seq),
                    )
                    break
                executed = e
    if poisoned or row['state'] not in (states.REVERTED, states.FAILED):
        return
    for name in world.flow.steps:
        # A stale engine's revert (I8 reports it) is not one the
        # workflow counts on.
        entries = [e for e in by_task[name] if not e.stale]
        i = _last(entries, 'revert')
        if i is not None and not any(
            e.kind == 'revert-end' for e in entries[i:]
        ):
            world.violate(
                'I9',
                'the revert of %s started (%s, ledger #%d) but never '
                'finished and was not run again'
                % (name, entries[i].actor, entries[i].seq),
            )
