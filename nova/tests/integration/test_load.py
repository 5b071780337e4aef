"""A bounded slice of the load test (nova/tests/integration/load.py).

Two cycles of 40 boots then 40 deletes through the REST API of
nova-all (SQLite), 8 client requests at once: every POST answered 202
and its server reached ACTIVE, was booted once, and every DELETE
answered 204 and its server is gone; every build and delete workflow
ended in SUCCESS; nothing is left (claims, fixed IPs, block devices,
instance directories, node usage); ``nova-manage workflow audit`` is
clean and no ERROR line was logged. Timings and the RSS and thread
samples of nova-all go into the test details, never into an assertion:
on a shared 2-core machine they are too noisy for one. The full run
(500 servers, and 200 on the multi-process deployment) is
``tools/load-test.sh``; its figures are in
doc/source/admin/reliability.rst ("Load").
"""

import json

import fixtures
from testtools import content

from nova import test
from nova.tests.integration import load
from nova.tests.integration import load_stacks

SERVERS = 40
CYCLES = 2

#: Seconds the test may take: about 30 s on 2 cores.
TEST_TIMEOUT = 300


class NovaAllLoadTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(TEST_TIMEOUT, gentle=True))
        self.stack = load_stacks.NovaAllStack()
        self.addCleanup(self.stack.cleanup)
        self.stack.start()

    def test_boot_and_delete_cycles(self):
        result = load.Load(
            self.stack, SERVERS, concurrency=8, timeout=120
        ).run(CYCLES)
        self.addDetail('summary', content.text_content(load.summary(result)))
        self.addDetail(
            'result', content.text_content(json.dumps(result, default=str))
        )
        # For tools/reliability-report.sh.
        cycles = result['cycles']
        figures = {
            'requests': sum(
                sum(c[kind]['status'].values())
                for c in cycles
                for kind in ('post', 'delete')
            ),
            'leaks': sum(
                len(v) if isinstance(v, list) else v
                for c in cycles
                for v in c['leaks'].values()
            ),
            'audit_findings': sum(len(c['audit']['findings']) for c in cycles),
        }
        self.addDetail('figures', content.text_content(json.dumps(figures)))
        self.assertEqual([], result['problems'], load.summary(result))
        for cycle in result['cycles']:
            self.assertEqual({'202': SERVERS}, cycle['post']['status'])
            self.assertEqual(SERVERS, cycle['active'])
            self.assertEqual({'204': SERVERS}, cycle['delete']['status'])
            self.assertEqual(
                {
                    'claims': 0,
                    'fixed_ips': 0,
                    'block_devices': 0,
                    'instance_dirs': 0,
                    'node_usage': [],
                    'live_instances': 0,
                    'unfinished_workflows': [],
                },
                cycle['leaks'],
            )
            self.assertEqual({'returncode': 0, 'findings': []}, cycle['audit'])
        self.assertEqual(
            ['start']
            + [
                'cycle %d: %s' % (n, what)
                for n in range(1, CYCLES + 1)
                for what in ('%d ACTIVE' % SERVERS, 'all deleted')
            ],
            [s['label'] for s in result['samples']],
        )
