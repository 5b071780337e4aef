"""Session settings nova's engine applies on every database."""

from oslo_db import exception as db_exc
import sqlalchemy as sa

from nova import test
from nova.db import api as db_api
from nova.tests import db_fixture


class TestSessionSettings(test.TestCase):
    def _scalar(self, backend, sql):
        url = self.useFixture(db_fixture.OpportunisticDB(backend)).url
        with db_api.use_connection(url):
            engine = db_api.context_manager.writer.get_engine()
            with engine.connect() as conn:
                return conn.exec_driver_sql(sql).scalar()

    def test_mariadb_idle_transaction_timeout_is_half_a_lease(self):
        self.flags(group='orchestration', lease_seconds=30)
        self.assertEqual(
            15, self._scalar('mysql', 'SELECT @@idle_transaction_timeout')
        )

    def test_postgresql_idle_transaction_timeout_is_half_a_lease(self):
        self.flags(group='orchestration', lease_seconds=20)
        self.assertEqual(
            '10s',
            self._scalar(
                'postgresql', 'SHOW idle_in_transaction_session_timeout'
            ),
        )

    def test_sqlite_waits_for_locks_in_wal_mode(self):
        self.assertEqual(30000, self._scalar('sqlite', 'PRAGMA busy_timeout'))
        self.assertEqual('wal', self._scalar('sqlite', 'PRAGMA journal_mode'))

    def test_statement_errors_hide_parameter_values(self):
        # Values may be secrets (an instance's user_data); the text of
        # the error is logged and kept in workflow failures and faults.
        url = self.useFixture(db_fixture.OpportunisticDB('sqlite')).url
        with db_api.use_connection(url):
            engine = db_api.context_manager.writer.get_engine()
            with engine.connect() as conn:
                error = self.assertRaises(
                    db_exc.DBError,
                    conn.execute,
                    sa.text('SELECT * FROM no_such_table WHERE x = :x'),
                    {'x': 'value-never-shown'},
                )
        self.assertIn('no_such_table', str(error))
        self.assertNotIn('value-never-shown', str(error))
