"""``/servers/{server_id}/metadata``: a server's metadata items.

As stock nova: list and show for readers; set some items (POST), all of
them (PUT), one (PUT on its key) or delete one, for members of the
server's project, while the server is in a state that allows it and
within ``[quota] metadata_items`` (nova.compute.server_metadata).
"""

import webob.exc

from nova import policy
from nova.api import validation
from nova.api.openstack import common
from nova.api.openstack import wsgi
from nova.api.openstack.compute.schemas import server_metadata as schema
from nova.compute import server_metadata

_POLICY = 'os_compute_api:server-metadata:%s'


class ServerMetadataController:
    """The metadata of one server."""

    def _api(self):
        return server_metadata.ServerMetadataAPI(common.compute_api())

    def _authorize(self, req, server_id, action):
        """The server's metadata once ``action`` is allowed on it."""
        common.check_instance_uuid(server_id)
        instance, metadata = self._api().get(req.context, server_id)
        policy.authorize(
            req.context,
            _POLICY % action,
            {
                'project_id': instance['project_id'],
                'user_id': instance['user_id'],
            },
        )
        return metadata

    def index(self, req, server_id):
        """``GET``: every item."""
        return {'metadata': self._authorize(req, server_id, 'index')}

    def show(self, req, server_id, id):
        """``GET .../{key}``: one item."""
        metadata = self._authorize(req, server_id, 'show')
        if id not in metadata:
            raise webob.exc.HTTPNotFound(
                explanation='Metadata item was not found'
            )
        return {'meta': {id: metadata[id]}}

    @validation.schema(schema.update_all)
    def create(self, req, server_id, body):
        """``POST``: set the given items, keep the others."""
        self._authorize(req, server_id, 'create')
        return {
            'metadata': self._api().update(
                req.context, server_id, body['metadata']
            )
        }

    @validation.schema(schema.update_all)
    def update_all(self, req, server_id, body):
        """``PUT``: the given items, and no others."""
        self._authorize(req, server_id, 'update_all')
        return {
            'metadata': self._api().update(
                req.context, server_id, body['metadata'], replace=True
            )
        }

    @validation.schema(schema.update_item)
    def update(self, req, server_id, id, body):
        """``PUT .../{key}``: that one item."""
        meta = body['meta']
        if id not in meta:
            raise webob.exc.HTTPBadRequest(
                explanation='Request body and URI mismatch'
            )
        self._authorize(req, server_id, 'update')
        self._api().update(req.context, server_id, meta)
        return {'meta': meta}

    @wsgi.response(204)
    def delete(self, req, server_id, id):
        """``DELETE .../{key}``."""
        self._authorize(req, server_id, 'delete')
        self._api().delete(req.context, server_id, id)
