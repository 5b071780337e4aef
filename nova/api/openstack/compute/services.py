"""``/os-services`` (admin): the services and whether they are up."""

from nova import policy
from nova.api.openstack import common
from nova.db import services as services_db

# Binaries that are not compute hosts show the 'internal' zone, as nova.
_COMPUTE_BINARY = 'nova-compute'


def _service_view(req, service):
    view = {
        'id': service['id'],
        'binary': service['binary'],
        'host': service['host'],
        'zone': (service.get('availability_zone') or 'nova')
        if service['binary'] == _COMPUTE_BINARY
        else 'internal',
        'status': 'disabled' if service.get('disabled') else 'enabled',
        'state': 'up' if services_db.is_up(service) else 'down',
        'updated_at': common.precise_time(service.get('updated_at')),
        'disabled_reason': service.get('disabled_reason'),
    }
    if req.is_version('2.11'):
        view['forced_down'] = bool(service.get('forced_down'))
    return view


class ServicesController:
    """The services list."""

    def index(self, req):
        """``GET /os-services`` with optional host and binary filters."""
        context = req.context
        policy.authorize(context, 'os_compute_api:os-services:list')
        services = services_db.get_all(
            context.elevated(),
            binary=req.GET.get('binary'),
            host=req.GET.get('host'),
        )
        return {'services': [_service_view(req, s) for s in services]}
