"""The stock API proven with real clients against the nova-all binary.

nova-all runs as a separate process (as a user starts it) with its own
state directory and a free port; openstacksdk, python-novaclient and
the ``openstack`` CLI then boot, inspect and delete servers through it.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import fixtures
import testtools

#: Seconds to wait for nova-all to listen and for servers to settle.
TIMEOUT = 60
IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class NovaAllProcess(fixtures.Fixture):
    """nova-all in a subprocess, stopped with SIGTERM at cleanup."""

    def _setUp(self):
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.port = _free_port()
        config = os.path.join(self.state_path, 'nova.conf')
        with open(config, 'w') as f:
            f.write(
                '[DEFAULT]\nstate_path = %s\nosapi_compute_listen_port '
                '= %d\n[all]\ncompute_hosts = host1,host2\n'
                % (self.state_path, self.port)
            )
        self.log = open(os.path.join(self.state_path, 'nova-all.log'), 'w+')
        self.addCleanup(self.log.close)
        self.process = subprocess.Popen(
            [_bin('nova-all'), '--config-file', config],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.addCleanup(self._stop)
        self.url = 'http://127.0.0.1:%d' % self.port
        deadline = time.monotonic() + TIMEOUT
        while True:
            self.log.flush()
            with open(self.log.name) as f:
                output = f.read()
            if 'compute API at' in output:
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError('nova-all did not start:\n' + output)
            time.sleep(0.1)

    def _stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self):
        with open(self.log.name) as f:
            return f.read()


class RealClientTestCase(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.nova = self.useFixture(NovaAllProcess())
        self.endpoint = self.nova.url + '/v2.1'

    def wait(self, predicate, what):
        deadline = time.monotonic() + TIMEOUT
        while not predicate():
            if time.monotonic() > deadline:
                self.fail(
                    'timed out waiting for %s; nova-all said:\n%s'
                    % (what, self.nova.output()[-3000:])
                )
            time.sleep(0.2)


class TestOpenStackSDK(RealClientTestCase):
    def test_boot_show_list_actions_delete(self):
        import openstack

        conn = openstack.connect(
            auth_type='admin_token',
            auth={'endpoint': self.endpoint, 'token': 'demo:demo-project'},
            region_name='RegionOne',
        )
        server = conn.compute.create_server(
            name='sdk-server', flavor_id='1', image_id=IMAGE, networks='auto'
        )
        server = conn.compute.wait_for_server(
            server, wait=TIMEOUT, interval=0.5
        )
        self.assertEqual('ACTIVE', server.status)
        shown = conn.compute.get_server(server.id)
        self.assertEqual('sdk-server', shown.name)
        addresses = shown.addresses['private']
        self.assertTrue(addresses[0]['addr'].startswith('10.0.0.'))
        self.assertIn(server.id, [s.id for s in conn.compute.servers()])
        actions = list(conn.compute.server_actions(server))
        self.assertEqual(['create'], [a.action for a in actions])
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=TIMEOUT, interval=0.5)
        self.assertNotIn(server.id, [s.id for s in conn.compute.servers()])


class TestNovaClient(RealClientTestCase):
    def test_boot_show_list_actions_delete(self):
        from keystoneauth1 import session
        from keystoneauth1 import token_endpoint
        from novaclient import client

        nova = client.Client(
            '2.51',
            session=session.Session(
                auth=token_endpoint.Token(self.endpoint, 'admin:admin')
            ),
        )
        server = nova.servers.create(
            'novaclient-server', IMAGE, '1', nics='auto'
        )
        self.wait(
            lambda: nova.servers.get(server.id).status == 'ACTIVE', 'ACTIVE'
        )
        shown = nova.servers.get(server.id)
        self.assertIn(
            getattr(shown, 'OS-EXT-SRV-ATTR:host'), ('host1', 'host2')
        )
        self.assertIn(server.id, [s.id for s in nova.servers.list()])
        actions = nova.instance_action.list(server.id)
        self.assertEqual(['create'], [a.action for a in actions])
        detail = nova.instance_action.get(server.id, actions[0].request_id)
        self.assertTrue(all(e['result'] == 'Success' for e in detail.events))
        self.assertEqual(
            {'host1', 'host2'},
            {h.hypervisor_hostname for h in nova.hypervisors.list()},
        )
        nova.servers.delete(server.id)
        self.wait(
            lambda: server.id not in [s.id for s in nova.servers.list()],
            'deletion',
        )


class TestOpenStackCLI(RealClientTestCase):
    def openstack(self, *args):
        env = dict(
            os.environ,
            OS_AUTH_TYPE='admin_token',
            OS_ENDPOINT=self.endpoint,
            OS_TOKEN='admin:admin',
            OS_IDENTITY_ENDPOINT_OVERRIDE=self.nova.url + '/identity/v3',
            OS_COMPUTE_API_VERSION='2.51',
        )
        for name in ('OS_CLOUD', 'OS_AUTH_URL', 'OS_USERNAME'):
            env.pop(name, None)
        result = subprocess.run(
            [_bin('openstack')] + list(args),
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 2,
            stdin=subprocess.DEVNULL,
        )
        self.assertEqual(
            0,
            result.returncode,
            'openstack %s: %s%s'
            % (' '.join(args), result.stdout, result.stderr),
        )
        return result.stdout

    def test_server_create_wait_show_list_delete(self):
        if not shutil.which(_bin('openstack')):
            self.skipTest('python-openstackclient is not installed')
        out = self.openstack(
            'server',
            'create',
            '--image',
            IMAGE,
            '--flavor',
            'm1.tiny',
            '--wait',
            '-f',
            'value',
            '-c',
            'status',
            'cli-server',
        )
        self.assertEqual('ACTIVE', out.strip())
        shown = self.openstack(
            'server', 'show', 'cli-server', '-f', 'value', '-c', 'status'
        )
        self.assertEqual('ACTIVE', shown.strip())
        listed = self.openstack('server', 'list', '-f', 'value', '-c', 'Name')
        self.assertEqual(['cli-server'], listed.split())
        self.openstack('server', 'delete', '--wait', 'cli-server')
        listed = self.openstack('server', 'list', '-f', 'value', '-c', 'Name')
        self.assertEqual([], listed.split())


class TestNovaAllWithoutConfig(testtools.TestCase):
    """nova-all needs no configuration file and stops cleanly on Ctrl-C."""

    def test_starts_with_defaults_and_stops_on_sigint(self):
        home = self.useFixture(fixtures.TempDir()).path
        env = dict(os.environ, HOME=home)
        log_path = os.path.join(home, 'nova-all.log')
        with open(log_path, 'w') as log:
            process = subprocess.Popen(
                [_bin('nova-all')],
                env=env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.addCleanup(lambda: process.poll() is None and process.kill())

        def output():
            with open(log_path) as f:
                return f.read()

        deadline = time.monotonic() + TIMEOUT
        while 'compute API at' not in output():
            if 'cannot listen' in output():
                self.skipTest('port 8774 is in use here')
            if process.poll() is not None or time.monotonic() > deadline:
                self.fail('nova-all did not start:\n%s' % output())
            time.sleep(0.1)
        self.assertIn('http://127.0.0.1:8774/v2.1', output())
        self.assertIn(os.path.join(home, '.nova'), output())
        self.assertTrue(
            os.path.exists(os.path.join(home, '.nova', 'nova.sqlite'))
        )
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail('nova-all ignored SIGINT:\n%s' % output()[-3000:])
        self.assertEqual(0, code, output()[-3000:])
        self.assertIn('stopping', output())
