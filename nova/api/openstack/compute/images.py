"""``/images``: nova's image proxy, over the built-in image catalog.

Deprecated in nova at 2.36: from that microversion these URLs are 404.
"""

import webob.exc

from nova import exception
from nova.api.openstack import common
from nova.api.openstack import wsgi
from nova.db import images as images_db

_PROGRESS = {'queued': 25, 'saving': 50, 'active': 100}
_MAX_PROXY = '2.35'


def _links(req, image_id):
    links = common.resource_links(req, 'images', image_id)
    links.append(
        {
            'rel': 'alternate',
            'type': 'application/vnd.openstack.image',
            'href': common.url_join(req.host_url, 'image', 'images', image_id),
        }
    )
    return links


def _basic(req, image):
    return {
        'id': image['id'],
        'name': image['name'],
        'links': _links(req, image['id']),
    }


def _full(req, image):
    status = (image.get('status') or 'ACTIVE').upper()
    properties = {
        str(k): str(v) for k, v in (image.get('properties') or {}).items()
    }
    body = _basic(req, image)
    body.update(
        {
            'status': status,
            'progress': _PROGRESS.get(status.lower(), 0),
            'minDisk': image.get('min_disk') or 0,
            'minRam': image.get('min_ram') or 0,
            'metadata': properties,
            'created': common.isotime(image.get('created_at')),
            'updated': common.isotime(
                image.get('updated_at') or image.get('created_at')
            ),
            'OS-EXT-IMG-SIZE:size': image.get('size') or 0,
        }
    )
    if 'auto_disk_config' in properties:
        auto = properties['auto_disk_config'].lower() == 'true'
        body['OS-DCF:diskConfig'] = 'AUTO' if auto else 'MANUAL'
    return body


class ImagesController:
    """The image proxy (until microversion 2.35)."""

    @wsgi.api_version('2.1', _MAX_PROXY)
    def index(self, req):
        """``GET /images``."""
        images = self._get_images(req)
        return self._collection(req, images, _basic, 'images')

    @wsgi.api_version('2.1', _MAX_PROXY)
    def detail(self, req):
        """``GET /images/detail``."""
        images = self._get_images(req)
        return self._collection(req, images, _full, 'images/detail')

    @wsgi.api_version('2.1', _MAX_PROXY)
    def show(self, req, id):
        """``GET /images/{id}``."""
        try:
            image = images_db.get(req.context, id)
        except exception.ImageNotFound:
            raise webob.exc.HTTPNotFound(explanation='Image not found.')
        return {'image': _full(req, image)}

    @staticmethod
    def _collection(req, images, view, collection):
        body = {'images': [view(req, i) for i in images]}
        links = common.collection_links(req, images, collection)
        if links:
            body['images_links'] = links
        return body

    @staticmethod
    def _get_images(req):
        params = common.get_pagination_params(req)
        filters = {}
        for query, key in (('name', 'name'), ('status', 'status')):
            if query in req.GET:
                filters[key] = req.GET[query]
        if 'status' in filters:
            filters['status'] = filters['status'].upper()
        for query, key in (('minRam', 'min_ram'), ('minDisk', 'min_disk')):
            if query in req.GET:
                try:
                    filters[key] = int(req.GET[query])
                except ValueError:
                    raise webob.exc.HTTPBadRequest(
                        explanation='Invalid %s filter' % query
                    )
        if 'changes-since' in req.GET:
            filters['changes-since'] = common.parse_changes_since(
                req.GET['changes-since']
            )
        try:
            return images_db.get_all(
                req.context,
                filters,
                limit=common.effective_limit(params),
                marker=params.get('marker'),
            )
        except exception.MarkerNotFound:
            raise webob.exc.HTTPBadRequest(
                explanation='marker [%s] not found' % params['marker']
            )
