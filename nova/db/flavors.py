"""DB API of flavors (read side, used by the API and nova.compute.api)."""

import sqlalchemy as sa

from nova import exception
from nova.db import api as db_api
from nova.db import models

_flavors = models.Flavor.__table__

_SORT_KEYS = (
    'flavorid',
    'name',
    'memory_mb',
    'vcpus',
    'root_gb',
    'ephemeral_gb',
    'swap',
    'rxtx_factor',
    'id',
    'created_at',
)


def _to_dict(row):
    flavor = dict(row._mapping)
    flavor['extra_specs'] = {}
    return flavor


@db_api.context_manager.reader
def get_all(
    context,
    min_memory_mb=None,
    min_root_gb=None,
    is_public=True,
    include_disabled=False,
    limit=None,
    marker=None,
    sort_key='flavorid',
    sort_dir='asc',
):
    """Flavors, filtered, sorted and paginated after ``marker`` (flavorid).

    ``is_public``: True (public only), False (private only), None (all).

    :raises MarkerNotFound: when the marker names no flavor.
    :raises InvalidSortKey: for an unknown ``sort_key``.
    """
    if sort_key not in _SORT_KEYS:
        raise exception.InvalidSortKey(key=sort_key)
    query = sa.select(_flavors)
    if min_memory_mb is not None:
        query = query.where(_flavors.c.memory_mb >= min_memory_mb)
    if min_root_gb is not None:
        query = query.where(_flavors.c.root_gb >= min_root_gb)
    if is_public is not None:
        query = query.where(_flavors.c.is_public == bool(is_public))
    if not include_disabled:
        query = query.where(_flavors.c.disabled == sa.false())
    conn = context.session.connection()
    column = _flavors.c[sort_key]
    if marker is not None:
        marker_row = conn.execute(
            sa.select(column, _flavors.c.id).where(
                _flavors.c.flavorid == marker
            )
        ).first()
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker)
        if sort_dir == 'desc':
            query = query.where(
                sa.or_(
                    column < marker_row[0],
                    sa.and_(
                        column == marker_row[0], _flavors.c.id < marker_row[1]
                    ),
                )
            )
        else:
            query = query.where(
                sa.or_(
                    column > marker_row[0],
                    sa.and_(
                        column == marker_row[0], _flavors.c.id > marker_row[1]
                    ),
                )
            )
    order = (
        (column.desc(), _flavors.c.id.desc())
        if sort_dir == 'desc'
        else (column.asc(), _flavors.c.id.asc())
    )
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return [_to_dict(row) for row in conn.execute(query)]


@db_api.context_manager.reader
def get_by_flavor_id(context, flavorid):
    """The flavor whose API id is ``flavorid``.

    :raises FlavorNotFound: when there is none.
    """
    row = (
        context.session.connection()
        .execute(
            sa.select(_flavors).where(_flavors.c.flavorid == str(flavorid))
        )
        .first()
    )
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    return _to_dict(row)
