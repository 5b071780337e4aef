"""Errors a library user can act on: a missing schema, structured
attributes, a factory module that fails to import."""

import datetime
import importlib
import os
import sqlite3
import sys
import uuid

import fixtures
import sqlalchemy as sa
import testtools

from nova import orchestration as orc
from nova.orchestration import exceptions
from nova.orchestration import factory
from nova.orchestration import states
from nova.orchestration.persistence import base as pbase
from nova.orchestration.persistence.sql import SQLBackend
from nova.tests.unit.orchestration import base


def _row(**kw):
    row = {
        'id': str(uuid.uuid4()),
        'name': 'w',
        'factory': 'f',
        'factory_version': 1,
        'store': '{}',
    }
    row.update(kw)
    return row


def _empty_backend(test, name):
    """An SQLBackend on a new database of ``name`` whose tables were never
    created (no upgrade())."""
    from nova.tests import db_fixture

    db = test.useFixture(db_fixture.OpportunisticDB(name))
    backend = SQLBackend.from_url(db.url)
    test.addCleanup(backend.close)
    return backend, db.url


class SchemaMissingContract:
    """Every public backend method on a database without the workflow
    tables raises SchemaMissing naming the table and the fix.

    Mixed into a TestCase whose ``backend_name`` is an OpportunisticDB
    backend.
    """

    def setUp(self):
        super().setUp()
        self.backend, self.url = _empty_backend(self, self.backend_name)

    def assertSchemaMissing(self, fn, *args, **kwargs):
        exc = self.assertRaises(orc.SchemaMissing, fn, *args, **kwargs)
        self.assertEqual('workflows', exc.table)
        self.assertEqual(
            sa.engine.make_url(self.url).render_as_string(hide_password=True),
            exc.url,
        )
        self.assertIn(
            'the workflow tables do not exist in %s' % exc.url, str(exc)
        )
        self.assertIn('SQLBackend.upgrade()', str(exc))
        self.assertIn('nova-manage db sync', str(exc))
        # The database's own error stays reachable for the operator.
        self.assertIsNotNone(exc.__cause__)
        return exc

    def test_create_workflow(self):
        self.assertSchemaMissing(
            self.backend.create_workflow, _row(), [('a', 0)], owner='me'
        )

    def test_create_workflow_in_callers_transaction(self):
        def create():
            with self.backend.engine.begin() as conn:
                self.backend.create_workflow(_row(), connection=conn)

        self.assertSchemaMissing(create)

    def test_claim(self):
        self.assertSchemaMissing(self.backend.claim, 'w', 'me', 30)

    def test_load(self):
        self.assertSchemaMissing(self.backend.load, 'w')

    def test_save(self):
        # The hot path, executed on the DBAPI cursor.
        self.assertSchemaMissing(self.backend.save, 'w', 1)

    def test_save_releasing(self):
        self.assertSchemaMissing(
            self.backend.save,
            'w',
            1,
            workflow={'state': states.SUCCESS},
            release=True,
        )

    def test_extend_leases(self):
        self.assertSchemaMissing(self.backend.extend_leases, 'me', 30)
        self.assertSchemaMissing(
            self.backend.extend_leases, 'me', 30, workflow_ids=['w']
        )

    def test_release(self):
        self.assertSchemaMissing(self.backend.release, 'w', 1)

    def test_free(self):
        self.assertSchemaMissing(self.backend.free, 'w')
        self.assertSchemaMissing(self.backend.free, 'w', generation=1)

    def test_free_owned_by(self):
        self.assertSchemaMissing(self.backend.free_owned_by, 'me')

    def test_find_adoptable(self):
        self.assertSchemaMissing(self.backend.find_adoptable)

    def test_request_abort(self):
        self.assertSchemaMissing(self.backend.request_abort, 'w')
        self.assertSchemaMissing(orc.request_abort, 'w', self.backend)

    def test_list_workflows(self):
        self.assertSchemaMissing(self.backend.list_workflows)

    def test_get_workflow(self):
        self.assertSchemaMissing(self.backend.get_workflow, 'w')

    def test_stats(self):
        self.assertSchemaMissing(self.backend.stats)

    def test_purge(self):
        before = datetime.datetime(2030, 1, 1)
        self.assertSchemaMissing(self.backend.purge, before)
        self.assertSchemaMissing(self.backend.purge, before, dry_run=True)

    def test_upgrade_then_works(self):
        self.backend.upgrade()
        self.assertEqual([], self.backend.list_workflows())


class SQLiteSchemaMissingTest(SchemaMissingContract, testtools.TestCase):
    backend_name = 'sqlite'

    def test_missing_task_table(self):
        self.backend.upgrade()
        with self.backend.engine.begin() as conn:
            conn.execute(sa.text('DROP TABLE workflow_tasks'))
        exc = self.assertRaises(
            orc.SchemaMissing,
            self.backend.create_workflow,
            _row(),
            [('a', 0)],
        )
        self.assertEqual('workflow_tasks', exc.table)

    def test_missing_table_not_ours_propagates(self):
        # A trigger of the operator's writes to a table that is gone: not
        # ours to explain, the database's error goes through unchanged.
        self.backend.upgrade()
        with self.backend.engine.begin() as conn:
            conn.execute(
                sa.text(
                    'CREATE TRIGGER audit_wf AFTER INSERT ON workflows '
                    'BEGIN INSERT INTO audit VALUES (new.id); END'
                )
            )
        exc = self.assertRaises(
            sa.exc.OperationalError, self.backend.create_workflow, _row()
        )
        self.assertNotIsInstance(exc, orc.SchemaMissing)
        self.assertIn('no such table: main.audit', str(exc))

    def test_locked_database_keeps_its_type(self):
        # A transient error must keep its type: the engine retries it.
        path = sa.engine.make_url(self.url).database
        backend = SQLBackend.from_url(self.url, connect_args={'timeout': 0})
        self.addCleanup(backend.close)
        backend.upgrade()
        wid = _row()['id']
        gen = backend.create_workflow(_row(id=wid), owner='me')
        locker = sqlite3.connect(path)
        self.addCleanup(locker.close)
        locker.execute('BEGIN EXCLUSIVE')
        exc = self.assertRaises(
            sqlite3.OperationalError, backend.save, wid, gen
        )
        self.assertIn('database is locked', str(exc))
        exc = self.assertRaises(
            sa.exc.OperationalError, backend.claim, wid, 'other', 30
        )
        self.assertIn('database is locked', str(exc))


class MySQLSchemaMissingTest(SchemaMissingContract, testtools.TestCase):
    backend_name = 'mysql'

    def test_password_hidden(self):
        user, password = 'orc_%s' % uuid.uuid4().hex[:8], uuid.uuid4().hex
        url = sa.engine.make_url(self.url)
        admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with admin.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE USER '%s'@'%%' IDENTIFIED BY '%s'"
                    % (user, password)
                )
            )
            conn.execute(
                sa.text(
                    "GRANT ALL PRIVILEGES ON %s.* TO '%s'@'%%'"
                    % (url.database, user)
                )
            )
        self.addCleanup(self._drop_user, admin, user)
        backend = SQLBackend.from_url(
            url.set(username=user, password=password)
        )
        self.addCleanup(backend.close)
        exc = self.assertRaises(orc.SchemaMissing, backend.load, 'w')
        self.assertNotIn(password, str(exc))
        self.assertNotIn(password, exc.url)
        self.assertIn('%s:***@' % user, exc.url)

    @staticmethod
    def _drop_user(admin, user):
        with admin.begin() as conn:
            conn.execute(sa.text("DROP USER '%s'@'%%'" % user))
        admin.dispose()


class PostgreSQLSchemaMissingTest(SchemaMissingContract, testtools.TestCase):
    backend_name = 'postgresql'


class StructuredAttributesTest(testtools.TestCase):
    """Callers branch on attributes, not on message text."""

    def test_messages_stay_positional(self):
        for cls in (
            orc.OwnershipLost,
            orc.WorkflowNotFound,
            orc.UnknownFactory,
            orc.SchemaMissing,
            pbase.AbortRequested,
        ):
            exc = cls('as before')
            self.assertEqual('as before', str(exc), cls)

    def test_ownership_lost_message_from_attributes(self):
        until = datetime.datetime(2030, 1, 2, 3, 4, 5)
        exc = orc.OwnershipLost(
            workflow_id='w1',
            generation=3,
            current_generation=4,
            owner='c2',
            lease_expires_at=until,
        )
        self.assertEqual(
            'workflow w1: generation 3 is stale (now 4, owner c2, '
            'lease until 2030-01-02 03:04:05)',
            str(exc),
        )
        exc = orc.OwnershipLost('held elsewhere', workflow_id='w1')
        self.assertEqual('held elsewhere', str(exc))
        self.assertEqual('w1', exc.workflow_id)
        self.assertIsNone(exc.generation)
        self.assertIsNone(exc.owner)

    def test_abort_requested_lives_with_the_errors(self):
        self.assertIs(exceptions.AbortRequested, pbase.AbortRequested)
        self.assertNotIn('AbortRequested', orc.__all__)
        exc = pbase.AbortRequested(workflow_id='w1')
        self.assertEqual('w1', exc.workflow_id)
        self.assertIn('w1', str(exc))


class BackendAttributesContract:
    """Backends fill the attributes (mixed in with BackendTestCase)."""

    def test_workflow_not_found(self):
        exc = self.assertRaises(orc.WorkflowNotFound, self.backend.load, 'w0')
        self.assertEqual('w0', exc.workflow_id)
        self.assertEqual('workflow w0 not found', str(exc))
        for call in (
            lambda: self.backend.claim('w0', 'me', 30),
            lambda: self.backend.save('w0', 1),
            lambda: self.backend.free('w0'),
            lambda: self.backend.request_abort('w0'),
        ):
            exc = self.assertRaises(orc.WorkflowNotFound, call)
            self.assertEqual('w0', exc.workflow_id)

    def test_ownership_lost(self):
        wid = _row()['id']
        self.backend.create_workflow(
            _row(id=wid), owner='c1', lease_seconds=-5
        )
        generation, _ = self.backend.claim(wid, 'c2', 30)
        exc = self.assertRaises(orc.OwnershipLost, self.backend.save, wid, 1)
        self.assertEqual(wid, exc.workflow_id)
        self.assertEqual(1, exc.generation)
        self.assertEqual(generation, exc.current_generation)
        self.assertEqual('c2', exc.owner)
        self.assertIsInstance(exc.lease_expires_at, datetime.datetime)
        self.assertIn(
            'workflow %s: generation 1 is stale (now 2, owner c2' % wid,
            str(exc),
        )

    def test_abort_requested(self):
        wid = _row()['id']
        gen = self.backend.create_workflow(_row(id=wid), owner='me')
        self.backend.request_abort(wid)
        exc = self.assertRaises(
            pbase.AbortRequested, self.backend.save, wid, gen
        )
        self.assertEqual(wid, exc.workflow_id)


class MemoryAttributesTest(BackendAttributesContract, base.BackendTestCase):
    backend_kind = 'memory'


class SQLiteAttributesTest(BackendAttributesContract, base.BackendTestCase):
    backend_kind = 'sqlite'


class MySQLAttributesTest(BackendAttributesContract, testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.backend = base.sql_backend_for(self, 'mysql')


class PostgreSQLAttributesTest(BackendAttributesContract, testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.backend = base.sql_backend_for(self, 'postgresql')


class UnknownFactoryTest(testtools.TestCase):
    """lookup() tells "not registered" from "its module failed to
    import"."""

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.pkg = 'orc_err_%s' % uuid.uuid4().hex[:12]
        os.mkdir(os.path.join(self.root, self.pkg))
        self.write('__init__.py', '')
        self.useFixture(
            fixtures.MonkeyPatch('sys.path', [self.root] + sys.path)
        )
        self.addCleanup(self._forget_package)

    def _forget_package(self):
        for name in list(sys.modules):
            if name == self.pkg or name.startswith(self.pkg + '.'):
                del sys.modules[name]
        for key in list(factory._registry):
            if key[0].startswith(self.pkg + '.'):
                del factory._registry[key]

    def write(self, name, text):
        with open(os.path.join(self.root, self.pkg, name), 'w') as f:
            f.write(text)
        importlib.invalidate_caches()

    def module_defining(self, module, first_line=''):
        """Write ``module`` registering factory <pkg>.<module>.build."""
        name = '%s.%s.build' % (self.pkg, module)
        self.write(
            module + '.py',
            '%s\n'
            'from nova import orchestration as orc\n\n\n'
            '@orc.flow_factory(%r, version=2)\n'
            'def build():\n'
            '    return orc.LinearFlow("f")\n' % (first_line, name),
        )
        return name

    def test_registered_after_import(self):
        name = self.module_defining('good')
        info = factory.lookup(name)
        self.assertEqual((name, 2), (info.name, info.version))

    def test_version_not_registered(self):
        name = self.module_defining('good')
        exc = self.assertRaises(orc.UnknownFactory, factory.lookup, name, 1)
        self.assertEqual(name, exc.factory)
        self.assertEqual(1, exc.version)
        self.assertEqual([2], exc.registered_versions)
        self.assertIsNone(exc.import_error)
        self.assertIn(
            'flow factory %r version 1 is not registered (registered '
            'versions: [2])' % name,
            str(exc),
        )

    def test_module_does_not_exist(self):
        name = '%s.nowhere.build' % self.pkg
        exc = self.assertRaises(orc.UnknownFactory, factory.lookup, name, 1)
        self.assertIn(
            'is not registered (registered versions: none)', str(exc)
        )
        self.assertEqual([], exc.registered_versions)
        self.assertIsNone(exc.import_error)

    def test_module_with_missing_dependency(self):
        dep = 'no_such_dep_%s' % uuid.uuid4().hex[:8]
        name = self.module_defining('broken', 'import %s' % dep)
        exc = self.assertRaises(orc.UnknownFactory, factory.lookup, name, 2)
        self.assertIsInstance(exc.import_error, ModuleNotFoundError)
        self.assertEqual(dep, exc.import_error.name)
        self.assertIs(exc.import_error, exc.__cause__)
        self.assertEqual((name, 2), (exc.factory, exc.version))
        self.assertEqual(
            "flow factory %r version 2: its module '%s.broken' failed to "
            "import: ModuleNotFoundError: No module named '%s'"
            % (name, self.pkg, dep),
            str(exc),
        )

    def test_module_raising_import_error(self):
        name = self.module_defining('broken', 'from os import no_such_name')
        exc = self.assertRaises(orc.UnknownFactory, factory.lookup, name)
        self.assertIs(ImportError, type(exc.import_error))
        self.assertIn("its module '%s.broken' failed" % self.pkg, str(exc))
        self.assertIn('no_such_name', str(exc))

    def test_package_failing_to_import(self):
        self.write('__init__.py', 'import no_such_dep_of_the_package\n')
        exc = self.assertRaises(
            orc.UnknownFactory, factory.lookup, '%s.mod.build' % self.pkg
        )
        self.assertIn("its module '%s' failed" % self.pkg, str(exc))
        self.assertIn('no_such_dep_of_the_package', str(exc))
