"""Authentication of the compute API: the auth strategy picks the
pipeline, and each strategy turns the caller into a RequestContext.

* ``noauth2``: the ``X-Auth-Token`` header is ``user:project`` (a bare
  ``user`` means project = user); the user ``admin`` is an administrator.
  Without a token, nova's legacy reply (204 with a token to use) is sent.
* ``keystone``: keystonemiddleware's auth_token validates the token and
  :class:`NovaKeystoneContext` builds the context from its headers.
"""

from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob
import webob.dec

from nova import context
from nova.api import middleware
from nova.api.openstack import wsgi
import nova.conf

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# Roles a noauth2 caller holds, so nova's role-based default rules pass.
_NOAUTH_ROLES = ['member', 'reader']


def pipeline_factory_v21(loader, global_conf, **local_conf):
    """paste composite: the pipeline named by ``[api] auth_strategy``."""
    pipeline = local_conf[CONF.api.auth_strategy].split()
    filters = [loader.get_filter(name) for name in pipeline[:-1]]
    app = loader.get_app(pipeline[-1])
    for filter_ in reversed(filters):
        app = filter_(app)
    return app


class NoAuthMiddleware(middleware.Middleware):
    """Trust the ``user:project`` token (testing and nova-all only)."""

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        token = req.headers.get('X-Auth-Token')
        if token is None:
            user_id = req.headers.get('X-Auth-User', 'admin')
            project_id = req.headers.get('X-Auth-Project-Id', 'admin')
            response = webob.Response(status=204)
            response.headers['X-Auth-Token'] = '%s:%s' % (user_id, project_id)
            response.headers['X-Server-Management-Url'] = '/'.join(
                [req.url.rstrip('/'), project_id]
            )
            response.content_type = 'text/plain'
            return response
        user_id, _sep, project_id = token.partition(':')
        project_id = project_id or user_id
        is_admin = user_id == 'admin'
        roles = list(_NOAUTH_ROLES) + (['admin'] if is_admin else [])
        req.environ['nova.context'] = context.RequestContext(
            user_id=user_id,
            project_id=project_id,
            is_admin=is_admin,
            roles=roles,
            request_id=req.environ.get('openstack.request_id'),
            global_request_id=req.environ.get('openstack.global_request_id'),
        )
        return self.application


class NovaKeystoneContext(middleware.Middleware):
    """Make a RequestContext from the headers auth_token sets."""

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        if req.headers.get('X-Identity-Status', 'Confirmed') != 'Confirmed':
            return wsgi.fault_response(401, 'Unauthorized')
        user_id = req.headers.get('X-User-Id') or req.headers.get('X-User')
        project_id = req.headers.get('X-Project-Id') or req.headers.get(
            'X-Tenant-Id'
        )
        if not user_id:
            LOG.debug('Neither X-User-Id nor X-User found in request')
            return wsgi.fault_response(401, 'Unauthorized')
        roles = [
            r.strip()
            for r in req.headers.get('X-Roles', '').split(',')
            if r.strip()
        ]
        catalog = req.headers.get('X-Service-Catalog')
        ctxt = context.RequestContext(
            user_id=user_id,
            project_id=project_id,
            is_admin='admin' in roles,
            roles=roles,
            user_name=req.headers.get('X-User-Name'),
            project_name=req.headers.get('X-Project-Name'),
            auth_token=req.headers.get('X-Auth-Token'),
            request_id=req.environ.get('openstack.request_id'),
            global_request_id=req.environ.get('openstack.global_request_id'),
        )
        if catalog:
            try:
                ctxt.service_catalog = jsonutils.loads(catalog)
            except ValueError:
                LOG.warning('Invalid service catalog header ignored')
        req.environ['nova.context'] = ctxt
        return self.application
