"""The nova-scheduler command: startup errors and a clean stop."""

import io
import os
import signal
import threading

import fixtures

from nova import rpc
from nova.cmd import scheduler as scheduler_cmd
from nova.db import services as services_db
from nova.scheduler import rpcapi
from nova.tests.unit.scheduler import base


class TestSchedulerCommand(base.SchedulerTestCase):
    def setUp(self):
        super().setUp()
        self.flags(transport_url='fake://')
        self.addCleanup(rpc.cleanup)
        # Keep the command's logging setup from outliving the test.
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.config.logging.setup', lambda *args, **kw: None
            )
        )
        self.stderr = self.useFixture(
            fixtures.MonkeyPatch('sys.stderr', io.StringIO())
        ).new_value

    def test_unknown_filter_refuses_to_start(self):
        self.flags(
            group='filter_scheduler',
            enabled_filters=['ComputeFilter', 'RamFliter'],
        )
        self.assertEqual(
            scheduler_cmd.EXIT_BAD_CONFIG,
            scheduler_cmd.main(['nova-scheduler']),
        )
        self.assertIn('unknown filter(s) RamFliter', self.stderr.getvalue())

    def _serve_then_terminate(self, results):
        # Wait until the service registered (its signal handlers are in
        # place by then), use it, then stop it as an init system would.
        for _ in range(200):
            if services_db.get_all(self.context, binary='nova-scheduler'):
                break
            threading.Event().wait(0.05)
        try:
            results.append(
                rpcapi.SchedulerAPI().select_destinations(
                    self.context, base.request_spec()
                )
            )
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    def test_serves_until_sigterm(self):
        self.add_host('c1')
        handler = signal.getsignal(signal.SIGTERM)
        results = []
        client = threading.Thread(
            target=self._serve_then_terminate, args=(results,)
        )
        client.start()
        self.assertEqual(
            scheduler_cmd.EXIT_OK, scheduler_cmd.main(['nova-scheduler'])
        )
        client.join()
        self.assertEqual([['c1']], [[d['host'] for d in r] for r in results])
        self.assertIs(handler, signal.getsignal(signal.SIGTERM))
        self.assertIsNone(rpc._transport)
