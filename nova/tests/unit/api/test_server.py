"""The WSGI entry points: APIServer on cheroot, init_application, the
paste file lookup, the keystone context and nova-api's main.
"""

import json
import os
import signal
import threading
import urllib.error
import urllib.request

import fixtures
import webob

from nova.api import auth
from nova.api import server
from nova.api.openstack import wsgi_app
from nova.cmd import api as cmd_api
from nova.tests.unit.api import fakes


def _get(url, token='admin:admin'):
    request = urllib.request.Request(url, headers={'X-Auth-Token': token})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b'null')
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b'null')


class APIServerTest(fakes.APITestCase):
    def test_serves_on_ephemeral_port_and_stops(self):
        api = server.APIServer('127.0.0.1', 0).start()
        self.addCleanup(api.stop)
        self.assertNotEqual(0, api.port)
        status, body = _get(api.url + '/flavors')
        self.assertEqual(200, status)
        self.assertEqual(5, len(body['flavors']))
        status, body = _get('http://127.0.0.1:%d/' % api.port)
        self.assertEqual('v2.1', body['versions'][0]['id'])
        self.assertIn(
            'http://127.0.0.1:%d/v2.1/' % api.port,
            body['versions'][0]['links'][0]['href'],
        )
        api.stop()
        self.assertRaises(OSError, _get, api.url + '/flavors')

    def test_port_in_use(self):
        first = server.APIServer('127.0.0.1', 0).start()
        self.addCleanup(first.stop)
        self.assertRaises(
            OSError, server.APIServer('127.0.0.1', first.port).start
        )

    def test_concurrent_requests(self):
        api = server.APIServer('127.0.0.1', 0).start()
        self.addCleanup(api.stop)
        results = []

        def worker():
            results.append(_get(api.url + '/limits')[0])

        threads = [threading.Thread(target=worker) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        self.assertEqual([200] * 10, results)


class PasteConfigTest(fakes.APITestCase):
    def test_found_in_source_tree(self):
        path = wsgi_app.find_paste_config()
        self.assertTrue(
            path.endswith(os.path.join('etc', 'nova', 'api-paste.ini'))
        )

    def test_absolute_path_missing(self):
        self.flags(group='api', api_paste_config='/nonexistent/paste.ini')
        self.assertRaises(
            wsgi_app.PasteConfigNotFound, wsgi_app.find_paste_config
        )

    def test_init_application(self):
        config_dir = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(config_dir, 'nova.conf'), 'w') as conf:
            conf.write('[database]\nconnection = %s\n' % self.db.url)
        self.useFixture(
            fixtures.EnvironmentVariable('OS_NOVA_CONFIG_DIR', config_dir)
        )
        app = wsgi_app.init_application()
        response = webob.Request.blank('/').get_response(app)
        self.assertEqual(200, response.status_int)


class KeystoneContextTest(fakes.APITestCase):
    def _context_of(self, headers):
        seen = {}

        def app(environ, start_response):
            seen['context'] = environ['nova.context']
            start_response('200 OK', [])
            return [b'']

        middleware = auth.NovaKeystoneContext(app)
        response = webob.Request.blank('/', headers=headers).get_response(
            middleware
        )
        return response, seen.get('context')

    def test_context_from_auth_token_headers(self):
        response, context = self._context_of(
            {
                'X-User-Id': 'u1',
                'X-Project-Id': 'p1',
                'X-Roles': 'reader, member',
                'X-Auth-Token': 'tok',
            }
        )
        self.assertEqual(200, response.status_int)
        self.assertEqual(
            ('u1', 'p1', False),
            (context.user_id, context.project_id, context.is_admin),
        )
        self.assertEqual(['reader', 'member'], context.roles)

    def test_admin_role(self):
        _response, context = self._context_of(
            {'X-User-Id': 'u1', 'X-Project-Id': 'p1', 'X-Roles': 'admin'}
        )
        self.assertTrue(context.is_admin)

    def test_unauthenticated(self):
        response, context = self._context_of({'X-Identity-Status': 'Invalid'})
        self.assertEqual(401, response.status_int)
        self.assertIsNone(context)


class NovaAPICommandTest(fakes.APITestCase):
    def test_main_serves_until_sigterm(self):
        started = threading.Event()
        original_start = server.APIServer.start

        def start(api):
            result = original_start(api)
            started.set()
            return result

        self.useFixture(
            fixtures.MonkeyPatch('nova.api.server.APIServer.start', start)
        )
        self.useFixture(
            fixtures.MonkeyPatch('nova.config.parse_args', lambda argv: None)
        )
        self.flags(osapi_compute_listen_port=0)
        handlers = {}
        self.useFixture(
            fixtures.MonkeyPatch(
                'signal.signal',
                lambda signum, handler: handlers.setdefault(signum, handler),
            )
        )
        result = []
        thread = threading.Thread(
            target=lambda: result.append(cmd_api.main(['nova-api']))
        )
        thread.start()
        self.assertTrue(started.wait(10))
        handlers[signal.SIGTERM](signal.SIGTERM, None)
        thread.join(15)
        self.assertEqual([0], result)
