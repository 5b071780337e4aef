"""Policy: admin-only APIs and project isolation."""

from nova.tests.unit.api import fakes


class AdminOnlyAPIsTest(fakes.APITestCase):
    ADMIN_ONLY = (
        '/v2.1/os-services',
        '/v2.1/os-hypervisors',
        '/v2.1/os-hypervisors/detail',
        '/v2.1/os-hypervisors/1',
        '/v2.1/servers?all_tenants=1',
        '/v2.1/servers/detail?all_tenants=1',
    )

    def test_forbidden_to_members(self):
        for path in self.ADMIN_ONLY:
            response = self.request('GET', path, user='demo')
            self.assertEqual(403, response.status_int, path)
            self.assertEqual(403, response.json['forbidden']['code'])
            self.assertIn(
                "Policy doesn't allow", response.json['forbidden']['message']
            )

    def test_allowed_to_admin(self):
        for path in self.ADMIN_ONLY[:3]:
            self.assertEqual(200, self.request('GET', path).status_int, path)

    def test_limits_of_other_project_is_admin_only(self):
        response = self.request(
            'GET', '/v2.1/limits?tenant_id=other', user='demo'
        )
        self.assertEqual(403, response.status_int)
        response = self.request('GET', '/v2.1/limits?tenant_id=other')
        self.assertEqual(200, response.status_int)


class ProjectIsolationTest(fakes.APITestCase):
    def setUp(self):
        super().setUp()
        self.mine = self.create_server(user='alice', project='p1')
        self.theirs = self.create_server(user='bob', project='p2')

    def _as_alice(self, method, path, **kw):
        return self.request(method, path, user='alice', project='p1', **kw)

    def test_list_shows_own_servers_only(self):
        for path in ('/v2.1/servers', '/v2.1/servers/detail'):
            response = self._as_alice('GET', path)
            self.assertEqual(
                [self.mine], [s['id'] for s in response.json['servers']]
            )

    def test_all_tenants_for_admin(self):
        response = self.request('GET', '/v2.1/servers?all_tenants=1')
        self.assertEqual(
            sorted([self.mine, self.theirs]),
            sorted(s['id'] for s in response.json['servers']),
        )
        response = self.request(
            'GET', '/v2.1/servers?all_tenants=1&project_id=p2'
        )
        self.assertEqual(
            [self.theirs], [s['id'] for s in response.json['servers']]
        )

    def test_project_filter_ignored_for_members(self):
        response = self._as_alice('GET', '/v2.1/servers?project_id=p2')
        self.assertEqual(
            [self.mine], [s['id'] for s in response.json['servers']]
        )

    def test_other_projects_server_is_not_found(self):
        for method, suffix in (
            ('GET', ''),
            ('PUT', ''),
            ('DELETE', ''),
            ('GET', '/ips'),
            ('GET', '/os-instance-actions'),
        ):
            body = {'server': {'name': 'x'}} if method == 'PUT' else None
            response = self._as_alice(
                method, '/v2.1/servers/%s%s' % (self.theirs, suffix), body=body
            )
            self.assertEqual(404, response.status_int, (method, suffix))
            self.assertIn('itemNotFound', response.json)
        self.assertEqual([], self.compute.deleted)

    def test_own_server_is_visible(self):
        response = self._as_alice('GET', '/v2.1/servers/%s' % self.mine)
        self.assertEqual(200, response.status_int)
        self.assertEqual('p1', response.json['server']['tenant_id'])

    def test_admin_sees_any_server(self):
        response = self.request('GET', '/v2.1/servers/%s' % self.theirs)
        self.assertEqual(200, response.status_int)

    def test_policy_file_override(self):
        """An operator rule in the policy file replaces the default."""
        import os

        path = os.path.join(self.state_path, 'policy.yaml')
        with open(path, 'w') as policy_file:
            policy_file.write('"os_compute_api:servers:index": "!"\n')
        self.flags(group='oslo_policy', policy_file=path)
        from nova import policy

        policy.reset()
        response = self._as_alice('GET', '/v2.1/servers')
        self.assertEqual(403, response.status_int)
