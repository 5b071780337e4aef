"""Flavors, images, ips, limits, instance actions, services and
hypervisors: bodies vs nova's samples, and their behaviour.
"""

import datetime

import fixtures
from oslo_utils import timeutils

from nova.db import actions as actions_db
from nova.db import compute_nodes as nodes_db
from nova.db import services as services_db
from nova.tests.unit.api import fakes


class FlavorsTest(fakes.APITestCase):
    def test_list(self):
        response = self.request('GET', '/v2.1/flavors')
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('flavors', 'flavors-list-resp.json'),
        )
        self.assertEqual(
            ['1', '2', '3', '4', '5'],
            [f['id'] for f in response.json['flavors']],
        )

    def test_detail(self):
        response = self.request('GET', '/v2.1/flavors/detail')
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('flavors', 'flavors-detail-resp.json'),
        )

    def test_show(self):
        response = self.request('GET', '/v2.1/flavors/1')
        self.assertMatchesSample(
            response.json, fakes.load_sample('flavors', 'flavor-get-resp.json')
        )
        self.assertEqual('m1.tiny', response.json['flavor']['name'])
        self.assertEqual('', response.json['flavor']['swap'])

    def test_show_missing(self):
        response = self.request('GET', '/v2.1/flavors/99')
        self.assertEqual(404, response.status_int)
        self.assertEqual(
            'Flavor 99 could not be found.',
            response.json['itemNotFound']['message'],
        )

    def test_filters_and_pagination(self):
        response = self.request('GET', '/v2.1/flavors?minRam=4096')
        self.assertEqual(
            ['3', '4', '5'], [f['id'] for f in response.json['flavors']]
        )
        response = self.request('GET', '/v2.1/flavors?limit=2&marker=1')
        self.assertEqual(
            ['2', '3'], [f['id'] for f in response.json['flavors']]
        )
        self.assertIn('marker=3', response.json['flavors_links'][0]['href'])
        response = self.request('GET', '/v2.1/flavors?marker=nope')
        self.assertEqual(400, response.status_int)

    def test_non_admin_can_list(self):
        response = self.request('GET', '/v2.1/flavors/detail', user='demo')
        self.assertEqual(200, response.status_int)


class ImagesTest(fakes.APITestCase):
    def test_list(self):
        response = self.request('GET', '/v2.1/images')
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('images', 'images-list-get-resp.json'),
        )

    def test_detail(self):
        response = self.request('GET', '/v2.1/images/detail')
        sample = fakes.load_sample('images', 'images-details-get-resp.json')
        self.assertMatchesSample(
            response.json['images'][0], sample['images'][0]
        )

    def test_show(self):
        response = self.request(
            'GET', '/v2.1/images/70a599e0-31e7-49b7-b260-868f441e862b'
        )
        sample = fakes.load_sample('images', 'image-get-resp.json')
        sample['image'].pop('OS-DCF:diskConfig')  # no auto_disk_config
        self.assertMatchesSample(response.json, sample)
        self.assertEqual(100, response.json['image']['progress'])

    def test_missing(self):
        response = self.request('GET', '/v2.1/images/nope')
        self.assertEqual(404, response.status_int)
        self.assertIn('itemNotFound', response.json)

    def test_gone_from_236(self):
        response = self.request('GET', '/v2.1/images', version='2.36')
        self.assertEqual(404, response.status_int)
        self.assertIn('itemNotFound', response.json)


class IPsTest(fakes.APITestCase):
    def test_index_and_show(self):
        server_id = self.create_server()
        response = self.request('GET', '/v2.1/servers/%s/ips' % server_id)
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('server-ips', 'server-ips-resp.json'),
        )
        response = self.request(
            'GET', '/v2.1/servers/%s/ips/private' % server_id
        )
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('server-ips', 'server-ips-network-resp.json'),
        )

    def test_unknown_label(self):
        server_id = self.create_server()
        response = self.request(
            'GET', '/v2.1/servers/%s/ips/nonet' % server_id
        )
        self.assertEqual(404, response.status_int)


class LimitsTest(fakes.APITestCase):
    def test_v21(self):
        self.create_server()
        response = self.request('GET', '/v2.1/limits')
        self.assertMatchesSample(
            response.json, fakes.load_sample('limits', 'limit-get-resp.json')
        )
        absolute = response.json['limits']['absolute']
        self.assertEqual(1, absolute['totalInstancesUsed'])
        self.assertEqual(512, absolute['totalRAMUsed'])
        self.assertEqual(10, absolute['maxTotalInstances'])

    def test_quota_from_config(self):
        self.flags(group='quota', instances=3, cores=7)
        absolute = self.request('GET', '/v2.1/limits').json['limits'][
            'absolute'
        ]
        self.assertEqual(
            (3, 7), (absolute['maxTotalInstances'], absolute['maxTotalCores'])
        )

    def test_versions_drop_keys(self):
        absolute = self.request('GET', '/v2.1/limits', version='2.39').json[
            'limits'
        ]['absolute']
        for key in (
            'maxSecurityGroups',
            'maxTotalFloatingIps',
            'maxImageMeta',
        ):
            self.assertNotIn(key, absolute)

    def test_usage_is_per_project(self):
        self.create_server(user='demo')
        absolute = self.request('GET', '/v2.1/limits', user='other').json[
            'limits'
        ]['absolute']
        self.assertEqual(0, absolute['totalInstancesUsed'])


class InstanceActionsTest(fakes.APITestCase):
    def _actions(self, server_id, **kw):
        return self.request(
            'GET', '/v2.1/servers/%s/os-instance-actions' % server_id, **kw
        )

    def _fail_an_event(self, server_id):
        ctxt = self.admin_context()
        action = actions_db.actions_get(ctxt, server_id)[0]
        actions_db.event_start(ctxt, action['id'], 'claim_resources')
        actions_db.event_finish(
            ctxt,
            action['id'],
            'claim_resources',
            'Error',
            traceback='Traceback: boom',
        )
        return action['request_id']

    def test_list(self):
        server_id = self.create_server()
        response = self._actions(server_id)
        self.assertMatchesSample(
            response.json,
            fakes.load_sample(
                'os-instance-actions', 'instance-actions-list-resp.json'
            ),
        )
        self.assertEqual(
            ['create'], [a['action'] for a in response.json['instanceActions']]
        )

    def test_show_admin_has_events_with_traceback(self):
        server_id = self.create_server()
        request_id = self._fail_an_event(server_id)
        response = self.request(
            'GET',
            '/v2.1/servers/%s/os-instance-actions/%s'
            % (server_id, request_id),
        )
        self.assertMatchesSample(
            response.json,
            fakes.load_sample(
                'os-instance-actions', 'instance-action-get-resp.json'
            ),
        )
        events = response.json['instanceAction']['events']
        self.assertEqual('Traceback: boom', events[-1]['traceback'])

    def test_non_admin_no_events_before_251(self):
        server_id = self.create_server(user='demo')
        request_id = self._fail_an_event(server_id)
        response = self.request(
            'GET',
            '/v2.1/servers/%s/os-instance-actions/%s'
            % (server_id, request_id),
            user='demo',
            version='2.50',
        )
        self.assertEqual(200, response.status_int)
        self.assertNotIn('events', response.json['instanceAction'])

    def test_non_admin_events_without_traceback_from_251(self):
        server_id = self.create_server(user='demo')
        request_id = self._fail_an_event(server_id)
        response = self.request(
            'GET',
            '/v2.1/servers/%s/os-instance-actions/%s'
            % (server_id, request_id),
            user='demo',
            version='2.51',
        )
        self.assertMatchesSample(
            response.json,
            fakes.load_sample(
                'os-instance-actions',
                'v2.51',
                'instance-action-get-non-admin-resp.json',
            ),
        )
        for event in response.json['instanceAction']['events']:
            self.assertNotIn('traceback', event)

    def test_deleted_server_from_221(self):
        server_id = self.create_server()
        self.request('DELETE', '/v2.1/servers/%s' % server_id)
        self.assertEqual(404, self._actions(server_id).status_int)
        response = self._actions(server_id, version='2.21')
        self.assertEqual(
            ['delete', 'create'],
            sorted(
                (a['action'] for a in response.json['instanceActions']),
                reverse=True,
            ),
        )

    def test_unknown_request_id(self):
        server_id = self.create_server()
        response = self.request(
            'GET', '/v2.1/servers/%s/os-instance-actions/req-x' % server_id
        )
        self.assertEqual(404, response.status_int)


class ServicesTest(fakes.APITestCase):
    def test_list(self):
        ctxt = self.admin_context()
        services_db.register(ctxt, 'host1', 'nova-scheduler', 'scheduler')
        compute = services_db.register(
            ctxt, 'host1', 'nova-compute', 'compute'
        )
        response = self.request('GET', '/v2.1/os-services')
        sample = fakes.load_sample(
            'os-services', 'services-list-get-resp.json'
        )
        for service in sample['services']:
            service['disabled_reason'] = None  # nullable; ours enabled
        self.assertMatchesSample(response.json, sample)
        by_binary = {s['binary']: s for s in response.json['services']}
        self.assertEqual('internal', by_binary['nova-scheduler']['zone'])
        self.assertEqual('nova', by_binary['nova-compute']['zone'])
        self.assertEqual('up', by_binary['nova-compute']['state'])
        self.assertEqual(compute['id'], by_binary['nova-compute']['id'])

    def test_down_service(self):
        ctxt = self.admin_context()
        services_db.register(ctxt, 'host1', 'nova-compute', 'compute')
        later = timeutils.utcnow() + datetime.timedelta(hours=1)
        self.useFixture(TimeFixture(later))
        service = self.request('GET', '/v2.1/os-services').json['services'][0]
        self.assertEqual('down', service['state'])

    def test_filters(self):
        ctxt = self.admin_context()
        services_db.register(ctxt, 'host1', 'nova-scheduler', 'scheduler')
        services_db.register(ctxt, 'host2', 'nova-compute', 'compute')
        response = self.request('GET', '/v2.1/os-services?host=host2')
        self.assertEqual(
            ['host2'], [s['host'] for s in response.json['services']]
        )


class TimeFixture(fixtures.Fixture):
    """Make oslo's utcnow() return a fixed time."""

    def __init__(self, now):
        super().__init__()
        self.now = now

    def _setUp(self):
        timeutils.set_time_override(self.now)
        self.addCleanup(timeutils.clear_time_override)


class HypervisorsTest(fakes.APITestCase):
    def setUp(self):
        super().setUp()
        ctxt = self.admin_context()
        services_db.register(ctxt, 'compute', 'nova-compute', 'compute')
        self.node = nodes_db.update_capacity(
            ctxt,
            'compute',
            {
                'hypervisor_hostname': 'fake-mini',
                'hypervisor_type': 'fake',
                'hypervisor_version': 1000,
                'host_ip': '1.1.1.1',
                'vcpus': 2,
                'memory_mb': 8192,
                'local_gb': 1028,
            },
        )

    def test_list(self):
        response = self.request('GET', '/v2.1/os-hypervisors')
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('os-hypervisors', 'hypervisors-list-resp.json'),
        )

    def test_detail(self):
        response = self.request('GET', '/v2.1/os-hypervisors/detail')
        self.assertMatchesSample(
            response.json,
            fakes.load_sample(
                'os-hypervisors', 'hypervisors-detail-resp.json'
            ),
        )
        hypervisor = response.json['hypervisors'][0]
        self.assertEqual(
            ('up', 'enabled', 8192),
            (
                hypervisor['state'],
                hypervisor['status'],
                hypervisor['free_ram_mb'],
            ),
        )

    def test_show(self):
        response = self.request(
            'GET', '/v2.1/os-hypervisors/%d' % self.node['id']
        )
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('os-hypervisors', 'hypervisors-show-resp.json'),
        )

    def test_show_missing(self):
        for node_id in ('999', 'abc'):
            response = self.request('GET', '/v2.1/os-hypervisors/' + node_id)
            self.assertEqual(404, response.status_int)
            self.assertIn('itemNotFound', response.json)

    def test_cpu_info_object_from_228(self):
        response = self.request(
            'GET', '/v2.1/os-hypervisors/detail', version='2.28'
        )
        self.assertEqual({}, response.json['hypervisors'][0]['cpu_info'])
