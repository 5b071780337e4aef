"""The CI budget of the simulation: a fixed set of schedules per flow.

Every flow is explored exhaustively up to one action (every fault or event
at every point), the smallest ones up to two, plus a fixed number of
seeded random runs of up to three actions; together about 35,000
schedules, half a minute on two cores. The set is fixed (no time budget)
so that CI is reproducible; the long exploration is ``tox -e explore``.

A test fails on a violation no known finding (findings.py) explains; its
message names the invariant, the minimal schedule found and, for a random
run, its seed, which replay it exactly::

    python -m nova.tests.unit.orchestration.simulation --replay 'SCHEDULE' -v
"""

import testtools
from testtools import content

from nova.tests.unit.orchestration.simulation import explorer
from nova.tests.unit.orchestration.simulation import flows

#: flow -> (exhaustive depth, random runs). Seeds are fixed: SEED.
BUDGET = {
    'linear': (2, 500),
    'failing': (1, 3000),
    'revert_fails': (1, 1500),
    'unordered': (1, 2400),
    'graph': (1, 2400),
    'graph_revert_fails': (1, 1500),
    'retry': (1, 2000),
    'nested_retry': (1, 1500),
    'pending': (1, 2400),
    'pending_timeout': (1, 3000),
    'pending_revert': (1, 1500),
    'pending_retry': (1, 1500),
    'timeout': (1, 2400),
    'poison': (2, 500),
}
SEED = 20261203


class ExploreFlows(testtools.TestCase):
    """One test per flow (so that stestr spreads them over its workers)."""

    def explore(self, name):
        spec = flows.FLOWS[name]
        depth, runs = BUDGET[name]
        report = explorer.Report()
        explorer.exhaustive(spec, depth, report)
        explorer.randomized(spec, SEED, report, count=runs)
        summary = report.summary()
        self.addDetail('exploration', content.text_content(summary))
        known, new = report.split()
        if new:
            lines = [summary, '', 'violations no finding explains:']
            for key in new:
                violation, outcome = report.examples[key]
                lines.append(str(violation))
                lines.append(outcome.describe())
            self.fail('\n'.join(lines))
        self.assertGreater(report.schedules, runs)


def _add_tests():
    for name in BUDGET:

        def test(self, name=name):
            self.explore(name)

        test.__name__ = 'test_%s' % name
        test.__doc__ = 'Explore %s: %s.' % (name, flows.FLOWS[name].doc)
        setattr(ExploreFlows, test.__name__, test)


_add_tests()


class BudgetTest(testtools.TestCase):
    def test_every_flow_is_explored(self):
        self.assertEqual(set(flows.FLOWS), set(BUDGET))
