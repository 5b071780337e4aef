"""``/os-keypairs`` as stock nova answers it, and a server's key_name."""

from nova import crypto
from nova.tests.functional import base

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'


class KeypairsTest(base.RestApiTestCase):
    def create(self, version='2.51', expect=201, **keypair):
        self.api_version = version
        response = self.call('POST', '/os-keypairs', {'keypair': keypair})
        self.assertEqual(expect, response.status_int, response.body)
        return response.json

    def test_generate_list_show_delete(self):
        created = self.create(name='k1')['keypair']
        self.assertEqual('ssh', created['type'])
        self.assertEqual('alice', created['user_id'])
        self.assertIn('PRIVATE KEY', created['private_key'])
        self.assertTrue(created['public_key'].startswith('ssh-rsa '))
        self.assertEqual(
            crypto.generate_fingerprint(created['public_key']),
            created['fingerprint'],
        )
        listed = self.call('GET', '/os-keypairs').json['keypairs']
        self.assertEqual(
            [
                {
                    'keypair': {
                        'name': 'k1',
                        'public_key': created['public_key'],
                        'fingerprint': created['fingerprint'],
                        'type': 'ssh',
                    }
                }
            ],
            listed,
        )
        shown = self.call('GET', '/os-keypairs/k1').json['keypair']
        self.assertEqual(
            ('alice', False, None), (shown['user_id'], shown['deleted'], None)
        )
        self.assertNotIn('private_key', shown)
        # Another user sees none of it.
        response = self.call('GET', '/os-keypairs/k1', user='bob')
        self.assertEqual(404, response.status_int)
        self.assertEqual(
            'Keypair k1 not found for user bob',
            response.json['itemNotFound']['message'],
        )
        self.assertEqual(
            [], self.call('GET', '/os-keypairs', user='bob').json['keypairs']
        )
        self.assertEqual(
            204, self.call('DELETE', '/os-keypairs/k1').status_int
        )
        self.assertEqual(404, self.call('GET', '/os-keypairs/k1').status_int)

    def test_import_ssh_and_x509(self):
        _private, public, fingerprint = crypto.generate_key_pair()
        imported = self.create(name='mine', public_key=public)['keypair']
        self.assertEqual(fingerprint, imported['fingerprint'])
        self.assertNotIn('private_key', imported)
        _private, cert, fingerprint = crypto.generate_x509_cert('alice')
        imported = self.create(name='cert', public_key=cert, type='x509')
        self.assertEqual(fingerprint, imported['keypair']['fingerprint'])
        generated = self.create(name='gen', type='x509')['keypair']
        self.assertIn('BEGIN CERTIFICATE', generated['public_key'])

    def test_microversion_2_1_answers_200_and_202_without_type(self):
        created = self.create(version='2.1', expect=200, name='old')
        self.assertNotIn('type', created['keypair'])
        response = self.call('DELETE', '/os-keypairs/old')
        self.assertEqual(202, response.status_int)
        # type is not in the 2.1 schema.
        self.create(version='2.1', expect=400, name='t', type='ssh')

    def test_bad_input_writes_nothing(self):
        for keypair, expect, message in (
            ({'name': 'a/b'}, 400, 'Keypair name contains unsafe characters'),
            ({'name': ''}, 400, 'between 1 and 255 characters long'),
            (
                {'name': 'x', 'public_key': 'ssh-rsa nonsense'},
                400,
                'failed to generate fingerprint',
            ),
            (
                {'name': 'x', 'public_key': 'junk', 'type': 'x509'},
                400,
                'failed to generate X509 fingerprint',
            ),
            ({'name': 'x', 'type': 'dsa'}, 400, 'Invalid input'),
        ):
            body = self.create(expect=expect, **keypair)
            self.assertIn(message, body['badRequest']['message'], keypair)
        self.assertEqual([], self.call('GET', '/os-keypairs').json['keypairs'])

    def test_duplicates_and_quota(self):
        self.create(name='k')
        body = self.create(expect=409, name='k')
        self.assertEqual(
            "Key pair 'k' already exists.",
            body['conflictingRequest']['message'],
        )
        self.flags(group='quota', key_pairs=1)
        body = self.create(expect=403, name='k2')
        self.assertEqual(
            'Quota exceeded, too many key pairs.',
            body['forbidden']['message'],
        )

    def test_an_admin_acts_for_another_user_from_2_10(self):
        body = self.create(name='k', user_id='bob', expect=403)
        self.assertIn('forbidden', body)
        response = self.call(
            'POST',
            '/os-keypairs',
            {'keypair': {'name': 'k', 'user_id': 'bob'}},
            user='admin',
            project='admin',
        )
        self.assertEqual(201, response.status_int, response.body)
        self.assertEqual('bob', response.json['keypair']['user_id'])
        listed = self.call('GET', '/os-keypairs', user='bob').json
        self.assertEqual(
            ['k'], [k['keypair']['name'] for k in listed['keypairs']]
        )
        response = self.call(
            'GET', '/os-keypairs/k?user_id=bob', user='admin', project='admin'
        )
        self.assertEqual(200, response.status_int, response.body)

    def test_a_server_needs_an_existing_key_name(self):
        self.create(name='mine')
        server = {
            'name': 'vm',
            'imageRef': IMAGE,
            'flavorRef': '1',
            'networks': 'auto',
        }
        response = self.call(
            'POST', '/servers', {'server': dict(server, key_name='nope')}
        )
        self.assertEqual(400, response.status_int, response.body)
        self.assertEqual(
            'Invalid key_name provided.',
            response.json['badRequest']['message'],
        )
        response = self.call(
            'POST', '/servers', {'server': dict(server, key_name='mine')}
        )
        self.assertEqual(202, response.status_int, response.body)
        uuid = response.json['server']['id']
        shown = self.call('GET', '/servers/%s' % uuid).json['server']
        self.assertEqual('mine', shown['key_name'])
