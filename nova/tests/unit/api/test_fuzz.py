"""Property-based fuzzing of the compute API: bad input never breaks it.

For every route of ``nova.api.openstack.compute.routes.ROUTE_LIST`` (and
methods it does not have), hypothesis sends paths with odd ids and
project prefixes, query strings, JSON and non-JSON bodies, microversion
headers and content types, as an admin and as a project member. Whatever
comes in:

* the answer is never a 5xx, and never carries a traceback;
* an error answer is nova's fault body: one key (``badRequest``,
  ``itemNotFound``...) holding ``code`` (the HTTP status) and a
  ``message``;
* a rejected request writes nothing: no instance, metadata, action, event,
  fault or block device row.

The examples are derandomized (the same every run) and bounded in number,
so CI is reproducible; ``NOVA_FUZZ_EXAMPLES`` runs more of them.
"""

import json
import os
import string

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from testtools import content

from nova.api.openstack.compute import routes
from nova.tests.unit.api import fakes

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'
EXAMPLES = int(os.environ.get('NOVA_FUZZ_EXAMPLES', '150'))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
#: Rows a rejected request must not have written.
TABLES = (
    'Instance',
    'InstanceMetadata',
    'InstanceAction',
    'InstanceActionEvent',
    'InstanceFault',
    'BlockDeviceMapping',
)
METHODS = ('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD')

_id_text = st.text(
    alphabet=string.ascii_letters + string.digits + '-_.~%:@!$&()*+,;=',
    min_size=0,
    max_size=40,
)
_json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
_json = st.recursive(
    _json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)
_microversion = st.one_of(
    st.sampled_from(
        [
            '2.1',
            '2.19',
            '2.26',
            '2.37',
            '2.47',
            '2.53',
            '2.96',
            '2.100',
            '2.0',
            '3.0',
            'latest',
            '',
            ' ',
            '2.',
            '.1',
            '2.1.1',
            '-2.1',
        ]
    ),
    st.text(max_size=12),
)
_query_keys = st.one_of(
    st.sampled_from(
        [
            'limit',
            'marker',
            'name',
            'status',
            'flavor',
            'image',
            'ip',
            'changes-since',
            'changes-before',
            'all_tenants',
            'deleted',
            'sort_key',
            'sort_dir',
            'host',
            'reservation_id',
            'project_id',
            'tenant_id',
            'minDisk',
            'minRam',
            'is_public',
            'binary',
            'hypervisor_hostname_pattern',
            'with_servers',
            'tags',
        ]
    ),
    st.text(min_size=1, max_size=10),
)
_queries = st.dictionaries(
    _query_keys,
    st.one_of(st.text(max_size=20), _id_text, st.binary(max_size=8)),
    max_size=4,
)


def _wire(value):
    """``value`` (text or bytes) as a WSGI server passes it."""
    if isinstance(value, str):
        value = value.encode('utf-8')
    return value.decode('latin-1')


def _server_body(**overrides):
    server = {'name': 'fuzz', 'imageRef': IMAGE, 'flavorRef': '1'}
    server.update(overrides)
    return {'server': server}


# Bodies that get past the first checks more often than random JSON: a
# valid server with one field replaced by anything.
_server_fields = st.sampled_from(
    [
        'name',
        'imageRef',
        'flavorRef',
        'min_count',
        'max_count',
        'metadata',
        'networks',
        'availability_zone',
        'key_name',
        'user_data',
        'adminPass',
        'accessIPv4',
        'accessIPv6',
        'description',
        'config_drive',
        'security_groups',
        'block_device_mapping_v2',
        'tags',
    ]
)
_near_valid = st.builds(
    lambda field, value: json.dumps(_server_body(**{field: value})).encode(),
    _server_fields,
    _json,
)
_bodies = st.one_of(
    st.none(),
    _json.map(lambda v: json.dumps(v).encode()),
    _near_valid,
    st.binary(max_size=64),
    st.text(max_size=64).map(lambda t: t.encode('utf-8')),
)
_content_types = st.sampled_from(
    [
        None,
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/xml',
        'multipart/form-data',
        '*/*',
        '',
    ]
)


def _templates():
    """(method, path template) of every route."""
    out = []
    for path, _, actions in routes.ROUTE_LIST:
        for method, sub_path, _ in actions:
            out.append((method, path + sub_path))
    return out


TEMPLATES = _templates()


class FuzzAPITest(fakes.APITestCase):
    """Each test sends many requests; see the module docstring."""

    def setUp(self):
        super().setUp()
        self.server_id = self.create_server(name='target')
        # Requests sent, for tools/reliability-report.sh.
        self.requests_sent = 0
        self.addCleanup(
            lambda: self.addDetail(
                'figures',
                content.text_content(
                    json.dumps({'requests': self.requests_sent})
                ),
            )
        )

    def _path(self, template, ids, prefix):
        path = template
        for name in ('{server_id}', '{id}'):
            if name in path:
                path = path.replace(name, ids.pop(0) or self.server_id, 1)
        return '/v2.1' + prefix + path

    def _counts(self):
        return {table: self.count_rows(table) for table in TABLES}

    def _check(self, request, response):
        status = response.status_int
        text = response.body.decode('utf-8', 'replace')
        self.assertLess(status, 500, '%s -> %d %s' % (request, status, text))
        self.assertNotIn('Traceback', text, request)
        if status < 400 or request[0] == 'HEAD':
            return
        body = json.loads(text)
        self.assertEqual(1, len(body), '%s -> %s' % (request, text))
        (fault,) = body.values()
        self.assertEqual(status, fault['code'], '%s -> %s' % (request, text))
        self.assertTrue(fault['message'], '%s -> %s' % (request, text))

    def _send(self, method, path, query, raw, headers, user):
        if query:
            # As a server hands it over (PEP 3333): the bytes of the
            # query string, each as the latin-1 character of that value.
            # Text goes as UTF-8; bytes (not always UTF-8) as they are.
            path += '?' + '&'.join(
                '%s=%s' % (_wire(k), _wire(v))
                for k, v in sorted(query.items(), key=repr)
            )
        before = self._counts()
        self.requests_sent += 1
        response = self.request(
            method, path, raw=raw, headers=headers, user=user
        )
        request = (method, path, raw, headers, user)
        self._check(request, response)
        if response.status_int >= 400:
            self.assertEqual(before, self._counts(), request)
        return response

    @FUZZ
    @given(
        route=st.sampled_from(TEMPLATES),
        other_method=st.one_of(st.none(), st.sampled_from(METHODS)),
        ids=st.lists(st.one_of(st.just(''), _id_text), min_size=2, max_size=2),
        prefix=st.sampled_from(['', '/admin', '/demo', '/%s' % IMAGE]),
        query=_queries,
        raw=_bodies,
        version=st.one_of(st.none(), _microversion),
        legacy_version=st.one_of(st.none(), _microversion),
        content_type=_content_types,
        user=st.sampled_from(['admin', 'demo']),
    )
    def test_any_request(
        self,
        route,
        other_method,
        ids,
        prefix,
        query,
        raw,
        version,
        legacy_version,
        content_type,
        user,
    ):
        method, template = route
        headers = {}
        if version is not None:
            headers['OpenStack-API-Version'] = 'compute ' + version
        if legacy_version is not None:
            headers['X-OpenStack-Nova-API-Version'] = legacy_version
        if content_type is not None and raw is not None:
            headers['Content-Type'] = content_type
        self._send(
            other_method or method,
            self._path(template, ids, prefix),
            query,
            raw,
            headers,
            user,
        )

    @FUZZ
    @given(
        raw=_near_valid,
        version=st.one_of(
            st.none(),
            st.sampled_from(
                [
                    '2.1',
                    '2.19',
                    '2.32',
                    '2.37',
                    '2.42',
                    '2.52',
                    '2.57',
                    '2.63',
                    '2.67',
                    '2.74',
                    '2.90',
                    '2.94',
                    'latest',
                ]
            ),
        ),
        user=st.sampled_from(['admin', 'demo']),
    )
    def test_create_server_body(self, raw, version, user):
        headers = {}
        if version is not None:
            headers['OpenStack-API-Version'] = 'compute ' + version
        self._send('POST', '/v2.1/servers', {}, raw, headers, user)

    @FUZZ
    @given(
        server=st.dictionaries(
            st.sampled_from(
                [
                    'name',
                    'description',
                    'accessIPv4',
                    'accessIPv6',
                    'flavorRef',
                    'imageRef',
                ]
            ),
            _json,
            max_size=3,
        ),
        version=st.one_of(
            st.none(), st.sampled_from(['2.1', '2.19', 'latest'])
        ),
    )
    def test_update_server_body(self, server, version):
        headers = {}
        if version is not None:
            headers['OpenStack-API-Version'] = 'compute ' + version
        raw = json.dumps({'server': server}).encode()
        self._send(
            'PUT',
            '/v2.1/servers/%s' % self.server_id,
            {},
            raw,
            headers,
            'admin',
        )

    def test_query_string_not_utf8_is_400(self):
        # Found by test_any_request: the controllers' req.GET raised
        # UnicodeDecodeError, answered as a 500.
        for query in ('limit=\x80', 'name=%80', '%ff=1'):
            response = self._send(
                'GET', '/v2.1/servers?' + query, {}, None, {}, 'admin'
            )
            self.assertEqual(400, response.status_int, query)
            self.assertIn('UTF-8', response.json['badRequest']['message'])

    def test_malformed_form_body_is_not_parsed(self):
        # Found by test_any_request with more examples: the router looked
        # for a '_method' override in every POST form and a multipart
        # body with no boundary raised ValueError, answered as a 500.
        response = self._send(
            'POST',
            '/v2.1/servers',
            {},
            b'',
            {'Content-Type': 'multipart/form-data'},
            'admin',
        )
        self.assertEqual(400, response.status_int)
