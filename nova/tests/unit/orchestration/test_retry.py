"""Retry controllers: Times, ForEach, ParameterizedForEach, custom, nesting."""

import testtools

from nova import orchestration as orc
from nova.orchestration import states
from nova.tests.unit.orchestration import base


class FailUntil(orc.Task):
    """Fails while the provided value is not ``good``; records what it saw."""

    def __init__(self, name, good, seen, rebind=None):
        super().__init__(name=name, rebind=rebind)
        self.good = good
        self.seen = seen

    def execute(self, value):
        self.seen.append(value)
        if value != self.good:
            raise RuntimeError('bad value %r' % value)
        return value


class RetryTest(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.ledger = base.Ledger()
        self.seen = []

    def step(self, name, **kw):
        return base.Step(name, ledger=self.ledger, **kw)

    def test_times_succeeds_on_third(self):
        sub = orc.LinearFlow(
            'sub', retry=orc.retry.Times(3, provides='value')
        ).add(self.step('claim'), FailUntil('spawn', 3, self.seen))
        flow = orc.LinearFlow('f').add(
            self.step('first'), sub, self.step('last')
        )
        e = orc.Engine(flow).run()
        self.assertEqual(states.SUCCESS, e.state)
        self.assertEqual([1, 2, 3], self.seen)
        self.assertEqual(3, self.ledger.count('execute', 'claim'))
        self.assertEqual(2, self.ledger.count('revert', 'claim'))
        self.assertEqual(1, self.ledger.count('execute', 'first'))
        self.assertEqual(0, self.ledger.count('revert', 'first'))
        self.assertEqual({'first': 1, 'claim': 1, 'last': 1}, self.ledger.held)

    def test_times_exhausted_reverts_all(self):
        sub = orc.LinearFlow(
            'sub', retry=orc.retry.Times(2, provides='value')
        ).add(self.step('claim'), FailUntil('spawn', 99, self.seen))
        flow = orc.LinearFlow('f').add(self.step('first'), sub)
        err = self.assertRaises(orc.WorkflowFailed, orc.Engine(flow).run)
        self.assertEqual(states.REVERTED, err.state)
        self.assertEqual([1, 2], self.seen)
        self.assertEqual({}, self.ledger.held)
        self.assertIn('spawn', err.failures)

    def test_for_each_alternates(self):
        sub = orc.LinearFlow(
            'sub',
            retry=orc.retry.ForEach(['h1', 'h2', 'h3'], provides='value'),
        ).add(FailUntil('spawn', 'h2', self.seen))
        e = orc.Engine(sub).run()
        self.assertEqual(['h1', 'h2'], self.seen)
        self.assertEqual('h2', e.task_results['spawn'])

    def test_for_each_exhausted(self):
        sub = orc.LinearFlow(
            'sub', retry=orc.retry.ForEach(['h1', 'h2'], provides='value')
        ).add(FailUntil('spawn', 'zz', self.seen))
        self.assertRaises(orc.WorkflowFailed, orc.Engine(sub).run)
        self.assertEqual(['h1', 'h2'], self.seen)

    def test_parameterized_for_each(self):
        r = orc.retry.ParameterizedForEach(
            rebind=['alternates'], provides='value'
        )
        sub = orc.LinearFlow('sub', retry=r).add(
            FailUntil('spawn', 'b', self.seen)
        )
        e = orc.Engine(sub, store={'alternates': ['a', 'b', 'c']}).run()
        self.assertEqual(['a', 'b'], self.seen)
        self.assertEqual(states.SUCCESS, e.state)

    def test_custom_retry_next_host(self):
        class NextHost(orc.Retry):
            default_provides = 'value'

            def execute(self, history, hosts):
                tried = set(history.values)
                return [h for h in hosts if h not in tried][0]

            def on_failure(self, history, hosts):
                if history.last_failures['spawn'].check(RuntimeError):
                    return (
                        orc.retry.RETRY
                        if len(history) < len(hosts)
                        else orc.retry.REVERT
                    )
                return orc.retry.REVERT_ALL

        sub = orc.LinearFlow('sub', retry=NextHost()).add(
            FailUntil('spawn', 'y', self.seen)
        )
        e = orc.Engine(sub, store={'hosts': ['x', 'y']}).run()
        self.assertEqual(['x', 'y'], self.seen)
        self.assertEqual(states.SUCCESS, e.state)

    def test_revert_fails_upward_to_parent_retry(self):
        outer_seen = []

        class Outer(orc.Task):
            default_provides = 'o'

            def execute(self, attempt):
                outer_seen.append(attempt)
                return attempt

        inner = orc.LinearFlow(
            'inner',
            retry=orc.retry.Times(1, name='inner_retry', provides='value'),
        ).add(FailUntil('spawn', 99, self.seen))
        outer = orc.LinearFlow(
            'outer',
            retry=orc.retry.Times(3, name='outer_retry', provides='attempt'),
        ).add(Outer(), inner)
        self.assertRaises(orc.WorkflowFailed, orc.Engine(outer).run)
        # The outer controller retried the whole subflow (inner history reset).
        self.assertEqual([1, 2, 3], outer_seen)
        self.assertEqual([1, 1, 1], self.seen)

    def test_revert_all_skips_parent(self):
        inner = orc.LinearFlow(
            'inner',
            retry=orc.retry.Times(
                1, name='inner_retry', provides='value', revert_all=True
            ),
        ).add(FailUntil('spawn', 99, self.seen))
        outer = orc.LinearFlow(
            'outer',
            retry=orc.retry.Times(3, name='outer_retry', provides='attempt'),
        ).add(self.step('a'), inner)
        self.assertRaises(orc.WorkflowFailed, orc.Engine(outer).run)
        self.assertEqual([1], self.seen)
        self.assertEqual({}, self.ledger.held)

    def test_failure_outside_scope_not_retried(self):
        sub = orc.LinearFlow('sub', retry=orc.retry.Times(3)).add(
            self.step('a')
        )
        flow = orc.LinearFlow('f').add(sub, self.step('b', fail=True))
        self.assertRaises(orc.WorkflowFailed, orc.Engine(flow).run)
        self.assertEqual(1, self.ledger.count('execute', 'a'))

    def test_retry_parallel_subflow(self):
        sub = orc.UnorderedFlow(
            'sub', retry=orc.retry.Times(2, provides='value')
        ).add(
            self.step('net'),
            self.step('bdm'),
            FailUntil('spawn', 2, self.seen),
        )
        e = orc.Engine(sub).run()
        self.assertEqual(states.SUCCESS, e.state)
        self.assertEqual({'net': 1, 'bdm': 1}, self.ledger.held)

    def test_on_failure_error_reverts_all(self):
        class Broken(orc.Retry):
            def on_failure(self, history):
                raise ValueError('oops')

        sub = orc.LinearFlow('sub', retry=Broken()).add(
            self.step('a', fail=True)
        )
        self.assertRaises(orc.WorkflowFailed, orc.Engine(sub).run)
        self.assertEqual(1, self.ledger.count('execute', 'a'))

    def test_history_json_round_trip(self):
        f = orc.Failure.from_exception(RuntimeError('x'))
        h = orc.retry.History([('h1', {'spawn': f})])
        g = orc.retry.History.from_json(h.to_json())
        self.assertEqual(['h1'], g.values)
        self.assertEqual(f, g.last_failures['spawn'])
