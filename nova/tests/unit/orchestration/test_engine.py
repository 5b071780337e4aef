"""Engine semantics on the memory backend: patterns, revert, parallelism,
results, listeners, bad results, timeouts, executors."""

import threading
import time

import futurist
import testtools

from nova import orchestration as orc
from nova.orchestration import states
from nova.tests.unit.orchestration import base


class Add(orc.Task):
    default_provides = 'sum'

    def execute(self, x, y=10):
        return x + y


class Pair(orc.Task):
    default_provides = ('first', 'second')

    def execute(self):
        return [1, 2]


class Barrier(orc.Task):
    """Passes only when ``parties`` tasks run at the same time."""

    def __init__(self, name, barrier):
        super().__init__(name=name)
        self.barrier = barrier

    def execute(self):
        self.barrier.wait(timeout=5)


class EngineTest(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.ledger = base.Ledger()

    def step(self, name, **kw):
        return base.Step(name, ledger=self.ledger, **kw)

    def test_linear_success_results(self):
        flow = orc.LinearFlow('f').add(
            Add('a'), Add('b', rebind={'x': 'sum'}, provides='total'), Pair()
        )
        e = orc.Engine(flow, store={'x': 1})
        self.assertEqual(states.PENDING, e.state)
        self.assertIs(e, e.run())
        self.assertEqual(states.SUCCESS, e.state)
        self.assertEqual(
            {'sum': 11, 'total': 21, 'first': 1, 'second': 2}, e.results
        )
        self.assertEqual(11, e.task_results['a'])
        self.assertEqual(states.SUCCESS, e.task_state('b'))
        self.assertEqual(36, len(e.workflow_id))

    def test_dict_provides(self):
        class D(orc.Task):
            def execute(self):
                return {'k': 5}

        e = orc.Engine(orc.LinearFlow('f').add(D(provides={'v': 'k'}))).run()
        self.assertEqual({'v': 5}, e.results)

    def test_optional_from_provider(self):
        class Opt(orc.Task):
            default_provides = 'o'

            def execute(self, x=0):
                return x

        e = orc.Engine(
            orc.LinearFlow('f').add(Add('a', provides='x'), Opt()),
            store={'x': 1},
        ).run()
        self.assertEqual(11, e.results['o'])

    def test_linear_revert_order(self):
        flow = orc.LinearFlow('f').add(
            self.step('a'),
            self.step('b'),
            self.step('c', fail=True),
            self.step('d'),
        )
        e = orc.Engine(flow)
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertEqual(states.REVERTED, err.state)
        self.assertEqual(states.REVERTED, e.state)
        self.assertEqual(['c'], list(err.failures))
        self.assertTrue(err.failure.check(RuntimeError))
        self.assertEqual(['c', 'b', 'a'], self.ledger.order('revert'))
        self.assertEqual({}, self.ledger.held)
        self.assertEqual(states.PENDING, e.task_state('d'))
        self.assertEqual(states.REVERTED, e.task_state('c'))

    def test_nested_revert_order(self):
        flow = orc.LinearFlow('f').add(
            self.step('a'),
            orc.LinearFlow('in').add(
                self.step('b'), orc.LinearFlow('in2').add(self.step('c'))
            ),
            self.step('d', fail=True),
        )
        self.assertRaises(orc.WorkflowFailed, orc.Engine(flow).run)
        self.assertEqual(['d', 'c', 'b', 'a'], self.ledger.order('revert'))

    def test_revert_gets_result_and_failures(self):
        seen = {}

        class R(orc.Task):
            default_provides = 'r'

            def execute(self, x):
                return x * 2

            def revert(self, x, result, flow_failures):
                seen.update(x=x, result=result, failures=flow_failures)

        flow = orc.LinearFlow('f').add(R(), self.step('bad', fail=True))
        self.assertRaises(
            orc.WorkflowFailed, orc.Engine(flow, store={'x': 3}).run
        )
        self.assertEqual(3, seen['x'])
        self.assertEqual(6, seen['result'])
        self.assertEqual(['bad'], list(seen['failures']))

    def test_failed_task_revert_gets_failure(self):
        seen = []

        class F(orc.Task):
            def execute(self):
                raise KeyError('k')

            def revert(self, result, **kw):
                seen.append(result)

        self.assertRaises(orc.WorkflowFailed, orc.Engine(F()).run)
        self.assertIsInstance(seen[0], orc.Failure)
        self.assertTrue(seen[0].check(KeyError))

    def test_revert_failure_sets_failed(self):
        class BadRevert(base.Step):
            def revert(self, **kw):
                raise OSError('cannot undo')

        flow = orc.LinearFlow('f').add(
            self.step('a'),
            BadRevert('b', ledger=self.ledger),
            self.step('c', fail=True),
        )
        e = orc.Engine(flow)
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertEqual(states.FAILED, err.state)
        self.assertEqual(states.REVERT_FAILURE, e.task_state('b'))
        # What b depends on is left alone for an operator.
        self.assertEqual(states.SUCCESS, e.task_state('a'))
        self.assertEqual({'b', 'c'}, set(err.failures))

    def test_unordered_runs_in_parallel(self):
        barrier = threading.Barrier(3)
        flow = orc.UnorderedFlow('u').add(
            *[Barrier('t%d' % i, barrier) for i in range(3)]
        )
        self.assertEqual(states.SUCCESS, orc.Engine(flow).run().state)

    def test_graph_parallel_branches(self):
        barrier = threading.Barrier(2)

        class P(orc.Task):
            default_provides = 'p'

            def execute(self):
                return 1

        class B(Barrier):
            def execute(self, p):
                super().execute()

        flow = orc.GraphFlow('g').add(B('b1', barrier), B('b2', barrier), P())
        e = orc.Engine(flow).run()
        self.assertEqual(states.SUCCESS, e.state)

    def test_parallel_revert(self):
        barrier = threading.Barrier(2)

        class RB(base.Step):
            def revert(self, **kw):
                barrier.wait(timeout=5)
                super().revert(**kw)

        flow = orc.LinearFlow('f').add(
            orc.UnorderedFlow('u').add(
                RB('a', ledger=self.ledger), RB('b', ledger=self.ledger)
            ),
            self.step('c', fail=True),
        )
        self.assertRaises(orc.WorkflowFailed, orc.Engine(flow).run)
        self.assertEqual({}, self.ledger.held)

    def test_parallel_failure_waits_for_siblings(self):
        class Slow(base.Step):
            def execute(self):
                time.sleep(0.05)
                return super().execute()

        flow = orc.UnorderedFlow('u').add(
            Slow('slow', ledger=self.ledger), self.step('bad', fail=True)
        )
        self.assertRaises(orc.WorkflowFailed, orc.Engine(flow).run)
        self.assertEqual({}, self.ledger.held)
        self.assertEqual(1, self.ledger.count('revert', 'slow'))

    def test_caller_executor(self):
        ex = futurist.ThreadPoolExecutor(max_workers=4)
        self.addCleanup(ex.shutdown)
        barrier = threading.Barrier(2)
        flow = orc.UnorderedFlow('u').add(
            Barrier('a', barrier), Barrier('b', barrier)
        )
        policy = orc.EnginePolicy(executor=ex)
        self.assertEqual(
            states.SUCCESS, orc.Engine(flow, policy=policy).run().state
        )

    def test_shared_executor_reused(self):
        from nova.orchestration.engine import _pool

        e1 = orc.Engine(self.step('a'))
        e2 = orc.Engine(self.step('b'))
        pool1, pool2 = e1._scheduler.pool, e2._scheduler.pool
        self.assertIs(pool1.executor, pool2.executor)
        self.assertIs(_pool.shared_executor(), pool1.executor)

    def test_not_serializable_result(self):
        class Bad(orc.Task):
            def execute(self):
                return object()

        e = orc.Engine(orc.LinearFlow('f').add(self.step('a'), Bad('bad')))
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertTrue(err.failures['bad'].check(orc.NotSerializable))
        self.assertIn("'bad'", err.failures['bad'].message)
        self.assertEqual(['a'], self.ledger.order('revert'))

    def test_result_too_large(self):
        class Big(orc.Task):
            def execute(self):
                return 'x' * 2000

        e = orc.Engine(
            Big('big'), policy=orc.EnginePolicy(result_size_limit=1000)
        )
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertTrue(err.failures['big'].check(orc.ResultTooLarge))
        self.assertIn("'big'", err.failures['big'].message)

    def test_listeners_and_listener_errors(self):
        events = []

        def bad_listener(ev):
            raise RuntimeError('listener bug')

        flow = orc.LinearFlow('f').add(self.step('a'), self.step('b'))
        e = orc.Engine(flow, listeners=[bad_listener, events.append]).run()
        self.assertEqual(states.SUCCESS, e.state)
        got = [(ev.kind, ev.name, ev.state) for ev in events]
        self.assertEqual(
            [
                ('workflow', 'f', 'RUNNING'),
                ('task', 'a', 'RUNNING'),
                ('task', 'a', 'SUCCESS'),
                ('task', 'b', 'RUNNING'),
                ('task', 'b', 'SUCCESS'),
                ('workflow', 'f', 'SUCCESS'),
            ],
            got,
        )
        self.assertEqual('a', events[2].result)

    def test_listener_sees_failure(self):
        events = []
        flow = orc.LinearFlow('f').add(self.step('a', fail=True))
        self.assertRaises(
            orc.WorkflowFailed, orc.Engine(flow, listeners=[events.append]).run
        )
        fails = [ev for ev in events if ev.state == states.FAILURE]
        self.assertTrue(fails[0].failure.check(RuntimeError))
        self.assertEqual('REVERTED', events[-1].state)

    def test_timeout(self):
        seen = {}

        class Slow(orc.Task):
            timeout = 0.1

            def execute(self):
                for _ in range(200):
                    if self.cancelled():
                        seen['cancelled'] = True
                        return
                    time.sleep(0.01)

            def revert(self, result, **kw):
                seen['revert'] = result

        e = orc.Engine(
            orc.LinearFlow('f').add(Slow(name='slow'), self.step('never'))
        )
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertTrue(err.failures['slow'].check(orc.TaskTimeout))
        self.assertTrue(seen['revert'].check(orc.TaskTimeout))
        self.assertEqual(0, self.ledger.count('execute', 'never'))
        for _ in range(100):
            if seen.get('cancelled'):
                break
            time.sleep(0.01)
        self.assertTrue(seen.get('cancelled'))

    def test_run_finished_engine(self):
        e = orc.Engine(self.step('a')).run()
        self.assertIs(e, e.run())
        e = orc.Engine(self.step('b', fail=True))
        self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertRaises(orc.WorkflowFailed, e.run)

    def test_many_tasks_linear(self):
        flow = orc.LinearFlow('f').add(
            *[self.step('t%d' % i) for i in range(300)]
        )
        self.assertEqual(states.SUCCESS, orc.Engine(flow).run().state)
        self.assertEqual(300, len(self.ledger.calls))

    def test_diamond_graph(self):
        class N(orc.Task):
            def __init__(self, name, provides, requires=()):
                super().__init__(
                    name=name, provides=provides, requires=requires
                )

            def execute(self, **kw):
                return sum(kw.values()) + 1

        flow = orc.GraphFlow('g').add(
            N('top', 'a'),
            N('l', 'b', ['a']),
            N('r', 'c', ['a']),
            N('bottom', 'd', ['b', 'c']),
        )
        e = orc.Engine(flow).run()
        self.assertEqual(5, e.results['d'])


class EngineArgumentsTest(testtools.TestCase):
    def test_workflow_id_and_generation_given_when_declared(self):
        seen = {}

        class Remote(orc.Task):
            def execute(self, x, workflow_id, workflow_generation):
                seen['execute'] = (x, workflow_id, workflow_generation)

            def revert(self, workflow_id, workflow_generation, **kwargs):
                seen['revert'] = (workflow_id, workflow_generation)

        class OnlyId(orc.Task):
            def execute(self, workflow_id):
                seen['only'] = workflow_id
                raise RuntimeError('fail to revert')

        self.assertEqual(('x',), Remote().requires)
        e = orc.Engine(
            orc.LinearFlow('f').add(Remote(), OnlyId()), store={'x': 1}
        )
        self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertEqual((1, e.workflow_id, e.generation), seen['execute'])
        self.assertEqual((e.workflow_id, e.generation), seen['revert'])
        self.assertEqual(e.workflow_id, seen['only'])
