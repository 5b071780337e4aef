"""Options of the ``[database]`` group, owned by oslo.db.

nova only changes the default connection: with no configuration at all,
the database is a SQLite file under ``[DEFAULT] state_path``.
"""

from oslo_config import cfg
from oslo_db import options as oslo_db_options

_DEFAULT_SQL_CONNECTION = 'sqlite:///$state_path/nova.sqlite'


def set_defaults():
    """Set nova's default on oslo.db's options (also for the sample)."""
    cfg.set_defaults(
        oslo_db_options.database_opts, connection=_DEFAULT_SQL_CONNECTION
    )


def register_opts(conf):
    set_defaults()
    conf.register_opts(oslo_db_options.database_opts, group='database')


def list_opts():
    return {'database': oslo_db_options.database_opts}
