"""DB API of servers: the instances and instance_metadata tables.

Functions take a :class:`nova.context.RequestContext` and return plain
dicts (the row, ``flavor`` decoded, ``metadata`` as a dict). They never
check policy: callers (nova.compute.api) pass the project to scope by.
"""

from oslo_serialization import jsonutils
from oslo_utils import timeutils
import sqlalchemy as sa

from nova import exception
from nova.db import api as db_api
from nova.db import fencing
from nova.db import models

_instances = models.Instance.__table__
_metadata = models.InstanceMetadata.__table__

# Filters that match a column exactly (a list value means "any of").
_EXACT_FILTERS = (
    'uuid',
    'project_id',
    'user_id',
    'vm_state',
    'task_state',
    'host',
    'node',
    'image_ref',
    'instance_type_id',
    'reservation_id',
    'availability_zone',
)


def _to_dict(row, metadata=None):
    instance = dict(row._mapping)
    if instance.get('flavor'):
        instance['flavor'] = jsonutils.loads(instance['flavor'])
    instance['metadata'] = metadata if metadata is not None else {}
    return instance


def _load_metadata(conn, uuids):
    if not uuids:
        return {}
    rows = conn.execute(
        sa.select(
            _metadata.c.instance_uuid, _metadata.c.key, _metadata.c.value
        ).where(_metadata.c.instance_uuid.in_(uuids), _metadata.c.deleted == 0)
    )
    found = {uuid: {} for uuid in uuids}
    for row in rows:
        found[row.instance_uuid][row.key] = row.value
    return found


@db_api.context_manager.writer
def create(context, values, metadata=None):
    """Insert an instance (and its metadata); return it as a dict."""
    values = dict(values)
    now = timeutils.utcnow()
    values.setdefault('created_at', now)
    values.setdefault('updated_at', now)
    values.setdefault('deleted', 0)
    values.setdefault('power_state', 0)
    values.setdefault('locked', False)
    if isinstance(values.get('flavor'), dict):
        values['flavor'] = jsonutils.dumps(values['flavor'])
    conn = context.session.connection()
    conn.execute(_instances.insert().values(**values))
    if metadata:
        conn.execute(
            _metadata.insert(),
            [
                {
                    'instance_uuid': values['uuid'],
                    'key': key,
                    'value': value,
                    'created_at': now,
                    'deleted': 0,
                }
                for key, value in metadata.items()
            ],
        )
    return get(context, values['uuid'])


@db_api.context_manager.reader
def get(context, uuid, project_id=None, read_deleted=False):
    """The instance ``uuid`` (of ``project_id`` when given).

    :raises InstanceNotFound: when missing, deleted or of another project.
    """
    query = sa.select(_instances).where(_instances.c.uuid == uuid)
    if not read_deleted:
        query = query.where(_instances.c.deleted == 0)
    if project_id is not None:
        query = query.where(_instances.c.project_id == project_id)
    conn = context.session.connection()
    row = conn.execute(query).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=uuid)
    return _to_dict(row, _load_metadata(conn, [uuid])[uuid])


@db_api.context_manager.reader
def get_all(
    context,
    filters=None,
    limit=None,
    marker=None,
    sort_keys=('created_at', 'id'),
    sort_dirs=('desc', 'desc'),
):
    """Instances matching ``filters``, sorted and paginated.

    Filters: the columns of ``_EXACT_FILTERS`` (value or list), ``name``
    (a regular expression on display_name, as nova), ``changes-since``
    (a datetime: rows updated at or after it, deleted ones included),
    ``deleted`` (True: only deleted, False: only live; default live
    unless changes-since is given).

    :raises MarkerNotFound: when ``marker`` is not a visible instance.
    """
    filters = dict(filters or {})
    query = sa.select(_instances)
    changes_since = filters.pop('changes-since', None)
    deleted = filters.pop('deleted', None)
    if changes_since is not None:
        query = query.where(_instances.c.updated_at >= changes_since)
    if deleted is True:
        query = query.where(_instances.c.deleted != 0)
    elif deleted is False or (deleted is None and changes_since is None):
        query = query.where(_instances.c.deleted == 0)
    name = filters.pop('name', None)
    if name:
        query = query.where(_instances.c.display_name.regexp_match(name))
    for key in _EXACT_FILTERS:
        if key in filters and filters[key] is not None:
            value = filters.pop(key)
            column = _instances.c[key]
            query = query.where(
                column.in_(value)
                if isinstance(value, (list, tuple, set))
                else column == value
            )
    if filters:
        raise exception.InvalidInput(
            reason='unknown filter(s) %s' % (', '.join(sorted(filters)))
        )

    conn = context.session.connection()
    columns = []
    for key in sort_keys:
        if key not in _instances.c:
            raise exception.InvalidSortKey(key=key)
        columns.append(_instances.c[key])
    if marker is not None:
        marker_row = conn.execute(
            query.with_only_columns(*columns).where(
                _instances.c.uuid == marker
            )
        ).first()
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker)
        query = query.where(_after_marker(columns, sort_dirs, marker_row))
    query = query.order_by(
        *[
            column.desc() if direction == 'desc' else column.asc()
            for column, direction in zip(columns, sort_dirs, strict=True)
        ]
    )
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).all()
    metadata = _load_metadata(conn, [row.uuid for row in rows])
    return [_to_dict(row, metadata[row.uuid]) for row in rows]


def _after_marker(columns, directions, marker_row):
    """WHERE clause for rows strictly after the marker in sort order."""
    clauses = []
    for index, column in enumerate(columns):
        equal_before = [columns[i] == marker_row[i] for i in range(index)]
        value = marker_row[index]
        beyond = (
            column < value if directions[index] == 'desc' else column > value
        )
        clauses.append(sa.and_(*equal_before, beyond))
    return sa.or_(*clauses)


@db_api.context_manager.reader
def count_usage(context, project_id):
    """(instances, vcpus, memory_mb) a project's live servers use."""
    row = (
        context.session.connection()
        .execute(
            sa.select(
                sa.func.count(_instances.c.id),
                sa.func.coalesce(sa.func.sum(_instances.c.vcpus), 0),
                sa.func.coalesce(sa.func.sum(_instances.c.memory_mb), 0),
            ).where(
                _instances.c.project_id == project_id,
                _instances.c.deleted == 0,
            )
        )
        .one()
    )
    return int(row[0]), int(row[1]), int(row[2])


@db_api.context_manager.writer
def update(context, uuid, values, expected_task_state=None):
    """Update a live instance; return it.

    ``expected_task_state`` (a value or a list) makes the update
    conditional, as nova's: when the current task_state differs, nothing
    changes and :class:`InstanceInvalidState` is raised.
    """
    fencing.check(context, 'update instance %s' % uuid)
    values = dict(values, updated_at=timeutils.utcnow())
    if isinstance(values.get('flavor'), dict):
        values['flavor'] = jsonutils.dumps(values['flavor'])
    query = _instances.update().where(
        _instances.c.uuid == uuid, _instances.c.deleted == 0
    )
    if expected_task_state is not None:
        expected = (
            list(expected_task_state)
            if isinstance(expected_task_state, (list, tuple))
            else [expected_task_state]
        )
        column = _instances.c.task_state
        conditions = [column.in_([s for s in expected if s is not None])]
        if None in expected:
            conditions.append(column.is_(None))
        query = query.where(sa.or_(*conditions))
    result = context.session.connection().execute(query.values(**values))
    if result.rowcount == 0:
        current = get(context, uuid)  # raises InstanceNotFound if gone
        raise exception.InstanceInvalidState(
            method='update',
            instance_uuid=uuid,
            attr='task_state',
            state=current['task_state'],
        )
    return get(context, uuid)


@db_api.context_manager.writer
def metadata_update(context, uuid, metadata, replace=False):
    """Set the ``metadata`` items of a live instance (and, with
    ``replace``, delete the others); return all its items."""
    fencing.check(context, 'update the metadata of instance %s' % uuid)
    conn = context.session.connection()
    current = _load_metadata(conn, [uuid])[uuid]
    now = timeutils.utcnow()
    live = sa.and_(_metadata.c.instance_uuid == uuid, _metadata.c.deleted == 0)
    gone = set(current) - set(metadata) if replace else set()
    if gone:
        conn.execute(
            _metadata.update()
            .where(live, _metadata.c.key.in_(sorted(gone)))
            .values(deleted=_metadata.c.id, deleted_at=now)
        )
    for key, value in metadata.items():
        if key not in current:
            conn.execute(
                _metadata.insert().values(
                    instance_uuid=uuid,
                    key=key,
                    value=value,
                    created_at=now,
                    deleted=0,
                )
            )
        elif current[key] != value:
            conn.execute(
                _metadata.update()
                .where(live, _metadata.c.key == key)
                .values(value=value, updated_at=now)
            )
    return _load_metadata(conn, [uuid])[uuid]


@db_api.context_manager.writer
def metadata_delete(context, uuid, key):
    """Delete the metadata item ``key`` of an instance.

    :raises MetadataItemNotFound: it has none.
    """
    fencing.check(context, 'delete metadata of instance %s' % uuid)
    now = timeutils.utcnow()
    result = context.session.connection().execute(
        _metadata.update()
        .where(
            _metadata.c.instance_uuid == uuid,
            _metadata.c.deleted == 0,
            _metadata.c.key == key,
        )
        .values(deleted=_metadata.c.id, deleted_at=now)
    )
    if result.rowcount == 0:
        raise exception.MetadataItemNotFound()


@db_api.context_manager.writer
def soft_delete(context, uuid):
    """Mark the instance and its metadata deleted; idempotent.

    :returns: True when this call deleted it, False when already gone.
    """
    fencing.check(context, 'delete instance %s' % uuid)
    now = timeutils.utcnow()
    conn = context.session.connection()
    result = conn.execute(
        _instances.update()
        .where(_instances.c.uuid == uuid, _instances.c.deleted == 0)
        .values(
            deleted=_instances.c.id,
            deleted_at=now,
            updated_at=now,
            terminated_at=now,
            vm_state='deleted',
            task_state=None,
            power_state=0,
        )
    )
    conn.execute(
        _metadata.update()
        .where(_metadata.c.instance_uuid == uuid, _metadata.c.deleted == 0)
        .values(deleted=_metadata.c.id, deleted_at=now)
    )
    return result.rowcount == 1
