"""URL map of the compute API v2.1 (below ``/v2.1``).

Every route exists with and without a leading ``/{project_id}``, as in
nova; routes without it are connected first, so a project id is only
taken from a URL whose first segment is no collection name.
"""

import routes
import routes.middleware
import webob.dec

from nova.api.openstack import wsgi
from nova.api.openstack.compute import availability_zone
from nova.api.openstack.compute import flavors
from nova.api.openstack.compute import hypervisors
from nova.api.openstack.compute import images
from nova.api.openstack.compute import instance_actions
from nova.api.openstack.compute import ips
from nova.api.openstack.compute import keypairs
from nova.api.openstack.compute import limits
from nova.api.openstack.compute import server_actions
from nova.api.openstack.compute import server_metadata
from nova.api.openstack.compute import servers
from nova.api.openstack.compute import services

# (path, controller factory, [(method, sub-path, action)]).
ROUTE_LIST = (
    (
        '/servers',
        servers.ServersController,
        [
            ('GET', '', 'index'),
            ('POST', '', 'create'),
            ('GET', '/detail', 'detail'),
            ('GET', '/{id}', 'show'),
            ('PUT', '/{id}', 'update'),
            ('DELETE', '/{id}', 'delete'),
        ],
    ),
    (
        '/servers/{server_id}/action',
        server_actions.ServerActionsController,
        [('POST', '', 'action')],
    ),
    (
        '/servers/{server_id}/metadata',
        server_metadata.ServerMetadataController,
        [
            ('GET', '', 'index'),
            ('POST', '', 'create'),
            ('PUT', '', 'update_all'),
            ('GET', '/{id}', 'show'),
            ('PUT', '/{id}', 'update'),
            ('DELETE', '/{id}', 'delete'),
        ],
    ),
    (
        '/servers/{server_id}/ips',
        ips.IPsController,
        [('GET', '', 'index'), ('GET', '/{id}', 'show')],
    ),
    (
        '/servers/{server_id}/os-instance-actions',
        instance_actions.InstanceActionsController,
        [('GET', '', 'index'), ('GET', '/{id}', 'show')],
    ),
    (
        '/flavors',
        flavors.FlavorsController,
        [
            ('GET', '', 'index'),
            ('GET', '/detail', 'detail'),
            ('GET', '/{id}', 'show'),
        ],
    ),
    (
        '/images',
        images.ImagesController,
        [
            ('GET', '', 'index'),
            ('GET', '/detail', 'detail'),
            ('GET', '/{id}', 'show'),
        ],
    ),
    ('/os-services', services.ServicesController, [('GET', '', 'index')]),
    (
        '/os-hypervisors',
        hypervisors.HypervisorsController,
        [
            ('GET', '', 'index'),
            ('GET', '/detail', 'detail'),
            ('GET', '/{id}', 'show'),
        ],
    ),
    ('/limits', limits.LimitsController, [('GET', '', 'index')]),
    (
        '/os-keypairs',
        keypairs.KeypairController,
        [
            ('GET', '', 'index'),
            ('POST', '', 'create'),
            ('GET', '/{id}', 'show'),
            ('DELETE', '/{id}', 'delete'),
        ],
    ),
    (
        '/os-availability-zone',
        availability_zone.AvailabilityZoneController,
        [('GET', '', 'index'), ('GET', '/detail', 'detail')],
    ),
)


def _build_mapper():
    mapper = routes.Mapper()
    resources = [
        (path, wsgi.Resource(factory()), actions)
        for path, factory, actions in ROUTE_LIST
    ]
    for prefix in ('', '/{project_id}'):
        for path, resource, actions in resources:
            # Sub-collections before items so /servers/detail is no id.
            for method, sub_path, action in actions:
                for suffix in ('', '/') if not sub_path else ('',):
                    mapper.connect(
                        prefix + path + sub_path + suffix,
                        controller=resource,
                        action=action,
                        conditions={'method': [method]},
                    )
    return mapper


class APIRouterV21:
    """WSGI app: route a /v2.1 request to its controller's Resource."""

    def __init__(self):
        # No method override: it makes routes parse every POST body as a
        # form looking for '_method' (a malformed multipart body raised a
        # 500), and nova's API has none.
        self._router = routes.middleware.RoutesMiddleware(
            self._dispatch,
            _build_mapper(),
            singleton=False,
            use_method_override=False,
        )

    @classmethod
    def factory(cls, global_config, **local_config):
        """paste.app_factory."""
        return cls()

    def __call__(self, environ, start_response):
        return self._router(environ, start_response)

    @staticmethod
    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def _dispatch(req):
        match = req.environ['wsgiorg.routing_args'][1]
        if not match:
            return wsgi.fault_response(404, 'The resource could not be found.')
        return match['controller']
