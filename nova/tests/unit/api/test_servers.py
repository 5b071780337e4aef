"""Servers: bodies vs nova's samples, filters, pagination, versions."""

from nova.api.openstack import common
from nova.tests.unit.api import fakes

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'


class ServersBodiesTest(fakes.APITestCase):
    """Responses have the keys and types of nova's API samples."""

    def test_create(self):
        response = self.request(
            'POST',
            '/v2.1/servers',
            {
                'server': {
                    'name': 'new-server-test',
                    'imageRef': IMAGE,
                    'flavorRef': '1',
                    'metadata': {'My Server Name': 'Apache1'},
                }
            },
        )
        self.assertEqual(202, response.status_int)
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('servers', 'server-create-resp.json'),
        )
        self.assertEqual(1, self.count_rows('Instance'))

    def test_create_sample_request_accepted(self):
        body = fakes.load_sample('servers', 'server-create-req.json')
        body['server'].pop('availability_zone')
        response = self.request('POST', '/v2.1/servers', body)
        self.assertEqual(202, response.status_int, response.body)

    def test_create_v237_sample(self):
        body = fakes.load_sample('servers', 'v2.37', 'server-create-req.json')
        response = self.request('POST', '/v2.1/servers', body, version='2.37')
        self.assertEqual(202, response.status_int, response.body)
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('servers', 'v2.37', 'server-create-resp.json'),
        )

    def test_create_v237_networks_none(self):
        server_id = self.create_server(version='2.37', networks='none')
        response = self.request('GET', '/v2.1/servers/%s/ips' % server_id)
        self.assertEqual({'addresses': {}}, response.json)

    def test_create_return_reservation_id(self):
        response = self.request(
            'POST',
            '/v2.1/servers',
            {
                'server': {
                    'name': 'a',
                    'imageRef': IMAGE,
                    'flavorRef': '1',
                    'min_count': 2,
                    'return_reservation_id': True,
                }
            },
        )
        self.assertEqual(202, response.status_int)
        self.assertEqual(['reservation_id'], list(response.json))
        self.assertEqual(2, self.count_rows('Instance'))

    def test_show_v21_admin(self):
        server_id = self.create_server(
            accessIPv4='1.2.3.4',
            accessIPv6='80fe::',
            metadata={'My Server Name': 'Apache1'},
        )
        response = self.request('GET', '/v2.1/servers/%s' % server_id)
        self.assertEqual(200, response.status_int)
        self.assertMatchesSample(
            response.json, fakes.load_sample('servers', 'server-get-resp.json')
        )
        server = response.json['server']
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(server_id, server['id'])
        self.assertEqual('1', server['flavor']['id'])
        self.assertEqual(['private'], list(server['addresses']))

    def test_show_v247_admin(self):
        from nova.db import services as services_db

        services_db.register(
            self.admin_context(), fakes.FAKE_HOST, 'nova-compute', 'compute'
        )
        server_id = self.create_server(
            version='2.47',
            networks='auto',
            accessIPv4='1.2.3.4',
            accessIPv6='80fe::',
            user_data='IyEvYmluL2Jhc2gK',
            description=None,
        )
        response = self.request(
            'GET', '/v2.1/servers/%s' % server_id, version='2.47'
        )
        self.assertEqual(200, response.status_int)
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('servers', 'v2.47', 'server-get-resp.json'),
        )
        flavor = response.json['server']['flavor']
        self.assertEqual(
            {
                'vcpus': 1,
                'ram': 512,
                'disk': 1,
                'ephemeral': 0,
                'swap': 0,
                'original_name': 'm1.tiny',
                'extra_specs': {},
            },
            flavor,
        )
        self.assertEqual('UP', response.json['server']['host_status'])

    def test_host_status_unknown_without_service(self):
        server_id = self.create_server()
        server = self.request(
            'GET', '/v2.1/servers/%s' % server_id, version='2.16'
        ).json['server']
        self.assertEqual('UNKNOWN', server['host_status'])
        server = self.request(
            'GET', '/v2.1/servers/%s' % server_id, version='2.15'
        ).json['server']
        self.assertNotIn('host_status', server)

    def test_show_v246_has_flavor_link(self):
        server_id = self.create_server(version='2.37', networks='auto')
        response = self.request(
            'GET', '/v2.1/servers/%s' % server_id, version='2.46'
        )
        self.assertEqual(
            ['id', 'links'], sorted(response.json['server']['flavor'])
        )

    def test_show_non_admin_hides_admin_attributes(self):
        server_id = self.create_server(user='demo')
        server = self.request(
            'GET', '/v2.1/servers/%s' % server_id, user='demo', version='2.47'
        ).json['server']
        for key in (
            'OS-EXT-SRV-ATTR:host',
            'OS-EXT-SRV-ATTR:user_data',
            'host_status',
        ):
            self.assertNotIn(key, server)
        self.assertIn('OS-EXT-STS:vm_state', server)
        self.assertEqual({}, server['flavor']['extra_specs'])

    def test_update_v21(self):
        server_id = self.create_server(
            accessIPv4='1.2.3.4',
            accessIPv6='80fe::',
            metadata={'My Server Name': 'Apache1'},
        )
        body = fakes.load_sample('servers', 'server-update-req.json')
        body['server']['name'] = 'renamed'
        response = self.request('PUT', '/v2.1/servers/%s' % server_id, body)
        self.assertEqual(200, response.status_int, response.body)
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('servers', 'server-update-resp.json'),
        )
        self.assertEqual('renamed', response.json['server']['name'])

    def test_update_v247_description(self):
        server_id = self.create_server(metadata={'a': 'b'})
        response = self.request(
            'PUT',
            '/v2.1/servers/%s' % server_id,
            {'server': {'name': 'x', 'description': 'Sample description'}},
            version='2.47',
        )
        self.assertEqual(200, response.status_int, response.body)
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('servers', 'v2.47', 'server-update-resp.json'),
        )
        self.assertEqual(
            'Sample description', response.json['server']['description']
        )

    def test_update_description_before_219_is_400(self):
        server_id = self.create_server()
        response = self.request(
            'PUT',
            '/v2.1/servers/%s' % server_id,
            {'server': {'description': 'x'}},
            version='2.18',
        )
        self.assertEqual(400, response.status_int)

    def test_list_with_next_link(self):
        first = self.create_server(name='a')
        second = self.create_server(name='b')
        response = self.request('GET', '/v2.1/servers?limit=1')
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('servers', 'servers-list-resp.json'),
        )
        self.assertEqual([second], [s['id'] for s in response.json['servers']])
        next_href = response.json['servers_links'][0]['href']
        self.assertIn('marker=%s' % second, next_href)
        self.assertIn('limit=1', next_href)
        response = self.request(
            'GET', '/v2.1/servers?limit=1&marker=%s' % second
        )
        self.assertEqual([first], [s['id'] for s in response.json['servers']])

    def test_detail_v247(self):
        self.create_server(
            accessIPv4='1.2.3.4',
            accessIPv6='80fe::',
            user_data='IyEvYmluL2Jhc2gK',
            metadata={'a': 'b'},
        )
        self.create_server(
            accessIPv4='1.2.3.4',
            accessIPv6='80fe::',
            user_data='IyEvYmluL2Jhc2gK',
            metadata={'a': 'b'},
        )
        response = self.request(
            'GET', '/v2.1/servers/detail?limit=1', version='2.47'
        )
        self.assertEqual(200, response.status_int)
        self.assertMatchesSample(
            response.json,
            fakes.load_sample('servers', 'v2.47', 'servers-details-resp.json'),
        )
        self.assertIn(
            '/servers/detail?', response.json['servers_links'][0]['href']
        )

    def test_delete(self):
        server_id = self.create_server()
        response = self.request('DELETE', '/v2.1/servers/%s' % server_id)
        self.assertEqual(204, response.status_int)
        self.assertEqual(b'', response.body)
        self.assertEqual([server_id], self.compute.deleted)
        response = self.request('GET', '/v2.1/servers/%s' % server_id)
        self.assertEqual(404, response.status_int)
        self.assertEqual(
            'Instance %s could not be found.' % server_id,
            response.json['itemNotFound']['message'],
        )

    def test_links_with_project_in_url(self):
        server_id = self.create_server()
        response = self.request('GET', '/v2.1/admin/servers/%s' % server_id)
        links = {
            link['rel']: link['href']
            for link in response.json['server']['links']
        }
        self.assertEqual(
            'http://localhost/v2.1/admin/servers/%s' % server_id, links['self']
        )
        self.assertEqual(
            'http://localhost/admin/servers/%s' % server_id, links['bookmark']
        )

    def test_project_in_url_must_be_callers(self):
        response = self.request('GET', '/v2.1/other/servers', user='demo')
        self.assertEqual(400, response.status_int)
        self.assertIn(
            "URL's project_id 'other'", response.json['badRequest']['message']
        )


class ServerFiltersTest(fakes.APITestCase):
    def setUp(self):
        super().setUp()
        self.web = self.create_server(name='web-1')
        self.db_server = self.create_server(name='db-1')

    def _ids(self, query, version=None, user='admin'):
        response = self.request(
            'GET', '/v2.1/servers' + query, version=version, user=user
        )
        self.assertEqual(200, response.status_int, response.body)
        return sorted(s['id'] for s in response.json['servers'])

    def test_name_regex(self):
        self.assertEqual([self.web], self._ids('?name=^web'))

    def test_status(self):
        self.assertEqual(
            sorted([self.web, self.db_server]), self._ids('?status=ACTIVE')
        )
        self.assertEqual([], self._ids('?status=ERROR'))

    def test_unknown_status_before_238_is_empty(self):
        self.assertEqual([], self._ids('?status=BOGUS', version='2.37'))

    def test_unknown_status_from_238_is_400(self):
        response = self.request(
            'GET', '/v2.1/servers?status=BOGUS', version='2.38'
        )
        self.assertEqual(400, response.status_int)
        self.assertEqual(
            'Invalid status value', response.json['badRequest']['message']
        )

    def test_changes_since_includes_deleted(self):
        self.request('DELETE', '/v2.1/servers/%s' % self.db_server)
        ids = self._ids('?changes-since=2000-01-01T00:00:00Z')
        self.assertEqual(sorted([self.web, self.db_server]), ids)

    def test_bad_changes_since(self):
        response = self.request('GET', '/v2.1/servers?changes-since=never')
        self.assertEqual(400, response.status_int)
        self.assertEqual(
            'Invalid filter field: changes-since.',
            response.json['badRequest']['message'],
        )

    def test_bad_limit(self):
        for limit in ('-1', 'x'):
            response = self.request('GET', '/v2.1/servers?limit=' + limit)
            self.assertEqual(400, response.status_int)

    def test_unknown_marker(self):
        response = self.request(
            'GET', '/v2.1/servers?marker=00000000-0000-0000-0000-000000000000'
        )
        self.assertEqual(400, response.status_int)
        self.assertIn('marker', response.json['badRequest']['message'])

    def test_limit_clamped_to_max_limit(self):
        self.flags(group='api', max_limit=1)
        response = self.request('GET', '/v2.1/servers?limit=50')
        self.assertEqual(1, len(response.json['servers']))
        self.assertIn('servers_links', response.json)

    def test_unknown_filters_ignored(self):
        self.assertEqual(
            sorted([self.web, self.db_server]),
            self._ids('?flavorRef=7&foo=bar'),
        )

    def test_status_mapping(self):
        self.assertEqual(
            'BUILD', common.status_from_state('building', 'scheduling')
        )
        self.assertEqual('SHUTOFF', common.status_from_state('stopped'))
        self.assertEqual('ERROR', common.status_from_state('error'))
