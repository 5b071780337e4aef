"""The JSON of servers, by microversion and by what policy lets the
caller see, as nova's ``views.servers.ViewBuilder``.

Admin-only parts (extended server attributes, host_status, fault
details of 500s) are chosen per request with the policy rules, never by
checking for 'admin' directly.
"""

import base64
import hashlib

from nova import policy
from nova.api.openstack import common
from nova.db import services as services_db
from nova.network import api as network_api

# Statuses that show "progress", as in nova.
_PROGRESS_STATUSES = (
    'ACTIVE',
    'BUILD',
    'REBUILD',
    'RESIZE',
    'VERIFY_RESIZE',
    'MIGRATING',
)
_FAULT_STATUSES = ('ERROR', 'DELETED')

EXT_ATTRS = 'os_compute_api:os-extended-server-attributes'
HOST_STATUS = 'os_compute_api:servers:show:host_status'
EXTRA_SPECS = 'os_compute_api:os-flavor-extra-specs:index'


def host_id(instance):
    """nova's hostId: a per-project hash of the host (opaque)."""
    host = instance.get('host')
    if not host:
        return ''
    data = (instance.get('project_id') or '') + host
    return hashlib.sha224(data.encode('utf-8')).hexdigest()


def addresses(network_info, extended=True):
    """``{label: [{addr, version, (type, mac)}]}`` of a network_info."""
    result = {}
    for vif in network_info or ():
        entry = {'addr': vif['address'], 'version': vif['version']}
        if extended:
            entry['OS-EXT-IPS:type'] = 'fixed'
            entry['OS-EXT-IPS-MAC:mac_addr'] = vif['mac_address']
        result.setdefault(vif['label'], []).append(entry)
    return result


def network_info_of(context, uuids):
    """``{uuid: network_info}`` from nova.network.api."""
    return network_api.get_network_info(context, list(uuids))


class ViewBuilder:
    """Builds index, detail, show, update and create bodies."""

    collection = 'servers'

    def basic(self, req, instance):
        """The list entry: id, name, links."""
        return {
            'id': instance['uuid'],
            'name': instance['display_name'],
            'links': common.resource_links(
                req, self.collection, instance['uuid']
            ),
        }

    def index(self, req, instances, link_collection='servers'):
        """``GET /servers``."""
        body = {'servers': [self.basic(req, i) for i in instances]}
        self._add_links(req, body, instances, link_collection)
        return body

    def detail(self, req, instances):
        """``GET /servers/detail``."""
        context = req.context
        info = network_info_of(context, [i['uuid'] for i in instances])
        options = self._options(req, instances)
        body = {
            'servers': [
                self._full(req, i, info.get(i['uuid']), options)['server']
                for i in instances
            ]
        }
        self._add_links(req, body, instances, 'servers/detail')
        return body

    def show(self, req, instance):
        """``GET /servers/{id}``."""
        info = network_info_of(req.context, [instance['uuid']])
        return self._full(
            req,
            instance,
            info.get(instance['uuid']),
            self._options(req, [instance]),
        )

    def update(self, req, instance):
        """``PUT /servers/{id}``: show without the extensions, as nova."""
        info = network_info_of(req.context, [instance['uuid']])
        options = self._options(req, [instance])
        options.update(extensions=False, ext_attrs=False, host_status={})
        return self._full(req, instance, info.get(instance['uuid']), options)

    def create(self, req, instance, admin_password=None):
        """``POST /servers`` (202)."""
        server = {
            'id': instance['uuid'],
            'links': common.resource_links(
                req, self.collection, instance['uuid']
            ),
            'OS-DCF:diskConfig': 'MANUAL',
            'security_groups': [{'name': 'default'}],
        }
        if admin_password is not None:
            server['adminPass'] = admin_password
        return {'server': server}

    def _add_links(self, req, body, instances, collection):
        links = common.collection_links(
            req, [{'id': i['uuid']} for i in instances], collection
        )
        if links:
            body['servers_links'] = links

    def _options(self, req, instances):
        """What this caller may see, decided once per response."""
        context = req.context
        show_host_status = req.is_version('2.16') and policy.authorize(
            context, HOST_STATUS, fatal=False
        )
        hosts = {i.get('host') for i in instances if i.get('host')}
        return {
            'extensions': True,
            'ext_attrs': policy.authorize(context, EXT_ATTRS, fatal=False),
            'extra_specs': req.is_version('2.47')
            and policy.authorize(context, EXTRA_SPECS, fatal=False),
            'host_status': (
                self._host_statuses(context, hosts)
                if show_host_status
                else None
            ),
            'admin': policy.authorize(context, EXT_ATTRS, fatal=False),
        }

    @staticmethod
    def _host_statuses(context, hosts):
        statuses = {}
        services = services_db.get_all(
            context.elevated(), binary='nova-compute'
        )
        for service in services:
            if service['host'] not in hosts:
                continue
            if service.get('forced_down') or not services_db.is_up(service):
                statuses[service['host']] = 'DOWN'
            elif service.get('disabled'):
                statuses[service['host']] = 'MAINTENANCE'
            else:
                statuses[service['host']] = 'UP'
        return statuses

    def _full(self, req, instance, network_info, options):
        uuid = instance['uuid']
        status = common.status_from_state(
            instance.get('vm_state'), instance.get('task_state')
        )
        server = {
            'id': uuid,
            'name': instance['display_name'],
            'status': status,
            'tenant_id': instance.get('project_id') or '',
            'user_id': instance.get('user_id') or '',
            'metadata': dict(instance.get('metadata') or {}),
            'hostId': host_id(instance),
            'image': self._image(req, instance),
            'flavor': self._flavor(req, instance, options),
            'created': common.isotime(instance.get('created_at')),
            'updated': common.isotime(
                instance.get('updated_at') or instance.get('created_at')
            ),
            'addresses': addresses(
                network_info, extended=options['extensions']
            ),
            'accessIPv4': instance.get('access_ip_v4') or '',
            'accessIPv6': instance.get('access_ip_v6') or '',
            'links': common.resource_links(req, self.collection, uuid),
            'OS-DCF:diskConfig': 'MANUAL',
        }
        if status in _PROGRESS_STATUSES:
            server['progress'] = instance.get('progress') or 0
        if status in _FAULT_STATUSES and instance.get('fault'):
            server['fault'] = self._fault(instance['fault'], options['admin'])
        if req.is_version('2.9'):
            server['locked'] = bool(instance.get('locked'))
        if req.is_version('2.19'):
            server['description'] = instance.get('display_description')
        if req.is_version('2.26'):
            server['tags'] = []
        if options['extensions']:
            self._extensions(req, instance, server, options)
        return {'server': server}

    def _extensions(self, req, instance, server, options):
        """The attributes nova's former extensions add to show/detail."""
        server.update(
            {
                'OS-EXT-AZ:availability_zone': instance.get(
                    'availability_zone'
                )
                or ('nova' if instance.get('host') else ''),
                'config_drive': instance.get('config_drive') or '',
                'key_name': instance.get('key_name'),
                'OS-EXT-STS:task_state': instance.get('task_state'),
                'OS-EXT-STS:vm_state': instance.get('vm_state'),
                'OS-EXT-STS:power_state': instance.get('power_state') or 0,
                'OS-SRV-USG:launched_at': common.precise_time(
                    instance.get('launched_at')
                ),
                'OS-SRV-USG:terminated_at': common.precise_time(
                    instance.get('terminated_at')
                ),
                'security_groups': [{'name': 'default'}],
                'os-extended-volumes:volumes_attached': [],
            }
        )
        if options['ext_attrs']:
            server.update(
                {
                    'OS-EXT-SRV-ATTR:host': instance.get('host'),
                    'OS-EXT-SRV-ATTR:hypervisor_hostname': instance.get(
                        'node'
                    ),
                    'OS-EXT-SRV-ATTR:instance_name': 'instance-%08x'
                    % (instance.get('id') or 0),
                }
            )
            if req.is_version('2.3'):
                server.update(self._extended_v23(instance))
        if options['host_status'] is not None:
            server['host_status'] = (
                options['host_status'].get(instance.get('host'), 'UNKNOWN')
                if instance.get('host')
                else ''
            )

    @staticmethod
    def _extended_v23(instance):
        user_data = instance.get('user_data')
        if isinstance(user_data, bytes):
            user_data = base64.b64encode(user_data).decode()
        return {
            'OS-EXT-SRV-ATTR:reservation_id': instance.get('reservation_id'),
            'OS-EXT-SRV-ATTR:launch_index': instance.get('launch_index') or 0,
            'OS-EXT-SRV-ATTR:hostname': instance.get('hostname'),
            'OS-EXT-SRV-ATTR:kernel_id': '',
            'OS-EXT-SRV-ATTR:ramdisk_id': '',
            'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
            'OS-EXT-SRV-ATTR:user_data': user_data,
        }

    @staticmethod
    def _image(req, instance):
        image_ref = instance.get('image_ref')
        if not image_ref:
            return ''
        return {
            'id': image_ref,
            'links': [
                {
                    'rel': 'bookmark',
                    'href': common.bookmark_href(req, 'images', image_ref),
                }
            ],
        }

    @staticmethod
    def _flavor(req, instance, options):
        flavor = instance.get('flavor') or {}
        if not req.is_version('2.47'):
            flavorid = flavor.get('flavorid', '')
            return {
                'id': flavorid,
                'links': [
                    {
                        'rel': 'bookmark',
                        'href': common.bookmark_href(req, 'flavors', flavorid),
                    }
                ],
            }
        embedded = {
            'vcpus': flavor.get('vcpus', 0),
            'ram': flavor.get('memory_mb', 0),
            'disk': flavor.get('root_gb', 0),
            'ephemeral': flavor.get('ephemeral_gb', 0),
            'swap': flavor.get('swap') or 0,
            'original_name': flavor.get('name', ''),
        }
        if options['extra_specs']:
            embedded['extra_specs'] = dict(flavor.get('extra_specs') or {})
        return embedded

    @staticmethod
    def _fault(fault, admin):
        body = {
            'code': fault['code'],
            'message': fault.get('message'),
            'created': common.isotime(fault.get('created_at')),
        }
        # As nova: details of a 500 are for admins only.
        if fault.get('details') and (admin or fault['code'] != 500):
            body['details'] = fault['details']
        return body
