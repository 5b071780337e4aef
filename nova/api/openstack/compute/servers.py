"""``/servers``: create, list, detail, show, update and delete.

Every request goes through :class:`nova.compute.api.API` (the contract
the workflows implement); this module only validates input, checks
policy, maps errors to nova's HTTP codes and renders the views.
"""

import re
import secrets

import webob.exc

from nova import exception
from nova import policy
from nova.api import validation
from nova.api.openstack import common
from nova.api.openstack import wsgi
from nova.api.openstack.compute.schemas import servers as schema
from nova.api.openstack.compute.views import servers as views
from nova.db import flavors as flavors_db

SERVERS = 'os_compute_api:servers:%s'

# Query parameters any caller may filter with, and those admins may.
_USER_FILTERS = (
    'name',
    'status',
    'changes-since',
    'image',
    'flavor',
    'reservation_id',
    'ip',
    'all_tenants',
)
_ADMIN_FILTERS = (
    'project_id',
    'tenant_id',
    'host',
    'node',
    'deleted',
    'uuid',
    'user_id',
    'vm_state',
    'task_state',
    'availability_zone',
)


def _bool_param(value):
    return str(value).lower() in ('1', 't', 'true', 'on', 'y', 'yes', '')


def _flavor_id(flavor_ref):
    """The flavor id of a flavorRef, which may be a URL."""
    return str(flavor_ref).rstrip('/').rsplit('/', 1)[-1]


class ServersController:
    """The servers collection of the compute API."""

    def __init__(self):
        self._view = views.ViewBuilder()

    @property
    def compute_api(self):
        return common.compute_api()

    # -- reading -------------------------------------------------------------
    def index(self, req):
        """``GET /servers``: id, name and links of each server."""
        instances = self._get_servers(req, 'index')
        return self._view.index(req, instances)

    def detail(self, req):
        """``GET /servers/detail``: the full view of each server."""
        instances = self._get_servers(req, 'detail')
        return self._view.detail(req, instances)

    def show(self, req, id):
        """``GET /servers/{id}``."""
        instance = self._get_instance(req.context, id)
        policy.authorize(
            req.context,
            SERVERS % 'show',
            {
                'project_id': instance['project_id'],
                'user_id': instance['user_id'],
            },
        )
        return self._view.show(req, instance)

    def _get_instance(self, context, server_id):
        common.check_instance_uuid(server_id)
        return self.compute_api.get(context, server_id)

    def _get_servers(self, req, action):
        context = req.context
        policy.authorize(context, SERVERS % action)
        search_opts, all_tenants = self._search_opts(req, action)
        if search_opts is None:
            return []
        params = common.get_pagination_params(req)
        limit = common.effective_limit(params)
        sort_keys, sort_dirs = self._sort(req)
        try:
            instances = self.compute_api.get_all(
                context,
                search_opts=search_opts,
                limit=limit,
                marker=params.get('marker'),
                sort_keys=sort_keys,
                sort_dirs=sort_dirs,
            )
        except exception.MarkerNotFound:
            raise webob.exc.HTTPBadRequest(
                explanation='marker [%s] not found' % params.get('marker')
            )
        except exception.InvalidSortKey as exc:
            raise webob.exc.HTTPBadRequest(explanation=exc.format_message())
        if 'ip' in req.GET:
            instances = self._filter_ip(context, instances, req.GET['ip'])
        return instances

    def _search_opts(self, req, action):
        """nova.db.instances filters of the query (None: match nothing)."""
        context = req.context
        is_admin = policy.authorize(
            context, SERVERS % 'allow_all_filters', fatal=False
        )
        allowed = _USER_FILTERS + (_ADMIN_FILTERS if is_admin else ())
        query = {k: v for k, v in req.GET.items() if k in allowed}
        opts = {}
        if 'name' in query:
            opts['name'] = query['name']
        if 'status' in query:
            vm_states = common.vm_states_from_status(query['status'])
            if not vm_states:
                if (
                    req.is_version('2.38')
                    and query['status'].upper() not in common.KNOWN_STATUSES
                ):
                    raise webob.exc.HTTPBadRequest(
                        explanation='Invalid status value'
                    )
                return None, False
            opts['vm_state'] = vm_states
            if 'deleted' in vm_states:
                opts['deleted'] = True
        if 'changes-since' in query:
            opts['changes-since'] = common.parse_changes_since(
                query['changes-since']
            )
        for key, column in (
            ('image', 'image_ref'),
            ('reservation_id', 'reservation_id'),
        ):
            if key in query:
                opts[column] = query[key]
        if 'flavor' in query:
            opts['instance_type_id'] = self._flavor_db_id(
                context, query['flavor']
            )
            if opts['instance_type_id'] is None:
                return None, False
        all_tenants = 'all_tenants' in query and _bool_param(
            query['all_tenants']
        )
        if all_tenants:
            policy.authorize(
                context, SERVERS % ('%s:get_all_tenants' % action)
            )
            opts['all_tenants'] = True
        for key in (
            'host',
            'node',
            'uuid',
            'user_id',
            'vm_state',
            'task_state',
            'availability_zone',
        ):
            if key in query:
                opts[key] = query[key]
        project = query.get('project_id') or query.get('tenant_id')
        if project and is_admin:
            opts['project_id'] = project
            opts['all_tenants'] = True
        if 'deleted' in query and is_admin:
            opts['deleted'] = _bool_param(query['deleted'])
        return opts, all_tenants

    @staticmethod
    def _flavor_db_id(context, flavorid):
        try:
            return flavors_db.get_by_flavor_id(context, flavorid)['id']
        except exception.FlavorNotFound:
            return None

    @staticmethod
    def _filter_ip(context, instances, pattern):
        try:
            regex = re.compile(pattern)
        except re.error:
            raise webob.exc.HTTPBadRequest(
                explanation='Invalid ip filter %s' % pattern
            )
        info = views.network_info_of(context, [i['uuid'] for i in instances])
        return [
            i
            for i in instances
            if any(
                regex.search(vif['address'])
                for vif in info.get(i['uuid']) or ()
            )
        ]

    @staticmethod
    def _sort(req):
        keys = req.GET.getall('sort_key') or ['created_at']
        dirs = req.GET.getall('sort_dir') or ['desc'] * len(keys)
        mapping = {'name': 'display_name', 'display_name': 'display_name'}
        keys = [mapping.get(k, k) for k in keys]
        if len(dirs) < len(keys):
            dirs = dirs + [dirs[-1]] * (len(keys) - len(dirs))
        for direction in dirs:
            if direction not in ('asc', 'desc'):
                raise webob.exc.HTTPBadRequest(
                    explanation="Unknown sort direction, must be 'desc' or "
                    "'asc'"
                )
        if 'id' not in keys:
            keys.append('id')
            dirs.append(dirs[0])
        return keys, dirs[: len(keys)]

    # -- writing -------------------------------------------------------------
    @wsgi.response(202)
    @validation.schema(schema.create, '2.1', '2.18')
    @validation.schema(schema.create_v219, '2.19', '2.36')
    @validation.schema(schema.create_v237, '2.37')
    def create(self, req, body):
        """``POST /servers``: start a build workflow per server (202)."""
        context = req.context
        server = body['server']
        policy.authorize(context, SERVERS % 'create')
        password = server.get('adminPass') or _generate_password()
        kwargs = dict(
            flavor_id=_flavor_id(server['flavorRef']),
            image_ref=server.get('imageRef'),
            name=server['name'],
            min_count=int(server.get('min_count', 1)),
            max_count=int(server.get('max_count', server.get('min_count', 1))),
            networks=server.get('networks'),
            availability_zone=server.get('availability_zone'),
            metadata=server.get('metadata'),
            key_name=server.get('key_name'),
            user_data=server.get('user_data'),
            admin_password=password,
            access_ip_v4=server.get('accessIPv4'),
            access_ip_v6=server.get('accessIPv6'),
            description=server.get('description'),
            config_drive=_config_drive(server.get('config_drive')),
            return_reservation_id=_bool_param(
                server.get('return_reservation_id', False)
            ),
        )
        if kwargs['min_count'] > kwargs['max_count']:
            raise webob.exc.HTTPBadRequest(
                explanation="min_count must be <= max_count"
            )
        try:
            instances, reservation_id = self.compute_api.create(
                context, **kwargs
            )
        except exception.FlavorNotFound as exc:
            raise webob.exc.HTTPBadRequest(
                explanation='Invalid flavorRef provided.'
            ) from exc
        except exception.ImageNotFound as exc:
            raise webob.exc.HTTPBadRequest(
                explanation='Can not find requested image'
            ) from exc
        except (exception.NetworkNotFound, exception.Invalid) as exc:
            raise webob.exc.HTTPBadRequest(
                explanation=exc.format_message()
            ) from exc
        except exception.OverQuota as exc:
            raise webob.exc.HTTPForbidden(
                explanation=exc.format_message()
            ) from exc
        if kwargs['return_reservation_id']:
            return {'reservation_id': reservation_id}
        return self._view.create(req, instances[0], password)

    @validation.schema(schema.update, '2.1', '2.18')
    @validation.schema(schema.update_v219, '2.19')
    def update(self, req, id, body):
        """``PUT /servers/{id}``: name, description and access IPs."""
        context = req.context
        instance = self._get_instance(context, id)
        policy.authorize(
            context,
            SERVERS % 'update',
            {
                'project_id': instance['project_id'],
                'user_id': instance['user_id'],
            },
        )
        server = body['server']
        kwargs = {}
        if 'name' in server:
            kwargs['name'] = server['name']
        if 'description' in server:
            # None clears it, as in nova.
            kwargs['description'] = server['description'] or ''
        if 'accessIPv4' in server:
            kwargs['access_ip_v4'] = server['accessIPv4'] or ''
        if 'accessIPv6' in server:
            kwargs['access_ip_v6'] = server['accessIPv6'] or ''
        instance = self.compute_api.update(context, id, **kwargs)
        return self._view.update(req, instance)

    @wsgi.response(204)
    def delete(self, req, id):
        """``DELETE /servers/{id}``: start the delete workflow (204)."""
        context = req.context
        instance = self._get_instance(context, id)
        policy.authorize(
            context,
            SERVERS % 'delete',
            {
                'project_id': instance['project_id'],
                'user_id': instance['user_id'],
            },
        )
        try:
            self.compute_api.delete(context, id)
        except exception.InstanceInvalidState as exc:
            raise webob.exc.HTTPConflict(
                explanation=exc.format_message()
            ) from exc


def _config_drive(value):
    if value is None:
        return None
    return 'True' if _bool_param(value) and value not in ('', False) else ''


def _generate_password(length=12):
    """A random admin password as nova generates it."""
    symbols = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'
    return ''.join(secrets.choice(symbols) for _ in range(length))
