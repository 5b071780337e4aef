"""Resume after a simulated crash at EVERY persistence point.

For each flow and each write N of a clean run, the process 'dies' right after
write N commits; a new engine (another owner) adopts and resumes. Checked:
the final state, that nothing leaked (every held resource is released on
revert, held once on success) and that no execute/revert that was recorded
done ran again.
"""

from concurrent import futures
import uuid

from nova import orchestration as orc
from nova.orchestration import states
from nova.tests.unit.orchestration import base

LEDGERS = {}
PREFIX = 'nova.tests.unit.orchestration.test_resume.'


class Attempted(base.Step):
    """Fails on the first attempt of its retry controller."""

    def execute(self, attempt):
        super().execute() if attempt > 1 else self.ledger.execute(self.name)
        if attempt == 1:
            raise RuntimeError('first attempt fails')
        return attempt


@orc.flow_factory(PREFIX + 'linear')
def linear(ledger):
    lg = LEDGERS[ledger]
    return orc.LinearFlow('linear').add(
        *[base.Step(n, ledger=lg) for n in 'abc']
    )


@orc.flow_factory(PREFIX + 'idempotent')
def idempotent(ledger):
    lg = LEDGERS[ledger]
    return orc.LinearFlow('idem').add(
        *[base.IdemStep(n, ledger=lg) for n in 'abc']
    )


@orc.flow_factory(PREFIX + 'failing')
def failing(ledger):
    lg = LEDGERS[ledger]
    return orc.LinearFlow('failing').add(
        base.IdemStep('a', ledger=lg),
        base.IdemStep('b', ledger=lg),
        base.IdemStep('c', ledger=lg, fail=True),
    )


@orc.flow_factory(PREFIX + 'parallel')
def parallel(ledger):
    lg = LEDGERS[ledger]
    return orc.LinearFlow('parallel').add(
        base.IdemStep('a', ledger=lg),
        orc.UnorderedFlow('u').add(
            base.IdemStep('b', ledger=lg),
            base.Step('c', ledger=lg),
            base.IdemStep('d', ledger=lg),
        ),
        base.IdemStep('e', ledger=lg),
    )


@orc.flow_factory(PREFIX + 'retrying')
def retrying(ledger):
    lg = LEDGERS[ledger]
    sub = orc.LinearFlow(
        'sub', retry=orc.retry.Times(3, provides='attempt')
    ).add(
        base.IdemStep('claim', ledger=lg),
        Attempted('spawn', ledger=lg, idempotent=True),
    )
    return orc.LinearFlow('retrying').add(
        base.IdemStep('first', ledger=lg), sub
    )


FLOWS = {
    # factory: (expected final states, tasks)
    'linear': ({states.SUCCESS, states.REVERTED}, 'abc'),
    'idempotent': ({states.SUCCESS}, 'abc'),
    'failing': ({states.REVERTED}, 'abc'),
    'parallel': ({states.SUCCESS, states.REVERTED}, 'abcde'),
    'retrying': ({states.SUCCESS}, ['first', 'claim', 'spawn']),
}


class ResumeAtEveryWrite(base.BackendTestCase):
    def _run(self, factory, crash_after):
        ledger_id = str(uuid.uuid4())
        ledger = LEDGERS[ledger_id] = base.Ledger()
        self.addCleanup(LEDGERS.pop, ledger_id)
        crashing = base.CrashingBackend(self.backend, crash_after)
        ex = futures.ThreadPoolExecutor(max_workers=4)
        engine = orc.Engine(
            PREFIX + factory,
            store={'ledger': ledger_id},
            backend=crashing,
            owner='dead',
            policy=orc.EnginePolicy(executor=ex),
            resumable=True,
        )
        crashed = False
        try:
            engine.run()
        except base.SimulatedCrash:
            crashed = True
        except orc.WorkflowFailed:
            pass
        ex.shutdown(wait=True)  # the dead process's threads are gone
        return engine.workflow_id, ledger, crashed, crashing.saves

    def _check(self, factory):
        expected, tasks = FLOWS[factory]
        wid, ledger, crashed, total = self._run(factory, None)
        self.assertFalse(crashed)
        self.assertGreater(total, 2)
        for n in range(1, total + 1):
            wid, ledger, crashed, saves = self._run(factory, n)
            self.assertTrue(crashed, 'write %d' % n)
            row, rows = self.backend.load(wid)
            before = {t['name']: t['state'] for t in rows}
            mark = len(ledger.calls)
            try:
                engine = orc.Engine.resume(wid, self.backend, owner='alive')
                final = engine.state
            except orc.WorkflowFailed as e:
                final = e.state
            msg = 'crash after write %d/%d of %s: %s -> %s' % (
                n,
                total,
                factory,
                before,
                final,
            )
            self.assertIn(final, expected, msg)
            self.assertEqual(final, self.backend.load(wid)[0]['state'], msg)
            self.assertIsNone(self.backend.load(wid)[0]['owner'], msg)
            if final == states.SUCCESS:
                self.assertEqual({t: 1 for t in tasks}, ledger.held, msg)
            else:
                self.assertEqual({}, ledger.held, msg)
            after = ledger.calls[mark:]
            for name, st in before.items():
                if st == states.REVERTED:
                    self.assertNotIn(('revert', name), after, msg)
                if (
                    st == states.SUCCESS
                    and final == states.SUCCESS
                    and factory != 'retrying'
                ):
                    self.assertNotIn(('execute', name), after, msg)
            if factory in ('linear',):
                for name in tasks:
                    self.assertLessEqual(ledger.count('execute', name), 1, msg)

    def test_linear(self):
        self._check('linear')

    def test_idempotent(self):
        self._check('idempotent')

    def test_failing(self):
        self._check('failing')

    def test_parallel(self):
        self._check('parallel')

    def test_retrying(self):
        self._check('retrying')


class ResumeAtEveryWriteSQLite(ResumeAtEveryWrite):
    backend_kind = 'sqlite'


class ResumeTest(base.BackendTestCase):
    def test_flow_changed_refused(self):
        ledger_id = str(uuid.uuid4())
        LEDGERS[ledger_id] = base.Ledger()
        self.addCleanup(LEDGERS.pop, ledger_id)
        wid = orc.Engine.create(
            PREFIX + 'linear',
            store={'ledger': ledger_id},
            backend=self.backend,
        )

        @orc.flow_factory(PREFIX + 'linear', version=1)
        def changed(ledger):
            return orc.LinearFlow('linear').add(base.Step('a'), base.Step('z'))

        self.addCleanup(
            orc.flow_factory(PREFIX + 'linear', version=1), linear.__wrapped__
        )
        before = self.backend.load(wid)
        err = self.assertRaises(
            orc.FlowChanged, orc.Engine.resume, wid, self.backend
        )
        self.assertIn(wid, str(err))
        self.assertEqual(before, self.backend.load(wid))

    def test_unknown_factory(self):
        wf = {
            'id': str(uuid.uuid4()),
            'name': 'x',
            'factory': 'no.such.module.f',
            'factory_version': 1,
            'state': states.PENDING,
            'store': '{}',
        }
        self.backend.create_workflow(wf, [])
        self.assertRaises(
            orc.UnknownFactory, orc.Engine.resume, wf['id'], self.backend
        )

    def test_created_elsewhere_then_resumed(self):
        ledger_id = str(uuid.uuid4())
        ledger = LEDGERS[ledger_id] = base.Ledger()
        self.addCleanup(LEDGERS.pop, ledger_id)
        wid = orc.Engine.create(
            PREFIX + 'linear',
            store={'ledger': ledger_id},
            backend=self.backend,
            target=('instance', 'u1'),
        )
        self.assertEqual([wid], self.backend.find_adoptable(grace_seconds=-1))
        e = orc.Engine.resume(wid, self.backend, owner='conductor-1')
        self.assertEqual(states.SUCCESS, e.state)
        self.assertEqual({'a': 1, 'b': 1, 'c': 1}, ledger.held)

    def test_rows_missing_are_inserted(self):
        ledger_id = str(uuid.uuid4())
        LEDGERS[ledger_id] = base.Ledger()
        self.addCleanup(LEDGERS.pop, ledger_id)
        wf = {
            'id': str(uuid.uuid4()),
            'name': 'lean',
            'factory': PREFIX + 'linear',
            'factory_version': 1,
            'state': states.PENDING,
            'store': '{"ledger": "%s"}' % ledger_id,
        }
        self.backend.create_workflow(wf, [])
        orc.Engine.resume(wf['id'], self.backend)
        rows = self.backend.load(wf['id'])[1]
        self.assertEqual([states.SUCCESS] * 3, [t['state'] for t in rows])

    def test_secret_absent_after_resume(self):
        seen = []

        class Spawn(orc.Task):
            idempotent = True

            def execute(self, name, admin_pass=None):
                seen.append(admin_pass)

        @orc.flow_factory(PREFIX + 'secret')
        def secret_flow():
            return orc.LinearFlow('s').add(Spawn())

        crashing = base.CrashingBackend(self.backend, 1)
        e = orc.Engine(
            PREFIX + 'secret',
            store={'name': 'vm', 'admin_pass': 'pw'},
            secret={'admin_pass'},
            backend=crashing,
            resumable=True,
        )
        self.assertRaises(base.SimulatedCrash, e.run)
        orc.Engine.resume(e.workflow_id, self.backend)
        self.assertEqual([None], seen)
        orc.Engine.resume  # noqa
        # Given again on resume, the secret is used.
        e = orc.Engine(
            PREFIX + 'secret',
            store={'name': 'vm', 'admin_pass': 'pw'},
            secret={'admin_pass'},
            backend=base.CrashingBackend(self.backend, 1),
            resumable=True,
        )
        self.assertRaises(base.SimulatedCrash, e.run)
        orc.Engine.resume(
            e.workflow_id, self.backend, secrets={'admin_pass': 'pw'}
        )
        self.assertEqual([None, 'pw'], seen)

    def test_required_secret_missing_fails_task(self):
        class NeedsSecret(orc.Task):
            idempotent = True

            def execute(self, admin_pass):
                return 1

        @orc.flow_factory(PREFIX + 'need_secret')
        def need_secret():
            return orc.LinearFlow('s').add(NeedsSecret(name='n'))

        e = orc.Engine(
            PREFIX + 'need_secret',
            store={'admin_pass': 'pw'},
            secret={'admin_pass'},
            backend=base.CrashingBackend(self.backend, 1),
            resumable=True,
        )
        self.assertRaises(base.SimulatedCrash, e.run)
        err = self.assertRaises(
            orc.WorkflowFailed, orc.Engine.resume, e.workflow_id, self.backend
        )
        self.assertTrue(err.failures['n'].check(orc.MissingRequirement))

    def test_poison_after_max_adoptions(self):
        ledger_id = str(uuid.uuid4())
        LEDGERS[ledger_id] = base.Ledger()
        self.addCleanup(LEDGERS.pop, ledger_id)
        wid = orc.Engine.create(
            PREFIX + 'linear',
            store={'ledger': ledger_id},
            backend=self.backend,
        )
        for i in range(3):
            self.backend.claim(wid, 'c%d' % i, -1)
        err = self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.resume,
            wid,
            self.backend,
            owner='c9',
            policy=orc.EnginePolicy(max_adoptions=2),
        )
        self.assertEqual(states.FAILED, err.state)
        row = self.backend.load(wid)[0]
        self.assertEqual(states.FAILED, row['state'])
        self.assertIn('max_adoptions', row['failure'])
        self.assertIsNone(row['owner'])


class ResumeTestSQLite(ResumeTest):
    backend_kind = 'sqlite'
