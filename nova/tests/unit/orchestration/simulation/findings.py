"""Engine defects the simulation found: fixed ones and open ones.

Each finding gives a minimal schedule reproducing it. test_findings.py
replays every one: a fixed finding's schedule must come out with no
violation at all (a regression test of the exact interleaving); an open
one is an expected failure until the engine is fixed, when the test
reports an unexpected success and the finding gets its ``fixed`` line.

An open finding also says which violations it explains (invariant, a
pattern of the message, and actions one of which the schedule must
contain), so that the explorations count those as KNOWN and fail only on
the others; a finding never explains another invariant, nor a violation
its action took no part in.
"""

import collections
import re

Finding = collections.namedtuple(
    'Finding', 'id invariants schedule summary fixed explains'
)
Finding.__doc__ = """``fixed``: what fixed it (None while open);
``explains``: [(invariant, regex on the message, actions or None)]."""

#: The commit that fixed the first findings.
_REWRITE = 'Compose the engine of small parts around a declared run loop'

FINDINGS = (
    Finding(
        'D1',
        'I5 I3',
        'pending@12:stale',
        'a stale or duplicate Engine.complete claimed the row and released '
        'it with no lease: generation bumped, a waiting step\'s deadline '
        'wiped; a freed workflow orphaned (also pending@8:free)',
        _REWRITE,
        (),
    ),
    Finding(
        'D2',
        'I3',
        'linear@12:abort',
        'an abort landing during the last step (or before a wait) was '
        'swallowed: run() returned, nothing reverted, the row still owned',
        _REWRITE,
        (),
    ),
    Finding(
        'D3',
        'I3',
        'pending@17:dberr',
        'an error right after the claim in Engine.load (a read, the '
        'factory, the restore) left the row owned by an engine that does '
        'not exist',
        _REWRITE,
        (),
    ),
    Finding(
        'D4',
        'I8',
        'pending@2:adopt,17:dberr,19:dberr,21:dberr',
        'a stale engine whose writes keep failing frees "its" workflow: '
        'the free must be fenced by its generation, or it fences the new '
        'owner',
        'Fence free(), count it as an adoption, renew only live leases',
        (),
    ),
    Finding(
        'F3',
        'I3 I4',
        'failing@12:abort',
        'an abort requested during a revert pass failed the final write for '
        'ever (check_abort computed from the new state): run() returned '
        'REVERTING, owned; every adopter re-reverted until poisoned',
        _REWRITE,
        (),
    ),
    Finding(
        'F4',
        'I8 I6 I1 I2 I9',
        'linear@4:adopt',
        'a stalled engine started its next step after its lease ran out and '
        'another engine had adopted: no fenced write between the persisted '
        'start and the call (also nested_retry@26:adopt: a non-idempotent '
        'step executed twice; retry@22:adopt: a stale revert out of order)',
        _REWRITE,
        (),
    ),
    Finding(
        'F5',
        'I7',
        'linear@4:abort,9:adopt',
        'why a workflow reverts did not survive a resume: an adopted '
        'ABORTING workflow reverted with no Aborted in flow_failures and '
        'ended with no failure recorded',
        _REWRITE,
        (),
    ),
    Finding(
        'F6',
        'I4 I3',
        'poison@2:adopt,12:abort',
        'past max_adoptions with an abort requested, the poison write '
        'raised AbortRequested out of Engine.load: never FAILED, the row '
        'owned, adopters cycling for ever',
        _REWRITE,
        (),
    ),
    Finding(
        'F8',
        'I5',
        'pending_timeout@8:abort,14:free',
        'a completion for a step of an ABORTING workflow passed the token '
        'check, claimed the row, was refused and released it: every '
        'redelivery bumped the generation',
        _REWRITE,
        (),
    ),
    Finding(
        'F9',
        'I3',
        'linear@2:crash,7:dberr,8:dberr',
        'the free after a failed Engine.load was not retried: a second '
        'transient error left the row owned by an engine that does not '
        'exist',
        _REWRITE,
        (),
    ),
    Finding(
        'F10',
        'I7',
        'graph_revert_fails@8:adopt,19:adopt',
        'a step failed (here: interrupted) and its revert failed too: the '
        'revert failure overwrote the step\'s failure in its row, and an '
        'engine resuming the revert of the other branch passed empty '
        'flow_failures',
        'Keep the reasons of a failed revert and never orphan a release',
        (),
    ),
    Finding(
        'F11',
        'I8 I6 I1',
        'pending_revert@13:complete,14:free',
        'an operator frees a workflow whose live owner has a step queued in '
        'its pool; another engine claims at once and reverts that step as '
        'interrupted; then the old owner\'s pool starts it. free() keeps '
        'the old lease now, but claim() still takes a row with no owner '
        'whatever its lease, so a completion adopts it before the lease '
        'the old owner trusts runs out',
        'Let nobody claim a workflow an operator freed from a live owner',
        (),
    ),
    Finding(
        'F12',
        'I3 I8',
        'poison@3:crash,16:adopt,20:adopt',
        'an engine that claimed a workflow stalled before loading its rows; '
        'another adopted it meanwhile and poisoned it; the first then took '
        'the new owner\'s rows for its own and tried to poison a FAILED '
        'workflow: InvalidTransition escaped Engine.load (found once the '
        'harness checked that only the exceptions of the engine\'s '
        'contract leave it)',
        'Refuse to take over rows another owner claimed after us',
        (),
    ),
)

OPEN = tuple(f for f in FINDINGS if f.fixed is None)
BY_ID = {f.id: f for f in FINDINGS}


def match(outcome, violation):
    """The open finding explaining ``violation`` in ``outcome``, or None."""
    actions = set(outcome.taken.values())
    for finding in OPEN:
        for invariant, pattern, needs in finding.explains:
            if isinstance(needs, str):
                needs = (needs,)
            if (
                invariant == violation.invariant
                and (needs is None or actions.intersection(needs))
                and re.search(pattern, violation.message)
            ):
                return finding
    return None
