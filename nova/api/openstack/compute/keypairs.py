"""``/os-keypairs``: a user's key pairs (nova.compute.keypairs).

Microversions as stock nova's: 2.2 adds the key type (``ssh`` or
``x509``), answers 201 to a create and 204 to a delete; 2.10 lets an
admin name another user (``user_id`` in the body or the query).
"""

from nova import policy
from nova.api import validation
from nova.api.openstack import common
from nova.api.openstack import wsgi
from nova.api.openstack.compute.schemas import keypairs as schema
from nova.compute import keypairs

_POLICY = 'os_compute_api:os-keypairs:%s'


def _view(req, keypair, detail=False, private_key=None):
    view = {
        'name': keypair['name'],
        'public_key': keypair['public_key'],
        'fingerprint': keypair['fingerprint'],
    }
    if req.is_version('2.2'):
        view['type'] = keypair['type']
    if detail:
        view.update(
            user_id=keypair['user_id'],
            id=keypair['id'],
            deleted=False,
            created_at=common.precise_time(keypair['created_at']),
            updated_at=common.precise_time(keypair['updated_at']),
            deleted_at=None,
        )
    if private_key is not None:
        view['private_key'] = private_key
    return view


class KeypairController:
    """The key pairs of the caller (or, for an admin, of any user)."""

    def __init__(self):
        self.api = keypairs.KeypairAPI()

    def _user(self, req, action, user_id=None):
        """The user acted for, once the policy allows it."""
        context = req.context
        if not req.is_version('2.10'):
            user_id = None
        user_id = user_id or context.user_id
        policy.authorize(context, _POLICY % action, {'user_id': user_id})
        return user_id

    def _query_user(self, req):
        return req.GET.get('user_id') if req.is_version('2.10') else None

    @validation.schema(schema.create, '2.1', '2.1')
    @validation.schema(schema.create_v22, '2.2', '2.9')
    @validation.schema(schema.create_v210, '2.10')
    def create(self, req, body):
        """``POST /os-keypairs``: generate or import one."""
        params = body['keypair']
        user_id = self._user(req, 'create', params.get('user_id'))
        keypair, private_key = self.api.create(
            req.context,
            user_id,
            params['name'],
            public_key=params.get('public_key'),
            key_type=params.get('type'),
        )
        view = _view(req, keypair, private_key=private_key)
        view['user_id'] = keypair['user_id']
        body = {'keypair': view}
        if req.is_version('2.2'):
            return wsgi.json_response(201, body)
        return body

    def index(self, req):
        """``GET /os-keypairs``."""
        user_id = self._user(req, 'index', self._query_user(req))
        return {
            'keypairs': [
                {'keypair': _view(req, keypair)}
                for keypair in self.api.get_all(req.context, user_id)
            ]
        }

    def show(self, req, id):
        """``GET /os-keypairs/{name}``."""
        user_id = self._user(req, 'show', self._query_user(req))
        keypair = self.api.get(req.context, user_id, id)
        return {'keypair': _view(req, keypair, detail=True)}

    def delete(self, req, id):
        """``DELETE /os-keypairs/{name}``: 202, or 204 from 2.2."""
        user_id = self._user(req, 'delete', self._query_user(req))
        self.api.delete(req.context, user_id, id)
        return wsgi.json_response(204 if req.is_version('2.2') else 202)
