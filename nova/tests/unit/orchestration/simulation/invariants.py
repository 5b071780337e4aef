"""The invariants I1-I9, as checks over the backend rows and the ledger.

Some are checked the moment something happens (a step starts, a stale
engine writes, a completion is delivered, an engine call ends); the others
over the whole run once the workflow has been driven to its end. Each
check appends ``Violation(invariant, point, message)`` to the world; the
message says what happened, with the actors (e1, e2, ... one per engine
call, each its own process and owner name) and the point number.

These functions read the world's attributes only; see world.py for the
ledger (``Entry``) and the backend events (``Event``).
"""

import collections
import datetime
import json

from nova.orchestration import states
from nova.orchestration.persistence.base import FREED_OWNER

#: An operator's free keeps the old owner's lease until it runs out (the
#: owner may still be alive), which can postpone a deadline by a lease.
_LEASE_KEPT_BY_FREE = datetime.timedelta(seconds=30)

#: How the engine marks the result of a step waiting for a completion
#: (the persisted row format: {'__pending__': token, 'deadline': iso}).
PENDING_KEY = '__pending__'

Violation = collections.namedtuple('Violation', 'invariant point message')
Violation.__str__ = lambda v: (
    '%s at point %d: %s'
    % (
        v.invariant,
        v.point,
        v.message,
    )
)

#: Workflow row fields a refused completion must leave as they were.
_WORKFLOW_FIELDS = (
    'state',
    'owner',
    'generation',
    'lease_expires_at',
    'abort_requested',
    'adoptions',
    'failure',
    'finished_at',
)
_TASK_FIELDS = ('state', 'attempt', 'result', 'failure')


def _short(exc_type):
    return exc_type.rsplit('.', 1)[-1]


def waiting_steps(tasks):
    """{name: (token, deadline or None)} of steps waiting for a
    completion."""
    out = {}
    for t in tasks.values() if isinstance(tasks, dict) else tasks:
        if t['state'] != states.RUNNING or not t['result']:
            continue
        try:
            data = json.loads(t['result'])
        except ValueError:
            continue
        if isinstance(data, dict) and PENDING_KEY in data:
            deadline = data.get('deadline')
            out[t['name']] = (
                data[PENDING_KEY],
                datetime.datetime.fromisoformat(deadline)
                if deadline
                else None,
            )
    return out


def token_is_current(snapshot, task, token):
    """Whether ``task`` waits for ``token`` in these rows."""
    if snapshot is None:
        return False
    waiting = waiting_steps(snapshot[1])
    return task in waiting and waiting[task][0] == token


def diff(before, after):
    """What changed between two snapshots, as short text (or '')."""
    if before is None or after is None:
        return '' if before is after else 'the workflow appeared'
    out = []
    for f in _WORKFLOW_FIELDS:
        if before[0][f] != after[0][f]:
            out.append('%s %s -> %s' % (f, before[0][f], after[0][f]))
    for t0, t1 in zip(before[1], after[1], strict=False):
        for f in _TASK_FIELDS:
            if t0[f] != t1[f]:
                out.append('%s.%s %s -> %s' % (t0['name'], f, t0[f], t1[f]))
    return '; '.join(out)


# -- checked as things happen ------------------------------------------------
def check_start(world, e):
    """I6 and I8, when a step's execute or revert begins (at the point
    about to be reached)."""
    actor = world.actors.get(e.actor)
    point = world.n + 1
    claimed = world.max_claim
    if e.gen is not None and e.gen < claimed:
        world.violate(
            'I8',
            point=point,
            message='%s starts %s of %s with workflow_generation %s after '
            'generation %s was claimed: a stale engine made a side effect'
            % (e.actor, e.kind, e.task, e.gen, claimed),
        )
    if actor is not None and not actor.running:
        world.violate(
            'I6',
            point=point,
            message='%s of %s starts after the call of its engine %s '
            'ended (%s): a queued call was not cancelled'
            % (e.kind, e.task, e.actor, actor.outcome),
        )
    if e.kind == 'exec' and e.task_state != states.RUNNING:
        world.violate(
            'I6',
            point=point,
            message='%s starts executing %s while its row is %s (a step '
            'that timed out, was cancelled or is reverting never starts)'
            % (e.actor, e.task, e.task_state),
        )


def check_stale_write(world, actor, method, before):
    """I8: a write by an engine whose generation is stale changes
    nothing."""
    change = diff(before, world.snapshot())
    if change:
        world.violate(
            'I8',
            '%s (generation %s, stale) changed the rows with %s: %s'
            % (actor.name, actor.generation, method, change),
        )


def check_completion(world, task, token, before, was_current, outcome, quiet):
    """I5, after one delivery of a completion.

    ``was_current``: the step waited for this token when it was delivered;
    ``quiet``: no action of the schedule ran meanwhile (else concurrent
    changes are expected).
    """
    after = world.snapshot()
    remote = world.remote.get(token)
    if (
        was_current
        and not token_is_current(after, task, token)
        and remote is not None
    ):
        # Taken now (unless a completion nested in this one took it).
        world.accepts[token] += 1
        if remote.status != 'accepted':  # outstanding, or lost and late
            remote.status = 'accepted'
            world.log('accepted', None, token)
        elif quiet:
            world.violate(
                'I5',
                'the completion %s of %s was accepted %d times'
                % (token, task, world.accepts[token]),
            )
    if not quiet:
        return
    change = diff(before, after)
    if not was_current and change:
        world.violate(
            'I5',
            'a stale or duplicate completion of %s (token %s) changed the '
            'workflow (%s): %s' % (task, token, outcome, change),
        )
    elif outcome == 'refused' and change:
        world.violate(
            'I5',
            'a refused completion of %s (token %s) changed the workflow: %s'
            % (task, token, change),
        )


def check_quiescent(world, ended=None):
    """I3, after an engine call ended (``ended``) or at rest (None).

    Every unfinished workflow is owned by an engine really running it, or
    adoptable: owned by a process that died (its lease runs out), unowned
    with a lease a sweeper will see pass, or unowned, waiting for a
    completion the remote side still owes. While steps wait, the lease is
    no later than their earliest deadline.
    """
    snap = world.snapshot()
    if snap is None:
        return
    row, tasks = snap
    after = (
        ' after %s ended (%s)' % (ended.name, ended.outcome)
        if ended
        else ' at rest'
    )
    if row['state'] in states.WORKFLOW_TERMINAL:
        if row['owner'] is not None:
            world.violate(
                'I3',
                'finished (%s) but still owned by %s%s'
                % (row['state'], row['owner'], after),
            )
        return
    owner, lease = row['owner'], row['lease_expires_at']
    if owner is not None:
        if owner in world.running_owners():
            return
        if owner == FREED_OWNER and lease is not None:
            return  # an operator freed it: adopted when the lease passes
        holder = world.actors.get(owner)
        if holder is not None and (holder.crashed or holder.exhausted):
            if lease is None:
                world.violate(
                    'I3',
                    'owned by %s, which died, with no lease: never '
                    'adoptable%s' % (owner, after),
                )
            return
        world.violate(
            'I3',
            '%s %s is owned by %s, which is not running it (%s), until '
            '%s%s'
            % (
                row['state'],
                world.wid,
                owner,
                holder.outcome if holder else 'unknown owner',
                lease,
                after,
            ),
        )
        return
    if row['state'] == states.PENDING:
        return  # never started: the sweeper's grace period covers it
    waiting = waiting_steps(tasks)
    deadlines = [d for _, d in waiting.values() if d is not None]
    if row['abort_requested'] and lease is None:
        world.violate(
            'I3',
            'abort requested on an unowned %s workflow with no lease: '
            'nobody will ever revert it%s' % (row['state'], after),
        )
    if deadlines:
        if lease is None:
            world.violate(
                'I3',
                'waiting step(s) %s have a deadline (%s) but the unowned '
                'row has no lease: the timeout can never fire%s'
                % (sorted(waiting), min(deadlines), after),
            )
        elif lease > max(
            min(deadlines), world.clock.utcnow() + _LEASE_KEPT_BY_FREE
        ):
            world.violate(
                'I3',
                'the lease %s is later than the deadline %s of the waiting '
                'step(s) %s%s'
                % (lease, min(deadlines), sorted(waiting), after),
            )
        return
    if lease is not None:
        return
    if not waiting:
        world.violate(
            'I3',
            'unowned %s workflow with no lease and no waiting step: '
            'orphaned, no sweeper will ever adopt it%s'
            % (row['state'], after),
        )
        return
    for name, (token, _) in sorted(waiting.items()):
        remote = world.remote.get(token)
        if remote is None or remote.status != 'outstanding':
            world.violate(
                'I3',
                '%s waits, with no timeout and no lease, for completion %s '
                'which will never come (%s)%s'
                % (name, token, remote.status if remote else 'unknown', after),
            )
