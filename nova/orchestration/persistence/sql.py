"""SQLBackend: workflows in SQL through SQLAlchemy 2.x Core (no ORM: speed).

One engine and pool per backend, statements built once (the compiled cache
then hits on every write). SQLite files run in WAL mode with
synchronous=FULL, so every commit is durable.

Clock: leases are set and compared with the database's clock (UTC), never a
host's, so clock skew between conductors does not matter. Task timestamps
(started_at, ...) are informational and come from the engine host (UTC).
"""

import re

import sqlalchemy as sa
from sqlalchemy import bindparam as bp
from sqlalchemy import event

from nova.orchestration import states
from nova.orchestration.exceptions import OwnershipLost
from nova.orchestration.exceptions import SchemaMissing
from nova.orchestration.exceptions import WorkflowNotFound
from nova.orchestration.persistence import base
from nova.orchestration.persistence import schema
from nova.orchestration.persistence._sql_queries import OperatorQueries

W = schema.workflows
T = schema.workflow_tasks
_ACTIVE = list(base.ACTIVE_STATES)
_TERMINAL = sorted(states.WORKFLOW_TERMINAL)
_OUR_TABLES = frozenset((W.name, T.name))
#: The missing table as SQLite, MySQL/MariaDB (1146) and PostgreSQL (42P01)
#: name it on the first line of their message.
_MISSING_TABLE = re.compile(
    r'no such table: (?:\w+\.)?(\w+)'
    r"|Table '(?:[^']*\.)?(\w+)' doesn't exist"
    r'|relation "(?:\w+\.)?(\w+)" does not exist'
)


class _SchemaCheck:
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


class _Clock:
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


class _RawStatement:
    """A Core statement compiled once, executed on the DBAPI cursor.

    Parameters go through the dialect's bind processors (e.g. datetimes on
    SQLite), as SQLAlchemy would convert them.
    """

    def __init__(self, stmt, dialect):
        self.compiled = c = stmt.compile(dialect=dialect)
        self.sql = c.string
        self.positional = c.positional
        self.order = list(c.positiontup) if c.positional else None
        self.procs = dict(c._bind_processors)

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


def _sqlite_on_connect(durable):
    def on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        if durable:
            cur.execute('PRAGMA journal_mode=WAL')
            cur.execute('PRAGMA synchronous=FULL')
        cur.execute('PRAGMA foreign_keys=ON')
        cur.close()

    return on_connect


class SQLBackend(OperatorQueries, base.Backend):
    """The Backend on SQLite, MySQL/MariaDB or PostgreSQL."""

    def __init__(self, engine, result_size_limit=None, owns_engine=False):
        if result_size_limit is not None:
            self.result_size_limit = result_size_limit
        self.engine = engine
        self._owns_engine = owns_engine
        self._clock = _Clock(engine.dialect.name)
        self._fences = {}
        self._schema_check = _SchemaCheck(engine)
        self._build_statements()

    @classmethod
    def from_url(cls, url, result_size_limit=None, **engine_kwargs):
        """An engine for ``url`` with the right pool and SQLite pragmas."""
        url_obj = sa.engine.make_url(url)
        if url_obj.get_backend_name() == 'sqlite':
            memory = url_obj.database in (None, '', ':memory:')
            connect_args = engine_kwargs.pop('connect_args', {})
            connect_args.setdefault('check_same_thread', False)
            connect_args.setdefault('timeout', 30)
            if memory:
                engine_kwargs.setdefault('poolclass', sa.pool.StaticPool)
            engine = sa.create_engine(
                url, connect_args=connect_args, **engine_kwargs
            )
            event.listen(engine, 'connect', _sqlite_on_connect(not memory))
        else:
            engine_kwargs.setdefault('pool_pre_ping', True)
            engine = sa.create_engine(url, **engine_kwargs)
        return cls(
            engine, result_size_limit=result_size_limit, owns_engine=True
        )

    def close(self):
        if self._owns_engine:
            self.engine.dispose()

    def upgrade(self):
        """Create the tables (same frozen DDL as nova's migration) if
        absent."""
        from alembic.migration import MigrationContext
        from alembic.operations import Operations

        with self.engine.begin() as conn:
            if sa.inspect(conn).has_table('workflows'):
                return
            schema.upgrade_v1(Operations(MigrationContext.configure(conn)))

    create_schema = upgrade

    # -- statements, built once ---------------------------------------------
    def _build_statements(self):
        c = self._clock
        self._sel_guard = sa.select(
            W.c.generation,
            W.c.abort_requested,
            W.c.owner,
            W.c.state,
            W.c.lease_expires_at,
        ).where(W.c.id == bp('b_id'))
        self._task_update = (
            T.update()
            .where(T.c.workflow_id == bp('b_wid'), T.c.name == bp('b_name'))
            .values(**{col: bp('b_' + col) for col in base.TASK_MUTABLE})
        )
        self._task_insert = T.insert()
        dialect = self.engine.dialect
        self._raw_task_update = _RawStatement(self._task_update, dialect)
        self._raw_task_insert = _RawStatement(
            T.insert().values(**{col: bp(col) for col in base.TASK_COLUMNS}),
            dialect,
        )
        self._claim = (
            W.update()
            .where(
                W.c.id == bp('b_id'),
                W.c.state.in_(_ACTIVE),
                # Never taken from a live lease, not even by the same owner
                # name: a duplicate cast must not fence (and so fail) the
                # engine already running the workflow.
                sa.or_(
                    W.c.owner.is_(None),
                    W.c.lease_expires_at < c.now,
                ),
            )
            .ordered_values(
                # adoptions first: MySQL assigns left to right and must see
                # the old owner.
                (
                    W.c.adoptions,
                    W.c.adoptions + sa.case((W.c.owner.is_(None), 0), else_=1),
                ),
                (W.c.owner, bp('b_owner')),
                (W.c.generation, W.c.generation + 1),
                (W.c.lease_expires_at, c.at('b_lease')),
                (W.c.updated_at, c.now),
            )
        )
        self._claim_fenced = self._claim.where(
            W.c.generation == bp('b_gen')
        )
        self._sel_claimed = sa.select(W.c.generation, W.c.adoptions).where(
            W.c.id == bp('b_id')
        )
        self._extend = (
            W.update()
            .where(W.c.owner == bp('b_owner'))
            .values(lease_expires_at=c.at('b_lease'))
        )
        self._extend_ids = self._extend.where(
            W.c.id.in_(bp('b_ids', expanding=True))
        )
        self._release = (
            W.update()
            .where(W.c.id == bp('b_id'), W.c.generation == bp('b_gen'))
            .values(owner=None, lease_expires_at=None)
        )
        expired = sa.literal(base.EXPIRED_LEASE, sa.DateTime)
        free = W.update().values(
            owner=None,
            generation=W.c.generation + 1,
            adoptions=W.c.adoptions + 1,
            lease_expires_at=expired,
        )
        self._free = free.where(W.c.id == bp('b_id'), W.c.state.in_(_ACTIVE))
        self._free_fenced = self._free.where(
            W.c.generation == bp('b_gen')
        )
        self._free_owned_by = free.where(
            W.c.owner == bp('b_owner'), W.c.state.in_(_ACTIVE)
        )
        self._abort = (
            W.update()
            .where(W.c.id == bp('b_id'), W.c.state.in_(_ACTIVE))
            .values(
                abort_requested=True,
                # A waiting workflow has no owner to notice: let the sweeper
                # adopt it.
                lease_expires_at=sa.case(
                    (
                        sa.and_(
                            W.c.owner.is_(None), W.c.state != states.PENDING
                        ),
                        expired,
                    ),
                    else_=W.c.lease_expires_at,
                ),
            )
        )
        adoptable = (
            sa.select(W.c.id)
            .where(
                W.c.state.in_(_ACTIVE),
                sa.or_(
                    sa.and_(
                        W.c.owner.is_(None),
                        W.c.state == states.PENDING,
                        W.c.created_at < c.at('b_grace'),
                    ),
                    W.c.lease_expires_at < c.now,
                ),
            )
            .order_by(W.c.created_at)
            .limit(bp('b_limit'))
        )
        if c.dialect in ('mysql', 'mariadb', 'postgresql'):
            adoptable = adoptable.with_for_update(skip_locked=True)
        self._adoptable = adoptable
        self._sel_wf = sa.select(W).where(W.c.id == bp('b_id'))
        self._sel_tasks = (
            sa.select(T)
            .where(T.c.workflow_id == bp('b_id'))
            .order_by(T.c.position)
        )

    def _fence(self, wf_cols, check_abort, release, renew):
        key = (wf_cols, check_abort, release, renew)
        stmt = self._fences.get(key)
        if stmt is None:
            c = self._clock
            values = {'updated_at': c.now}
            if release:
                values['owner'] = None
                values['lease_expires_at'] = bp(
                    'b_release_until', type_=sa.DateTime
                )
            elif renew:
                values['lease_expires_at'] = c.at('b_lease')
            for col in wf_cols:
                values[col] = bp('b_' + col)
            where = [W.c.id == bp('b_id'), W.c.generation == bp('b_gen')]
            if check_abort:
                where.append(W.c.abort_requested == sa.false())
            stmt = self._fences[key] = _RawStatement(
                W.update().where(*where).values(**values), self.engine.dialect
            )
        return stmt

    # -- Backend -------------------------------------------------------------
    def create_workflow(
        self, workflow, tasks=(), owner=None, lease_seconds=30, connection=None
    ):
        c = self._clock
        values = {
            col: workflow.get(col)
            for col in base.WORKFLOW_COLUMNS
            if col
            not in (
                'owner',
                'generation',
                'lease_expires_at',
                'abort_requested',
                'adoptions',
                'created_at',
                'updated_at',
            )
        }
        values.setdefault('state', states.PENDING)
        values['state'] = values['state'] or states.PENDING
        values.update(
            abort_requested=False,
            adoptions=0,
            created_at=c.now,
            updated_at=c.now,
        )
        params = c.params()
        if owner:
            values.update(
                owner=owner, generation=1, lease_expires_at=c.at('b_lease')
            )
            params['b_lease'] = c.offset(lease_seconds)
        else:
            values.update(owner=None, generation=0, lease_expires_at=None)
        stmt = W.insert().values(**values)
        rows = [base.new_task_row(workflow['id'], n, p) for n, p in tasks]

        def write(conn):
            conn.execute(stmt, params)
            if rows:
                conn.execute(self._task_insert, rows)

        if connection is not None:
            with self._schema_check:
                write(connection)
        else:
            with self._schema_check, self.engine.begin() as conn:
                write(conn)
        return 1 if owner else 0

    def claim(self, workflow_id, owner, lease_seconds, generation=None):
        params = {
            'b_id': workflow_id,
            'b_owner': owner,
            'b_lease': self._clock.offset(lease_seconds),
            **self._clock.params(),
        }
        stmt = self._claim
        if generation is not None:
            stmt, params['b_gen'] = self._claim_fenced, generation
        with self._schema_check, self.engine.begin() as conn:
            if conn.execute(stmt, params).rowcount != 1:
                if (
                    conn.execute(
                        self._sel_guard, {'b_id': workflow_id}
                    ).first()
                    is None
                ):
                    raise WorkflowNotFound(workflow_id=workflow_id)
                return None
            row = conn.execute(
                self._sel_claimed, {'b_id': workflow_id}
            ).first()
            return row.generation, row.adoptions

    def load(self, workflow_id):
        with self._schema_check, self.engine.connect() as conn:
            row = conn.execute(self._sel_wf, {'b_id': workflow_id}).first()
            if row is None:
                raise WorkflowNotFound(workflow_id=workflow_id)
            tasks = [
                dict(r._mapping)
                for r in conn.execute(self._sel_tasks, {'b_id': workflow_id})
            ]
        wf = dict(row._mapping)
        wf['abort_requested'] = bool(wf['abort_requested'])
        for t in tasks:
            t.pop('id', None)
        return wf, tasks

    def save(
        self,
        workflow_id,
        generation,
        tasks=(),
        workflow=None,
        check_abort=True,
        lease_seconds=30,
        release=False,
        release_until=None,
        new_tasks=(),
    ):
        wf_cols = tuple(sorted(workflow)) if workflow else ()
        params = {
            'b_id': workflow_id,
            'b_gen': generation,
            **self._clock.params(),
        }
        if release:
            params['b_release_until'] = release_until
        elif lease_seconds is not None:
            params['b_lease'] = self._clock.offset(lease_seconds)
        for col in wf_cols:
            params['b_' + col] = workflow[col]
        fence = self._fence(
            wf_cols, check_abort, release, lease_seconds is not None
        )
        with self._schema_check, self.engine.begin() as conn:
            # The hot path (one transaction per task) goes straight to the
            # DBAPI cursor with statements compiled once: SQLAlchemy's
            # execution machinery would cost about as much as the commit.
            cur = conn.connection.dbapi_connection.cursor()
            try:
                fence.execute(cur, params)
                guard_ok = cur.rowcount == 1
                if guard_ok and new_tasks:
                    self._raw_task_insert.executemany(
                        cur, [dict(t) for t in new_tasks]
                    )
                if guard_ok and tasks:
                    self._raw_task_update.executemany(
                        cur,
                        [
                            {
                                'b_wid': workflow_id,
                                'b_name': t['name'],
                                **{
                                    'b_' + col: t[col]
                                    for col in base.TASK_MUTABLE
                                },
                            }
                            for t in tasks
                        ],
                    )
            finally:
                cur.close()
            if not guard_ok:
                row = conn.execute(
                    self._sel_guard, {'b_id': workflow_id}
                ).first()
                if row is None:
                    raise WorkflowNotFound(workflow_id=workflow_id)
                if row.generation != generation:
                    raise OwnershipLost(
                        workflow_id=workflow_id,
                        generation=generation,
                        current_generation=row.generation,
                        owner=row.owner,
                        lease_expires_at=row.lease_expires_at,
                    )
                raise base.AbortRequested(workflow_id=workflow_id)

    def extend_leases(self, owner, lease_seconds, workflow_ids=None):
        params = {
            'b_owner': owner,
            'b_lease': self._clock.offset(lease_seconds),
            **self._clock.params(),
        }
        stmt = self._extend
        if workflow_ids is not None:
            workflow_ids = list(workflow_ids)
            if not workflow_ids:
                return 0
            stmt, params['b_ids'] = self._extend_ids, workflow_ids
        with self._schema_check, self.engine.begin() as conn:
            return conn.execute(stmt, params).rowcount

    def release(self, workflow_id, generation):
        with self._schema_check, self.engine.begin() as conn:
            return (
                conn.execute(
                    self._release, {'b_id': workflow_id, 'b_gen': generation}
                ).rowcount
                == 1
            )

    def _update_unfinished(self, stmt, workflow_id, **params):
        """Run an UPDATE of one unfinished workflow: True if it changed,
        False if the workflow already finished (or the UPDATE's other
        conditions failed), WorkflowNotFound if none.
        """
        with self._schema_check, self.engine.begin() as conn:
            n = conn.execute(
                stmt, {'b_id': workflow_id, **params, **self._clock.params()}
            ).rowcount
            if (
                not n
                and conn.execute(
                    self._sel_guard, {'b_id': workflow_id}
                ).first()
                is None
            ):
                raise WorkflowNotFound(workflow_id=workflow_id)
            return n == 1

    def free(self, workflow_id, generation=None):
        if generation is None:
            return self._update_unfinished(self._free, workflow_id)
        return self._update_unfinished(
            self._free_fenced, workflow_id, b_gen=generation
        )

    def free_owned_by(self, owner):
        with self._schema_check, self.engine.begin() as conn:
            return conn.execute(
                self._free_owned_by, {'b_owner': owner}
            ).rowcount

    def find_adoptable(self, grace_seconds=60, limit=100):
        with self._schema_check, self.engine.begin() as conn:
            return [
                r.id
                for r in conn.execute(
                    self._adoptable,
                    {
                        'b_grace': self._clock.offset(-grace_seconds),
                        'b_limit': limit,
                        **self._clock.params(),
                    },
                )
            ]

    def request_abort(self, workflow_id):
        return self._update_unfinished(self._abort, workflow_id)
