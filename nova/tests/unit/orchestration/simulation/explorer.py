"""Exploring schedules: exhaustively up to a depth, or at random by seed.

*Exhaustive*: run the flow with no action and note every point it reaches
and the actions that apply there; each (point, action) is a schedule of
depth 1; run each, and from the points after its action branch again, up
to ``depth`` actions (breadth first, so a budget cut keeps every shallower
schedule). Points before a schedule's last action are the same as in its
parent run (the simulation is deterministic), so this enumerates every
schedule of up to ``depth`` actions exactly once.

*Random*: each run gets its own seed; a seeded chooser decides at every
point whether to act (about ``max_faults`` times per run) and which pool
call runs next. The seed alone replays the run, and so does the schedule
it printed.
"""

import collections
import random
import re
import time

from nova.tests.unit.orchestration.simulation import findings
from nova.tests.unit.orchestration.simulation import flows
from nova.tests.unit.orchestration.simulation import scenario

_baselines = {}


def baseline_points(flow):
    """How many points a run of ``flow`` with no action reaches."""
    if flow.name not in _baselines:
        _baselines[flow.name] = scenario.Scenario(flow).run().points
    return _baselines[flow.name]


class RandomChooser:
    """Picks actions at random, from a seed: at most ``max_faults`` faults
    per run (the count itself drawn between 1 and max_faults), and a random
    pool call whenever several are queued."""

    def __init__(self, seed, expected_points, max_faults=3):
        self.rng = random.Random(seed)
        self.budget = self.rng.randint(1, max_faults)
        self.rate = self.budget / max(expected_points, 1)

    def __call__(self, world, n, kind, where, info):
        options = world.options(kind, info)
        if not options:
            return None
        if kind == 'pool':
            # Scheduling, not a fault: the oldest call or any other.
            choice = self.rng.randrange(len(options) + 1)
            return options[choice - 1] if choice else None
        if self.budget and self.rng.random() < self.rate:
            self.budget -= 1
            return self.rng.choice(options)
        return None


def run_schedule(flow, schedule, branching=False):
    """One run of ``flow`` (a FlowSpec or its name) through ``schedule``
    (a dict, or text like 'linear@7:crash,15:adopt')."""
    if isinstance(schedule, str):
        name, schedule = scenario.parse_schedule(schedule)
        flow = flow or name
    if isinstance(flow, str):
        flow = flows.FLOWS[flow]
    return scenario.Scenario(flow, schedule, branching=branching).run()


def run_seed(flow, seed, max_faults=3):
    """One random run of ``flow``; the same seed gives the same run."""
    if isinstance(flow, str):
        flow = flows.FLOWS[flow]
    chooser = RandomChooser(seed, baseline_points(flow), max_faults)
    outcome = scenario.Scenario(flow, chooser=chooser).run()
    outcome.seed = seed
    return outcome


def signature(flow_name, violation):
    """What makes two violations 'the same finding': the invariant, the
    flow and the message with actors, numbers and times blanked out."""
    message = re.sub(r'\be\d+\b', 'eN', violation.message)
    message = re.sub(r'\d+', 'N', message)
    message = re.sub(r'\([^()]*\)', '(..)', message)
    message = re.sub(r' (after eN ended.*|at rest)$', '', message)
    steps = flows.FLOWS[flow_name].steps if flow_name in flows.FLOWS else ()
    for name in steps:
        message = re.sub(r'\b%s\b' % re.escape(name), 'S', message)
    return violation.invariant, flow_name, message


class Report:
    """Counts of an exploration, and the smallest example of each finding."""

    def __init__(self):
        self.schedules = 0
        self.exhaustive = 0
        self.random = 0
        self.by_flow = collections.Counter()
        self.counts = collections.Counter()
        self.examples = {}
        self.truncated = []
        self.started = time.monotonic()

    def add(self, outcome, mode):
        self.schedules += 1
        setattr(self, mode, getattr(self, mode) + 1)
        self.by_flow[outcome.flow.name] += 1
        for v in outcome.violations:
            key = signature(outcome.flow.name, v)
            self.counts[key] += 1
            best = self.examples.get(key)
            if best is None or len(outcome.taken) < len(best[1].taken):
                self.examples[key] = (v, outcome)

    def split(self):
        """-> ({key: finding id} known, [key] new)."""
        known, new = {}, []
        for key, (v, outcome) in sorted(self.examples.items()):
            finding = findings.match(outcome, v)
            if finding is not None:
                known[key] = finding.id
            else:
                new.append(key)
        return known, new

    def summary(self, verbose=False):
        elapsed = time.monotonic() - self.started
        lines = [
            'explored %d schedules (%d exhaustive, %d random) in %.1f s: %s'
            % (
                self.schedules,
                self.exhaustive,
                self.random,
                elapsed,
                ', '.join('%s %d' % kv for kv in sorted(self.by_flow.items())),
            )
        ]
        if self.truncated:
            lines.append(
                'budget cut the exhaustive search of: %s'
                % ', '.join(self.truncated)
            )
        known, new = self.split()
        for key in new + sorted(known, key=known.get):
            v, outcome = self.examples[key]
            tag = 'KNOWN %s' % known[key] if key in known else 'NEW'
            lines.append(
                '%s %s in %s (%d schedules), e.g.:'
                % (tag, v.invariant, outcome.flow.name, self.counts[key])
            )
            lines.append('  ' + str(v))
            lines.append('  replay: %s' % replay_hint(outcome))
            if verbose:
                lines.append(outcome.describe())
        return '\n'.join(lines)


def replay_hint(outcome):
    text = "--replay '%s'" % outcome.schedule
    if outcome.seed is not None:
        text += "  (or --replay-seed %s:%d)" % (
            outcome.flow.name,
            outcome.seed,
        )
    return text


def exhaustive(flow, depth, report, deadline=None, limit=None, shallowest=0):
    """Every schedule of up to ``depth`` actions (breadth first); those of
    fewer than ``shallowest`` actions are run (to branch from) but not
    reported again."""
    queue = collections.deque([{}])
    done = 0
    while queue:
        if (deadline is not None and time.monotonic() > deadline) or (
            limit is not None and done >= limit
        ):
            report.truncated.append(
                '%s (depth %d, %d left)' % (flow.name, depth, len(queue))
            )
            return done
        schedule = queue.popleft()
        outcome = scenario.Scenario(
            flow, schedule, branching=len(schedule) < depth
        ).run()
        if len(schedule) >= shallowest:
            report.add(outcome, 'exhaustive')
        done += 1
        if len(schedule) < depth:
            last = max(schedule, default=0)
            for n, options in outcome.reached:
                if n > last:
                    for action in options:
                        child = dict(schedule)
                        child[n] = action
                        queue.append(child)
    return done


def randomized(flow, seed, report, count=None, deadline=None, max_faults=3):
    """``count`` random runs (or until ``deadline``); run i has seed
    ``seed * 1000000 + i``."""
    i = 0
    while (count is None or i < count) and (
        deadline is None or time.monotonic() < deadline
    ):
        report.add(run_seed(flow, seed * 1000000 + i, max_faults), 'random')
        i += 1
    return i


def explore(
    flow_names,
    budget_seconds,
    seed,
    depth=2,
    max_faults=3,
    report=None,
    out=None,
):
    """The long exploration: every flow exhaustively to depth 1, then to
    ``depth`` within about 40% of the budget (an equal share per flow),
    then random runs round-robin until the budget is spent."""
    report = report or Report()
    specs = [flows.FLOWS[n] for n in flow_names]
    start = time.monotonic()
    end = start + budget_seconds
    for spec in specs:
        exhaustive(spec, 1, report, deadline=end)
    if depth > 1:
        share = max(0.0, 0.4 * budget_seconds - (time.monotonic() - start))
        for spec in specs:
            cut = min(end, time.monotonic() + share / len(specs))
            exhaustive(spec, depth, report, deadline=cut, shallowest=2)
    counters = dict.fromkeys(flow_names, 0)
    last_note = time.monotonic()
    while time.monotonic() < end:
        for spec in specs:
            for _ in range(20):
                outcome = run_seed(
                    spec, seed * 1000000 + counters[spec.name], max_faults
                )
                counters[spec.name] += 1
                report.add(outcome, 'random')
        if out is not None and time.monotonic() - last_note > 30:
            last_note = time.monotonic()
            out(
                '... %d schedules, %.0f s left'
                % (report.schedules, end - last_note)
            )
    return report


def main(argv=None):
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog='explore-workflows',
        description='Explore interleavings of the workflow engine in a '
        'deterministic simulation and check its invariants '
        '(doc/source/orchestration/simulation.rst).',
    )
    parser.add_argument(
        '--flows',
        default=','.join(flows.FLOWS),
        help='comma-separated flows (default: all: %s)'
        % ', '.join(flows.FLOWS),
    )
    parser.add_argument('--budget-seconds', type=float, default=60.0)
    parser.add_argument(
        '--seed',
        type=int,
        default=None,
        help='seed of the random runs (default: from the time, printed)',
    )
    parser.add_argument(
        '--depth',
        type=int,
        default=2,
        help='actions per exhaustive schedule (default 2)',
    )
    parser.add_argument(
        '--max-faults',
        type=int,
        default=3,
        help='most actions per random run (default 3)',
    )
    parser.add_argument(
        '--replay',
        metavar='SCHEDULE',
        help="run one schedule, e.g. 'linear@7:crash,15:"
        "adopt', and print its trace",
    )
    parser.add_argument(
        '--replay-seed',
        metavar='FLOW:SEED',
        help='run one random run again and print its trace',
    )
    parser.add_argument(
        '--strict', action='store_true', help='fail on known findings too'
    )
    parser.add_argument(
        '-v',
        '--verbose',
        action='store_true',
        help='print the trace of each example',
    )
    args = parser.parse_args(argv)
    if args.replay or args.replay_seed:
        if args.replay:
            outcome = run_schedule(None, args.replay)
        else:
            name, _, seed = args.replay_seed.partition(':')
            outcome = run_seed(name, int(seed), args.max_faults)
        print(outcome.describe())
        for v in outcome.violations:
            finding = findings.match(outcome, v)
            if finding is not None:
                print(
                    '%s is known: %s %s'
                    % (v.invariant, finding.id, finding.summary)
                )
        return 1 if outcome.violations else 0
    seed = args.seed if args.seed is not None else int(time.time()) % 100000
    names = [n for n in args.flows.split(',') if n]
    unknown = sorted(set(names) - set(flows.FLOWS))
    if unknown:
        parser.error(
            'unknown flows %s (known: %s)'
            % (', '.join(unknown), ', '.join(flows.FLOWS))
        )
    print(
        'exploring %s for %.0f s, seed %d'
        % (', '.join(names), args.budget_seconds, seed)
    )
    sys.stdout.flush()
    report = explore(
        names,
        args.budget_seconds,
        seed,
        args.depth,
        args.max_faults,
        out=lambda s: print(s, flush=True),
    )
    print(report.summary(verbose=args.verbose))
    print('seed %d' % seed)
    known, new = report.split()
    return 1 if new or (args.strict and known) else 0
