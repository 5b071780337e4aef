"""The alembic migrations on every supported database.

Each test class runs on one backend; MariaDB and PostgreSQL are skipped
when their server is missing, or fail under NOVA_TEST_REQUIRE_DBS=1.
"""

from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa
import testtools

from nova import test
from nova.db import defaults
from nova.db import migration
from nova.db import models
from nova.tests import db_fixture

# Tables owned by nova.orchestration (their own model) or by alembic.
_NOT_IN_NOVA_MODELS = {'alembic_version', 'workflows', 'workflow_tasks'}


class _MigrationsMixin:
    backend = None

    def setUp(self):
        super().setUp()
        self.url = self.useFixture(
            db_fixture.OpportunisticDB(self.backend)
        ).url
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        self.addCleanup(self.engine.dispose)

    def _table_names(self):
        return set(sa.inspect(self.engine).get_table_names())

    def test_sync_from_empty_reaches_head(self):
        self.assertIsNone(migration.db_version(self.engine))
        migration.db_sync(self.engine)
        self.assertEqual(
            migration.head_revision(), migration.db_version(self.engine)
        )
        expected = set(models.BASE.metadata.tables) | _NOT_IN_NOVA_MODELS
        self.assertEqual(expected, self._table_names())

    def test_second_sync_is_a_noop(self):
        migration.db_sync(self.engine)
        with self.engine.begin() as conn:
            first = defaults.ensure_defaults(conn)
        before = self._row_counts()
        migration.db_sync(self.engine)
        with self.engine.begin() as conn:
            second = defaults.ensure_defaults(conn)
        self.assertEqual(7, len(first))
        self.assertEqual([], second)
        self.assertEqual(before, self._row_counts())

    def _row_counts(self):
        with self.engine.connect() as conn:
            return {
                name: conn.execute(
                    sa.text('SELECT COUNT(*) FROM %s' % name)
                ).scalar()
                for name in sorted(self._table_names())
            }

    def test_defaults_are_nova_classic_catalog(self):
        migration.db_sync(self.engine)
        with self.engine.begin() as conn:
            defaults.ensure_defaults(conn)
            flavors = conn.execute(
                sa.text(
                    'SELECT id, flavorid, name, memory_mb, vcpus, root_gb '
                    'FROM flavors ORDER BY id'
                )
            ).all()
            image = conn.execute(
                sa.text('SELECT name, status FROM images WHERE id = :id'),
                {'id': defaults.DEFAULT_IMAGE_ID},
            ).one()
            free = conn.execute(
                sa.text(
                    'SELECT COUNT(*) FROM fixed_ips WHERE reserved = :f AND '
                    'allocated = :f'
                ),
                {'f': False},
            ).scalar()
        self.assertEqual(
            [
                (1, '1', 'm1.tiny', 512, 1, 1),
                (2, '2', 'm1.small', 2048, 1, 20),
                (3, '3', 'm1.medium', 4096, 2, 40),
                (4, '4', 'm1.large', 8192, 4, 80),
                (5, '5', 'm1.xlarge', 16384, 8, 160),
            ],
            [tuple(row) for row in flavors],
        )
        self.assertEqual(('cirros-0.6.2-x86_64-disk', 'ACTIVE'), tuple(image))
        # A /24 less network, gateway and broadcast.
        self.assertEqual(253, free)


class _ModelsMatchMigrations(test_migrations.ModelsMigrationsSync):
    """The models describe exactly the schema the migrations create."""

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.BASE.metadata

    def db_sync(self, engine):
        migration.db_sync(engine)

    def include_object(self, object_, name, type_, reflected, compare_to):
        if type_ == 'table' and name in _NOT_IN_NOVA_MODELS:
            return False
        return True


class TestMigrationsSQLite(
    _MigrationsMixin, _ModelsMatchMigrations, test.TestCase
):
    backend = 'sqlite'


class TestMigrationsMySQL(
    _MigrationsMixin, _ModelsMatchMigrations, test.TestCase
):
    backend = 'mysql'


class TestMigrationsPostgreSQL(
    _MigrationsMixin, _ModelsMatchMigrations, test.TestCase
):
    backend = 'postgresql'


class TestInvalidNetwork(testtools.TestCase):
    def test_too_large_network_is_refused(self):
        opts = type(
            'Opts',
            (),
            {
                'default_network_label': 'x',
                'default_network_cidr': '10.0.0.0/8',
                'mac_prefix': 'fa:16:3e',
            },
        )
        engine = sa.create_engine('sqlite://')
        migration.db_sync(engine)
        with engine.begin() as conn:
            self.assertRaisesRegex(
                defaults.InvalidNetwork,
                '10.0.0.0/8: use a prefix',
                defaults._ensure_network,
                conn,
                None,
                opts,
            )
