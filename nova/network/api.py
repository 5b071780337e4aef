"""Fixed IP allocation for servers, backed by the nova database.

The build workflow's allocate_network step calls
:func:`allocate_for_instance` and its revert (and the delete workflow)
:func:`deallocate_for_instance`; both can be re-executed safely.

A network_info list has one entry per address::

    {'label': 'private', 'network_uuid': ..., 'address': '10.0.0.2',
     'mac_address': 'fa:16:3e:00:00:02', 'version': 4}
"""

import ipaddress

from oslo_log import log as logging

import nova.conf
from nova.db import networks as networks_db

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

AUTO = 'auto'
NONE = 'none'


def _vif(fixed_ip, network):
    return {
        'label': network['label'],
        'network_uuid': network['uuid'],
        'address': fixed_ip['address'],
        'mac_address': fixed_ip['mac_address'],
        'version': ipaddress.ip_address(fixed_ip['address']).version,
    }


def get_network(context, uuid):
    """The network dict ``uuid``. :raises NetworkNotFound:"""
    return networks_db.get_by_uuid(context, uuid)


def get_networks(context):
    """Every network dict."""
    return networks_db.get_all(context)


def get_default_network(context):
    """The network labelled ``[network] default_network_label``.

    :raises NetworkNotFound: it was never created (run nova-manage db sync).
    """
    return networks_db.get_by_label(
        context, CONF.network.default_network_label
    )


def _resolve(context, requested_networks):
    """[(network dict, fixed_ip or None)] of a request."""
    if requested_networks is None or requested_networks == AUTO:
        return [(get_default_network(context), None)]
    if requested_networks == NONE:
        return []
    return [
        (get_network(context, request['uuid']), request.get('fixed_ip'))
        for request in requested_networks
    ]


def allocate_for_instance(
    context, instance_uuid, requested_networks, workflow_id=None
):
    """Allocate one fixed IP (and its MAC) per requested network.

    ``requested_networks``: None or 'auto' (the default network), 'none'
    (no network), or a list of ``{'uuid': ..., 'fixed_ip': optional}``.
    Re-running returns the instance's existing allocations. When one
    network has no address left, what this call allocated is freed
    before the error is raised, so a failure holds nothing.

    :returns: the network_info list.
    :raises NetworkNotFound, FixedIpNotAvailable:
    """
    allocated = []
    network_info = []
    try:
        for network, address in _resolve(context, requested_networks):
            fixed_ip = networks_db.get_fixed_ip(
                context, network['id'], instance_uuid
            )
            if fixed_ip is None:
                fixed_ip = networks_db.allocate_fixed_ip(
                    context,
                    network,
                    instance_uuid,
                    address=address,
                    workflow_id=workflow_id,
                )
                allocated.append(network['id'])
            network_info.append(_vif(fixed_ip, network))
    except Exception:
        for network_id in allocated:
            networks_db.deallocate_fixed_ips(
                context, instance_uuid, network_id=network_id
            )
        raise
    LOG.debug('Instance %s network_info %s', instance_uuid, network_info)
    return network_info


def deallocate_for_instance(context, instance_uuid):
    """Free every fixed IP of the instance (idempotent)."""
    freed = networks_db.deallocate_fixed_ips(context, instance_uuid)
    if freed:
        LOG.debug('Freed %d fixed IPs of instance %s', freed, instance_uuid)


def get_network_info(context, instance_uuids):
    """``{uuid: network_info}`` of the instances (``[]`` when none)."""
    info = {uuid: [] for uuid in instance_uuids}
    for row in networks_db.get_fixed_ips_by_instances(context, instance_uuids):
        info[row['instance_uuid']].append(
            _vif(row, {'label': row['label'], 'uuid': row['network_uuid']})
        )
    return info
