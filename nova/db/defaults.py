"""The default catalog ``nova-manage db sync`` puts in a new database.

Nova's classic flavors m1.tiny..m1.xlarge (ids 1-5), one image in the
built-in catalog, and the default private network with a row per address.
Each item is inserted only when missing, so a second sync changes nothing.
"""

import ipaddress
import json

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

import nova.conf
from nova.db import models

CONF = nova.conf.CONF

# (flavorid, name, memory_mb, vcpus, root_gb) as nova always shipped them.
DEFAULT_FLAVORS = (
    ('1', 'm1.tiny', 512, 1, 1),
    ('2', 'm1.small', 2048, 1, 20),
    ('3', 'm1.medium', 4096, 2, 40),
    ('4', 'm1.large', 8192, 4, 80),
    ('5', 'm1.xlarge', 16384, 8, 160),
)

# The id nova's API samples use as imageRef, so they work unchanged.
DEFAULT_IMAGE_ID = '70a599e0-31e7-49b7-b260-868f441e862b'
DEFAULT_IMAGE = {
    'id': DEFAULT_IMAGE_ID,
    'name': 'cirros-0.6.2-x86_64-disk',
    'status': 'ACTIVE',
    'size': 21430272,
    'min_disk': 0,
    'min_ram': 0,
    'disk_format': 'qcow2',
    'container_format': 'bare',
    'properties': json.dumps(
        {'architecture': 'x86_64', 'os_distro': 'cirros'}
    ),
}

# Beyond this many addresses a network would be slow to create row by row.
_SMALLEST_PREFIX = 16


class InvalidNetwork(ValueError):
    """The configured default network CIDR cannot be used."""


def ensure_defaults(connection, conf=CONF):
    """Insert the missing default flavors, image and network.

    :returns: list of human-readable lines saying what was created.
    """
    now = timeutils.utcnow()
    created = []
    created += _ensure_flavors(connection, now)
    created += _ensure_image(connection, now)
    created += _ensure_network(connection, now, conf.network)
    return created


def _ensure_flavors(connection, now):
    table = models.Flavor.__table__
    existing = set(connection.execute(sa.select(table.c.flavorid)).scalars())
    names = set(connection.execute(sa.select(table.c.name)).scalars())
    created = []
    for index, (flavorid, name, ram, vcpus, disk) in enumerate(
        DEFAULT_FLAVORS, start=1
    ):
        if flavorid in existing or name in names:
            continue
        connection.execute(
            table.insert().values(
                id=index,
                flavorid=flavorid,
                name=name,
                memory_mb=ram,
                vcpus=vcpus,
                root_gb=disk,
                ephemeral_gb=0,
                swap=0,
                rxtx_factor=1.0,
                is_public=True,
                disabled=False,
                created_at=now,
            )
        )
        created.append('flavor %s (%s)' % (name, flavorid))
    return created


def _ensure_image(connection, now):
    table = models.Image.__table__
    found = connection.execute(
        sa.select(table.c.id).where(table.c.id == DEFAULT_IMAGE_ID)
    ).first()
    if found:
        return []
    connection.execute(
        table.insert().values(created_at=now, updated_at=now, **DEFAULT_IMAGE)
    )
    return ['image %s (%s)' % (DEFAULT_IMAGE['name'], DEFAULT_IMAGE_ID)]


def _ensure_network(connection, now, opts):
    networks = models.Network.__table__
    found = connection.execute(
        sa.select(networks.c.id).where(
            networks.c.label == opts.default_network_label,
            networks.c.deleted == 0,
        )
    ).first()
    if found:
        return []
    try:
        net = ipaddress.IPv4Network(opts.default_network_cidr)
    except ValueError as exc:
        raise InvalidNetwork(
            '[network] default_network_cidr %r: %s'
            % (opts.default_network_cidr, exc)
        ) from exc
    if net.prefixlen < _SMALLEST_PREFIX or net.num_addresses < 4:
        raise InvalidNetwork(
            '[network] default_network_cidr %s: use a prefix between /%d '
            'and /30' % (net, _SMALLEST_PREFIX)
        )
    gateway = net.network_address + 1
    result = connection.execute(
        networks.insert().values(
            uuid=uuidutils.generate_uuid(),
            label=opts.default_network_label,
            cidr=str(net),
            netmask=str(net.netmask),
            gateway=str(gateway),
            broadcast=str(net.broadcast_address),
            dns1='8.8.4.4',
            created_at=now,
            deleted=0,
        )
    )
    network_id = result.inserted_primary_key[0]
    reserved = {net.network_address, gateway, net.broadcast_address}
    rows = [
        {
            'network_id': network_id,
            'address': str(address),
            'mac_address': _mac_address(opts.mac_prefix, address),
            'allocated': False,
            'reserved': address in reserved,
            'created_at': now,
        }
        for address in net
    ]
    connection.execute(models.FixedIp.__table__.insert(), rows)
    return [
        'network %s (%s, %d addresses)'
        % (opts.default_network_label, net, net.num_addresses - 3)
    ]


def _mac_address(prefix, address):
    """A stable MAC for an address: the prefix, then its last 3 octets.

    Stable per address, so a re-allocated IP keeps its MAC and two rows
    never collide inside a /16 or smaller network.
    """
    tail = int(address).to_bytes(4, 'big')[1:]
    return '%s:%02x:%02x:%02x' % (prefix, tail[0], tail[1], tail[2])
