"""SQLBackend: workflows in SQL through SQLAlchemy 2.x Core (no ORM: speed).

One engine and pool per backend, statements built once (the compiled cache
then hits on every write). SQLite files run in WAL mode with
synchronous=FULL, so every commit is durable.

Clock: leases are set and compared with the database's clock (UTC), never a
host's, so clock skew between conductors does not matter. Task timestamps
(started_at, ...) are informational and come from the engine host (UTC).
"""

import sqlalchemy as sa
from sqlalchemy import bindparam as bp
from sqlalchemy import event

from nova.orchestration import states
from nova.orchestration.exceptions import OwnershipLost
from nova.orchestration.exceptions import WorkflowNotFound
from nova.orchestration.persistence import base
from nova.orchestration.persistence import schema
from nova.orchestration.persistence._sql_dialect import DatabaseClock
from nova.orchestration.persistence._sql_dialect import RawStatement
from nova.orchestration.persistence._sql_dialect import SchemaCheck
from nova.orchestration.persistence._sql_dialect import sqlite_on_connect
from nova.orchestration.persistence._sql_queries import OperatorQueries

W = schema.workflows
T = schema.workflow_tasks
_ACTIVE = list(base.ACTIVE_STATES)
_TERMINAL = sorted(states.WORKFLOW_TERMINAL)


class SQLBackend(base.Backend):
    """The Backend on SQLite, MySQL/MariaDB or PostgreSQL."""

    def __init__(self, engine, result_size_limit=None, owns_engine=False):
        if result_size_limit is not None:
            self.result_size_limit = result_size_limit
        self.engine = engine
        self._owns_engine = owns_engine
        self._clock = DatabaseClock(engine.dialect.name)
        self._fences = {}
        self._schema_check = SchemaCheck(engine)
        self._queries = OperatorQueries(
            engine, self._clock, self._schema_check
        )
        self._build_statements()

    # Operator queries live in their own module.
    def list_workflows(self, *args, **kwargs):
        return self._queries.list_workflows(*args, **kwargs)

    def stats(self):
        return self._queries.stats()

    def purge(self, *args, **kwargs):
        return self._queries.purge(*args, **kwargs)

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
            event.listen(engine, 'connect', sqlite_on_connect(not memory))
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
        self._raw_task_update = RawStatement(self._task_update, dialect)
        self._raw_task_insert = RawStatement(
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
                    W.c.adoptions
                    + sa.case(
                        (W.c.owner.is_(None), 0),
                        (W.c.owner == base.FREED_OWNER, 0),
                        else_=1,
                    ),
                ),
                (W.c.owner, bp('b_owner')),
                (W.c.generation, W.c.generation + 1),
                (W.c.lease_expires_at, c.at('b_lease')),
                (W.c.updated_at, c.now),
            )
        )
        self._claim_fenced = self._claim.where(W.c.generation == bp('b_gen'))
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
            .values(
                owner=None,
                lease_expires_at=sa.literal(base.EXPIRED_LEASE, sa.DateTime),
            )
        )
        expired = sa.literal(base.EXPIRED_LEASE, sa.DateTime)
        free = W.update().values(
            owner=None,
            generation=W.c.generation + 1,
            adoptions=W.c.adoptions + 1,
            lease_expires_at=expired,
        )
        self._free_fenced = free.where(
            W.c.id == bp('b_id'),
            W.c.state.in_(_ACTIVE),
            W.c.generation == bp('b_gen'),
        )
        # An operator's free keeps a live lease until it runs out, under
        # an owner nobody claims from before then: the owner it takes the
        # workflow from may be alive, with steps queued that start only
        # while their lease is fresh. ``held`` reads the same whether the
        # owner's case sees the old lease or (MySQL, which assigns left to
        # right) the new one.
        held = sa.and_(W.c.owner.isnot(None), W.c.lease_expires_at > c.now)
        self._free = (
            W.update()
            .ordered_values(
                (
                    W.c.lease_expires_at,
                    sa.case((held, W.c.lease_expires_at), else_=expired),
                ),
                (
                    W.c.owner,
                    sa.case(
                        (held, sa.literal(base.FREED_OWNER, sa.String)),
                        else_=sa.null(),
                    ),
                ),
                (W.c.generation, W.c.generation + 1),
                (W.c.adoptions, W.c.adoptions + 1),
            )
            .where(W.c.id == bp('b_id'), W.c.state.in_(_ACTIVE))
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
            stmt = self._fences[key] = RawStatement(
                W.update().where(*where).values(**values), self.engine.dialect
            )
        return stmt

    # -- Backend -------------------------------------------------------------
    def create_workflow(
        self,
        workflow,
        tasks=(),
        owner=None,
        lease_seconds=base.DEFAULT_LEASE_SECONDS,
        connection=None,
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
        lease_seconds=base.DEFAULT_LEASE_SECONDS,
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

    def _update_unfinished(self, stmt, workflow_id, connection=None, **params):
        """Run an UPDATE of one unfinished workflow: True if it changed,
        False if the workflow already finished (or the UPDATE's other
        conditions failed), WorkflowNotFound if none. On ``connection``
        (the caller's transaction, which commits or rolls back) or in a
        transaction of its own.
        """
        if connection is not None:
            with self._schema_check:
                return self._update_on(connection, stmt, workflow_id, params)
        with self._schema_check, self.engine.begin() as conn:
            return self._update_on(conn, stmt, workflow_id, params)

    def _update_on(self, conn, stmt, workflow_id, params):
        n = conn.execute(
            stmt, {'b_id': workflow_id, **params, **self._clock.params()}
        ).rowcount
        if (
            not n
            and conn.execute(self._sel_guard, {'b_id': workflow_id}).first()
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

    def request_abort(self, workflow_id, connection=None):
        return self._update_unfinished(
            self._abort, workflow_id, connection=connection
        )
