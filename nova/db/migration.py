"""Schema upgrades of the nova database through alembic.

``nova-manage db sync`` calls :func:`db_sync`; nothing in a production
path ever calls ``metadata.create_all``.
"""

import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from nova.db import api as db_api

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'migrations')


def _alembic_config(connection):
    config = alembic_config.Config()
    config.set_main_option('script_location', MIGRATIONS_DIR)
    config.attributes['connection'] = connection
    return config


def head_revision():
    """The revision the code expects the schema to be at."""
    script = alembic_script.ScriptDirectory.from_config(_alembic_config(None))
    return script.get_current_head()


def db_version(engine=None):
    """The revision the database is at, or None before the first sync."""
    engine = engine or db_api.get_engine()
    with engine.connect() as conn:
        return alembic_migration.MigrationContext.configure(
            conn
        ).get_current_revision()


def db_sync(engine=None, version='head'):
    """Upgrade the schema to ``version``; a no-op when already there."""
    engine = engine or db_api.get_engine()
    with engine.begin() as conn:
        alembic_command.upgrade(_alembic_config(conn), version)
