"""DB API of instance actions, their events, and instance faults.

An action is one user request on a server ('create', 'delete'); its
events are the workflow steps that served it, each with start, finish,
result ('Success'/'Error') and, on error, a traceback (admins only).
"""

from oslo_utils import timeutils
import sqlalchemy as sa

from nova import exception
from nova.db import api as db_api
from nova.db import fencing
from nova.db import models

_actions = models.InstanceAction.__table__
_events = models.InstanceActionEvent.__table__
_faults = models.InstanceFault.__table__

# Fault messages are a String(255) column.
_MAX_MESSAGE = 255


@db_api.context_manager.writer
def action_start(
    context,
    instance_uuid,
    action,
    request_id=None,
    user_id=None,
    project_id=None,
):
    """Record the start of ``action`` on an instance; return its id."""
    now = timeutils.utcnow()
    result = context.session.connection().execute(
        _actions.insert().values(
            action=action,
            instance_uuid=instance_uuid,
            request_id=request_id or context.request_id,
            user_id=user_id or context.user_id,
            project_id=project_id or context.project_id,
            start_time=now,
            created_at=now,
            updated_at=now,
        )
    )
    return result.inserted_primary_key[0]


@db_api.context_manager.writer
def action_finish(context, action_id, message=None):
    """Set the finish time (and message, e.g. 'Error') of an action, and
    finish the events still open with it.

    An action's events end with it: the one open is the step that
    finishes the action (the last step of its workflow, or the revert's
    sentinel) or a step a revert cut short (an abort). They finish with
    'Success' if the action succeeded (no message), else 'Error'. In the
    same transaction, because the listener that would finish the last
    step's event (nova.conductor.events) runs only after the engine's
    commit that also ends the workflow: a process dying right after that
    commit left the event open, and no conductor takes a finished
    workflow back to close it.
    """
    now = timeutils.utcnow()
    conn = context.session.connection()
    conn.execute(
        _actions.update()
        .where(_actions.c.id == action_id)
        .values(finish_time=now, updated_at=now, message=message)
    )
    conn.execute(
        _events.update()
        .where(
            _events.c.action_id == action_id, _events.c.finish_time.is_(None)
        )
        .values(
            finish_time=now,
            result='Success' if message is None else 'Error',
            updated_at=now,
        )
    )


def _closed_by_action_end(conn, action_id, event):
    """The id of the last event ``event`` of a finished action, or None
    (the action runs, or the step has no event).

    The end of the action finished it (see action_finish): a step run
    again after that (the engine's commit of its first run was lost in
    a crash) is not recorded twice, and the result the step reports
    afterwards replaces the one the action's end assumed.
    """
    finished = conn.execute(
        sa.select(_actions.c.finish_time).where(_actions.c.id == action_id)
    ).scalar()
    if finished is None:
        return None
    return conn.execute(
        sa.select(sa.func.max(_events.c.id)).where(
            _events.c.action_id == action_id, _events.c.event == event
        )
    ).scalar()


@db_api.context_manager.reader
def action_get(context, action_id):
    """The action ``action_id`` (without its events), or None."""
    row = (
        context.session.connection()
        .execute(sa.select(_actions).where(_actions.c.id == action_id))
        .first()
    )
    return dict(row._mapping) if row is not None else None


@db_api.context_manager.writer
def event_start(context, action_id, event, host=None):
    """Record that the step ``event`` of an action started.

    A step that runs again (retry, resume) reuses its unfinished event
    row rather than adding a duplicate, and adds none once the action's
    end finished it (see action_finish). Returns the event's id.

    A context fenced by a workflow (nova.db.fencing) writes only while
    the workflow is still at its generation: else this raises
    StaleWorkflowGeneration and writes nothing.
    """
    fencing.check(context, 'start the event %s' % event)
    now = timeutils.utcnow()
    conn = context.session.connection()
    open_row = conn.execute(
        sa.select(_events.c.id).where(
            _events.c.action_id == action_id,
            _events.c.event == event,
            _events.c.finish_time.is_(None),
        )
    ).first()
    if open_row is not None:
        conn.execute(
            _events.update()
            .where(_events.c.id == open_row.id)
            .values(start_time=now, host=host, updated_at=now)
        )
        return open_row.id
    closed = _closed_by_action_end(conn, action_id, event)
    if closed is not None:
        return closed
    return conn.execute(
        _events.insert().values(
            action_id=action_id,
            event=event,
            start_time=now,
            host=host,
            created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]


@db_api.context_manager.writer
def event_finish(
    context,
    action_id,
    event,
    result,
    traceback=None,
    host=None,
    open_only=False,
    start_time=None,
    finish_time=None,
):
    """Finish the open event ``event`` with 'Success' or 'Error'.

    With none open, a finished one is added, unless ``open_only``: a
    caller making the write again after a commit whose answer was lost
    (the connection dropped during COMMIT) passes it, since then no open
    event means that its first try did finish it; nor when the newest
    event of the step already has this result (told already: see
    nova.conductor.events.close_finished_events). The price: a step run
    again after a success whose start was never told, and that succeeds
    again, is recorded once. Once the action's end
    finished the step's event (see action_finish), that one is given
    the result instead.

    ``finish_time`` (and ``start_time``, for an added event) are when
    the step really ended (and started), if not now: a conductor that
    takes a workflow back closes the events its dead owner left open
    (nova.conductor.events.close_finished_events).

    Fenced like :func:`event_start`.
    """
    fencing.check(context, 'finish the event %s' % event)
    now = timeutils.utcnow()
    conn = context.session.connection()
    event_id = conn.execute(
        sa.select(_events.c.id)
        .where(
            _events.c.action_id == action_id,
            _events.c.event == event,
            _events.c.finish_time.is_(None),
        )
        .order_by(_events.c.id.desc())
    ).scalar()
    values = dict(
        finish_time=finish_time or now,
        result=result,
        traceback=traceback,
        updated_at=now,
    )
    if host:
        values['host'] = host
    if event_id is None and open_only:
        return
    if event_id is None:
        event_id = _closed_by_action_end(conn, action_id, event)
    if event_id is None and _last_result(conn, action_id, event) == result:
        # Already told: a conductor that took the workflow back closed
        # this step's event while its previous owner, paused after the
        # step's commit, had not told it yet; that owner tells it now.
        return
    if event_id is None:
        conn.execute(
            _events.insert().values(
                action_id=action_id,
                event=event,
                start_time=start_time or values['finish_time'],
                created_at=now,
                **values,
            )
        )
    else:
        conn.execute(
            _events.update().where(_events.c.id == event_id).values(**values)
        )


def _last_result(conn, action_id, event):
    """The result of the newest event ``event`` of the action, or None."""
    return conn.execute(
        sa.select(_events.c.result)
        .where(_events.c.action_id == action_id, _events.c.event == event)
        .order_by(_events.c.id.desc())
        .limit(1)
    ).scalar()


@db_api.context_manager.reader
def action_get_by_request_id(context, instance_uuid, request_id):
    """The action of ``request_id`` on an instance, with its events."""
    conn = context.session.connection()
    row = conn.execute(
        sa.select(_actions)
        .where(
            _actions.c.instance_uuid == instance_uuid,
            _actions.c.request_id == request_id,
        )
        .order_by(_actions.c.id.desc())
    ).first()
    if row is None:
        raise exception.InstanceActionNotFound(
            request_id=request_id, instance_uuid=instance_uuid
        )
    action = dict(row._mapping)
    action['events'] = [
        dict(event._mapping)
        for event in conn.execute(
            sa.select(_events)
            .where(_events.c.action_id == row.id)
            .order_by(_events.c.id)
        )
    ]
    return action


@db_api.context_manager.reader
def events_get(context, action_id):
    """The events of an action, oldest first."""
    return [
        dict(row._mapping)
        for row in context.session.connection().execute(
            sa.select(_events)
            .where(_events.c.action_id == action_id)
            .order_by(_events.c.id)
        )
    ]


@db_api.context_manager.reader
def action_get_by_instance_and_name(context, instance_uuid, action):
    """The latest action named ``action`` on an instance, or None."""
    row = (
        context.session.connection()
        .execute(
            sa.select(_actions)
            .where(
                _actions.c.instance_uuid == instance_uuid,
                _actions.c.action == action,
            )
            .order_by(_actions.c.id.desc())
        )
        .first()
    )
    return dict(row._mapping) if row is not None else None


@db_api.context_manager.reader
def actions_get(
    context, instance_uuid, limit=None, marker=None, changes_since=None
):
    """Actions of an instance, newest first."""
    conn = context.session.connection()
    query = sa.select(_actions).where(
        _actions.c.instance_uuid == instance_uuid
    )
    if changes_since is not None:
        query = query.where(_actions.c.updated_at >= changes_since)
    if marker is not None:
        marker_row = conn.execute(
            sa.select(_actions.c.id).where(
                _actions.c.instance_uuid == instance_uuid,
                _actions.c.request_id == marker,
            )
        ).first()
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker)
        query = query.where(_actions.c.id < marker_row.id)
    query = query.order_by(_actions.c.created_at.desc(), _actions.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


@db_api.context_manager.writer
def fault_create(
    context, instance_uuid, code, message, details=None, host=None
):
    """Record why an instance failed (the API shows the latest)."""
    now = timeutils.utcnow()
    context.session.connection().execute(
        _faults.insert().values(
            instance_uuid=instance_uuid,
            code=code,
            message=(message or '')[:_MAX_MESSAGE],
            details=details,
            host=host,
            created_at=now,
            updated_at=now,
        )
    )


@db_api.context_manager.reader
def fault_get_latest(context, instance_uuids):
    """{instance_uuid: latest fault dict} for the given instances."""
    if not instance_uuids:
        return {}
    rows = context.session.connection().execute(
        sa.select(_faults)
        .where(_faults.c.instance_uuid.in_(list(instance_uuids)))
        .order_by(_faults.c.id)
    )
    return {row.instance_uuid: dict(row._mapping) for row in rows}
