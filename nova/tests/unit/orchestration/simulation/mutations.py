"""Does the simulation catch each engine fix when it is taken back?

Each ``Mutation`` below undoes one fix (or one guard an invariant rests on)
by replacing a snippet of the engine's source. ``python -m
nova.tests.unit.orchestration.simulation.mutations`` copies the tree to a
temporary directory once per mutation, applies it there (the working tree
is never touched) and runs what CI runs of the simulation: the replays of
test_findings.py and the fixed exploration of test_exploration.py. A
mutation the simulation does not catch is a hole in the harness: an
invariant it does not check, or an interleaving it cannot reach.

test_mutations.py (in CI) checks only that every snippet is still in the
source exactly once, so that the list cannot silently go stale; the runs
themselves take minutes (``tox -e mutations``).
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time

Mutation = collections.namedtuple('Mutation', 'id path old new why')
Mutation.__doc__ = """``path``: relative to the repository root; ``old``
must occur exactly once there; ``why``: the fix or guard it undoes."""

ENGINE = 'nova/orchestration/engine/'
PERSISTENCE = 'nova/orchestration/persistence/'

MUTATIONS = (
    Mutation(
        'confirm-lease-once',
        ENGINE + '_journal.py',
        '        while (\n'
        '            policy.clock.monotonic() - self._lease_renewed',
        '        if (\n'
        '            policy.clock.monotonic() - self._lease_renewed',
        'renew the lease again when the renewing write itself stalled (I8)',
    ),
    Mutation(
        'hand-back-checks-abort',
        ENGINE + '_loop.py',
        'release=True, release_until=EXPIRED_LEASE, check_abort=False',
        'release=True, release_until=EXPIRED_LEASE, check_abort=True',
        'a stopped engine hands back a workflow with an abort pending (I3)',
    ),
    Mutation(
        'finish-ignores-abort',
        ENGINE + '_loop.py',
        '        except AbortRequested:\n'
        '            # The abort landed before this last write',
        '        except ZeroDivisionError:\n'
        '            # The abort landed before this last write',
        'defect 2: an abort during the last step is reverted (I3)',
    ),
    Mutation(
        'queued-step-starts-stale',
        ENGINE + '_scheduler.py',
        '            if not self._may_start():',
        '            if False:',
        'a step queued past the lease does not start before a fenced '
        'renewal (I8)',
    ),
    Mutation(
        'revert-failure-forgotten-on-resume',
        ENGINE + '_reverter.py',
        "                if s in pending or rows[s]['state'] == "
        "states.REVERT_FAILURE",
        '                if s in pending',
        'a successor whose revert failed blocks its predecessors after a '
        'resume too (I2)',
    ),
    Mutation(
        'load-overtaken',
        ENGINE + '_engine.py',
        "        if row['generation'] != journal.generation:",
        '        if False:',
        'F12: an engine adopted again while it loaded does not act on the '
        "new owner's rows (I8)",
    ),
    Mutation(
        'load-error-holds-row',
        ENGINE + '_engine.py',
        "            self._give_up('could not be restored after its claim')",
        '            pass',
        'defect 3: an error right after the claim frees the workflow (I3)',
    ),
    Mutation(
        'complete-claims-unfenced',
        ENGINE + '_engine.py',
        '                secrets,\n                loaded=loaded,\n',
        '                secrets,\n',
        'defect 1: a completion claims only at the generation it checked (I5)',
    ),
    Mutation(
        'stale-free-unfenced',
        PERSISTENCE + 'memory.py',
        "            if row['state'] in states.WORKFLOW_TERMINAL or (\n"
        "                generation is not None and row['generation'] != "
        "generation\n"
        "            ):\n"
        "                return False\n"
        "            lease = row['lease_expires_at']",
        "            if row['state'] in states.WORKFLOW_TERMINAL:\n"
        "                return False\n"
        "            lease = row['lease_expires_at']",
        'defect 4: a stale engine\'s free is fenced (I8)',
    ),
    Mutation(
        'operator-free-claimable',
        PERSISTENCE + 'memory.py',
        "                row.update(owner=base.FREED_OWNER, "
        "lease_expires_at=lease)",
        "                row.update(lease_expires_at=lease)",
        'F11: nobody claims a workflow freed from a live owner before its '
        'lease runs out (I8)',
    ),
)
BY_ID = {m.id: m for m in MUTATIONS}

#: What CI runs of the simulation, failing at the first failure.
TESTS = (
    'nova.tests.unit.orchestration.simulation.test_findings',
    'nova.tests.unit.orchestration.simulation.test_exploration',
)


def root():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(os.path.join(here, *['..'] * 5))


def apply(tree, mutation):
    """Apply ``mutation`` to the copy of the repository at ``tree``."""
    path = os.path.join(tree, mutation.path)
    with open(path) as f:
        text = f.read()
    if text.count(mutation.old) != 1:
        raise ValueError(
            '%s: the snippet occurs %d times in %s'
            % (mutation.id, text.count(mutation.old), mutation.path)
        )
    with open(path, 'w') as f:
        f.write(text.replace(mutation.old, mutation.new))


def check(mutation, python=sys.executable):
    """-> (caught, seconds, the first failing test's output); ``mutation``
    None runs the tree as it is (the control)."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='mutant-') as tree:
        shutil.copytree(
            os.path.join(root(), 'nova'),
            os.path.join(tree, 'nova'),
            ignore=shutil.ignore_patterns('__pycache__'),
        )
        if mutation is not None:
            apply(tree, mutation)
        proc = subprocess.run(
            [python, '-m', 'unittest', '-f', '-q', *TESTS],
            cwd=tree,
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=tree, PYTHONDONTWRITEBYTECODE='1'),
        )
    caught = proc.returncode != 0
    return caught, time.monotonic() - start, proc.stderr[-3000:]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m nova.tests.unit.orchestration.simulation.mutations',
        description='Take back each engine fix in a copy of the tree and '
        'check that the simulation CI runs catches it.',
    )
    parser.add_argument(
        'ids',
        nargs='*',
        metavar='ID',
        help='mutations to run (default: all: %s)' % ', '.join(BY_ID),
    )
    parser.add_argument(
        '-v',
        '--verbose',
        action='store_true',
        help='print what caught each mutation',
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.ids) - set(BY_ID))
    if unknown:
        parser.error('unknown mutations: %s' % ', '.join(unknown))
    failed, seconds, output = check(None)
    if failed:
        print(output)
        print(
            'the simulation fails on the tree as it is (%.0f s): fix that '
            'first' % seconds
        )
        return 2
    print('control: the tree as it is passes in %.0f s' % seconds, flush=True)
    missed = []
    for mutation in [BY_ID[i] for i in args.ids] or MUTATIONS:
        caught, seconds, output = check(mutation)
        print(
            '%-7s %-36s %5.0f s  %s'
            % (
                'caught' if caught else 'MISSED',
                mutation.id,
                seconds,
                mutation.why,
            ),
            flush=True,
        )
        if caught and args.verbose:
            print(output)
        if not caught:
            missed.append(mutation.id)
    print(
        '%d mutations, %d missed%s'
        % (
            len(args.ids or MUTATIONS),
            len(missed),
            ': ' + ', '.join(missed) if missed else '',
        )
    )
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main())
