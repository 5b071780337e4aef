"""``/flavors``: list, detail and show (no policy, as in nova)."""

import webob.exc

from nova import exception
from nova.api.openstack import common
from nova.db import flavors as flavors_db


def _basic(req, flavor):
    return {
        'id': flavor['flavorid'],
        'name': flavor['name'],
        'links': common.resource_links(req, 'flavors', flavor['flavorid']),
    }


def _full(req, flavor):
    body = _basic(req, flavor)
    body.update(
        {
            'ram': flavor['memory_mb'],
            'disk': flavor['root_gb'],
            'vcpus': flavor['vcpus'],
            # Before 2.75 nova shows no swap as "".
            'swap': flavor['swap']
            or ('' if not req.is_version('2.75') else 0),
            'rxtx_factor': flavor['rxtx_factor'],
            'OS-FLV-EXT-DATA:ephemeral': flavor['ephemeral_gb'],
            'OS-FLV-DISABLED:disabled': bool(flavor['disabled']),
            'os-flavor-access:is_public': bool(flavor['is_public']),
        }
    )
    return body


def _int_param(req, name):
    value = req.GET.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise webob.exc.HTTPBadRequest(
            explanation='Invalid %s filter [%s]' % (name, value)
        )


class FlavorsController:
    """The flavors collection."""

    def index(self, req):
        """``GET /flavors``."""
        flavors = self._get_flavors(req)
        return self._collection(req, flavors, _basic, 'flavors')

    def detail(self, req):
        """``GET /flavors/detail``."""
        flavors = self._get_flavors(req)
        return self._collection(req, flavors, _full, 'flavors/detail')

    def show(self, req, id):
        """``GET /flavors/{id}``."""
        try:
            flavor = flavors_db.get_by_flavor_id(req.context, id)
        except exception.FlavorNotFound as exc:
            raise webob.exc.HTTPNotFound(explanation=exc.format_message())
        return {'flavor': _full(req, flavor)}

    @staticmethod
    def _collection(req, flavors, view, collection):
        body = {'flavors': [view(req, f) for f in flavors]}
        links = common.collection_links(
            req, [{'id': f['flavorid']} for f in flavors], collection
        )
        if links:
            body['flavors_links'] = links
        return body

    @staticmethod
    def _get_flavors(req):
        context = req.context
        params = common.get_pagination_params(req)
        is_public = True
        if context.is_admin:
            value = req.GET.get('is_public', 'true').lower()
            is_public = (
                None
                if value == 'none'
                else value in ('1', 't', 'true', 'on', 'y', 'yes')
            )
        sort_key = req.GET.get('sort_key', 'flavorid')
        sort_dir = req.GET.get('sort_dir', 'asc')
        if sort_dir not in ('asc', 'desc'):
            raise webob.exc.HTTPBadRequest(
                explanation="Unknown sort direction, must be 'desc' or 'asc'"
            )
        try:
            return flavors_db.get_all(
                context,
                min_memory_mb=_int_param(req, 'minRam'),
                min_root_gb=_int_param(req, 'minDisk'),
                is_public=is_public,
                limit=common.effective_limit(params),
                marker=params.get('marker'),
                sort_key=sort_key,
                sort_dir=sort_dir,
            )
        except exception.MarkerNotFound:
            raise webob.exc.HTTPBadRequest(
                explanation='marker [%s] not found' % params['marker']
            )
        except exception.InvalidSortKey as exc:
            raise webob.exc.HTTPBadRequest(explanation=exc.format_message())
