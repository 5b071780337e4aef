"""Command-line and logging setup shared by every nova command."""

from oslo_log import log as logging

from nova import version
import nova.conf
from nova.db import api as db_api

CONF = nova.conf.CONF

# Libraries that are too chatty at INFO for an operator's log.
_DEFAULT_LOG_LEVELS = logging.get_default_log_levels() + [
    'alembic.runtime.migration=WARN',
    'cheroot=WARN',
]

logging.register_options(CONF)


def parse_args(argv, default_config_files=None, configure_db=True):
    """Parse the command line and config files, then set up logging.

    ``argv`` includes the program name, as ``sys.argv`` does. Log lines
    carry the request id of the context they are logged under.
    """
    logging.set_defaults(default_log_levels=_DEFAULT_LOG_LEVELS)
    CONF(
        argv[1:],
        project='nova',
        version=version.version_string(),
        default_config_files=default_config_files,
    )
    logging.setup(CONF, 'nova')
    if configure_db:
        db_api.configure(CONF)
