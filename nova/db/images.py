"""DB API of the built-in image catalog the images API proxies.

Image dicts carry ``properties`` decoded from their JSON column.
"""

from oslo_serialization import jsonutils
import sqlalchemy as sa

from nova import exception
from nova.db import api as db_api
from nova.db import models

_images = models.Image.__table__


def _to_dict(row):
    image = dict(row._mapping)
    try:
        image['properties'] = jsonutils.loads(image.get('properties') or '{}')
    except ValueError:
        image['properties'] = {}
    return image


@db_api.context_manager.reader
def get_all(context, filters=None, limit=None, marker=None):
    """Images ordered by (created_at, id), after the ``marker`` image id.

    Filters: ``name``, ``status`` (exact), ``min_ram``, ``min_disk``
    (at least), ``changes-since`` (updated at or after a datetime).

    :raises MarkerNotFound: when the marker names no image.
    """
    filters = dict(filters or {})
    query = sa.select(_images)
    for key in ('name', 'status'):
        if filters.get(key) is not None:
            query = query.where(_images.c[key] == filters[key])
    if filters.get('min_ram') is not None:
        query = query.where(_images.c.min_ram >= filters['min_ram'])
    if filters.get('min_disk') is not None:
        query = query.where(_images.c.min_disk >= filters['min_disk'])
    if filters.get('changes-since') is not None:
        query = query.where(_images.c.updated_at >= filters['changes-since'])
    conn = context.session.connection()
    if marker is not None:
        marker_row = conn.execute(
            sa.select(_images.c.created_at, _images.c.id).where(
                _images.c.id == marker
            )
        ).first()
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker)
        query = query.where(
            sa.or_(
                _images.c.created_at > marker_row.created_at,
                sa.and_(
                    _images.c.created_at == marker_row.created_at,
                    _images.c.id > marker_row.id,
                ),
            )
        )
    query = query.order_by(_images.c.created_at, _images.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_to_dict(row) for row in conn.execute(query)]


@db_api.context_manager.reader
def get(context, image_id):
    """The image ``image_id``.

    :raises ImageNotFound: when the catalog has none.
    """
    row = (
        context.session.connection()
        .execute(sa.select(_images).where(_images.c.id == str(image_id)))
        .first()
    )
    if row is None:
        raise exception.ImageNotFound(image_id=image_id)
    return _to_dict(row)
