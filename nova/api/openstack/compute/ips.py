"""``/servers/{server_id}/ips``: the addresses of a server by network."""

import webob.exc

from nova import policy
from nova.api.openstack import common
from nova.api.openstack.compute.views import servers as views


class IPsController:
    """The addresses of one server."""

    def _network_info(self, req, server_id, action):
        context = req.context
        common.check_instance_uuid(server_id)
        instance = common.compute_api().get(context, server_id)
        policy.authorize(
            context,
            'os_compute_api:ips:%s' % action,
            {
                'project_id': instance['project_id'],
                'user_id': instance['user_id'],
            },
        )
        return views.network_info_of(context, [server_id]).get(server_id)

    def index(self, req, server_id):
        """``GET /servers/{id}/ips``."""
        info = self._network_info(req, server_id, 'index')
        return {'addresses': views.addresses(info, extended=False)}

    def show(self, req, server_id, id):
        """``GET /servers/{id}/ips/{network_label}``."""
        info = self._network_info(req, server_id, 'show')
        addresses = views.addresses(info, extended=False)
        if id not in addresses:
            raise webob.exc.HTTPNotFound(
                explanation="There's no such network label in this server"
            )
        return {id: addresses[id]}
