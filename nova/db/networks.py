"""DB API of networks and fixed IPs (nova-network style).

Every address of a network has a ``fixed_ips`` row created with the
network, so allocating is flipping one free row to allocated with a
conditional UPDATE (``... WHERE id=:id AND allocated = false``): atomic on
every database without table locks. Losing a race shows as rowcount 0
and the caller tries another free row.
"""

import ipaddress
import random

from oslo_utils import timeutils
import sqlalchemy as sa

from nova import exception
from nova.db import api as db_api
from nova.db import fencing
from nova.db import models

_networks = models.Network.__table__
_fixed_ips = models.FixedIp.__table__

# Free rows fetched per attempt. An allocator tries the lowest first (so
# addresses are handed out in order), and after losing it the others in
# random order, so that racing allocators stop colliding.
_CANDIDATES = 16


def _to_dict(row):
    return dict(row._mapping) if row is not None else None


@db_api.context_manager.reader
def get_all(context):
    """Live networks, by id."""
    rows = context.session.connection().execute(
        sa.select(_networks)
        .where(_networks.c.deleted == 0)
        .order_by(_networks.c.id)
    )
    return [_to_dict(row) for row in rows]


@db_api.context_manager.reader
def get_by_uuid(context, uuid):
    """The network ``uuid``. :raises NetworkNotFound:"""
    row = (
        context.session.connection()
        .execute(
            sa.select(_networks).where(
                _networks.c.uuid == uuid, _networks.c.deleted == 0
            )
        )
        .first()
    )
    if row is None:
        raise exception.NetworkNotFound(network_id=uuid)
    return _to_dict(row)


@db_api.context_manager.reader
def get_by_label(context, label):
    """The first live network labelled ``label``. :raises NetworkNotFound:"""
    row = (
        context.session.connection()
        .execute(
            sa.select(_networks)
            .where(_networks.c.label == label, _networks.c.deleted == 0)
            .order_by(_networks.c.id)
        )
        .first()
    )
    if row is None:
        raise exception.NetworkNotFound(network_id=label)
    return _to_dict(row)


@db_api.context_manager.reader
def get_fixed_ips_by_instances(context, instance_uuids):
    """Allocated fixed IPs of the instances, joined with their network:
    dicts of the fixed_ips row plus ``network_uuid`` and ``label``."""
    if not instance_uuids:
        return []
    query = (
        sa.select(
            _fixed_ips,
            _networks.c.uuid.label('network_uuid'),
            _networks.c.label,
        )
        .join(_networks, _networks.c.id == _fixed_ips.c.network_id)
        .where(
            _fixed_ips.c.instance_uuid.in_(list(instance_uuids)),
            _fixed_ips.c.allocated == sa.true(),
        )
        .order_by(_fixed_ips.c.id)
    )
    return [
        _to_dict(row) for row in context.session.connection().execute(query)
    ]


@db_api.context_manager.reader
def get_fixed_ip(context, network_id, instance_uuid):
    """The address ``instance_uuid`` holds on a network, or None."""
    return _to_dict(
        context.session.connection()
        .execute(
            sa.select(_fixed_ips).where(
                _fixed_ips.c.network_id == network_id,
                _fixed_ips.c.instance_uuid == instance_uuid,
                _fixed_ips.c.allocated == sa.true(),
            )
        )
        .first()
    )


@db_api.context_manager.reader
def _free_candidates(context, network_id, address=None):
    query = sa.select(_fixed_ips.c.id).where(
        _fixed_ips.c.network_id == network_id,
        _fixed_ips.c.allocated == sa.false(),
        _fixed_ips.c.reserved == sa.false(),
    )
    if address is not None:
        query = query.where(_fixed_ips.c.address == address)
    return list(
        context.session.connection()
        .execute(query.order_by(_fixed_ips.c.id).limit(_CANDIDATES))
        .scalars()
    )


@db_api.context_manager.writer
def _take(context, fixed_ip_id, instance_uuid, workflow_id):
    """Allocate one row if still free; True when this call got it."""
    fencing.check(context, 'allocate_fixed_ip')
    return (
        context.session.connection()
        .execute(
            _fixed_ips.update()
            .where(
                _fixed_ips.c.id == fixed_ip_id,
                _fixed_ips.c.allocated == sa.false(),
            )
            .values(
                allocated=True,
                instance_uuid=instance_uuid,
                workflow_id=workflow_id,
                updated_at=timeutils.utcnow(),
            )
        )
        .rowcount
        == 1
    )


def allocate_fixed_ip(
    context, network, instance_uuid, address=None, workflow_id=None
):
    """Give ``instance_uuid`` an address of ``network`` (a network dict).

    Idempotent: when the instance already has an address on the network,
    that row is returned. Each attempt is its own short transaction, so a
    retry after a lost race reads fresh rows on every isolation level.

    :returns: the fixed_ips row dict (with ``mac_address``).
    :raises FixedIpNotAvailable: no free address (or ``address`` is not a
        free address of the network).
    """
    existing = get_fixed_ip(context, network['id'], instance_uuid)
    if existing is not None:
        return existing
    if address is not None:
        _check_in_network(network, address)
    while True:
        candidates = _free_candidates(context, network['id'], address)
        if not candidates:
            if address is not None:
                raise exception.FixedIpNotAvailable(
                    message='Fixed IP address %s is already in use on '
                    'network %s.' % (address, network['uuid']),
                    network=network['uuid'],
                )
            raise exception.FixedIpNotAvailable(network=network['uuid'])
        rest = candidates[1:]
        random.shuffle(rest)
        for fixed_ip_id in [candidates[0]] + rest:
            if _take(context, fixed_ip_id, instance_uuid, workflow_id):
                return get_fixed_ip(context, network['id'], instance_uuid)
        # Every candidate went to a concurrent allocator: fetch new ones.


def _check_in_network(network, address):
    try:
        inside = ipaddress.ip_address(address) in ipaddress.ip_network(
            network['cidr']
        )
    except ValueError:
        inside = False
    if not inside:
        raise exception.FixedIpNotAvailable(
            message='Fixed IP address %s is not an address of network %s '
            '(%s).' % (address, network['uuid'], network['cidr']),
            network=network['uuid'],
        )


@db_api.context_manager.writer
def deallocate_fixed_ips(context, instance_uuid, network_id=None):
    """Free every address of ``instance_uuid`` (idempotent).

    :returns: the number of addresses freed.
    """
    fencing.check(context, 'deallocate_fixed_ips')
    query = _fixed_ips.update().where(
        _fixed_ips.c.instance_uuid == instance_uuid
    )
    if network_id is not None:
        query = query.where(_fixed_ips.c.network_id == network_id)
    return (
        context.session.connection()
        .execute(
            query.values(
                allocated=False,
                instance_uuid=None,
                workflow_id=None,
                updated_at=timeutils.utcnow(),
            )
        )
        .rowcount
    )
