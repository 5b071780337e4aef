"""What the SQL backend needs to know of each database: its clock, its
"table missing" errors, and statements compiled once for the DBAPI cursor.
"""

import re

import sqlalchemy as sa
from sqlalchemy import bindparam as bp

from nova.orchestration.exceptions import SchemaMissing
from nova.orchestration.persistence import base
from nova.orchestration.persistence import schema

W = schema.workflows
T = schema.workflow_tasks
_OUR_TABLES = frozenset((W.name, T.name))
#: The missing table as SQLite, MySQL/MariaDB (1146) and PostgreSQL (42P01)
#: name it on the first line of their message.
_MISSING_TABLE = re.compile(
    r'no such table: (?:\w+\.)?(\w+)'
    r"|Table '(?:[^']*\.)?(\w+)' doesn't exist"
    r'|relation "(?:\w+\.)?(\w+)" does not exist'
)


class SchemaCheck:
    """Around an operation: "no such table" of ours becomes SchemaMissing.

    Free until a statement fails, so that even save() (one transaction per
    task transition) is covered: looking the tables up first would add a
    query to every write. Any other error propagates unchanged (the engine
    retries transient ones by their type).
    """

    def __init__(self, engine):
        self.url = engine.url.render_as_string(hide_password=True)
        dbapi = engine.dialect.dbapi
        # save() runs on the DBAPI cursor: its errors come unwrapped.
        self.errors = (sa.exc.ProgrammingError, sa.exc.OperationalError) + (
            (dbapi.ProgrammingError, dbapi.OperationalError) if dbapi else ()
        )

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None or not issubclass(exc_type, self.errors):
            return False
        error = getattr(exc, 'orig', None) or exc
        match = _MISSING_TABLE.search(str(error).partition('\n')[0])
        table = match and next(g for g in match.groups() if g)
        if table not in _OUR_TABLES:
            return False
        raise SchemaMissing(table=table, url=self.url) from exc


class DatabaseClock:
    """The database's UTC clock, as SQL expressions, per dialect."""

    def __init__(self, dialect):
        self.dialect = dialect
        if dialect == 'sqlite':
            fmt = '%Y-%m-%d %H:%M:%f000'
            self.now = sa.func.strftime(fmt, 'now')
            self.at = lambda name: sa.func.strftime(fmt, 'now', bp(name))
        elif dialect in ('mysql', 'mariadb'):
            self.now = sa.func.utc_timestamp(6)
            self.at = lambda name: sa.func.timestampadd(
                sa.literal_column('MICROSECOND'),
                bp(name),
                sa.func.utc_timestamp(6),
            )
        elif dialect == 'postgresql':
            self.now = sa.func.timezone('UTC', sa.func.clock_timestamp())
            self.at = lambda name: (
                self.now
                + (
                    sa.literal_column("interval '1 second'")
                    * bp(name, type_=sa.Float)
                )
            )
        else:
            # Unknown database: the engine host's clock (leases must then be
            # much longer than the clock skew between hosts).
            self.now = sa.func.coalesce(
                bp('b_host_now', type_=sa.DateTime), None
            )
            self.at = lambda name: bp(name, type_=sa.DateTime)

    def offset(self, seconds):
        """The parameter value meaning "now + seconds" for ``at(name)``."""
        if self.dialect == 'sqlite':
            return '%+.6f seconds' % seconds
        if self.dialect in ('mysql', 'mariadb'):
            return int(seconds * 1000000)
        if self.dialect == 'postgresql':
            return float(seconds)
        import datetime

        return base.utcnow() + datetime.timedelta(seconds=seconds)

    def params(self):
        if self.dialect in ('sqlite', 'mysql', 'mariadb', 'postgresql'):
            return {}
        return {'b_host_now': base.utcnow()}


class RawStatement:
    """A Core statement compiled once, executed on the DBAPI cursor.

    Parameters go through the dialect's bind processors (e.g. datetimes on
    SQLite), as SQLAlchemy would convert them: each bound parameter's
    ``TypeEngine.bind_processor`` for the dialect (public API): what a
    Connection does itself, without its per-execution overhead on the
    engine's hottest path (every step's writes).
    """

    def __init__(self, stmt, dialect):
        self.compiled = c = stmt.compile(dialect=dialect)
        self.sql = c.string
        self.positional = c.positional
        self.order = list(c.positiontup) if c.positional else None
        self.procs = {}
        for key, bind in c.binds.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                self.procs[key] = proc

    def _convert(self, values):
        full = self.compiled.construct_params(values)
        for name, proc in self.procs.items():
            if full.get(name) is not None:
                full[name] = proc(full[name])
        if self.positional:
            return tuple(full[n] for n in self.order)
        return full

    def execute(self, cursor, values):
        cursor.execute(self.sql, self._convert(values))

    def executemany(self, cursor, rows):
        cursor.executemany(self.sql, [self._convert(r) for r in rows])


def sqlite_on_connect(durable):
    def on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        if durable:
            cur.execute('PRAGMA journal_mode=WAL')
            cur.execute('PRAGMA synchronous=FULL')
        cur.execute('PRAGMA foreign_keys=ON')
        cur.close()

    return on_connect
