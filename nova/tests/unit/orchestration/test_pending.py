"""Long-running steps without a waiting thread (design 4.5)."""

import time

from nova import orchestration as orc
from nova.orchestration import states
from nova.tests.unit.orchestration import base

PREFIX = 'nova.tests.unit.orchestration.test_pending.'
LEDGER = {}


class StartSpawn(base.Step):
    """Starts remote work and returns Pending; the 'remote' reports later."""

    def execute(self):
        super().execute()
        return orc.Pending('tok-%s' % self.name)


@orc.flow_factory(PREFIX + 'build')
def build(timeout=None):
    lg = LEDGER['ledger']
    spawn = StartSpawn('spawn', ledger=lg, provides='server', timeout=timeout)
    return orc.LinearFlow('build').add(
        base.Step('claim', ledger=lg),
        orc.UnorderedFlow('u').add(spawn, base.Step('network', ledger=lg)),
        Active('active', ledger=lg),
    )


class Active(base.Step):
    def execute(self, server):
        self.ledger.execute(self.name)
        return server


class PendingTest(base.BackendTestCase):
    def setUp(self):
        super().setUp()
        LEDGER['ledger'] = self.ledger
        self.addCleanup(LEDGER.clear)

    def start(self, **store):
        e = orc.Engine(
            PREFIX + 'build',
            store=store,
            backend=self.backend,
            owner='c1',
            resumable=True,
        )
        return e.run()

    def test_waits_without_thread_then_completes(self):
        e = self.start()
        self.assertEqual(states.RUNNING, e.state)
        self.assertEqual({'spawn': 'tok-spawn'}, e.waiting)
        row = self.backend.get_workflow(e.workflow_id)
        self.assertIsNone(row['owner'])  # no one holds it while waiting
        self.assertIsNone(row['lease_expires_at'])
        self.assertEqual(
            [states.SUCCESS, states.RUNNING, states.SUCCESS, states.PENDING],
            [t['state'] for t in row['tasks']],
        )
        self.assertEqual([], self.backend.find_adoptable(grace_seconds=-1))
        done = orc.Engine.complete(
            e.workflow_id,
            'spawn',
            'tok-spawn',
            backend=self.backend,
            result={'id': 'vm-1'},
            owner='c2',
        )
        self.assertEqual(states.SUCCESS, done.state)
        self.assertEqual({'id': 'vm-1'}, done.results['server'])
        self.assertEqual(1, self.ledger.count('execute', 'active'))
        self.assertEqual(1, self.ledger.count('execute', 'spawn'))

    def test_stale_token_ignored(self):
        e = self.start()
        self.assertIsNone(
            orc.Engine.complete(
                e.workflow_id, 'spawn', 'other', backend=self.backend, result=1
            )
        )
        self.assertIsNone(
            orc.Engine.complete(
                e.workflow_id,
                'claim',
                'tok-spawn',
                backend=self.backend,
                result=1,
            )
        )
        row = self.backend.get_workflow(e.workflow_id)
        self.assertEqual(states.RUNNING, row['tasks'][1]['state'])
        self.assertIsNone(row['owner'])
        done = orc.Engine.complete(
            e.workflow_id, 'spawn', 'tok-spawn', backend=self.backend, result=1
        )
        self.assertEqual(states.SUCCESS, done.state)
        # A second completion of the same step is stale now.
        self.assertIsNone(
            orc.Engine.complete(
                e.workflow_id,
                'spawn',
                'tok-spawn',
                backend=self.backend,
                result=1,
            )
        )

    def test_completion_with_failure_reverts(self):
        e = self.start()
        err = self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.complete,
            e.workflow_id,
            'spawn',
            'tok-spawn',
            backend=self.backend,
            failure=RuntimeError('no space'),
        )
        self.assertEqual(states.REVERTED, err.state)
        self.assertIn('no space', err.failures['spawn'].message)
        self.assertEqual({}, self.ledger.held)

    def test_failure_dict_over_rpc(self):
        e = self.start()
        f = orc.Failure.from_exception(RuntimeError('remote')).to_dict()
        self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.complete,
            e.workflow_id,
            'spawn',
            'tok-spawn',
            backend=self.backend,
            failure=f,
        )

    def test_pending_timeout_via_sweep(self):
        e = self.start(timeout=0.05)
        row = self.backend.load(e.workflow_id)[0]
        self.assertIsNotNone(row['lease_expires_at'])  # the step's deadline
        time.sleep(0.1)
        out = orc.Engine.sweep(
            self.backend, owner='sweeper', grace_seconds=3600
        )
        self.assertEqual({e.workflow_id: states.REVERTED}, out)
        got = self.backend.get_workflow(e.workflow_id)
        self.assertIn('TaskTimeout', got['tasks'][1]['failure'])
        self.assertEqual({}, self.ledger.held)

    def test_abort_while_waiting(self):
        e = self.start()
        self.assertTrue(orc.request_abort(e.workflow_id, self.backend))
        self.assertEqual(
            [e.workflow_id], self.backend.find_adoptable(grace_seconds=3600)
        )
        out = orc.Engine.sweep(
            self.backend, owner='sweeper', grace_seconds=3600
        )
        self.assertEqual({e.workflow_id: states.REVERTED}, out)
        self.assertEqual({}, self.ledger.held)
        self.assertEqual(1, self.ledger.count('revert', 'spawn'))


class PendingTestSQLite(PendingTest):
    backend_kind = 'sqlite'
