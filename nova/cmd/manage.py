"""nova-manage: operator commands, ``nova-manage <category> <command>``.

Each category is a class; each public method is a command whose
arguments are declared with :func:`nova.cmd.common.args`. A command
returns its exit code (the ``EXIT_*`` constants of :mod:`nova.cmd.common`):

====  ===========================================================
code  meaning
====  ===========================================================
0     success
1     not found, or nothing was done
2     the database cannot be reached or used
127   bad input (unknown command, malformed argument)
255   unexpected error (a bug: the traceback is logged)
====  ===========================================================
"""

import inspect
import sys

from oslo_config import cfg
from oslo_log import log as logging

from nova import config
from nova.cmd import common
from nova.cmd import manage_workflow
import nova.conf
from nova.db import api as db_api
from nova.db import defaults
from nova.db import migration

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class DbCommands:
    """Create and upgrade the nova database schema."""

    @common.db_errors_are_one_line
    def sync(self):
        """Upgrade the schema to the latest revision and add the
        default flavors, image and network when missing. Running it again
        changes nothing.
        """
        engine = db_api.get_engine()
        migration.db_sync(engine)
        try:
            with engine.begin() as conn:
                created = defaults.ensure_defaults(conn)
        except defaults.InvalidNetwork as exc:
            print('ERROR: %s' % exc, file=sys.stderr)
            return common.EXIT_BAD_INPUT
        for line in created:
            print('Created %s' % line)
        print('Database is at revision %s' % migration.db_version(engine))
        return common.EXIT_OK

    @common.db_errors_are_one_line
    def version(self):
        """Print the schema revision of the database ("None" before the
        first sync).
        """
        print(migration.db_version())
        return common.EXIT_OK


def _categories():
    return {'db': DbCommands, 'workflow': manage_workflow.WorkflowCommands}


def _command_methods(category_class):
    for name, method in inspect.getmembers(category_class, inspect.isfunction):
        if not name.startswith('_'):
            yield name, method


def add_command_parsers(subparsers):
    for category, category_class in _categories().items():
        category_parser = subparsers.add_parser(
            category, help=category_class.__doc__
        )
        command_subparsers = category_parser.add_subparsers(dest='action')
        command_subparsers.required = True
        for name, method in _command_methods(category_class):
            doc = inspect.getdoc(method) or ''
            parser = command_subparsers.add_parser(
                name.replace('_', '-'),
                help=doc.split('\n\n')[0],
                description=doc,
            )
            for arg_args, arg_kwargs in getattr(method, 'args', []):
                parser.add_argument(*arg_args, **arg_kwargs)
            arg_names = [
                kwargs.get('dest') or a[0].lstrip('-').replace('-', '_')
                for a, kwargs in getattr(method, 'args', [])
            ]
            parser.set_defaults(
                action_fn=method,
                category_class=category_class,
                action_kwargs=arg_names,
            )


category_opt = cfg.SubCommandOpt(
    'category',
    title='Command categories',
    help='Available categories',
    handler=add_command_parsers,
)


def main(argv=None):
    """Entry point of nova-manage."""
    argv = sys.argv if argv is None else argv
    # clear() forgets an earlier parse, so main() can run more than once
    # in a process (tests) and the CLI option can be registered again.
    CONF.clear()
    CONF.register_cli_opt(category_opt)
    # An operator command should say at once that the DB is unreachable,
    # not retry for minutes as a starting service does.
    CONF.set_default('max_retries', 0, group='database')
    try:
        config.parse_args(argv)
    except cfg.ConfigFilesNotFoundError as exc:
        print('ERROR: %s' % exc, file=sys.stderr)
        CONF.clear()
        CONF.unregister_opt(category_opt)
        return common.EXIT_BAD_INPUT
    except SystemExit as exc:
        # argparse exits 2 on bad usage; our convention is 127.
        CONF.clear()
        CONF.unregister_opt(category_opt)
        return common.EXIT_BAD_INPUT if exc.code else common.EXIT_OK

    category = CONF.category
    kwargs = {name: getattr(category, name) for name in category.action_kwargs}
    try:
        return category.action_fn(category.category_class(), **kwargs)
    except Exception:
        LOG.exception(
            'Unexpected error in nova-manage %s %s',
            category.name,
            category.action,
        )
        print(
            'ERROR: unexpected error; see the log for the traceback.',
            file=sys.stderr,
        )
        return common.EXIT_UNEXPECTED
    finally:
        # Leave the global CONF as found: other code parsing it in this
        # process (tests) must not require a category.
        CONF.clear()
        CONF.unregister_opt(category_opt)


def _console_main():
    sys.exit(main())


if __name__ == '__main__':
    _console_main()
