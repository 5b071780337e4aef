"""``/os-availability-zone``: the availability zones (list, and detail
for admins), as stock nova shows them.

A zone is the ``availability_zone`` of its nova-compute services
('nova' unless configured); it is available when at least one of them
is enabled. The services that are not compute hosts form the
'internal' zone, shown in the detail only.
"""

import collections

from nova import policy
from nova.api.openstack import common
from nova.db import services as services_db

_COMPUTE_BINARY = 'nova-compute'
_INTERNAL_ZONE = 'internal'
_DEFAULT_ZONE = 'nova'


def _zone_of(service):
    if service['binary'] != _COMPUTE_BINARY:
        return _INTERNAL_ZONE
    return service.get('availability_zone') or _DEFAULT_ZONE


def _zones(context):
    """{zone: [service, ...]} of every service, zones sorted by name."""
    zones = collections.defaultdict(list)
    for service in services_db.get_all(context.elevated()):
        zones[_zone_of(service)].append(service)
    return dict(sorted(zones.items()))


def _available(services):
    return any(not s.get('disabled') for s in services)


class AvailabilityZoneController:
    """The availability zones of the cloud."""

    def index(self, req):
        """``GET /os-availability-zone``: each zone of compute hosts and
        whether it is available, without its hosts."""
        context = req.context
        policy.authorize(context, 'os_compute_api:os-availability-zone:list')
        return {
            'availabilityZoneInfo': [
                {
                    'zoneName': zone,
                    'zoneState': {'available': _available(services)},
                    'hosts': None,
                }
                for zone, services in _zones(context).items()
                if zone != _INTERNAL_ZONE
            ]
        }

    def detail(self, req):
        """``GET /os-availability-zone/detail`` (admin): every zone,
        the internal one too, with its hosts' services."""
        context = req.context
        policy.authorize(context, 'os_compute_api:os-availability-zone:detail')
        info = []
        for zone, services in _zones(context).items():
            hosts = collections.defaultdict(dict)
            for service in services:
                hosts[service['host']][service['binary']] = {
                    'available': services_db.is_up(service)
                    and not service.get('disabled'),
                    'active': not service.get('disabled'),
                    'updated_at': common.precise_time(
                        service.get('updated_at')
                    ),
                }
            info.append(
                {
                    'zoneName': zone,
                    'zoneState': {'available': _available(services)},
                    'hosts': dict(hosts),
                }
            )
        return {'availabilityZoneInfo': info}
