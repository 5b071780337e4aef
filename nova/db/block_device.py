"""DB API of block_device_mappings: the disks of a server.

A boot from image gets nova's default mappings: the root disk from the
image (boot_index 0), plus an ephemeral disk and a swap disk when the
flavor has them. Creating them is a no-op while the instance has live
mappings, so the prepare_block_devices step re-executed after a crash
finds the same rows instead of adding a second set, and a reschedule
after a revert (which deleted them) creates a fresh set.
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova.db import api as db_api
from nova.db import fencing
from nova.db import models

_bdms = models.BlockDeviceMapping.__table__

ROOT_DEVICE = '/dev/vda'


def _to_dict(row):
    return dict(row._mapping) if row is not None else None


def _value(thing, key):
    return thing.get(key) if isinstance(thing, dict) else thing


def default_mappings(instance_uuid, flavor, image_id):
    """The mapping values of a boot from image with ``flavor`` (a dict)."""
    devices = iter('/dev/vd%s' % letter for letter in 'bcdefgh')
    mappings = [
        {
            'device_name': ROOT_DEVICE,
            'source_type': 'image',
            'destination_type': 'local',
            'boot_index': 0,
            'image_id': image_id,
            'guest_format': None,
            'volume_size': flavor.get('root_gb') or None,
            'delete_on_termination': True,
        }
    ]
    if flavor.get('ephemeral_gb'):
        mappings.append(
            {
                'device_name': next(devices),
                'source_type': 'blank',
                'destination_type': 'local',
                'boot_index': -1,
                'guest_format': None,
                'volume_size': flavor['ephemeral_gb'],
                'delete_on_termination': True,
            }
        )
    if flavor.get('swap'):
        # As nova, a swap mapping's volume_size is the flavor's swap in MB.
        mappings.append(
            {
                'device_name': next(devices),
                'source_type': 'blank',
                'destination_type': 'local',
                'boot_index': -1,
                'guest_format': 'swap',
                'volume_size': flavor['swap'],
                'delete_on_termination': True,
            }
        )
    for mapping in mappings:
        # Every row has every key: they are inserted in one executemany.
        mapping.setdefault('image_id', None)
        mapping.update(
            instance_uuid=instance_uuid,
            device_type='disk',
            disk_bus='virtio',
            uuid=uuidutils.generate_uuid(),
        )
    return mappings


def create_defaults_for_instance(context, instance, flavor, image):
    """Create the default mappings of a boot from image (idempotent).

    ``instance`` is an instance dict or uuid, ``image`` an image dict or
    id, ``flavor`` a flavor dict.

    :returns: the instance's mapping dicts, root first.
    """
    instance_uuid = _value(instance, 'uuid')
    existing = get_by_instance(context, instance_uuid)
    if existing:
        return existing
    _create(
        context, default_mappings(instance_uuid, flavor, _value(image, 'id'))
    )
    return get_by_instance(context, instance_uuid)


@db_api.context_manager.writer
def _create(context, mappings):
    # Insert only: a writer transaction that reads first fails at once on
    # SQLite when another writer commits meanwhile (see nova.compute.claims).
    fencing.check(context, 'create_block_device_mappings')
    now = timeutils.utcnow()
    context.session.connection().execute(
        _bdms.insert(),
        [dict(mapping, created_at=now, deleted=0) for mapping in mappings],
    )


@db_api.context_manager.reader
def get_by_instance(context, instance_uuid):
    """Live mapping dicts of the instance: root first, then by id."""
    rows = context.session.connection().execute(
        sa.select(_bdms).where(
            _bdms.c.instance_uuid == instance_uuid, _bdms.c.deleted == 0
        )
    )
    mappings = [_to_dict(row) for row in rows]
    return sorted(mappings, key=lambda m: (m['boot_index'] != 0, m['id']))


@db_api.context_manager.writer
def set_host(context, instance_uuid, host):
    """Record the host whose local disks back the instance's mappings."""
    context.session.connection().execute(
        _bdms.update()
        .where(_bdms.c.instance_uuid == instance_uuid, _bdms.c.deleted == 0)
        .values(host=host, updated_at=timeutils.utcnow())
    )


@db_api.context_manager.writer
def destroy_by_instance(context, instance_uuid):
    """Soft-delete the instance's mappings (idempotent).

    :returns: how many were deleted by this call.
    """
    fencing.check(context, 'delete_block_device_mappings')
    return (
        context.session.connection()
        .execute(
            _bdms.update()
            .where(
                _bdms.c.instance_uuid == instance_uuid, _bdms.c.deleted == 0
            )
            .values(deleted=_bdms.c.id, deleted_at=timeutils.utcnow())
        )
        .rowcount
    )
