"""The crash-point hook: dormant until armed, then exits right after
the Nth commit that wrote something, that commit durable."""

import os
import sqlite3

import fixtures
import sqlalchemy as sa
import testtools

from nova.db import crash_points
from nova.tests import db_fixture


class _Exited(Exception):
    """What the fake os._exit raises, so the test sees the status."""


class TestCrashPoints(testtools.TestCase):
    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.db_path = os.path.join(tmp, 'db.sqlite')
        self.arm_file = os.path.join(tmp, 'arm')
        self.engine = sa.create_engine('sqlite:///%s' % self.db_path)
        self.addCleanup(self.engine.dispose)
        with self.engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (id INTEGER PRIMARY KEY)')
        self.lines = []
        self.hook = crash_points.CrashPoints(
            self.arm_file, exit=self._exit, write=self.lines.append
        )
        self.hook.install(self.engine)

    @staticmethod
    def _exit(status):
        raise _Exited(status)

    def arm(self, text):
        with open(self.arm_file, 'w') as f:
            f.write(text)

    def insert(self, row_id):
        with self.engine.begin() as conn:
            conn.execute(
                sa.text('INSERT INTO t (id) VALUES (:i)'), {'i': row_id}
            )

    def read(self):
        with self.engine.begin() as conn:
            conn.execute(sa.text('SELECT * FROM t')).fetchall()

    def rows(self):
        """The ids committed, seen by a connection of its own."""
        conn = sqlite3.connect(self.db_path)
        try:
            return [r[0] for r in conn.execute('SELECT id FROM t ORDER BY id')]
        finally:
            conn.close()

    def test_dormant_until_armed(self):
        self.insert(1)
        self.insert(2)
        self.assertEqual([], self.lines)
        self.assertFalse(self.hook.armed)

    def test_exits_after_nth_write_commit_which_is_durable(self):
        self.insert(1)  # before arming: not counted
        self.arm('2')
        self.insert(2)
        self.read()  # a commit that wrote nothing is no crash point
        with self.engine.connect() as conn:  # a write rolled back either
            conn.execute(sa.text('INSERT INTO t (id) VALUES (9)'))
            conn.rollback()
        error = self.assertRaises(_Exited, self.insert, 3)
        self.assertEqual(crash_points.EXIT_STATUS, error.args[0])
        self.assertEqual([1, 2, 3], self.rows())
        self.assertFalse(os.path.exists(self.arm_file), 'consumed')
        self.assertEqual(
            [
                'crash points armed: exit after write commit 2\n',
                'crash point 1: INSERT INTO t\n',
                'crash point 2: INSERT INTO t\n',
            ],
            self.lines[:3],
        )
        self.assertIn('INSERT INTO t', self.lines[3])
        self.assertEqual(
            'crash point 2 reached: exiting with status %d\n'
            % crash_points.EXIT_STATUS,
            self.lines[-1],
        )

    def test_raw_dbapi_writes_count(self):
        # nova.orchestration writes through raw DBAPI cursors, which
        # SQLAlchemy's execute events never see.
        self.arm('1')

        def raw_insert():
            with self.engine.begin() as conn:
                cursor = conn.connection.dbapi_connection.cursor()
                cursor.executemany(
                    'INSERT INTO t (id) VALUES (?)', [(5,), (6,)]
                )
                cursor.execute('UPDATE t SET id = 7 WHERE id = 6')
                cursor.close()

        self.assertRaises(_Exited, raw_insert)
        self.assertEqual([5, 7], self.rows())
        self.assertEqual(
            'crash point 1: INSERT INTO t x2, UPDATE t\n', self.lines[1]
        )

    def test_count_only_never_exits(self):
        self.arm(crash_points.COUNT_ONLY)
        for row_id in range(1, 5):
            self.insert(row_id)
        self.assertEqual(
            ['crash point %d: INSERT INTO t\n' % n for n in range(1, 5)],
            self.lines[1:],
        )

    def test_a_new_file_rearms_counting_from_one(self):
        self.arm(crash_points.COUNT_ONLY)
        self.insert(1)
        self.insert(2)
        self.arm('2')
        self.insert(3)
        self.assertRaises(_Exited, self.insert, 4)
        self.assertEqual(
            'crash point 2 reached: exiting with status %d\n'
            % crash_points.EXIT_STATUS,
            self.lines[-1],
        )

    def test_restarted_process_is_not_armed_again(self):
        self.arm('5')
        self.insert(1)
        again = crash_points.CrashPoints(self.arm_file, exit=self._exit)
        self.assertFalse(os.path.exists(self.arm_file))
        again._arm_if_asked()
        self.assertFalse(again.armed)


class TestInstallFromEnvironment(testtools.TestCase):
    def test_nothing_installed_without_the_variable(self):
        self.useFixture(
            fixtures.EnvironmentVariable(crash_points.ENV_ARM_FILE)
        )
        engine = sa.create_engine('sqlite://')
        self.addCleanup(engine.dispose)
        crash_points.install_from_environment(engine)
        self.assertNotIn('do_commit', vars(engine.dialect))

    def test_installed_with_the_variable(self):
        self.useFixture(
            fixtures.EnvironmentVariable(
                crash_points.ENV_ARM_FILE, '/nonexistent/arm'
            )
        )
        engine = sa.create_engine('sqlite://')
        self.addCleanup(engine.dispose)
        crash_points.install_from_environment(engine)
        self.assertIn('do_commit', vars(engine.dialect))
        with engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (id INTEGER)')
            conn.exec_driver_sql('INSERT INTO t VALUES (1)')


class _ServerSideWrites:
    """On MariaDB and PostgreSQL only the commits after a write that
    matched rows are crash points, raw DBAPI writes too, named."""

    backend = None

    def setUp(self):
        super().setUp()
        url = self.useFixture(db_fixture.OpportunisticDB(self.backend)).url
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.addCleanup(self.engine.dispose)
        with self.engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (id INTEGER PRIMARY KEY)')
        self.lines = []
        self.hook = crash_points.CrashPoints(
            os.path.join(self.useFixture(fixtures.TempDir()).path, 'arm'),
            exit=lambda status: None,
            write=self.lines.append,
        )
        self.hook.install(self.engine)
        with open(self.hook.arm_file, 'w') as f:
            f.write(crash_points.COUNT_ONLY)

    def test_only_commits_that_wrote_count(self):
        with self.engine.begin() as conn:
            conn.execute(sa.text('SELECT * FROM t')).fetchall()
        with self.engine.begin() as conn:
            conn.execute(sa.text('INSERT INTO t (id) VALUES (1)'))
        with self.engine.begin() as conn:  # matched nothing
            conn.execute(sa.text('DELETE FROM t WHERE id = 99'))
        with self.engine.begin() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            cursor.executemany('INSERT INTO t (id) VALUES (%s)', [(2,), (3,)])
            cursor.execute('UPDATE t SET id = 4 WHERE id = 3')
            cursor.close()
        self.assertEqual(
            [
                'crash points armed: counting write commits\n',
                'crash point 1: INSERT INTO t\n',
                # One executemany is one statement here.
                'crash point 2: INSERT INTO t, UPDATE t\n',
            ],
            self.lines,
        )


class TestServerSideWritesMySQL(_ServerSideWrites, testtools.TestCase):
    backend = 'mysql'


class TestServerSideWritesPostgreSQL(_ServerSideWrites, testtools.TestCase):
    backend = 'postgresql'
