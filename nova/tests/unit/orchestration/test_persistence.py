"""Backend contract on memory, SQLite file, MySQL/MariaDB and PostgreSQL."""

import datetime
import uuid

import sqlalchemy as sa
import testtools

from nova import orchestration as orc
from nova.orchestration import states
from nova.orchestration.persistence import base as pbase
from nova.orchestration.persistence.sql import SQLBackend
from nova.tests.unit.orchestration import base


@orc.flow_factory('nova.tests.unit.orchestration.test_persistence.three')
def three_steps():
    return orc.LinearFlow('three').add(
        base.Step('a'), base.Step('b'), base.Step('c')
    )


def _wf(**kw):
    row = {
        'id': str(uuid.uuid4()),
        'name': 'w',
        'factory': 'f',
        'factory_version': 1,
        'state': states.PENDING,
        'store': '{}',
        'target_type': 'instance',
        'target_id': 'i-1',
    }
    row.update(kw)
    return row


def _task(name, state, **kw):
    row = {
        'name': name,
        'state': state,
        'attempt': 1,
        'result': None,
        'failure': None,
        'started_at': None,
        'finished_at': None,
        'revert_started_at': None,
        'revert_finished_at': None,
    }
    row.update(kw)
    return row


class BackendContract:
    """Mixed into a TestCase whose make() returns a fresh backend."""

    def setUp(self):
        super().setUp()
        self.backend = self.make()

    def create(self, owner=None, lease=30, **kw):
        wf = _wf(**kw)
        gen = self.backend.create_workflow(
            wf, [('a', 0), ('b', 1)], owner=owner, lease_seconds=lease
        )
        return wf['id'], gen

    def test_create_and_load(self):
        wid, gen = self.create()
        self.assertEqual(0, gen)
        row, tasks = self.backend.load(wid)
        self.assertEqual(states.PENDING, row['state'])
        self.assertIsNone(row['owner'])
        self.assertFalse(row['abort_requested'])
        self.assertEqual(0, row['adoptions'])
        self.assertIsInstance(row['created_at'], datetime.datetime)
        self.assertEqual(['a', 'b'], [t['name'] for t in tasks])
        self.assertEqual([states.PENDING] * 2, [t['state'] for t in tasks])

    def test_create_claimed(self):
        wid, gen = self.create(owner='me')
        self.assertEqual(1, gen)
        self.assertEqual('me', self.backend.load(wid)[0]['owner'])
        self.assertIsNone(self.backend.claim(wid, 'other', 30))

    def test_load_missing(self):
        self.assertRaises(orc.WorkflowNotFound, self.backend.load, 'nope')
        self.assertRaises(
            orc.WorkflowNotFound, self.backend.claim, 'nope', 'me', 30
        )

    def test_claim_and_adopt_expired(self):
        wid, _ = self.create()
        self.assertEqual((1, 0), self.backend.claim(wid, 'c1', -5))
        # c1's lease has expired: c2 adopts it.
        self.assertEqual((2, 1), self.backend.claim(wid, 'c2', 30))
        self.assertIsNone(self.backend.claim(wid, 'c1', 30))
        # A live lease is not taken, not even by the same owner name.
        self.assertIsNone(self.backend.claim(wid, 'c2', 30))

    def test_claim_finished(self):
        wid, gen = self.create(owner='me')
        self.backend.save(
            wid, gen, workflow={'state': states.SUCCESS}, release=True
        )
        self.assertIsNone(self.backend.claim(wid, 'me', 30))

    def test_fenced_save(self):
        wid, gen = self.create(owner='c1', lease=-5)
        self.backend.save(
            wid, gen, tasks=[_task('a', states.RUNNING)], lease_seconds=-5
        )
        gen2, _ = self.backend.claim(wid, 'c2', 30)
        self.assertRaises(
            orc.OwnershipLost,
            self.backend.save,
            wid,
            gen,
            tasks=[_task('a', states.SUCCESS)],
            workflow={'state': states.RUNNING},
        )
        row, tasks = self.backend.load(wid)
        self.assertEqual(states.RUNNING, tasks[0]['state'])
        self.assertEqual(states.PENDING, row['state'])
        self.backend.save(
            wid, gen2, tasks=[_task('a', states.SUCCESS, result='1')]
        )
        self.assertEqual('1', self.backend.load(wid)[1][0]['result'])

    def test_abort_flag_in_guard(self):
        wid, gen = self.create(owner='me')
        self.assertTrue(orc.request_abort(wid, self.backend))
        self.assertRaises(
            pbase.AbortRequested,
            self.backend.save,
            wid,
            gen,
            tasks=[_task('a', states.RUNNING)],
        )
        self.assertEqual(states.PENDING, self.backend.load(wid)[1][0]['state'])
        self.backend.save(
            wid, gen, tasks=[_task('a', states.RUNNING)], check_abort=False
        )
        self.assertEqual(states.RUNNING, self.backend.load(wid)[1][0]['state'])

    def test_request_abort_finished_or_missing(self):
        wid, gen = self.create(owner='me')
        self.backend.save(
            wid, gen, workflow={'state': states.SUCCESS}, release=True
        )
        self.assertFalse(self.backend.request_abort(wid))
        self.assertRaises(
            orc.WorkflowNotFound, self.backend.request_abort, 'nope'
        )

    def test_new_tasks_insert(self):
        wf = _wf()
        self.backend.create_workflow(wf, [])
        gen, _ = self.backend.claim(wf['id'], 'me', 30)
        row = pbase.new_task_row(wf['id'], 'x', 0)
        self.backend.save(wf['id'], gen, new_tasks=[row])
        self.assertEqual(
            ['x'], [t['name'] for t in self.backend.load(wf['id'])[1]]
        )

    def test_extend_release_free(self):
        w1, g1 = self.create(owner='me', lease=-5)
        w2, _ = self.create(owner='me', lease=-5)
        self.create(owner='other')
        self.assertEqual(2, self.backend.extend_leases('me', 30))
        self.assertIsNone(self.backend.claim(w1, 'other', 30))
        self.assertFalse(self.backend.release(w1, g1 + 1))
        self.assertTrue(self.backend.release(w1, g1))
        self.assertIsNone(self.backend.load(w1)[0]['owner'])
        # Released unfinished: a sweeper adopts it, it is not orphaned.
        self.assertIn(w1, self.backend.find_adoptable(grace_seconds=3600))
        # free: fences the current owner at once; the row is adoptable
        # once the lease it had (renewed above) runs out.
        self.assertTrue(self.backend.free(w2))
        self.assertRaises(orc.OwnershipLost, self.backend.save, w2, 1)
        self.assertNotIn(w2, self.backend.find_adoptable(grace_seconds=3600))
        base.expire_lease(self.backend, w2)
        self.assertIn(w2, self.backend.find_adoptable(grace_seconds=3600))
        # With an expired lease, freeing makes it adoptable at once.
        self.assertTrue(self.backend.free(w2))
        self.assertIn(w2, self.backend.find_adoptable(grace_seconds=3600))

    def test_extend_leases_of_listed_workflows_only(self):
        # A heartbeat renews only what its engines run: the lease of a
        # workflow whose engine died in a live process must run out.
        running, _ = self.create(owner='me', lease=-5)
        dead, _ = self.create(owner='me', lease=-5)
        theirs, _ = self.create(owner='other', lease=-5)
        self.assertEqual(
            1, self.backend.extend_leases('me', 30, [running, theirs])
        )
        self.assertEqual(0, self.backend.extend_leases('me', 30, []))
        self.assertEqual(
            {dead, theirs}, set(self.backend.find_adoptable(3600))
        )

    def test_free_with_a_stale_generation_changes_nothing(self):
        wid, gen = self.create(owner='me')
        claimed = self.backend.claim(wid, 'new', 30)
        self.assertIsNone(claimed)  # a live lease: nobody takes it
        self.assertTrue(self.backend.free(wid, gen))
        new_gen, _ = self.backend.claim(wid, 'new', 30)
        before = self.backend.load(wid)[0]
        # The old owner's clean-up comes late: it must not fence 'new'.
        self.assertFalse(self.backend.free(wid, gen))
        self.assertEqual(before, self.backend.load(wid)[0])
        self.backend.save(wid, new_gen)

    def test_free_counts_an_adoption(self):
        wid, gen = self.create(owner='me')
        self.assertTrue(self.backend.free(wid, gen))
        # Claimed from nobody, yet taken over from a turn that did not end
        # cleanly: it counts toward max_adoptions.
        self.assertEqual((3, 1), self.backend.claim(wid, 'other', 30))
        self.assertTrue(self.backend.free(wid))
        base.expire_lease(self.backend, wid)
        self.assertEqual((5, 2), self.backend.claim(wid, 'third', 30))

    def test_operator_free_of_a_live_owner_waits_for_its_lease(self):
        # F11: the owner may be alive with a step queued that starts while
        # its lease is fresh; nobody may claim before the lease runs out,
        # not even a completion claiming with the current generation.
        wid, gen = self.create(owner='me')
        lease = self.backend.load(wid)[0]['lease_expires_at']
        self.assertTrue(self.backend.free(wid))
        row = self.backend.load(wid)[0]
        self.assertEqual(
            (pbase.FREED_OWNER, lease, gen + 1, 1),
            (
                row['owner'],
                row['lease_expires_at'],
                row['generation'],
                row['adoptions'],
            ),
        )
        self.assertIsNone(self.backend.claim(wid, 'other', 30))
        self.assertIsNone(self.backend.claim(wid, 'other', 30, gen + 1))
        self.assertEqual(0, self.backend.extend_leases('me', 30))
        self.assertNotIn(wid, self.backend.find_adoptable(3600))
        base.expire_lease(self.backend, wid)
        self.assertIn(wid, self.backend.find_adoptable(3600))
        # The free counted the adoption; the claim does not count it again.
        self.assertEqual((gen + 2, 1), self.backend.claim(wid, 'other', 30))

    def test_operator_free_of_a_released_workflow_frees_it_now(self):
        # Handed back to wait for a completion, its lease is the waiting
        # step's deadline and nobody runs it: the free lets a sweeper take
        # it at once.
        wid, gen = self.create(owner='me')
        until = pbase.utcnow() + datetime.timedelta(hours=1)
        self.backend.save(wid, gen, release=True, release_until=until)
        self.assertTrue(self.backend.free(wid))
        row = self.backend.load(wid)[0]
        self.assertEqual(
            (None, pbase.EXPIRED_LEASE),
            (row['owner'], row['lease_expires_at']),
        )
        self.assertIn(wid, self.backend.find_adoptable(3600))
        self.assertEqual((gen + 2, 1), self.backend.claim(wid, 'other', 30))

    def test_request_abort_in_the_callers_transaction(self):
        wid, _ = self.create(owner='me')
        engine = getattr(self.backend, 'engine', None)
        if engine is None:  # memory: no transactions, the flag is set
            self.assertTrue(self.backend.request_abort(wid, connection=None))
            self.assertTrue(self.backend.load(wid)[0]['abort_requested'])
            return

        class Rollback(Exception):
            pass

        try:
            with engine.begin() as conn:
                self.assertTrue(
                    orc.request_abort(wid, self.backend, connection=conn)
                )
                raise Rollback()
        except Rollback:
            pass
        self.assertFalse(self.backend.load(wid)[0]['abort_requested'])
        with engine.begin() as conn:
            self.assertTrue(
                orc.request_abort(wid, self.backend, connection=conn)
            )
            self.assertRaises(
                orc.WorkflowNotFound,
                self.backend.request_abort,
                'no-such-workflow',
                connection=conn,
            )
        self.assertTrue(self.backend.load(wid)[0]['abort_requested'])

    def test_free_owned_by(self):
        w1, _ = self.create(owner='dead')
        w2, _ = self.create(owner='dead')
        other, _ = self.create(owner='alive')
        done, gen = self.create(owner='dead')
        self.backend.save(
            done, gen, workflow={'state': states.SUCCESS}, check_abort=False
        )
        self.assertEqual(2, self.backend.free_owned_by('dead'))
        rows = {w: self.backend.load(w)[0] for w in (w1, w2, other, done)}
        for w in (w1, w2):
            self.assertIsNone(rows[w]['owner'])
            self.assertEqual(1, rows[w]['adoptions'])
            self.assertIn(w, self.backend.find_adoptable(3600))
        self.assertEqual('alive', rows[other]['owner'])
        self.assertEqual('dead', rows[done]['owner'])
        self.assertEqual(0, self.backend.free_owned_by('dead'))

    def test_find_adoptable(self):
        fresh, _ = self.create()
        live, _ = self.create(owner='me', lease=30)
        dead, _ = self.create(owner='me', lease=-5)
        self.assertEqual(
            [dead], self.backend.find_adoptable(grace_seconds=3600)
        )
        self.assertEqual(
            {fresh, dead}, set(self.backend.find_adoptable(grace_seconds=-5))
        )
        self.assertEqual(
            1, len(self.backend.find_adoptable(grace_seconds=-5, limit=1))
        )
        self.assertNotIn(live, self.backend.find_adoptable(grace_seconds=-5))

    def test_operator_queries(self):
        w1, g1 = self.create(owner='me', target_id='i-1')
        self.create(target_id='i-2')
        self.backend.save(
            w1,
            g1,
            workflow={'state': states.SUCCESS, 'finished_at': pbase.utcnow()},
            release=True,
        )
        rows = self.backend.list_workflows()
        self.assertEqual(2, len(rows))
        self.assertNotIn('store', rows[0])
        self.assertEqual(
            [w1],
            [
                r['id']
                for r in self.backend.list_workflows(state=states.SUCCESS)
            ],
        )
        self.assertEqual(
            [w1],
            [
                r['id']
                for r in self.backend.list_workflows(
                    target=('instance', 'i-1')
                )
            ],
        )
        self.assertEqual(
            [w1], [r['id'] for r in self.backend.list_workflows(target='i-1')]
        )
        self.assertEqual([], self.backend.list_workflows(owner='nobody'))
        got = self.backend.get_workflow(w1)
        self.assertEqual(['a', 'b'], [t['name'] for t in got['tasks']])
        stats = self.backend.stats()
        self.assertEqual(
            {states.SUCCESS: 1, states.PENDING: 1}, stats['by_state']
        )
        later = pbase.utcnow() + datetime.timedelta(hours=1)
        self.assertEqual(1, self.backend.purge(later, dry_run=True))
        self.assertEqual(
            0, self.backend.purge(pbase.utcnow() - datetime.timedelta(hours=1))
        )
        self.assertEqual(1, self.backend.purge(later, batch_size=1))
        self.assertRaises(orc.WorkflowNotFound, self.backend.get_workflow, w1)
        self.assertEqual(1, len(self.backend.list_workflows()))

    def test_engine_one_write_per_task(self):
        counting = base.CrashingBackend(self.backend)
        e = orc.Engine(three_steps(), backend=counting, resumable=True)
        e.run()
        # start+a RUNNING, a SUCCESS+b RUNNING, b+c, c SUCCESS+workflow
        # SUCCESS.
        self.assertEqual(4, counting.saves)
        got = self.backend.get_workflow(e.workflow_id)
        self.assertEqual(states.SUCCESS, got['state'])
        self.assertIsNone(got['owner'])
        self.assertIsNotNone(got['finished_at'])
        self.assertEqual(
            ['"a"', '"b"', '"c"'], [t['result'] for t in got['tasks']]
        )
        self.assertEqual([1, 1, 1], [t['attempt'] for t in got['tasks']])

    def test_engine_failure_persisted(self):
        flow = orc.LinearFlow('f').add(
            base.Step('a'), base.Step('b', fail=True)
        )
        e = orc.Engine(flow, backend=self.backend, resumable=False)
        self.assertRaises(orc.WorkflowFailed, e.run)
        got = self.backend.get_workflow(e.workflow_id)
        self.assertEqual(states.REVERTED, got['state'])
        self.assertIn('RuntimeError', got['failure'])
        self.assertEqual(
            [states.REVERTED, states.REVERTED],
            [t['state'] for t in got['tasks']],
        )
        self.assertIn('b failed', got['tasks'][1]['failure'])
        self.assertIsNotNone(got['tasks'][0]['revert_finished_at'])

    def test_secret_never_persisted(self):
        class UsesSecret(orc.Task):
            def execute(self, admin_pass, name):
                return len(admin_pass)

        e = orc.Engine(
            UsesSecret(name='t'),
            backend=self.backend,
            resumable=False,
            store={'admin_pass': 'hunter2', 'name': 'vm'},
            secret={'admin_pass'},
        )
        e.run()
        self.assertEqual(7, e.task_results['t'])
        dump = repr(self.backend.get_workflow(e.workflow_id))
        self.assertNotIn('hunter2', dump)
        self.assertIn('admin_pass', dump)  # the name, not the value


class MemoryBackendTest(BackendContract, testtools.TestCase):
    def make(self):
        return orc.persistence.backend_from_url('memory://')


class SQLiteFileBackendTest(BackendContract, testtools.TestCase):
    def make(self):
        return base.make_backend(self, 'sqlite')

    def test_sqlite_pragmas(self):
        with self.backend.engine.connect() as conn:
            self.assertEqual(
                'wal', conn.exec_driver_sql('PRAGMA journal_mode').scalar()
            )
            self.assertEqual(
                2, conn.exec_driver_sql('PRAGMA synchronous').scalar()
            )

    def test_create_in_callers_transaction(self):
        with self.backend.engine.connect() as conn:
            trans = conn.begin()
            wid = orc.Engine.create(
                three_steps(), backend=self.backend, connection=conn
            )
            trans.rollback()
        self.assertRaises(orc.WorkflowNotFound, self.backend.load, wid)
        with self.backend.engine.begin() as conn:
            wid = orc.Engine.create(
                three_steps(),
                backend=self.backend,
                connection=conn,
                target=('instance', 'x'),
            )
        self.assertEqual(3, len(self.backend.load(wid)[1]))

    def test_schema_matches_design(self):
        insp = sa.inspect(self.backend.engine)
        cols = {c['name'] for c in insp.get_columns('workflows')}
        self.assertEqual(set(pbase.WORKFLOW_COLUMNS), cols)
        tcols = {c['name'] for c in insp.get_columns('workflow_tasks')}
        self.assertTrue(set(pbase.TASK_COLUMNS) <= tcols)
        idx = {
            i['name']: i['column_names'] for i in insp.get_indexes('workflows')
        }
        self.assertEqual(
            ['target_type', 'target_id'], idx['ix_workflows_target']
        )
        self.assertEqual(['state'], idx['ix_workflows_state'])
        self.assertEqual(
            ['owner', 'lease_expires_at'], idx['ix_workflows_owner_lease']
        )
        uniq = insp.get_unique_constraints('workflow_tasks')
        self.assertEqual(
            [['workflow_id', 'name']], [u['column_names'] for u in uniq]
        )
        fks = insp.get_foreign_keys('workflow_tasks')
        self.assertEqual('workflows', fks[0]['referred_table'])
        self.assertEqual('CASCADE', fks[0]['options'].get('ondelete'))

    def test_upgrade_idempotent(self):
        wid, gen = self.create(owner='me')
        insp = sa.inspect(self.backend.engine)
        before = {
            t: insp.get_columns(t) for t in ('workflows', 'workflow_tasks')
        }
        self.backend.upgrade()
        insp = sa.inspect(self.backend.engine)
        after = {t: insp.get_columns(t) for t in before}
        self.assertEqual(repr(before), repr(after))
        row, tasks = self.backend.load(wid)
        self.assertEqual(
            ('me', gen, 2), (row['owner'], row['generation'], len(tasks))
        )

    def test_in_memory_sqlite_url(self):
        b = orc.persistence.backend_from_url('sqlite://')
        b.upgrade()
        self.addCleanup(b.close)
        e = orc.Engine(three_steps(), backend=b).run()
        self.assertEqual(states.SUCCESS, b.load(e.workflow_id)[0]['state'])

    def test_backend_from_engine(self):
        b = orc.persistence.backend_from_engine(self.backend.engine)
        self.assertIsInstance(b, SQLBackend)
        e = orc.Engine(three_steps(), backend=b).run()
        self.assertEqual(
            states.SUCCESS, self.backend.load(e.workflow_id)[0]['state']
        )


class MySQLBackendTest(BackendContract, testtools.TestCase):
    def make(self):
        return base.sql_backend_for(self, 'mysql')


class PostgreSQLBackendTest(BackendContract, testtools.TestCase):
    def make(self):
        return base.sql_backend_for(self, 'postgresql')


class NovaMigrationTest(testtools.TestCase):
    """nova's alembic revision 0002 runs the same frozen DDL."""

    def test_0002_matches_library_schema(self):
        import importlib

        from alembic.migration import MigrationContext
        from alembic.operations import Operations

        mod = importlib.import_module(
            'nova.db.migrations.versions.0002_workflows'
        )
        self.assertEqual('0002_workflows', mod.revision)
        self.assertEqual('0001_initial', mod.down_revision)
        engine = sa.create_engine('sqlite://')
        with engine.begin() as conn:
            with Operations.context(MigrationContext.configure(conn)):
                mod.upgrade()
        lib = base.make_backend(self, 'sqlite').engine

        def shape(eng):
            insp = sa.inspect(eng)
            return {
                t: (
                    sorted(
                        (c['name'], str(c['type']))
                        for c in insp.get_columns(t)
                    ),
                    sorted(i['name'] for i in insp.get_indexes(t)),
                )
                for t in ('workflows', 'workflow_tasks')
            }

        self.assertEqual(shape(lib), shape(engine))
        with engine.begin() as conn:
            with Operations.context(MigrationContext.configure(conn)):
                mod.downgrade()
        self.assertFalse(sa.inspect(engine).has_table('workflows'))
