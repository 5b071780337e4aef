"""The nova database engine: one oslo.db enginefacade for the process.

Every DB API module uses :data:`context_manager` (``@context_manager.reader``
/ ``.writer`` on functions taking a :class:`nova.context.RequestContext`),
so each call runs in one transaction and nested calls join it.
"""

import contextlib
import os
import threading

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa
from sqlalchemy import event

import nova.conf

CONF = nova.conf.CONF

context_manager = enginefacade.transaction_context()

_configure_lock = threading.Lock()
_configured = False


class DBUnavailable(Exception):
    """The database named by [database] connection cannot be used."""


def configure(conf=CONF):
    """Point the engine facade at ``[database] connection`` (once)."""
    global _configured
    with _configure_lock:
        if _configured:
            return
        connection = conf.database.connection
        if connection.startswith('sqlite:///') and \
                connection != 'sqlite://':
            directory = os.path.dirname(connection[len('sqlite:///'):])
            if directory:
                os.makedirs(directory, exist_ok=True)
        context_manager.configure(
            connection=connection,
            sqlite_fk=True,
            max_pool_size=conf.database.max_pool_size,
            max_overflow=conf.database.max_overflow,
            pool_timeout=conf.database.pool_timeout,
            max_retries=conf.database.max_retries,
            retry_interval=conf.database.retry_interval)
        context_manager.append_on_engine_create(_tune_sqlite)
        _configured = True


def _tune_sqlite(engine):
    """Make a SQLite file usable by many threads of one process.

    WAL lets readers run beside the writer, and a busy timeout makes
    concurrent writers wait for the lock instead of failing at once.
    Transactions start with BEGIN IMMEDIATE: one that reads and then
    writes would otherwise have to upgrade its lock, which SQLite refuses
    at once ("database is locked") when another writer committed
    meanwhile, without waiting for the busy timeout.
    """
    if engine.dialect.name != 'sqlite':
        return

    @event.listens_for(engine, 'connect')
    def _on_connect(dbapi_connection, record):
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA busy_timeout = 30000')
        if engine.url.database not in (None, '', ':memory:'):
            cursor.execute('PRAGMA journal_mode = WAL')
            cursor.execute('PRAGMA synchronous = NORMAL')
        cursor.close()

    # oslo.db emits a plain BEGIN from its own 'begin' listener (and
    # clears connection.info['in_transaction'] on commit and rollback);
    # replace that listener by one that takes the write lock at once.
    for listener in list(engine.dispatch.begin):
        if getattr(listener, '__name__', '') == '_sqlite_emit_begin':
            event.remove(engine, 'begin', listener)

    @event.listens_for(engine, 'begin')
    def _on_begin(connection):
        if 'in_transaction' not in connection.info:
            connection.exec_driver_sql('BEGIN IMMEDIATE')
            connection.info['in_transaction'] = True


def get_engine():
    """Return the writer engine, connecting on first use.

    :raises DBUnavailable: with one clear line when the URL is malformed
        or the server cannot be reached.
    """
    configure()
    try:
        engine = context_manager.writer.get_engine()
        with engine.connect() as conn:
            conn.execute(sa.text('SELECT 1'))
    except (db_exc.DBError, db_exc.DBConnectionError,
            sa.exc.ArgumentError, sa.exc.NoSuchModuleError,
            sa.exc.OperationalError, ValueError, ImportError) as exc:
        raise DBUnavailable(
            'cannot use database %s: %s' % (
                _safe_url(CONF.database.connection),
                _first_line(exc))) from exc
    return engine


def _safe_url(url):
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return '<unparsable URL>'


def _first_line(exc):
    text = str(getattr(exc, 'inner_exception', None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def use_connection(url):
    """Run the enclosed code against the database at ``url`` (tests).

    Swaps the factory behind :data:`context_manager` so that modules which
    imported it keep working, and restores it on exit.
    """
    global _configured
    manager = context_manager.make_new_manager()
    manager.configure(connection=url, sqlite_fk=True)
    manager.append_on_engine_create(_tune_sqlite)
    restore = context_manager.patch_factory(manager)
    previous, _configured = _configured, True
    try:
        yield manager
    finally:
        manager.dispose_pool()
        restore()
        _configured = previous
