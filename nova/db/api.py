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
from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy import event

import nova.conf
from nova.db import crash_points

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

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
        if connection.startswith('sqlite:///') and connection != 'sqlite://':
            directory = os.path.dirname(connection[len('sqlite:///') :])
            if directory:
                os.makedirs(directory, exist_ok=True)
        context_manager.configure(
            connection=connection,
            sqlite_fk=True,
            max_pool_size=conf.database.max_pool_size,
            max_overflow=conf.database.max_overflow,
            pool_timeout=conf.database.pool_timeout,
            max_retries=conf.database.max_retries,
            retry_interval=conf.database.retry_interval,
        )
        context_manager.append_on_engine_create(_hide_statement_parameters)
        context_manager.append_on_engine_create(_tune_sqlite)
        context_manager.append_on_engine_create(_bound_idle_transactions)
        context_manager.append_on_engine_create(
            crash_points.install_from_environment
        )
        _configured = True


def _hide_statement_parameters(engine):
    """Keep the values of a statement's parameters out of its errors.

    SQLAlchemy writes them into the text of every error of a statement,
    and that text is logged (a 500 of the API, a failed step), kept in
    workflow_tasks.failure and shown in instance faults. An insert of an
    instance carries its user_data, which must appear in none of these.
    The SQL itself and the error stay, so the failure is still clear.
    (``[database] connection_debug`` then traces statements without
    their values too.)
    """
    engine.hide_parameters = True


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

    # On checkout, once per DBAPI connection: oslo.db may have opened
    # (and pooled) a first connection before this hook could listen for
    # 'connect'.
    @event.listens_for(engine, 'checkout')
    def _on_checkout(dbapi_connection, record, proxy):
        if record.info.get('nova_sqlite_tuned'):
            return
        record.info['nova_sqlite_tuned'] = True
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


def idle_transaction_timeout(conf=CONF):
    """Seconds a transaction may sit idle before the server aborts it."""
    return max(1, conf.orchestration.lease_seconds // 2)


def _bound_idle_transactions(engine):
    """Let the server abort transactions left idle by a frozen process.

    A conductor paused (SIGSTOP, a VM freeze) inside a transaction keeps
    its row locks: MariaDB and PostgreSQL never end a transaction whose
    client is silent, and the sweepers of other conductors skip locked
    workflow rows, so nobody could adopt its workflows until it woke up.
    Fencing makes the stale owner harmless when it wakes; this makes it
    release its locks while it sleeps: every session gets an idle-in-
    transaction timeout of half a lease, so adoption happens within a
    lease plus a sweep. MySQL has no such setting: there the wait is
    bounded by how long the process stays frozen.
    """
    dialect = engine.dialect.name
    if dialect not in ('mysql', 'postgresql'):
        return
    seconds = idle_transaction_timeout()

    # On checkout, once per DBAPI connection: oslo.db opened (and pooled)
    # a first connection before this hook could listen for 'connect'.
    @event.listens_for(engine, 'checkout')
    def _on_checkout(dbapi_connection, record, proxy):
        if record.info.get('idle_transaction_timeout') == seconds:
            return
        record.info['idle_transaction_timeout'] = seconds
        cursor = dbapi_connection.cursor()
        try:
            if dialect == 'postgresql':
                cursor.execute(
                    "SET idle_in_transaction_session_timeout = '%ds'" % seconds
                )
            else:
                cursor.execute(
                    'SET SESSION idle_transaction_timeout = %d' % seconds
                )
        except Exception:  # noqa: S110 - MySQL proper lacks the variable
            LOG.debug(
                'Database has no idle transaction timeout', exc_info=True
            )
        finally:
            cursor.close()
        if dialect == 'postgresql':
            # SET ran in an implicit transaction on psycopg2: end it.
            dbapi_connection.commit()


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
    except (
        db_exc.DBError,
        db_exc.DBConnectionError,
        sa.exc.ArgumentError,
        sa.exc.NoSuchModuleError,
        sa.exc.OperationalError,
        ValueError,
        ImportError,
    ) as exc:
        raise DBUnavailable(
            'cannot use database %s: %s'
            % (_safe_url(CONF.database.connection), _first_line(exc))
        ) from exc
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
    manager.append_on_engine_create(_hide_statement_parameters)
    manager.append_on_engine_create(_tune_sqlite)
    manager.append_on_engine_create(_bound_idle_transactions)
    restore = context_manager.patch_factory(manager)
    previous, _configured = _configured, True
    try:
        yield manager
    finally:
        manager.dispose_pool()
        restore()
        _configured = previous
