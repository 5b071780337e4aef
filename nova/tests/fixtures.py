"""Fixtures shared by nova's unit and functional tests."""

import fixtures

from nova.db import api as db_api
from nova.db import migration
from nova.tests import db_fixture


class Database(fixtures.Fixture):
    """A migrated nova database for the duration of a test.

    Points :data:`nova.db.api.context_manager` at a fresh database of the
    given backend (SQLite file by default) and runs the real migrations,
    as ``nova-manage db sync`` does.
    """

    def __init__(self, backend='sqlite', seed=True):
        super().__init__()
        self.backend = backend
        self.seed = seed

    def _setUp(self):
        self.url = self.useFixture(
            db_fixture.OpportunisticDB(self.backend)
        ).url
        cm = db_api.use_connection(self.url)
        self.manager = cm.__enter__()
        self.addCleanup(cm.__exit__, None, None, None)
        self.engine = self.manager.writer.get_engine()
        migration.db_sync(self.engine)
        if self.seed:
            from nova.db import defaults

            with self.engine.begin() as conn:
                defaults.ensure_defaults(conn)
