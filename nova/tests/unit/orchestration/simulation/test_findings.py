"""Each engine defect the simulation found, replayed from its schedule.

A fixed one must replay with no violation at all: a regression test of
the exact interleaving that broke it. An open one is an expected failure
(its replay still violates what the finding says); when the engine is
fixed it reports an unexpected success: give the finding its ``fixed``
line in findings.py then.
"""

import testtools

from nova.tests.unit.orchestration.simulation import explorer
from nova.tests.unit.orchestration.simulation import findings
from nova.tests.unit.orchestration.simulation import flows
from nova.tests.unit.orchestration.simulation import scenario


class ReplayFindings(testtools.TestCase):
    def replay(self, finding):
        outcome = explorer.run_schedule(None, finding.schedule)
        # The schedule still reaches the points it names with the actions
        # it names (else it tests nothing any more).
        self.assertEqual(
            scenario.parse_schedule(finding.schedule)[1],
            outcome.taken,
            outcome.describe(),
        )
        return outcome

    def assert_fixed(self, finding):
        outcome = self.replay(finding)
        self.assertEqual([], outcome.violations, outcome.describe())

    def check(self, finding_id):
        finding = findings.BY_ID[finding_id]
        if finding.fixed:
            self.assert_fixed(finding)
        else:
            self.expectFailure(
                '%s is not fixed yet: %s' % (finding.id, finding.summary),
                self.assert_fixed,
                finding,
            )


def _add_tests():
    for finding in findings.FINDINGS:

        def test(self, finding_id=finding.id):
            self.check(finding_id)

        test.__name__ = 'test_%s' % finding.id
        test.__doc__ = '%s %s (%s): %s' % (
            finding.id,
            finding.invariants,
            finding.schedule,
            finding.summary,
        )
        setattr(ReplayFindings, test.__name__, test)


_add_tests()


class HarnessCatchesDefect4(testtools.TestCase):
    """The checks do see a defect when one is put back: here an unfenced
    free() (defect 4), under D4's schedule."""

    def test_unfenced_free_is_a_stale_write(self):
        name, schedule = scenario.parse_schedule(findings.BY_ID['D4'].schedule)
        run = scenario.Scenario(flows.FLOWS[name], schedule)
        inner = run.world.inner

        def unfenced_free(workflow_id, generation=None):
            return type(inner).free(inner, workflow_id)

        inner.free = unfenced_free
        outcome = run.run()
        self.assertIn(
            'I8', [v.invariant for v in outcome.violations], outcome.describe()
        )
