"""The simulation harness itself: determinism, replay, enumeration, and
that every invariant check does catch what it is meant to catch."""

import datetime
import json

import testtools

from nova.orchestration import states
from nova.tests.unit.orchestration.simulation import endstate
from nova.tests.unit.orchestration.simulation import explorer
from nova.tests.unit.orchestration.simulation import flows
from nova.tests.unit.orchestration.simulation import invariants
from nova.tests.unit.orchestration.simulation import scenario
from nova.tests.unit.orchestration.simulation import world as world_mod

#: What each flow ends in when nothing goes wrong.
CLEAN = {
    'linear': states.SUCCESS,
    'failing': states.REVERTED,
    'revert_fails': states.FAILED,
    'unordered': states.REVERTED,
    'graph': states.REVERTED,
    'graph_revert_fails': states.FAILED,
    'retry': states.SUCCESS,
    'nested_retry': states.SUCCESS,
    'pending': states.SUCCESS,
    'pending_timeout': states.SUCCESS,
    'pending_revert': states.REVERTED,
    'pending_retry': states.SUCCESS,
    'timeout': states.SUCCESS,
    'poison': states.SUCCESS,
}


class ScheduleTest(testtools.TestCase):
    def test_format_and_parse(self):
        text = scenario.format_schedule('linear', {15: 'adopt', 7: 'crash'})
        self.assertEqual('linear@7:crash,15:adopt', text)
        self.assertEqual(
            ('linear', {7: 'crash', 15: 'adopt'}),
            scenario.parse_schedule(text),
        )
        self.assertEqual(('linear', {}), scenario.parse_schedule('linear@'))

    def test_inapplicable_action_is_ignored_and_traced(self):
        # Point 1 is the call creating the workflow: 'slow' fits no call.
        outcome = explorer.run_schedule(None, 'linear@1:slow')
        self.assertEqual({}, outcome.taken)
        self.assertIn((1, 'e1', 'ignored', 'slow'), outcome.trace)
        self.assertEqual(states.SUCCESS, outcome.final_state)


class CleanRunTest(testtools.TestCase):
    def test_every_flow_without_faults(self):
        for name, expected in sorted(CLEAN.items()):
            outcome = explorer.run_schedule(name, {})
            self.assertEqual([], outcome.violations, outcome.describe())
            self.assertEqual(expected, outcome.final_state, name)

    def test_revert_order_follows_the_flow(self):
        spec = flows.FLOWS['graph']
        self.assertEqual({'beta', 'gamma', 'delta'}, spec.successors['alpha'])
        self.assertEqual({'delta'}, spec.successors['gamma'])
        self.assertEqual(frozenset(), spec.successors['delta'])
        spec = flows.FLOWS['unordered']
        self.assertEqual({'omega'}, spec.successors['beta'])


class DeterminismTest(testtools.TestCase):
    def test_a_seed_replays_exactly(self):
        for name in ('linear', 'pending', 'unordered', 'pending_timeout'):
            for seed in range(5):
                first = explorer.run_seed(name, seed)
                again = explorer.run_seed(name, seed)
                self.assertEqual(first.trace, again.trace)
                replay = explorer.run_schedule(None, first.schedule)
                self.assertEqual(first.trace, replay.trace, first.schedule)
                self.assertEqual(
                    [str(v) for v in first.violations],
                    [str(v) for v in replay.violations],
                )

    def test_exhaustive_depth_one_tries_every_action_at_every_point(self):
        spec = flows.FLOWS['linear']
        base = scenario.Scenario(spec, branching=True).run()
        report = explorer.Report()
        count = explorer.exhaustive(spec, 1, report)
        self.assertEqual(1 + sum(len(opts) for _, opts in base.reached), count)
        self.assertEqual(count, report.exhaustive)
        # Every write can crash before and after its commit.
        kinds = {kind for _, _, kind, _ in base.trace}
        self.assertTrue({'call', 'commit', 'exec', 'exec-end'} <= kinds)


class ChecksTest(testtools.TestCase):
    """Each check, fed a violation by hand, reports it."""

    def setUp(self):
        super().setUp()
        self.world = world_mod.World(flows.FLOWS['linear'])
        steps = list(self.world.flow.steps)
        self.world.inner.create_workflow(
            {'id': self.world.wid, 'name': 'linear', 'state': states.RUNNING},
            [(n, i) for i, n in enumerate(steps)],
            owner='e1',
        )
        self.actor = self.world.new_actor('test')
        self.actor.generation = self.world.max_claim = 1
        self.world.stack.append(self.actor)

    def set_rows(self, workflow=None, **task_states):
        tasks = [{'name': n, 'state': s} for n, s in task_states.items()]
        self.world.inner.save(
            self.world.wid,
            1,
            tasks=tasks,
            workflow=workflow,
            check_abort=False,
        )

    def invariants(self):
        return [v.invariant for v in self.world.violations]

    def test_stale_start_and_start_of_unstarted_step(self):
        self.world.max_claim = 2
        self.world.task_start('exec', 'alpha', 1)
        self.assertEqual(['I8', 'I6'], self.invariants())

    def test_stale_write(self):
        self.set_rows(alpha=states.RUNNING)
        before = self.world.snapshot()
        self.set_rows(alpha=states.SUCCESS)
        invariants.check_stale_write(self.world, self.actor, 'save', before)
        self.assertEqual(['I8'], self.invariants())

    def test_owned_by_an_engine_not_running(self):
        self.world.stack.pop()
        self.actor.running = False
        invariants.check_quiescent(self.world, self.actor)
        self.assertEqual(['I3'], self.invariants())
        self.actor.crashed = True  # a dead process: adoptable at lease end
        invariants.check_quiescent(self.world, self.actor)
        self.assertEqual(['I3'], self.invariants())

    def test_waiting_step_without_its_deadline(self):
        deadline = datetime.datetime(2030, 1, 1, 0, 1)
        result = json.dumps(
            {invariants.PENDING_KEY: 'tok', 'deadline': deadline.isoformat()}
        )
        self.world.inner.save(
            self.world.wid,
            1,
            release=True,
            release_until=None,
            tasks=[
                {'name': 'beta', 'state': states.RUNNING, 'result': result}
            ],
        )
        invariants.check_quiescent(self.world)
        self.assertEqual(['I3'], self.invariants())
        self.assertIn(
            'timeout can never fire', self.world.violations[0].message
        )

    def test_stale_completion_that_changes_the_row(self):
        before = self.world.snapshot()
        self.world.clock.advance(world_mod.LEASE_SECONDS + 1)
        self.assertIsNotNone(self.world.inner.claim(self.world.wid, 'e9', 30))
        invariants.check_completion(
            self.world, 'beta', 'tok', before, False, 'refused', True
        )
        self.assertEqual(['I5'], self.invariants())

    def run_ledger(self, *calls, final=states.SUCCESS, **rows):
        for kind, task, detail in calls:
            start = kind in ('exec', 'revert')
            if start:
                self.world.task_start(kind, task, 1, detail)
            else:
                self.world.task_end(kind.split('-')[0], task, 1, detail)
        self.set_rows(workflow={'state': final, 'failure': '{"x": 1}'}, **rows)
        self.world.stack.pop()
        self.actor.running = False
        self.world.violations[:] = []  # only the end checks
        endstate.check_end(self.world)
        return self.invariants()

    def test_success_with_a_step_undone(self):
        got = self.run_ledger(
            ('exec', 'alpha', None),
            ('exec-end', 'alpha', 'ok'),
            ('revert', 'alpha', ()),
            ('revert-end', 'alpha', 'ok'),
            alpha=states.SUCCESS,
            beta=states.SUCCESS,
            gamma=states.SUCCESS,
        )
        self.assertIn('I1', got)

    def test_revert_before_its_successor(self):
        got = self.run_ledger(
            ('exec', 'alpha', None),
            ('exec-end', 'alpha', 'ok'),
            ('exec', 'beta', None),
            ('exec-end', 'beta', 'ok'),
            ('revert', 'alpha', ('X',)),
            ('revert-end', 'alpha', 'ok'),
            ('revert', 'beta', ('X',)),
            ('revert-end', 'beta', 'ok'),
            final=states.REVERTED,
            alpha=states.REVERTED,
            beta=states.REVERTED,
        )
        self.assertEqual(['I2'], got)

    def test_non_idempotent_step_executed_twice(self):
        got = self.run_ledger(
            ('exec', 'alpha', None),
            ('exec', 'alpha', None),
            ('exec-end', 'alpha', 'ok'),
            ('exec', 'beta', None),
            ('exec', 'gamma', None),
            alpha=states.SUCCESS,
            beta=states.SUCCESS,
            gamma=states.SUCCESS,
        )
        self.assertEqual(['I9'], got)

    def test_revert_without_a_reason(self):
        self.set_rows(workflow={'state': states.REVERTING})
        got = self.run_ledger(
            ('exec', 'alpha', None),
            ('exec-end', 'alpha', 'fail'),
            ('revert', 'alpha', ()),
            ('revert-end', 'alpha', 'ok'),
            final=states.REVERTED,
            alpha=states.REVERTED,
        )
        self.assertEqual(['I7'], got)

    def test_takeover_not_counted(self):
        self.world.log('claim', self.actor, (1, 0))
        self.world.log('claim', self.world.new_actor('other'), (2, 0))
        got = self.run_ledger(
            ('exec', 'alpha', None),
            ('exec', 'beta', None),
            ('exec', 'gamma', None),
            alpha=states.SUCCESS,
            beta=states.SUCCESS,
            gamma=states.SUCCESS,
        )
        self.assertEqual(['I4'], got)
