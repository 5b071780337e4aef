"""Fresh, empty databases on SQLite, MariaDB/MySQL and PostgreSQL.

Tests that must hold on every supported database use
:class:`OpportunisticDB`. It creates a uniquely named database on the
local server and drops it afterwards. When the server is missing the
test is skipped with the reason, unless ``NOVA_TEST_REQUIRE_DBS=1``
(set by ``.ci/run``), in which case it fails: CI must not go green by
skipping the databases it promises to support.

Admin URLs can be overridden with ``NOVA_TEST_MYSQL_URL`` and
``NOVA_TEST_POSTGRESQL_URL`` (a server URL whose user may create
databases).
"""

import os
import uuid

import fixtures
import sqlalchemy as sa
import testtools

BACKENDS = ('sqlite', 'mysql', 'postgresql')

_ADMIN_URLS = {
    'mysql': os.environ.get(
        'NOVA_TEST_MYSQL_URL', 'mysql+pymysql://root@127.0.0.1:3306/'
    ),
    'postgresql': os.environ.get(
        'NOVA_TEST_POSTGRESQL_URL',
        'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres',
    ),
}


def databases_required():
    """True when a missing database server must fail the test run."""
    return os.environ.get('NOVA_TEST_REQUIRE_DBS', '') not in ('', '0')


class OpportunisticDB(fixtures.Fixture):
    """A new empty database of one backend; ``.url`` points at it."""

    def __init__(self, backend):
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(
                'unknown backend %r (one of %s)'
                % (backend, ', '.join(BACKENDS))
            )
        self.backend = backend
        self.url = None

    def _setUp(self):
        if self.backend == 'sqlite':
            directory = self.useFixture(fixtures.TempDir()).path
            self.url = 'sqlite:///%s' % os.path.join(directory, 'nova.sqlite')
            return
        name = 'nova_test_%s' % uuid.uuid4().hex[:12]
        admin_url = sa.engine.make_url(_ADMIN_URLS[self.backend])
        try:
            admin = sa.create_engine(
                admin_url,
                isolation_level='AUTOCOMMIT',
                poolclass=sa.pool.NullPool,
            )
            with admin.connect() as conn:
                conn.execute(sa.text('CREATE DATABASE %s' % name))
        except Exception as exc:
            reason = '%s server not usable at %s: %s' % (
                self.backend,
                admin_url.render_as_string(hide_password=True),
                str(exc).splitlines()[0],
            )
            if databases_required():
                raise AssertionError(
                    reason + ' (NOVA_TEST_REQUIRE_DBS is set, so this fails)'
                )
            raise testtools.TestCase.skipException(reason)
        self.addCleanup(self._drop, admin, name)
        self.url = admin_url.set(database=name).render_as_string(
            hide_password=False
        )

    @staticmethod
    def _drop(admin, name):
        with admin.connect() as conn:
            if admin.dialect.name == 'postgresql':
                conn.execute(
                    sa.text(
                        'SELECT pg_terminate_backend(pid) '
                        'FROM pg_stat_activity '
                        'WHERE datname = :name AND pid <> pg_backend_pid()'
                    ),
                    {'name': name},
                )
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        admin.dispose()
