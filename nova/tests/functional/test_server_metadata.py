"""A server's metadata through the REST API, as stock nova's
``/servers/{id}/metadata`` answers: CRUD, the body checks, the quota,
the state and lock checks."""

from nova.tests.functional import test_server_actions

IMAGE = test_server_actions.IMAGE


class ServerMetadataTest(test_server_actions.ServerApiTestCase):
    def path(self, key=''):
        return '/servers/%s/metadata%s' % (self.uuid, key and '/' + key)

    def test_items_are_set_replaced_and_deleted(self):
        response = self.call('POST', self.path(), {'metadata': {'a': '1'}})
        self.assertEqual(200, response.status_int, response.body)
        self.assertEqual({'metadata': {'a': '1'}}, response.json)
        response = self.call(
            'POST', self.path(), {'metadata': {'b': '2', 'a': 'one'}}
        )
        self.assertEqual({'a': 'one', 'b': '2'}, response.json['metadata'])
        response = self.call('PUT', self.path('c'), {'meta': {'c': '3'}})
        self.assertEqual(
            (200, {'meta': {'c': '3'}}), (response.status_int, response.json)
        )
        self.assertEqual(
            {'meta': {'b': '2'}}, self.call('GET', self.path('b')).json
        )
        self.assertEqual(
            {'a': 'one', 'b': '2', 'c': '3'},
            self.call('GET', self.path()).json['metadata'],
        )
        response = self.call('PUT', self.path(), {'metadata': {'z': '26'}})
        self.assertEqual({'metadata': {'z': '26'}}, response.json)
        self.assertEqual({'z': '26'}, self.server()['metadata'])
        response = self.call('DELETE', self.path('z'))
        self.assertEqual(204, response.status_int, response.body)
        response = self.call('GET', self.path('z'))
        self.assertEqual(404, response.status_int)
        self.assertEqual(
            'Metadata item was not found',
            response.json['itemNotFound']['message'],
        )
        self.assertEqual(404, self.call('DELETE', self.path('z')).status_int)
        self.assertEqual({}, self.server()['metadata'])

    def test_bad_bodies_are_400_and_write_nothing(self):
        for method, key, body in (
            ('PUT', 'a', {'meta': {'b': '1'}}),
            ('PUT', 'a', {'meta': {'a': '1', 'b': '2'}}),
            ('PUT', 'a', {'meta': {}}),
            ('POST', '', {'metadata': {'a' * 256: '1'}}),
            ('POST', '', {'metadata': {'a': 'x' * 256}}),
            ('POST', '', {'metadata': {'a': 1}}),
            ('POST', '', {'meta': {'a': '1'}}),
        ):
            response = self.call(method, self.path(key), body)
            self.assertEqual(400, response.status_int, (body, response.body))
        self.assertEqual({}, self.server()['metadata'])

    def test_more_items_than_the_quota_are_403(self):
        self.flags(group='quota', metadata_items=3)
        items = {'k%d' % i: 'v' for i in range(4)}
        response = self.call('PUT', self.path(), {'metadata': items})
        self.assertEqual(403, response.status_int, response.body)
        self.assertEqual(
            'Maximum number of metadata items exceeds 3',
            response.json['forbidden']['message'],
        )
        self.call('PUT', self.path(), {'metadata': {'a': '1', 'b': '2'}})
        response = self.call(
            'POST', self.path(), {'metadata': {'c': '3', 'd': '4'}}
        )
        self.assertEqual(403, response.status_int, response.body)
        self.assertEqual({'a': '1', 'b': '2'}, self.server()['metadata'])
        # Nor may a server be created with them (stock nova: 403).
        response = self.call(
            'POST',
            '/servers',
            {
                'server': {
                    'name': 'many',
                    'imageRef': IMAGE,
                    'flavorRef': '1',
                    'networks': 'auto',
                    'metadata': items,
                }
            },
        )
        self.assertEqual(403, response.status_int, response.body)

    def test_state_lock_and_project_are_checked(self):
        self.act({'lock': None})
        response = self.call('POST', self.path(), {'metadata': {'a': '1'}})
        self.assertEqual(409, response.status_int, response.body)
        self.assertEqual(
            'Instance %s is locked' % self.uuid,
            response.json['conflictingRequest']['message'],
        )
        self.act({'unlock': None})
        with self.db.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE instances SET vm_state = 'error' WHERE uuid = '%s'"
                % self.uuid
            )
        response = self.call('POST', self.path(), {'metadata': {'a': '1'}})
        self.assertEqual(409, response.status_int, response.body)
        self.assertEqual(
            "Cannot 'update metadata' instance %s while it is in vm_state "
            'error' % self.uuid,
            response.json['conflictingRequest']['message'],
        )
        response = self.call('GET', self.path(), project='beta')
        self.assertEqual(404, response.status_int, response.body)
        self.assertEqual({}, self.server()['metadata'])
