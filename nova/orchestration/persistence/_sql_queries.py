"""Operator queries on the SQL tables (nova-manage workflow
list/show/stats/purge)."""

import sqlalchemy as sa

from nova.orchestration import states
from nova.orchestration.persistence import schema

W = schema.workflows
T = schema.workflow_tasks
_LIST_COLUMNS = [c for c in W.c if c.name != 'store']


class OperatorQueries:
    """Read and purge queries for SQLBackend, which delegates to them."""

    def __init__(self, engine, clock, schema_check):
        self.engine = engine
        self._clock = clock
        self._schema_check = schema_check

    def list_workflows(
        self, state=None, target=None, owner=None, older_than=None, limit=100
    ):
        q = sa.select(*_LIST_COLUMNS)
        if state:
            q = q.where(W.c.state == state)
        if target is not None:
            if isinstance(target, (tuple, list)):
                q = q.where(
                    W.c.target_type == target[0], W.c.target_id == target[1]
                )
            else:
                q = q.where(W.c.target_id == target)
        if owner:
            q = q.where(W.c.owner == owner)
        if older_than is not None:
            q = q.where(W.c.created_at < older_than)
        q = q.order_by(W.c.created_at.desc()).limit(limit)
        with self._schema_check, self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        for r in rows:
            r['abort_requested'] = bool(r['abort_requested'])
        return rows

    def stats(self):
        now = self._clock.now
        with self._schema_check, self.engine.connect() as conn:
            by_state = {
                r.state: r.n
                for r in conn.execute(
                    sa.select(W.c.state, sa.func.count().label('n')).group_by(
                        W.c.state
                    )
                )
            }
            owned, expired, aborts = conn.execute(
                sa.select(
                    sa.func.count(W.c.owner),
                    sa.func.sum(
                        sa.case(
                            (
                                sa.and_(
                                    W.c.owner.is_not(None),
                                    W.c.lease_expires_at < now,
                                ),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    sa.func.sum(
                        sa.case((W.c.abort_requested == sa.true(), 1), else_=0)
                    ),
                ),
                self._clock.params(),
            ).one()
            unfinished = W.c.state.notin_(sorted(states.WORKFLOW_TERMINAL))
            by_owner = {
                r.owner: r.n
                for r in conn.execute(
                    sa.select(W.c.owner, sa.func.count().label('n'))
                    .where(unfinished)
                    .group_by(W.c.owner)
                )
            }
            oldest = conn.execute(
                sa.select(W.c.id, W.c.name, W.c.state, W.c.created_at)
                .where(unfinished)
                .order_by(W.c.created_at)
                .limit(1)
            ).first()
        return {
            'by_state': by_state,
            'by_owner': by_owner,
            'oldest_running': dict(oldest._mapping) if oldest else None,
            'owned': owned or 0,
            'expired_leases': int(expired or 0),
            'abort_requested': int(aborts or 0),
        }

    def purge(self, before, batch_size=1000, dry_run=False):
        cond = sa.and_(
            W.c.state.in_(sorted(states.WORKFLOW_TERMINAL)),
            W.c.finished_at < before,
        )
        if dry_run:
            with self._schema_check, self.engine.connect() as conn:
                return conn.execute(
                    sa.select(sa.func.count()).where(cond)
                ).scalar()
        total = 0
        while True:
            # Small batches: long deletes would hold locks conductors need.
            with self._schema_check, self.engine.begin() as conn:
                ids = [
                    r.id
                    for r in conn.execute(
                        sa.select(W.c.id).where(cond).limit(batch_size)
                    )
                ]
                if not ids:
                    return total
                conn.execute(T.delete().where(T.c.workflow_id.in_(ids)))
                conn.execute(W.delete().where(W.c.id.in_(ids)))
                total += len(ids)
