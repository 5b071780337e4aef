"""nova's handle on the workflow tables of nova.orchestration.

One :class:`nova.orchestration.persistence.Backend` per process, over the
same SQLAlchemy engine as the rest of nova, so that nova-api can write an
instance and its workflow row in one transaction.

Two operations also run in the caller's transaction, which the library
offers only for ``Engine.create``: reading the unfinished workflows of an
instance and requesting their abort, so that a DELETE commits its abort
requests with its own delete workflow, or nothing (see
:func:`request_abort`).
"""

import threading

import sqlalchemy as sa

from nova import orchestration as orc
import nova.conf
from nova.db import api as db_api
from nova.db import models

CONF = nova.conf.CONF

_lock = threading.Lock()
_backend = None
_backend_engine = None


def get_backend():
    """The process-wide workflow backend on nova's database engine."""
    global _backend, _backend_engine
    engine = db_api.context_manager.writer.get_engine()
    with _lock:
        # Tests point the engine facade at a new database per test; follow.
        if _backend is None or _backend_engine is not engine:
            _backend = orc.persistence.backend_from_engine(
                engine, result_size_limit=CONF.orchestration.result_size_limit
            )
            _backend_engine = engine
        return _backend


def engine_policy():
    """The EnginePolicy of [orchestration]."""
    opts = CONF.orchestration
    return orc.EnginePolicy(
        lease_seconds=opts.lease_seconds,
        max_adoptions=opts.max_adoptions,
        result_size_limit=opts.result_size_limit,
        executor=opts.executor,
        max_workers=opts.max_workers,
    )


#: The columns of nova.orchestration's ``workflows`` table that nova
#: reads and writes in its own transactions. The table's schema is frozen
#: per version (nova's migration 0002_workflows runs the library's DDL).
_workflows = sa.table(
    'workflows',
    sa.column('id'),
    sa.column('name'),
    sa.column('state'),
    sa.column('target_type'),
    sa.column('target_id'),
    sa.column('abort_requested'),
    sa.column('created_at'),
)
_workflow_tasks = sa.table(
    'workflow_tasks',
    sa.column('workflow_id'),
    sa.column('name'),
    sa.column('state'),
)
_claims = models.ResourceClaim.__table__

_UNFINISHED = sorted(
    set(orc.states.WORKFLOW_STATES) - orc.states.WORKFLOW_TERMINAL
)


@db_api.context_manager.reader
def unfinished_workflows(context, target_type, target_id):
    """Unfinished workflows of a target, newest first, read in the
    caller's transaction: ``[{'id', 'name', 'abort_requested'}]``.

    A caller that writes what it decides from this (a DELETE requesting
    the abort of a build) reads it in its own transaction: on SQLite that
    transaction holds the database's write lock from its start (nova's
    transactions begin IMMEDIATE), so a read through the backend, which
    opens a transaction of its own, would wait for that lock.
    """
    query = (
        sa.select(
            _workflows.c.id, _workflows.c.name, _workflows.c.abort_requested
        )
        .where(
            _workflows.c.target_type == target_type,
            _workflows.c.target_id == target_id,
            _workflows.c.state.in_(_UNFINISHED),
        )
        .order_by(_workflows.c.created_at.desc())
    )
    return [
        dict(row._mapping, abort_requested=bool(row.abort_requested))
        for row in context.session.connection().execute(query)
    ]


@db_api.context_manager.writer
def request_abort(context, workflow_id):
    """``orc.request_abort`` in the caller's transaction; -> False when
    the workflow already finished (or does not exist).

    The abort request commits or rolls back with the caller's other
    writes: a DELETE writes its abort requests and its delete workflow
    together, so a crash between them cannot leave a build aborted with
    no delete to finish the server.
    """
    try:
        return orc.request_abort(
            workflow_id,
            get_backend(),
            connection=context.session.connection(),
        )
    except orc.WorkflowNotFound:
        return False


@db_api.context_manager.reader
def waiting_on_hosts(context, workflow_name, task_name, host=None):
    """Workflows ``workflow_name`` that run with their step ``task_name``
    RUNNING and hold a resource claim on a host (``host`` when given):
    ``[{'id', 'host'}]``, oldest first. Owned ones too: the owner may be
    a dead process whose lease has not run out yet, or a conductor
    busy with the workflow for a moment; the caller takes the wait like
    a completion, which tries again while it is owned.

    A build's claim names the host its current attempt runs on (the
    claims of the attempts before were released when they reverted).
    """
    query = (
        sa.select(_workflows.c.id, _claims.c.host)
        .select_from(
            _workflows.join(
                _workflow_tasks,
                _workflow_tasks.c.workflow_id == _workflows.c.id,
            ).join(_claims, _claims.c.workflow_id == _workflows.c.id)
        )
        .where(
            _workflows.c.name == workflow_name,
            _workflows.c.state == orc.states.RUNNING,
            _workflow_tasks.c.name == task_name,
            _workflow_tasks.c.state == orc.states.RUNNING,
        )
        .order_by(_workflows.c.created_at)
    )
    if host is not None:
        query = query.where(_claims.c.host == host)
    return [
        dict(row._mapping)
        for row in context.session.connection().execute(query)
    ]
