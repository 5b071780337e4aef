"""A project never sees nor changes another project's servers.

Through the real compute API and the whole stack: a member of project
beta asks for a server of project alpha by id, through every route that
takes a server id, and looks for it with every list filter (all_tenants
and project_id included, which only an admin may use): never a 2xx that
shows it, never a change to it. An admin sees it only where nova lets an
admin (by id, and in lists with all_tenants).
"""

import json
import urllib.parse

from testtools import content
import webob

from nova import policy
from nova.api.openstack import common
from nova.api.openstack import wsgi_app
import nova.conf
from nova.tests.functional import base

CONF = nova.conf.CONF
IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'

#: Query strings of GET /servers and /servers/detail that could let a
#: caller reach beyond its project.
LIST_QUERIES = (
    '',
    'all_tenants=1',
    'all_tenants=true',
    'all_tenants=0',
    'project_id=alpha',
    'tenant_id=alpha',
    'all_tenants=1&project_id=alpha',
    'name=secret',
    'name=.*',
    'status=ACTIVE',
    'ip=10',
    'ip=.*',
    'changes-since=2000-01-01T00:00:00Z',
    'deleted=true',
    'limit=1000',
    'sort_key=project_id',
)


class IsolationTest(base.FunctionalTestCase):
    def setUp(self):
        super().setUp()
        CONF([], project='nova', default_config_files=[])
        self.flags(group='api', auth_strategy='noauth2')
        policy.reset()
        self.addCleanup(policy.reset)
        common.set_compute_api(self.api)
        self.addCleanup(common.set_compute_api, None)
        self.app = wsgi_app.load_app()
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
        response = self.call(
            'POST',
            '/servers',
            'alice',
            'alpha',
            {
                'server': {
                    'name': 'secret',
                    'imageRef': IMAGE,
                    'flavorRef': '1',
                    'metadata': {'owner': 'alpha'},
                    'networks': 'auto',
                }
            },
        )
        self.assertEqual(202, response.status_int, response.body)
        self.secret = response.json['server']['id']
        self.wait_for(self.secret, 'active')
        response = self.call(
            'GET',
            '/servers/%s/os-instance-actions' % self.secret,
            'alice',
            'alpha',
        )
        self.request_id = response.json['instanceActions'][0]['request_id']

    def call(self, method, path, user, project, body=None, version='latest'):
        self.requests_sent += 1
        req = webob.Request.blank('/v2.1' + path, method=method)
        req.headers['X-Auth-Token'] = '%s:%s' % (user, project)
        req.headers['OpenStack-API-Version'] = 'compute %s' % version
        if body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = 'application/json'
        return req.get_response(self.app)

    def assertHidden(self, response, what, by_id=False):
        body = response.body.decode()
        if not by_id:
            # (A 404 for an id names the id asked for, as nova's does.)
            self.assertNotIn(
                self.secret,
                body,
                '%s showed the other project\'s server' % what,
            )
        self.assertNotIn('"secret"', body, what)
        self.assertNotIn('"owner": "alpha"', body, what)

    def test_by_id(self):
        s = self.secret
        for method, path, body in (
            ('GET', '/servers/%s' % s, None),
            ('GET', '/servers/%s/ips' % s, None),
            ('GET', '/servers/%s/ips/private' % s, None),
            ('GET', '/servers/%s/os-instance-actions' % s, None),
            (
                'GET',
                '/servers/%s/os-instance-actions/%s' % (s, self.request_id),
                None,
            ),
            ('PUT', '/servers/%s' % s, {'server': {'name': 'taken'}}),
            ('DELETE', '/servers/%s' % s, None),
            ('GET', '/alpha/servers/%s' % s, None),
            ('DELETE', '/alpha/servers/%s' % s, None),
        ):
            response = self.call(method, path, 'bob', 'beta', body)
            what = '%s %s' % (method, path)
            self.assertIn(response.status_int, (400, 403, 404), what)
            self.assertHidden(response, what, by_id=True)
        row = self.instance_row(s)
        self.assertEqual(
            ('secret', 'active', None),
            (row['display_name'], row['vm_state'], row['deleted_at']),
        )
        self.assertEqual(
            [('create', 1)],
            [
                (r['action'], r['n'])
                for r in self.query(
                    'SELECT action, COUNT(*) AS n FROM instance_actions '
                    'WHERE instance_uuid = :u GROUP BY action',
                    u=s,
                )
            ],
        )

    def test_lists(self):
        mine = self.call(
            'POST',
            '/servers',
            'bob',
            'beta',
            {
                'server': {
                    'name': 'mine',
                    'imageRef': IMAGE,
                    'flavorRef': '1',
                    'networks': 'auto',
                }
            },
        ).json['server']['id']
        for collection in ('/servers', '/servers/detail'):
            for query in LIST_QUERIES:
                path = collection + ('?' + query if query else '')
                response = self.call('GET', path, 'bob', 'beta')
                self.assertIn(response.status_int, (200, 400, 403), path)
                self.assertHidden(response, path)
        # Their own server is listed: the filters do work.
        response = self.call('GET', '/servers', 'bob', 'beta')
        self.assertEqual([mine], [s['id'] for s in response.json['servers']])

    def test_admin_sees_it_only_where_nova_lets_admins(self):
        response = self.call(
            'GET', '/servers/%s' % self.secret, 'admin', 'admin'
        )
        self.assertEqual(200, response.status_int)
        response = self.call('GET', '/servers', 'admin', 'admin')
        self.assertHidden(response, 'an admin list without all_tenants')
        response = self.call(
            'GET',
            '/servers?all_tenants=1&project_id=alpha',
            'admin',
            'admin',
        )
        self.assertEqual(
            [self.secret], [s['id'] for s in response.json['servers']]
        )
        query = urllib.parse.urlencode({'all_tenants': 1, 'name': 'secret'})
        response = self.call('GET', '/servers?' + query, 'admin', 'admin')
        self.assertIn(self.secret, response.body.decode())
