"""Version documents and microversion negotiation."""

from nova.api.openstack import api_version_request as avr
from nova.tests.unit.api import fakes


class VersionDocumentsTest(fakes.APITestCase):
    def test_root_lists_v21_without_auth(self):
        response = self.request('GET', '/', user=None)
        self.assertEqual(200, response.status_int)
        sample = fakes.load_sample('versions', 'versions-get-resp.json')
        versions = response.json['versions']
        self.assertEqual(['v2.1'], [v['id'] for v in versions])
        self.assertMatchesSample(versions[0], sample['versions'][1])
        self.assertEqual(avr.MAX_API_VERSION, versions[0]['version'])
        self.assertEqual('2.1', versions[0]['min_version'])
        self.assertEqual(
            'http://localhost/v2.1/', versions[0]['links'][0]['href']
        )

    def test_v21_document_without_auth(self):
        for path in ('/v2.1', '/v2.1/'):
            response = self.request('GET', path, user=None)
            self.assertEqual(200, response.status_int)
            self.assertMatchesSample(
                response.json,
                fakes.load_sample('versions', 'v21-version-get-resp.json'),
            )

    def test_api_needs_a_token_with_noauth2(self):
        response = self.request('GET', '/v2.1/servers', user=None)
        self.assertEqual(204, response.status_int)
        self.assertEqual('admin:admin', response.headers['X-Auth-Token'])

    def test_request_id_headers(self):
        response = self.request('GET', '/v2.1/flavors')
        self.assertTrue(
            response.headers['x-openstack-request-id'].startswith('req-')
        )
        self.assertEqual(
            response.headers['x-openstack-request-id'],
            response.headers['x-compute-request-id'],
        )

    def test_unknown_url_is_item_not_found(self):
        response = self.request('GET', '/v2.1/nothing-here')
        self.assertEqual(404, response.status_int)
        self.assertEqual(
            {
                'itemNotFound': {
                    'code': 404,
                    'message': 'The resource could not be found.',
                }
            },
            response.json,
        )


class MicroversionTest(fakes.APITestCase):
    def _version_of(self, response):
        return (
            response.headers.get('OpenStack-API-Version'),
            response.headers.get('X-OpenStack-Nova-API-Version'),
        )

    def test_default_is_minimum(self):
        response = self.request('GET', '/v2.1/flavors')
        self.assertEqual(('compute 2.1', '2.1'), self._version_of(response))
        vary = response.headers['Vary']
        self.assertIn('OpenStack-API-Version', vary)
        self.assertIn('X-OpenStack-Nova-API-Version', vary)

    def test_new_header(self):
        response = self.request('GET', '/v2.1/flavors', version='2.37')
        self.assertEqual(('compute 2.37', '2.37'), self._version_of(response))

    def test_legacy_header(self):
        response = self.request(
            'GET',
            '/v2.1/flavors',
            headers={'X-OpenStack-Nova-API-Version': '2.19'},
        )
        self.assertEqual(('compute 2.19', '2.19'), self._version_of(response))

    def test_new_header_wins_over_legacy(self):
        response = self.request(
            'GET',
            '/v2.1/flavors',
            version='2.30',
            headers={'X-OpenStack-Nova-API-Version': '2.19'},
        )
        self.assertEqual(('compute 2.30', '2.30'), self._version_of(response))

    def test_latest(self):
        for headers in (
            {'OpenStack-API-Version': 'compute latest'},
            {'X-OpenStack-Nova-API-Version': 'latest'},
        ):
            response = self.request('GET', '/v2.1/flavors', headers=headers)
            self.assertEqual(
                ('compute ' + avr.MAX_API_VERSION, avr.MAX_API_VERSION),
                self._version_of(response),
            )

    def test_out_of_range_is_406(self):
        for version in ('2.0', '2.1000', '3.0'):
            response = self.request('GET', '/v2.1/flavors', version=version)
            self.assertEqual(406, response.status_int, version)
            self.assertEqual(406, response.json['computeFault']['code'])
            self.assertIn(
                'is not supported by the API',
                response.json['computeFault']['message'],
            )

    def test_malformed_is_400(self):
        for version in ('2', '2.x', 'two', '2.01'):
            response = self.request('GET', '/v2.1/flavors', version=version)
            self.assertEqual(400, response.status_int, version)
            self.assertIn('badRequest', response.json)

    def test_other_service_header_ignored(self):
        response = self.request(
            'GET',
            '/v2.1/flavors',
            headers={'OpenStack-API-Version': 'volume 3.5'},
        )
        self.assertEqual(('compute 2.1', '2.1'), self._version_of(response))

    def test_error_responses_carry_version(self):
        response = self.request('GET', '/v2.1/flavors/nope', version='2.5')
        self.assertEqual(404, response.status_int)
        self.assertEqual(('compute 2.5', '2.5'), self._version_of(response))

    def test_version_ordering(self):
        self.assertLess(
            avr.APIVersionRequest('2.9'), avr.APIVersionRequest('2.10')
        )
        self.assertTrue(avr.APIVersionRequest('2.47').matches('2.37'))
        self.assertFalse(avr.APIVersionRequest('2.36').matches('2.37'))


class NoAuthIdentityDiscoveryTest(fakes.APITestCase):
    def test_v3_document_with_noauth2(self):
        response = self.request('GET', '/identity/v3', user=None)
        self.assertEqual(200, response.status_int)
        self.assertEqual('v3.14', response.json['version']['id'])
        self.assertEqual(
            'http://localhost/identity/v3/',
            response.json['version']['links'][0]['href'],
        )

    def test_nothing_else_is_served(self):
        for path in ('/identity/v3/auth/tokens', '/identity/v3/projects'):
            self.assertEqual(404, self.request('GET', path).status_int)

    def test_absent_with_keystone(self):
        self.flags(group='api', auth_strategy='keystone')
        response = self.request('GET', '/identity/v3', user=None)
        self.assertEqual(404, response.status_int)
