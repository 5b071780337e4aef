"""What nova-manage's command categories share.

The exit codes, the :func:`args` decorator that declares a command's
arguments, and :func:`db_errors_are_one_line`. They live here, not in
:mod:`nova.cmd.manage`, so that a category module (such as
:mod:`nova.cmd.manage_workflow`) and nova-manage itself, which lists the
categories, both import them without importing each other.
"""

import functools
import sys

from nova.db import api as db_api

EXIT_OK = 0
EXIT_NOTHING_DONE = 1
EXIT_DB_UNAVAILABLE = 2
EXIT_BAD_INPUT = 127
EXIT_UNEXPECTED = 255


def args(*args, **kwargs):
    """Declare one argparse argument of a command (stackable)."""

    def _decorator(func):
        func.__dict__.setdefault('args', []).insert(0, (args, kwargs))
        return func

    return _decorator


def db_errors_are_one_line(func):
    """Turn an unusable database into one clear line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*a, **kw):
        try:
            return func(*a, **kw)
        except db_api.DBUnavailable as exc:
            print('ERROR: %s' % exc, file=sys.stderr)
            return EXIT_DB_UNAVAILABLE

    return wrapper
