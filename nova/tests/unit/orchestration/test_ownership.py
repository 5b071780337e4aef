"""Fencing between owners, and abort requests."""

import threading

from nova import orchestration as orc
from nova.orchestration import states
from nova.tests.unit.orchestration import base

PREFIX = 'nova.tests.unit.orchestration.test_ownership.'
GATES = {}


class Gate(base.Step):
    """Blocks in execute until the test opens its gate."""

    def execute(self):
        gate = GATES.get(self.name)
        if gate is not None and not gate['open'].is_set():
            gate['entered'].set()
            gate['open'].wait(10)
        return super().execute()


@orc.flow_factory(PREFIX + 'gated')
def gated():
    lg = GATES['ledger']
    return orc.LinearFlow('gated').add(
        base.Step('a', ledger=lg),
        Gate('b', ledger=lg, idempotent=True),
        base.Step('c', ledger=lg),
    )


class FencingTest(base.BackendTestCase):
    def setUp(self):
        super().setUp()
        GATES.clear()
        GATES['ledger'] = self.ledger
        GATES['b'] = {'entered': threading.Event(), 'open': threading.Event()}
        self.addCleanup(GATES.clear)

    def test_stale_owner_stops_without_side_effects(self):
        # A holds a lease that expires at once; B adopts while A is inside b.
        a = orc.Engine(
            PREFIX + 'gated',
            backend=self.backend,
            owner='A',
            resumable=True,
        )
        outcome = {}

        def run_a():
            try:
                a.run()
                outcome['a'] = 'returned'
            except orc.OwnershipLost as e:
                outcome['a'] = e

        t = threading.Thread(target=run_a)
        t.start()
        self.assertTrue(GATES['b']['entered'].wait(5))
        base.expire_lease(self.backend, a.workflow_id)  # A stalls in b
        gate = GATES.pop('b')
        b = orc.Engine.resume(a.workflow_id, self.backend, owner='B')
        self.assertEqual(states.SUCCESS, b.state)
        calls_after_b = list(self.ledger.calls)
        gate['open'].set()
        t.join(10)
        self.assertIsInstance(outcome['a'], orc.OwnershipLost)
        # A did nothing more: no c, no revert, no write.
        self.assertEqual(calls_after_b + [('execute', 'b')], self.ledger.calls)
        self.assertEqual(1, self.ledger.count('execute', 'c'))
        self.assertEqual(0, self.ledger.count('revert', 'a'))
        row = self.backend.get_workflow(a.workflow_id)
        self.assertEqual(states.SUCCESS, row['state'])
        self.assertEqual(2, row['generation'])
        self.assertEqual(1, row['adoptions'])
        self.assertIsNone(row['owner'])

    def test_live_lease_blocks_adoption(self):
        a = orc.Engine(
            PREFIX + 'gated', backend=self.backend, owner='A', resumable=True
        )
        self.assertRaises(
            orc.OwnershipLost,
            orc.Engine.resume,
            a.workflow_id,
            self.backend,
            owner='B',
        )
        GATES.pop('b')
        a.run()
        self.assertEqual(states.SUCCESS, a.state)

    def test_operator_free_fences_owner(self):
        GATES.pop('b')
        a = orc.Engine(
            PREFIX + 'gated', backend=self.backend, owner='A', resumable=True
        )
        self.assertTrue(self.backend.free(a.workflow_id))
        self.assertRaises(orc.OwnershipLost, a.run)
        self.assertEqual([], self.ledger.calls)
        # Adopted once the lease A had runs out, not before.
        self.assertEqual(
            {}, orc.Engine.sweep(self.backend, owner='B', grace_seconds=3600)
        )
        base.expire_lease(self.backend, a.workflow_id)
        self.assertEqual(
            {a.workflow_id: states.SUCCESS},
            orc.Engine.sweep(self.backend, owner='B', grace_seconds=3600),
        )


class FencingTestSQLite(FencingTest):
    backend_kind = 'sqlite'


class AbortTest(base.BackendTestCase):
    def test_abort_before_run(self):
        flow = orc.LinearFlow('f').add(base.Step('a', ledger=self.ledger))
        e = orc.Engine(flow, backend=self.backend, resumable=False)
        self.assertTrue(orc.request_abort(e.workflow_id, self.backend))
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertEqual(states.REVERTED, err.state)
        self.assertTrue(err.failure.check(orc.Aborted))
        self.assertEqual([], self.ledger.calls)

    def test_abort_at_next_task_boundary(self):
        backend = self.backend
        holder = {}

        class AbortsItself(base.Step):
            def execute(self):
                orc.request_abort(holder['wid'], backend)
                return super().execute()

        flow = orc.LinearFlow('f').add(
            base.Step('a', ledger=self.ledger),
            AbortsItself('b', ledger=self.ledger),
            base.Step('c', ledger=self.ledger),
        )
        e = orc.Engine(flow, backend=backend, resumable=False)
        holder['wid'] = e.workflow_id
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertTrue(err.failure.check(orc.Aborted))
        self.assertEqual(0, self.ledger.count('execute', 'c'))
        self.assertEqual(['b', 'a'], self.ledger.order('revert'))
        got = backend.get_workflow(e.workflow_id)
        self.assertEqual(states.REVERTED, got['state'])
        self.assertIn('Aborted', got['failure'])
        self.assertEqual(
            [states.REVERTED, states.REVERTED, states.PENDING],
            [t['state'] for t in got['tasks']],
        )

    def test_abort_finished(self):
        e = orc.Engine(
            base.Step('a', ledger=self.ledger),
            backend=self.backend,
            resumable=False,
        ).run()
        self.assertFalse(orc.request_abort(e.workflow_id, self.backend))
        self.assertRaises(
            orc.WorkflowNotFound, orc.request_abort, 'nope', self.backend
        )

    def test_abort_unclaimed_then_adopted(self):
        GATES['ledger'] = self.ledger
        self.addCleanup(GATES.clear)
        wid = orc.Engine.create(PREFIX + 'gated', backend=self.backend)
        orc.request_abort(wid, self.backend)
        err = self.assertRaises(
            orc.WorkflowFailed, orc.Engine.resume, wid, self.backend
        )
        self.assertTrue(err.failure.check(orc.Aborted))
        self.assertEqual([], self.ledger.calls)


class AbortTestSQLite(AbortTest):
    backend_kind = 'sqlite'


class HeartbeatTest(base.BackendTestCase):
    def test_keeps_leases_alive(self):
        from nova.orchestration.engine import Heartbeat

        GATES['ledger'] = self.ledger
        self.addCleanup(GATES.clear)
        e = orc.Engine(
            PREFIX + 'gated',
            backend=self.backend,
            owner='A',
            resumable=True,
        )
        base.expire_lease(self.backend, e.workflow_id)
        self.assertIn(e.workflow_id, self.backend.find_adoptable(3600))
        with Heartbeat(
            self.backend, 'A', lease_seconds=30, interval=0.01
        ) as hb:
            for _ in range(500):
                if hb.beats:
                    break
                threading.Event().wait(0.01)
        self.assertGreater(hb.beats, 0)
        self.assertEqual([], self.backend.find_adoptable(3600))
        self.assertRaises(
            orc.OwnershipLost, orc.Engine.resume, e.workflow_id, self.backend
        )


class HeartbeatTestSQLite(HeartbeatTest):
    backend_kind = 'sqlite'


@orc.flow_factory(PREFIX + 'counted')
def counted():
    lg = GATES['ledger']
    return orc.LinearFlow('counted').add(
        base.Step('one', ledger=lg), base.Step('two', ledger=lg)
    )


class ConcurrentSweepTest(base.BackendTestCase):
    backend_kind = 'sqlite'

    def test_each_workflow_runs_once(self):
        GATES['ledger'] = self.ledger
        self.addCleanup(GATES.clear)
        ids = [
            orc.Engine.create(PREFIX + 'counted', backend=self.backend)
            for _ in range(12)
        ]
        results = {}

        def sweeper(owner):
            results[owner] = orc.Engine.sweep(
                self.backend, owner=owner, grace_seconds=-1
            )

        threads = [
            threading.Thread(target=sweeper, args=('s%d' % i,))
            for i in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        done = {}
        for out in results.values():
            for wid, state in out.items():
                self.assertNotIn(wid, done)
                done[wid] = state
        self.assertEqual(set(ids), set(done))
        self.assertEqual({states.SUCCESS}, set(done.values()))
        self.assertEqual(12, self.ledger.count('execute', 'one'))
        self.assertEqual(12, self.ledger.count('execute', 'two'))
