"""nova-manage db: exit codes and messages, against real databases."""

import io
import os

import fixtures
import sqlalchemy as sa

from nova import test
from nova.cmd import common
from nova.cmd import manage
from nova.db import migration
from nova.tests import db_fixture


class ManageTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.stdout = self.useFixture(
            fixtures.MonkeyPatch('sys.stdout', io.StringIO())
        ).new_value
        self.stderr = self.useFixture(
            fixtures.MonkeyPatch('sys.stderr', io.StringIO())
        ).new_value
        # Each test configures the engine anew from its own config file.
        self.useFixture(fixtures.MonkeyPatch('nova.db.api._configured', False))
        from nova.db import api as db_api

        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.db.api.context_manager',
                db_api.context_manager.make_new_manager(),
            )
        )

    def _config_file(self, connection):
        path = os.path.join(self.state_path, 'nova.conf')
        with open(path, 'w') as f:
            f.write(
                '[DEFAULT]\nstate_path = %s\n[database]\n'
                'connection = %s\n' % (self.state_path, connection)
            )
        return path

    def manage(self, *argv, connection=None):
        argv = (
            ['nova-manage']
            + (
                ['--config-file', self._config_file(connection)]
                if connection
                else []
            )
            + list(argv)
        )
        return manage.main(argv)


class TestDbSync(ManageTestCase):
    def _sync_twice(self, backend):
        url = self.useFixture(db_fixture.OpportunisticDB(backend)).url
        self.assertEqual(0, self.manage('db', 'sync', connection=url))
        self.assertIn('Created flavor m1.tiny (1)', self.stdout.getvalue())
        self.assertEqual(0, self.manage('db', 'sync', connection=url))
        second = self.stdout.getvalue().split('m1.xlarge')[-1]
        self.assertNotIn('Created', second.split('revision')[-1])
        self.assertEqual(0, self.manage('db', 'version', connection=url))
        head = migration.head_revision()
        self.assertTrue(self.stdout.getvalue().strip().endswith(head))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            count = conn.execute(sa.text('SELECT COUNT(*) FROM flavors'))
            self.assertEqual(5, count.scalar())
        engine.dispose()

    def test_sync_sqlite(self):
        self._sync_twice('sqlite')

    def test_sync_mysql(self):
        self._sync_twice('mysql')

    def test_sync_postgresql(self):
        self._sync_twice('postgresql')

    def test_default_connection_is_sqlite_under_state_path(self):
        path = os.path.join(self.state_path, 'nova.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nstate_path = %s\n' % self.state_path)
        self.assertEqual(
            0,
            manage.main(['nova-manage', '--config-file', path, 'db', 'sync']),
        )
        self.assertTrue(
            os.path.exists(os.path.join(self.state_path, 'nova.sqlite'))
        )


class TestDbErrors(ManageTestCase):
    def test_unreachable_database_is_one_line_exit_2(self):
        # Port 9 (discard) on loopback: nothing listens there.
        rc = self.manage(
            'db', 'sync', connection=('mysql+pymysql://root@127.0.0.1:9/nova')
        )
        self.assertEqual(common.EXIT_DB_UNAVAILABLE, rc)
        lines = self.stderr.getvalue().strip().splitlines()
        self.assertEqual(1, len(lines), lines)
        self.assertTrue(
            lines[0].startswith(
                'ERROR: cannot use database mysql+pymysql://root@127.0.0.1:9/'
                'nova:'
            ),
            lines[0],
        )
        self.assertNotIn('Traceback', self.stderr.getvalue())

    def test_malformed_url_is_exit_2(self):
        rc = self.manage('db', 'version', connection='nosuchdb://x')
        self.assertEqual(common.EXIT_DB_UNAVAILABLE, rc)
        self.assertIn('nosuchdb', self.stderr.getvalue())

    def test_unknown_command_is_bad_input(self):
        self.assertEqual(
            common.EXIT_BAD_INPUT, self.manage('db', 'frobnicate')
        )

    def test_missing_config_file_is_bad_input(self):
        self.assertEqual(
            common.EXIT_BAD_INPUT,
            manage.main(
                [
                    'nova-manage',
                    '--config-file',
                    '/nonexistent.conf',
                    'db',
                    'version',
                ]
            ),
        )
