"""``/os-hypervisors`` (admin): compute nodes with capacity and usage.

Rows come from :mod:`nova.db.compute_nodes` (written by each
nova-compute's capacity reports and by claims); state and status come
from the node's nova-compute service row.
"""

from oslo_serialization import jsonutils
import webob.exc

from nova import exception
from nova import policy
from nova.api.openstack import common
from nova.db import compute_nodes as nodes_db
from nova.db import services as services_db

HYPERVISORS = 'os_compute_api:os-hypervisors:%s'
_NOT_FOUND = 'Hypervisor with ID %s could not be found.'


class HypervisorsController:
    """Hypervisors list, detail and show."""

    def index(self, req):
        """``GET /os-hypervisors``."""
        return self._list(req, 'list', detail=False)

    def detail(self, req):
        """``GET /os-hypervisors/detail``."""
        return self._list(req, 'list-detail', detail=True)

    def show(self, req, id):
        """``GET /os-hypervisors/{id}``."""
        context = req.context
        policy.authorize(context, HYPERVISORS % 'show')
        try:
            node = nodes_db.get(context.elevated(), int(id))
        except (ValueError, exception.ComputeHostNotFound):
            raise webob.exc.HTTPNotFound(explanation=_NOT_FOUND % id)
        services = self._services(context)
        return {'hypervisor': self._view(req, node, services, True)}

    def _list(self, req, action, detail):
        context = req.context
        policy.authorize(context, HYPERVISORS % action)
        nodes = nodes_db.get_all(context.elevated())
        body = {}
        if req.is_version('2.33'):
            nodes = self._paginate(req, nodes)
            links = common.collection_links(
                req,
                nodes,
                'os-hypervisors/detail' if detail else 'os-hypervisors',
            )
            if links:
                body['hypervisors_links'] = links
        services = self._services(context)
        body['hypervisors'] = [
            self._view(req, n, services, detail) for n in nodes
        ]
        return body

    @staticmethod
    def _paginate(req, nodes):
        params = common.get_pagination_params(req)
        if 'marker' in params:
            try:
                marker = int(params['marker'])
            except ValueError:
                marker = None
            ids = [n['id'] for n in nodes]
            if marker not in ids:
                raise webob.exc.HTTPBadRequest(
                    explanation='marker [%s] not found' % params['marker']
                )
            nodes = nodes[ids.index(marker) + 1 :]
        return nodes[: common.effective_limit(params)]

    @staticmethod
    def _services(context):
        return {
            s['host']: s
            for s in services_db.get_all(
                context.elevated(), binary='nova-compute'
            )
        }

    @staticmethod
    def _view(req, node, services, detail):
        service = services.get(node['host']) or {}
        view = {
            'id': node['id'],
            'hypervisor_hostname': node['hypervisor_hostname'],
            'state': 'up'
            if service and services_db.is_up(service)
            else 'down',
            'status': 'disabled' if service.get('disabled') else 'enabled',
        }
        if not detail:
            return view
        cpu_info = {}
        view.update(
            {
                'vcpus': node['vcpus'],
                'memory_mb': node['memory_mb'],
                'local_gb': node['local_gb'],
                'vcpus_used': node['vcpus_used'],
                'memory_mb_used': node['memory_mb_used'],
                'local_gb_used': node['local_gb_used'],
                'hypervisor_type': node['hypervisor_type'],
                'hypervisor_version': node['hypervisor_version'],
                'free_ram_mb': node['memory_mb'] - node['memory_mb_used'],
                'free_disk_gb': node['local_gb'] - node['local_gb_used'],
                'current_workload': 0,
                'running_vms': node['running_vms'],
                'disk_available_least': node['local_gb']
                - node['local_gb_used'],
                'host_ip': node.get('host_ip'),
                'cpu_info': cpu_info
                if req.is_version('2.28')
                else jsonutils.dumps(cpu_info),
                'service': {
                    'host': node['host'],
                    'id': service.get('id'),
                    'disabled_reason': service.get('disabled_reason'),
                },
            }
        )
        return view
