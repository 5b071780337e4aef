"""Pieces every compute API controller shares: server ids, links,
pagination parameters, server status names, timestamps and the compute
API handle.
"""

import datetime
import urllib.parse

from oslo_utils import timeutils
from oslo_utils import uuidutils
import webob.exc

from nova import exception
from nova.compute import api as compute
from nova.compute import vm_states
import nova.conf

CONF = nova.conf.CONF

# (vm_state, task_state) -> API status, as nova's _STATE_MAP for the
# states this nova has; task states not listed keep the default.
_STATE_MAP = {
    vm_states.ACTIVE: {
        'default': 'ACTIVE',
        vm_states.REBOOTING: 'REBOOT',
        vm_states.REBOOT_STARTED: 'REBOOT',
        vm_states.REBOOTING_HARD: 'HARD_REBOOT',
        vm_states.REBOOT_STARTED_HARD: 'HARD_REBOOT',
    },
    vm_states.BUILDING: {'default': 'BUILD'},
    vm_states.STOPPED: {
        'default': 'SHUTOFF',
        vm_states.REBOOTING_HARD: 'HARD_REBOOT',
        vm_states.REBOOT_STARTED_HARD: 'HARD_REBOOT',
    },
    vm_states.PAUSED: {
        'default': 'PAUSED',
        vm_states.REBOOTING_HARD: 'HARD_REBOOT',
        vm_states.REBOOT_STARTED_HARD: 'HARD_REBOOT',
    },
    vm_states.SUSPENDED: {
        'default': 'SUSPENDED',
        vm_states.REBOOTING_HARD: 'HARD_REBOOT',
        vm_states.REBOOT_STARTED_HARD: 'HARD_REBOOT',
    },
    vm_states.ERROR: {'default': 'ERROR'},
    vm_states.DELETED: {'default': 'DELETED'},
    'soft-delete': {'default': 'SOFT_DELETED'},
}

# Every status nova's API knows, for the 2.38 check of the status filter.
KNOWN_STATUSES = (
    'ACTIVE',
    'BUILD',
    'DELETED',
    'ERROR',
    'HARD_REBOOT',
    'MIGRATING',
    'PASSWORD',
    'PAUSED',
    'REBOOT',
    'REBUILD',
    'RESCUE',
    'RESIZE',
    'REVERT_RESIZE',
    'SHELVED',
    'SHELVED_OFFLOADED',
    'SHUTOFF',
    'SOFT_DELETED',
    'SUSPENDED',
    'UNKNOWN',
    'VERIFY_RESIZE',
)


def check_instance_uuid(server_id: str) -> None:
    """Raise InstanceNotFound (404) unless ``server_id`` is a uuid.

    Servers are only ever looked up by uuid, so a malformed id in a URL
    is a missing server, answered before any database query.
    """
    if not uuidutils.is_uuid_like(server_id):
        raise exception.InstanceNotFound(instance_id=server_id)


def status_from_state(vm_state, task_state=None):
    """The API status of a server."""
    states = _STATE_MAP.get(vm_state)
    if states is None:
        return 'UNKNOWN'
    return states.get(task_state, states['default'])


def vm_states_from_status(status):
    """vm_states shown as ``status``; [] when no server can have it."""
    status = status.upper()
    return [
        vm_state
        for vm_state, states in _STATE_MAP.items()
        if states['default'] == status
    ]


def get_pagination_params(req):
    """``limit`` and ``marker`` of a list request (400 when malformed)."""
    params = {}
    if 'limit' in req.GET:
        params['limit'] = _non_negative_int(req.GET['limit'], 'limit')
    if 'marker' in req.GET:
        params['marker'] = req.GET['marker']
    return params


def _non_negative_int(value, name):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise webob.exc.HTTPBadRequest(
            explanation='%s param must be an integer' % name
        )
    if number < 0:
        raise webob.exc.HTTPBadRequest(
            explanation='%s param must be positive' % name
        )
    return number


def effective_limit(params):
    """The requested limit, clamped to ``[api] max_limit``."""
    return min(CONF.api.max_limit, params.get('limit', CONF.api.max_limit))


def project_in_url(req):
    """The project id to put in links: only when the URL had one."""
    project_id = req.context.project_id
    if project_id and project_id in req.path.split('/'):
        return project_id
    return ''


def url_join(*parts):
    """Join URL parts with single slashes, skipping empty parts."""
    return '/'.join(str(p).strip('/') for p in parts if p not in ('', None))


def self_href(req, collection, identifier):
    """``<api base>/<project>/<collection>/<id>``."""
    return url_join(
        req.application_url, project_in_url(req), collection, identifier
    )


def bookmark_href(req, collection, identifier):
    """The version-less link: ``<host>/<project>/<collection>/<id>``."""
    base = req.application_url
    for suffix in ('/v2.1', '/v2'):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return url_join(base, project_in_url(req), collection, identifier)


def resource_links(req, collection, identifier):
    """The self and bookmark links of an item."""
    return [
        {'rel': 'self', 'href': self_href(req, collection, identifier)},
        {
            'rel': 'bookmark',
            'href': bookmark_href(req, collection, identifier),
        },
    ]


def collection_links(req, items, collection, id_key='id', limit=None):
    """The ``next`` link when the page is full, as nova's view builder."""
    max_items = (
        min(
            int(req.GET['limit'])
            if 'limit' in req.GET
            else CONF.api.max_limit,
            CONF.api.max_limit,
        )
        if limit is None
        else limit
    )
    if not items or len(items) != max_items:
        return []
    params = [(k, v) for k, v in req.GET.items() if k != 'marker']
    params.append(('marker', items[-1][id_key]))
    href = url_join(req.application_url, project_in_url(req), collection)
    return [
        {
            'rel': 'next',
            'href': '%s?%s' % (href, urllib.parse.urlencode(params)),
        }
    ]


def _as_datetime(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    return timeutils.normalize_time(timeutils.parse_isotime(value))


def isotime(value):
    """'2013-09-03T04:01:32Z' (servers' created/updated)."""
    value = _as_datetime(value)
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else None


def precise_time(value):
    """'2013-09-23T13:37:00.880302' (launched_at, action times)."""
    value = _as_datetime(value)
    return value.strftime('%Y-%m-%dT%H:%M:%S.%f') if value else None


def parse_changes_since(value):
    """The ``changes-since`` filter as a naive UTC datetime (400 if bad)."""
    try:
        return timeutils.normalize_time(timeutils.parse_isotime(value))
    except ValueError:
        raise webob.exc.HTTPBadRequest(
            explanation='Invalid filter field: changes-since.'
        )


_compute_api = None


def compute_api():
    """The process's :class:`nova.compute.api.API` (created on first use).

    Created on first use, not at import, because it makes an RPC client
    and the transport is configured only once the service has parsed its
    configuration; tests replace it with :func:`set_compute_api`.
    """
    global _compute_api
    if _compute_api is None:
        _compute_api = compute.API()
    return _compute_api


def set_compute_api(api):
    """Use ``api`` as the compute API (None: the real one again)."""
    global _compute_api
    _compute_api = api
