"""DB API of users' key pairs (the key_pairs table)."""

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from nova import exception
from nova.db import api as db_api
from nova.db import models

_key_pairs = models.KeyPair.__table__


def _to_dict(row):
    return dict(row._mapping)


def _live(user_id):
    return sa.and_(_key_pairs.c.user_id == user_id, _key_pairs.c.deleted == 0)


@db_api.context_manager.writer
def create(context, user_id, name, public_key, fingerprint, key_type):
    """Record a key pair; return it.

    :raises KeyPairExists: the user has one of that name.
    """
    now = timeutils.utcnow()
    conn = context.session.connection()
    try:
        key_id = conn.execute(
            _key_pairs.insert().values(
                name=name,
                user_id=user_id,
                public_key=public_key,
                fingerprint=fingerprint,
                type=key_type,
                created_at=now,
                deleted=0,
            )
        ).inserted_primary_key[0]
    except db_exc.DBDuplicateEntry:
        raise exception.KeyPairExists(key_name=name) from None
    return _to_dict(
        conn.execute(
            sa.select(_key_pairs).where(_key_pairs.c.id == key_id)
        ).first()
    )


@db_api.context_manager.reader
def get(context, user_id, name):
    """The user's key pair ``name``.

    :raises KeypairNotFound: none of that name.
    """
    row = (
        context.session.connection()
        .execute(
            sa.select(_key_pairs).where(
                _live(user_id), _key_pairs.c.name == name
            )
        )
        .first()
    )
    if row is None:
        raise exception.KeypairNotFound(user_id=user_id, name=name)
    return _to_dict(row)


@db_api.context_manager.reader
def get_all(context, user_id):
    """The user's key pairs, by name."""
    return [
        _to_dict(row)
        for row in context.session.connection().execute(
            sa.select(_key_pairs)
            .where(_live(user_id))
            .order_by(_key_pairs.c.name)
        )
    ]


@db_api.context_manager.reader
def count(context, user_id):
    """How many key pairs the user has."""
    return (
        context.session.connection()
        .execute(sa.select(sa.func.count()).where(_live(user_id)))
        .scalar()
    )


@db_api.context_manager.writer
def destroy(context, user_id, name):
    """Delete the user's key pair ``name``.

    :raises KeypairNotFound: none of that name.
    """
    now = timeutils.utcnow()
    result = context.session.connection().execute(
        _key_pairs.update()
        .where(_live(user_id), _key_pairs.c.name == name)
        .values(deleted=_key_pairs.c.id, deleted_at=now)
    )
    if result.rowcount == 0:
        raise exception.KeypairNotFound(user_id=user_id, name=name)
