"""Bad input: a 4xx with nova's error body, and nothing persisted."""

import json

import testtools

from nova import exception
from nova.api.openstack import common
from nova.tests.unit.api import fakes

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'


def _server(**changes):
    server = {'name': 'x', 'imageRef': IMAGE, 'flavorRef': '1'}
    for key, value in changes.items():
        if value is _DROP:
            server.pop(key)
        else:
            server[key] = value
    return {'server': server}


_DROP = object()

# (case, version, raw body or dict, status, fault name)
CREATE_CASES = (
    ('malformed json', None, b'{"server": {', 400, 'badRequest'),
    ('not an object', None, b'[1, 2]', 400, 'badRequest'),
    ('empty body', None, b'', 400, 'badRequest'),
    ('no server key', None, {'servers': {}}, 400, 'badRequest'),
    ('unknown top key', None, dict(_server(), extra=1), 400, 'badRequest'),
    ('unknown field', None, _server(color='red'), 400, 'badRequest'),
    ('missing name', None, _server(name=_DROP), 400, 'badRequest'),
    ('missing flavor', None, _server(flavorRef=_DROP), 400, 'badRequest'),
    ('empty name', None, _server(name=''), 400, 'badRequest'),
    ('name too long', None, _server(name='n' * 256), 400, 'badRequest'),
    ('name with spaces', None, _server(name=' x '), 400, 'badRequest'),
    ('name wrong type', None, _server(name=5), 400, 'badRequest'),
    (
        'bad image uuid',
        None,
        _server(imageRef='not-a-uuid'),
        400,
        'badRequest',
    ),
    (
        'unknown image',
        None,
        _server(imageRef='00000000-0000-0000-0000-000000000000'),
        400,
        'badRequest',
    ),
    ('unknown flavor', None, _server(flavorRef='99'), 400, 'badRequest'),
    ('flavor wrong type', None, _server(flavorRef=[1]), 400, 'badRequest'),
    ('min_count zero', None, _server(min_count=0), 400, 'badRequest'),
    ('min_count text', None, _server(min_count='two'), 400, 'badRequest'),
    ('min > max', None, _server(min_count=3, max_count=2), 400, 'badRequest'),
    ('metadata not object', None, _server(metadata=['a']), 400, 'badRequest'),
    (
        'metadata value type',
        None,
        _server(metadata={'a': 1}),
        400,
        'badRequest',
    ),
    ('bad accessIPv4', None, _server(accessIPv4='1.2.3'), 400, 'badRequest'),
    ('bad accessIPv6', None, _server(accessIPv6='zz::'), 400, 'badRequest'),
    ('bad user_data', None, _server(user_data='***'), 400, 'badRequest'),
    (
        'bad network fixed ip',
        None,
        _server(networks=[{'uuid': IMAGE, 'fixed_ip': 'x'}]),
        400,
        'badRequest',
    ),
    (
        'unknown network',
        None,
        _server(networks=[{'uuid': IMAGE}]),
        400,
        'badRequest',
    ),
    (
        'description before 2.19',
        '2.18',
        _server(description='d'),
        400,
        'badRequest',
    ),
    ('networks required 2.37', '2.37', _server(), 400, 'badRequest'),
    (
        'networks bad word 2.37',
        '2.37',
        _server(networks='some'),
        400,
        'badRequest',
    ),
    (
        'description too long',
        '2.19',
        _server(description='d' * 256),
        400,
        'badRequest',
    ),
)


class NegativeCreateTest(fakes.APITestCase):
    def test_table(self):
        for case, version, body, status, fault in CREATE_CASES:
            raw = (
                body if isinstance(body, bytes) else json.dumps(body).encode()
            )
            response = self.request(
                'POST', '/v2.1/servers', raw=raw, version=version
            )
            self.assertEqual(
                status, response.status_int, '%s: %s' % (case, response.body)
            )
            self.assertEqual([fault], list(response.json), case)
            self.assertEqual(status, response.json[fault]['code'], case)
            self.assertTrue(response.json[fault]['message'], case)
            self.assertEqual(0, self.count_rows('Instance'), case)
            self.assertEqual(0, self.count_rows('InstanceAction'), case)

    def test_validation_message_as_nova(self):
        response = self.request('POST', '/v2.1/servers', _server(color='red'))
        self.assertIn(
            "Additional properties are not allowed ('color' was unexpected)",
            response.json['badRequest']['message'],
        )
        response = self.request('POST', '/v2.1/servers', _server(name=5))
        self.assertTrue(
            response.json['badRequest']['message'].startswith(
                'Invalid input for field/attribute name. Value: 5.'
            )
        )

    def test_oversize_body_is_413(self):
        self.flags(group='api', max_request_body_size=1024)
        body = _server(metadata={'k%d' % i: 'v' * 200 for i in range(10)})
        response = self.request('POST', '/v2.1/servers', body)
        self.assertEqual(413, response.status_int)
        self.assertEqual(413, response.json['overLimit']['code'])
        self.assertEqual(0, self.count_rows('Instance'))

    def test_oversize_chunked_body_is_413(self):
        import io

        self.flags(group='api', max_request_body_size=1024)
        raw = json.dumps(
            _server(metadata={'k%d' % i: 'v' * 200 for i in range(10)})
        ).encode()
        import webob

        req = webob.Request.blank('/v2.1/servers', method='POST')
        req.headers['X-Auth-Token'] = 'admin:admin'
        req.content_type = 'application/json'
        req.body_file = io.BytesIO(raw)
        req.content_length = None
        req.environ['wsgi.input_terminated'] = True
        response = req.get_response(self.app)
        self.assertEqual(413, response.status_int)
        self.assertIn('overLimit', response.json)
        self.assertEqual(0, self.count_rows('Instance'))

    def test_unsupported_content_type(self):
        response = self.request(
            'POST',
            '/v2.1/servers',
            raw=b'<server/>',
            headers={'Content-Type': 'application/xml'},
        )
        self.assertEqual(415, response.status_int)
        self.assertIn('badMediaType', response.json)

    def test_quota_exceeded_is_403(self):
        self.flags(group='quota', instances=1)
        self.create_server()
        response = self.request('POST', '/v2.1/servers', _server())
        self.assertEqual(403, response.status_int)
        self.assertIn('Quota exceeded', response.json['forbidden']['message'])
        self.assertEqual(1, self.count_rows('Instance'))

    def test_non_member_cannot_create(self):
        self.flags(group='api', auth_strategy='noauth2')
        from nova.api import auth

        self.useFixture(fakes_monkeypatch(auth, '_NOAUTH_ROLES', []))
        response = self.request(
            'POST', '/v2.1/servers', _server(), user='demo'
        )
        self.assertEqual(403, response.status_int)
        self.assertEqual(0, self.count_rows('Instance'))


def fakes_monkeypatch(obj, name, value):
    import fixtures

    return fixtures.MonkeyPatch('%s.%s' % (obj.__name__, name), value)


# (case, version, body, status)
UPDATE_CASES = (
    ('no server key', None, {'name': 'x'}, 400),
    ('unknown field', None, {'server': {'flavorRef': '2'}}, 400),
    ('empty name', None, {'server': {'name': ''}}, 400),
    ('null name', None, {'server': {'name': None}}, 400),
    ('bad accessIPv4', None, {'server': {'accessIPv4': 'x'}}, 400),
    ('description before 2.19', '2.18', {'server': {'description': 'x'}}, 400),
)


class NegativeUpdateDeleteTest(fakes.APITestCase):
    def setUp(self):
        super().setUp()
        self.server_id = self.create_server(name='orig')

    def _name(self):
        return self.request('GET', '/v2.1/servers/%s' % self.server_id).json[
            'server'
        ]['name']

    def test_update_table(self):
        for case, version, body, status in UPDATE_CASES:
            response = self.request(
                'PUT',
                '/v2.1/servers/%s' % self.server_id,
                body,
                version=version,
            )
            self.assertEqual(status, response.status_int, case)
            self.assertIn('badRequest', response.json, case)
            self.assertEqual('orig', self._name(), case)

    def test_bad_uuids_are_404(self):
        for method, path in (
            ('GET', ''),
            ('DELETE', ''),
            ('GET', '/ips'),
            ('GET', '/ips/private'),
            ('GET', '/os-instance-actions'),
            ('GET', '/os-instance-actions/req-1'),
        ):
            response = self.request(method, '/v2.1/servers/not-a-uuid' + path)
            self.assertEqual(404, response.status_int, path)
            self.assertIn('itemNotFound', response.json, path)
        response = self.request(
            'GET', '/v2.1/servers/%s' % '00000000-0000-0000-0000-000000000000'
        )
        self.assertEqual(404, response.status_int)
        self.assertEqual(1, self.count_rows('Instance'))
        self.assertEqual([], self.compute.deleted)


class CheckInstanceUUIDTest(testtools.TestCase):
    def test_only_uuids_pass(self):
        common.check_instance_uuid(IMAGE)
        common.check_instance_uuid(IMAGE.replace('-', ''))
        for bad in ('not-a-uuid', '1', '', IMAGE + '0'):
            error = self.assertRaises(
                exception.InstanceNotFound, common.check_instance_uuid, bad
            )
            self.assertEqual(404, error.code, bad)
