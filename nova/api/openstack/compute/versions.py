"""Version documents: ``GET /`` (every version) and ``GET /v2.1``.

Both are served without authentication, as in nova, so clients can
discover the endpoint and the microversion range before they log in.
"""

import webob.dec

from nova.api.openstack import api_version_request
from nova.api.openstack import common
from nova.api.openstack import wsgi
import nova.conf

CONF = nova.conf.CONF

_UPDATED = '2013-07-23T11:33:21Z'


def _version(base_url, with_media_types):
    """The v2.1 entry; ``base_url`` is the host URL without a path."""
    entry = {
        'id': 'v2.1',
        'status': 'CURRENT',
        'version': api_version_request.MAX_API_VERSION,
        'min_version': api_version_request.MIN_API_VERSION,
        'updated': _UPDATED,
        'links': [
            {'rel': 'self', 'href': common.url_join(base_url, 'v2.1') + '/'}
        ],
    }
    if with_media_types:
        entry['links'].append(
            {
                'rel': 'describedby',
                'type': 'text/html',
                'href': 'http://docs.openstack.org/',
            }
        )
        entry['media-types'] = [
            {
                'base': 'application/json',
                'type': 'application/vnd.openstack.compute+json;version=2.1',
            }
        ]
    return entry


class Versions:
    """WSGI app of the version documents (no auth in the pipeline).

    ``document = all`` serves ``GET /`` (every version); ``document =
    v2.1`` serves ``GET /v2.1`` (that version with its media types).
    """

    def __init__(self, document='all'):
        self.document = document

    @classmethod
    def factory(cls, global_config, **local_config):
        """paste.app_factory."""
        return cls(local_config.get('document', 'all'))

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        base_url = req.host_url + req.script_name
        if self.document == 'all':
            return wsgi.json_response(
                200, {'versions': [_version(base_url, False)]}
            )
        if base_url.endswith('/v2.1'):
            base_url = base_url[: -len('/v2.1')]
        return wsgi.json_response(200, {'version': _version(base_url, True)})


class NoAuthIdentityDiscovery:
    """With ``noauth2`` only: an identity v3 *version document*.

    Some clients build an identity proxy before any compute call
    (python-openstackclient's ``server list`` does), which needs a
    discoverable identity endpoint even with no Keystone. Pointing
    ``OS_IDENTITY_ENDPOINT_OVERRIDE`` at ``<host>/identity/v3`` satisfies
    them. No identity API is served; with ``keystone`` this is a 404.
    """

    @classmethod
    def factory(cls, global_config, **local_config):
        """paste.app_factory."""
        return cls()

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        path = req.path_info.strip('/')
        if CONF.api.auth_strategy != 'noauth2' or path not in ('', 'v3'):
            return wsgi.fault_response(404, 'The resource could not be found.')
        href = common.url_join(req.host_url, req.script_name, 'v3') + '/'
        version = {
            'id': 'v3.14',
            'status': 'stable',
            'updated': '2020-04-07T00:00:00Z',
            'links': [{'rel': 'self', 'href': href}],
            'media-types': [
                {
                    'base': 'application/json',
                    'type': 'application/vnd.openstack.identity-v3+json',
                }
            ],
        }
        if path == 'v3':
            return wsgi.json_response(200, {'version': version})
        return wsgi.json_response(300, {'versions': {'values': [version]}})
