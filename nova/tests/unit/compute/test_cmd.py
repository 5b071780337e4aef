"""nova-compute as a process: starts, reports its node, stops on signal."""

import os
import signal
import subprocess
import sys
import time

from nova import exception
from nova.db import compute_nodes
from nova.tests.unit.compute import base

_RUN = 'import sys; from nova.cmd import compute; sys.exit(compute.main())'


class NovaComputeCommandTestCase(base.DBTestCase):
    def _start(self, *options, host='cmdhost'):
        config = os.path.join(self.state_path, 'nova.conf')
        with open(config, 'w') as f:
            f.write(
                '[DEFAULT]\nhost = %s\nstate_path = %s\n'
                'transport_url = fake://\n[database]\nconnection = %s\n'
                '%s\n'
                % (host, self.state_path, self.db.url, '\n'.join(options))
            )
        process = subprocess.Popen(
            [sys.executable, '-c', _RUN, '--config-file', config],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.addCleanup(self._kill, process)
        return process

    @staticmethod
    def _kill(process):
        if process.poll() is None:
            process.kill()
            process.wait()

    def _wait_for_node(self, process, host='cmdhost', timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assertIsNone(
                process.poll(),
                process.stderr.read() if process.poll() is not None else '',
            )
            try:
                return compute_nodes.get_by_host(self.ctxt, host)
            except exception.ComputeHostNotFound:
                time.sleep(0.1)
        self.fail('nova-compute did not report its node')

    def test_reports_node_and_stops_cleanly(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            # The node is reported after the signal handlers are set.
            host = 'host-%s' % signum.name
            process = self._start('[fake_driver]\nvcpus = 3', host=host)
            node = self._wait_for_node(process, host=host)
            self.assertEqual(3, node['vcpus'])
            process.send_signal(signum)
            self.assertEqual(0, process.wait(30), process.stderr.read())

    def test_unknown_driver_fails_with_one_line(self):
        process = self._start('[compute]\ncompute_driver = fake.Nope')
        self.assertEqual(2, process.wait(30))
        self.assertIn('fake.Nope', process.stderr.read())
