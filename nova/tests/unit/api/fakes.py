"""An in-memory stand-in for nova.compute.api.API, and the API test base.

:class:`FakeComputeAPI` honors the contract of nova.compute.api.API
(create/get/get_all/update/delete, same arguments, dicts and errors) but
"builds" synchronously: rows go to the real test database (instances,
actions with events, fixed IPs from nova.network.api) with no workflow
and no RPC, so the API layer is tested alone and its outcomes are rows.
"""

import json
import os

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa
import webob

from nova import context as nova_context
from nova import exception
from nova import policy
from nova import test
from nova.api.openstack import common
from nova.api.openstack import wsgi_app
import nova.conf
from nova.db import actions as actions_db
from nova.db import api as db_api
from nova.db import flavors as flavors_db
from nova.db import images as images_db
from nova.db import instances as instances_db
from nova.db import models
from nova.network import api as network_api
from nova.tests import fixtures as nova_fixtures

CONF = nova.conf.CONF

# Copies of nova's doc/api_samples (shared/reference/nova-api-samples).
SAMPLES_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'samples'
)

# Objects whose keys are user data (metadata) or names, not the schema.
_FREE_FORM = ('metadata', 'extra_specs', 'addresses')

FAKE_HOST = 'compute'
FAKE_NODE = 'fake-mini'


class FakeComputeAPI:
    """nova.compute.api.API as the contract says, built synchronously."""

    def __init__(self):
        self.created = []
        self.deleted = []

    def create(
        self,
        context,
        flavor_id,
        image_ref,
        name,
        min_count=1,
        max_count=1,
        networks=None,
        availability_zone=None,
        metadata=None,
        key_name=None,
        user_data=None,
        admin_password=None,
        access_ip_v4=None,
        access_ip_v6=None,
        description=None,
        config_drive=None,
        return_reservation_id=False,
    ):
        flavor = flavors_db.get_by_flavor_id(context, flavor_id)
        if not image_ref:
            raise exception.InvalidInput(reason='imageRef is required')
        image = images_db.get(context, image_ref)
        if isinstance(networks, list):
            for network in networks:
                network_api.get_network(context, network.get('uuid'))
        used, _cores, _ram = instances_db.count_usage(
            context, context.project_id
        )
        quota = CONF.quota.instances
        if 0 <= quota < used + min_count:
            raise exception.TooManyInstances(
                overs='instances', req=min_count, used=used, allowed=quota
            )
        count = max_count if quota < 0 else min(max_count, quota - used)
        reservation_id = 'r-' + uuidutils.generate_uuid()[:8]
        embedded = dict(flavor, extra_specs={})
        instances = []
        for index in range(count):
            instances.append(
                self._build(
                    context,
                    flavor,
                    embedded,
                    image,
                    name,
                    index,
                    count,
                    reservation_id,
                    networks,
                    availability_zone,
                    metadata,
                    key_name,
                    user_data,
                    access_ip_v4,
                    access_ip_v6,
                    description,
                    config_drive,
                )
            )
        self.created.extend(i['uuid'] for i in instances)
        return instances, reservation_id

    @db_api.context_manager.writer
    def _build(
        self,
        context,
        flavor,
        embedded,
        image,
        name,
        index,
        count,
        reservation_id,
        networks,
        availability_zone,
        metadata,
        key_name,
        user_data,
        access_ip_v4,
        access_ip_v6,
        description,
        config_drive,
    ):
        uuid = uuidutils.generate_uuid()
        now = timeutils.utcnow()
        instance = instances_db.create(
            context,
            {
                'uuid': uuid,
                'display_name': name
                if count == 1
                else '%s-%d' % (name, index + 1),
                'display_description': description,
                'hostname': name,
                'project_id': context.project_id,
                'user_id': context.user_id,
                'vm_state': 'active',
                'task_state': None,
                'power_state': 1,
                'host': FAKE_HOST,
                'node': FAKE_NODE,
                'availability_zone': availability_zone,
                'instance_type_id': flavor['id'],
                'flavor': embedded,
                'image_ref': image['id'],
                'memory_mb': flavor['memory_mb'],
                'vcpus': flavor['vcpus'],
                'root_gb': flavor['root_gb'],
                'ephemeral_gb': flavor['ephemeral_gb'],
                'key_name': key_name,
                'user_data': user_data,
                'config_drive': config_drive or '',
                'access_ip_v4': access_ip_v4,
                'access_ip_v6': access_ip_v6,
                'reservation_id': reservation_id,
                'launch_index': index,
                'launched_at': now,
                'progress': 0,
            },
            metadata=metadata,
        )
        action_id = actions_db.action_start(context, uuid, 'create')
        actions_db.event_start(context, action_id, 'spawn', host=FAKE_HOST)
        actions_db.event_finish(context, action_id, 'spawn', 'Success')
        actions_db.action_finish(context, action_id)
        network_api.allocate_for_instance(context, uuid, networks)
        return instance

    def get(self, context, uuid):
        project_id = None if context.is_admin else context.project_id
        instance = instances_db.get(context, uuid, project_id=project_id)
        instance['fault'] = actions_db.fault_get_latest(context, [uuid]).get(
            uuid
        )
        return instance

    def get_all(
        self,
        context,
        search_opts=None,
        limit=None,
        marker=None,
        sort_keys=('created_at', 'id'),
        sort_dirs=('desc', 'desc'),
    ):
        filters = dict(search_opts or {})
        all_tenants = filters.pop('all_tenants', False)
        if not (context.is_admin and all_tenants):
            filters['project_id'] = context.project_id
        instances = instances_db.get_all(
            context,
            filters,
            limit=limit,
            marker=marker,
            sort_keys=sort_keys,
            sort_dirs=sort_dirs,
        )
        faults = actions_db.fault_get_latest(
            context, [i['uuid'] for i in instances]
        )
        for instance in instances:
            instance['fault'] = faults.get(instance['uuid'])
        return instances

    def update(
        self,
        context,
        uuid,
        name=None,
        description=None,
        access_ip_v4=None,
        access_ip_v6=None,
    ):
        self.get(context, uuid)
        values = {}
        if access_ip_v4 is not None:
            values['access_ip_v4'] = access_ip_v4
        if access_ip_v6 is not None:
            values['access_ip_v6'] = access_ip_v6
        if name is not None:
            values['display_name'] = name
        if description is not None:
            values['display_description'] = description
        if values:
            instances_db.update(context, uuid, values)
        return self.get(context, uuid)

    def delete(self, context, uuid):
        self.get(context, uuid)
        action_id = actions_db.action_start(context, uuid, 'delete')
        network_api.deallocate_for_instance(context, uuid)
        instances_db.soft_delete(context, uuid)
        actions_db.action_finish(context, action_id)
        self.deleted.append(uuid)


def load_sample(*path):
    """A reference body of nova's doc/api_samples."""
    with open(os.path.join(SAMPLES_DIR, *path)) as sample:
        return json.load(sample)


class APITestCase(test.TestCase):
    """The paste app on a migrated, seeded DB with the fake compute API."""

    def setUp(self):
        super().setUp()
        # The policy enforcer looks up its file in the parsed config dirs.
        CONF([], project='nova', default_config_files=[])
        self.flags(group='api', auth_strategy='noauth2')
        self.db = self.useFixture(nova_fixtures.Database())
        self.compute = FakeComputeAPI()
        common.set_compute_api(self.compute)
        self.addCleanup(common.set_compute_api, None)
        policy.reset()
        self.addCleanup(policy.reset)
        self.app = wsgi_app.load_app()

    def request(
        self,
        method,
        path,
        body=None,
        user='admin',
        project=None,
        version=None,
        headers=None,
        raw=None,
    ):
        """Send a request through the whole pipeline; return the reply."""
        req = webob.Request.blank(path, method=method)
        if user is not None:
            req.headers['X-Auth-Token'] = '%s:%s' % (user, project or user)
        if version is not None:
            req.headers['OpenStack-API-Version'] = 'compute %s' % version
        for name, value in (headers or {}).items():
            req.headers[name] = value
        if raw is not None or body is not None:
            req.body = raw if raw is not None else json.dumps(body).encode()
            if 'Content-Type' not in (headers or {}):
                req.content_type = 'application/json'
        return req.get_response(self.app)

    def create_server(
        self, user='admin', project=None, version=None, **server
    ):
        """POST a server (the fake builds it ACTIVE); return its id."""
        body = {
            'name': 'new-server-test',
            'flavorRef': '1',
            'imageRef': '70a599e0-31e7-49b7-b260-868f441e862b',
        }
        body.update(server)
        response = self.request(
            'POST',
            '/v2.1/servers',
            {'server': body},
            user=user,
            project=project,
            version=version,
        )
        self.assertEqual(202, response.status_int, response.body)
        return response.json['server']['id']

    def count_rows(self, table):
        """Rows of a table (live and deleted)."""
        model = getattr(models, table)
        with self.db.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(model.__table__)
            ).scalar()

    def admin_context(self):
        """An admin context for direct DB reads."""
        return nova_context.get_admin_context()

    def assertMatchesSample(self, actual, sample, path='$'):
        """Same keys and JSON types as the reference, recursively.

        A null in the sample allows null or a string; list item i is
        compared with the sample's item i (its last one beyond that).
        """
        if isinstance(sample, dict) and path.rsplit('.', 1)[-1] in _FREE_FORM:
            self.assertIsInstance(actual, dict, path)
            if path.endswith('addresses') and sample:
                # Keys are network labels; each value is like the sample's.
                for label, value in actual.items():
                    self.assertMatchesSample(
                        value,
                        next(iter(sample.values())),
                        '%s.%s' % (path, label),
                    )
        elif isinstance(sample, dict):
            self.assertIsInstance(actual, dict, path)
            self.assertEqual(
                sorted(sample), sorted(actual), 'keys differ at %s' % path
            )
            for key, value in sample.items():
                self.assertMatchesSample(
                    actual[key], value, '%s.%s' % (path, key)
                )
        elif isinstance(sample, list):
            self.assertIsInstance(actual, list, path)
            if sample:
                for index, item in enumerate(actual):
                    self.assertMatchesSample(
                        item,
                        sample[min(index, len(sample) - 1)],
                        '%s[%d]' % (path, index),
                    )
        elif sample is None:
            self.assertIsInstance(actual, (type(None), str), path)
        else:
            self.assertIs(
                type(sample),
                type(actual),
                'type differs at %s: %r vs %r' % (path, actual, sample),
            )
