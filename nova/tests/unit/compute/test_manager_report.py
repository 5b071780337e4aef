"""spawn_and_report: the spawn outcome is reported to the conductors,
until one acknowledges it."""

import os
import threading
import time

import fixtures
import oslo_messaging as messaging
from oslo_serialization import jsonutils

from nova import test
from nova.compute import completions
from nova.compute import manager as compute_manager
from nova.tests.unit.compute import base
from nova.tests.unit.compute import test_manager
from nova.virt import fake


def wait_for_reports(test, count, timeout=10):
    """Wait until the host sent ``count`` reports (spawns run on the
    host's pool, after spawn_and_report returned)."""
    deadline = time.monotonic() + timeout
    while len(test.reports) < count:
        test.assertLess(time.monotonic(), deadline, test.reports)
        time.sleep(0.01)


class TestSpawnAndReport(base.DBTestCase):
    def setUp(self):
        super().setUp()
        self.manager = compute_manager.ComputeManager(
            'host1', fake.FakeDriver('host1')
        )
        self.instance = {
            'uuid': 'a0b1c2d3-0000-4000-8000-000000000001',
            'flavor': {'root_gb': 1},
        }
        self.workflow_id = test_manager.add_workflow(self.db.engine, 2)
        self.reports = []

        def report_completion(api, ctxt, *args, **kwargs):
            self.reports.append((args, kwargs))
            return completions.TAKEN

        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.report_completion',
                report_completion,
            )
        )

    def _spawn_and_report(self):
        returned = self.manager.spawn_and_report(
            self.ctxt,
            self.instance,
            [],
            {},
            self.workflow_id,
            2,
            'spawn',
            'token-1',
        )
        # oslo.messaging serializes what an endpoint returns, even for a
        # cast: a Future here logged an error for every spawn.
        jsonutils.to_primitive(returned)
        wait_for_reports(self, 1)
        self.assertEqual(1, len(self.reports))
        (workflow_id, task, token), kwargs = self.reports[0]
        self.assertEqual(
            (self.workflow_id, 'spawn', 'token-1'), (workflow_id, task, token)
        )
        return kwargs

    def test_success_is_reported_with_the_result(self):
        report = self._spawn_and_report()
        self.assertIsNone(report['failure'])
        self.assertEqual(self.instance['uuid'], report['result']['uuid'])
        self.assertTrue(
            os.path.exists(
                os.path.join(fake.instance_path(self.instance['uuid']), 'disk')
            )
        )

    def test_failure_is_reported_as_a_failure_dict(self):
        test_manager.set_generation(self.db.engine, self.workflow_id, 3)
        report = self._spawn_and_report()
        self.assertIsNone(report['result'])
        self.assertIn(
            'nova.exception.StaleWorkflowGeneration',
            report['failure']['exc_type_names'],
        )

    def test_spawn_after_the_revert_destroy_does_not_boot(self):
        # The step was reverted before its cast reached the host.
        self.manager.destroy(self.ctxt, self.instance, self.workflow_id, 2)
        report = self._spawn_and_report()
        self.assertIn(
            'reverted before its spawn', report['failure']['message']
        )
        self.assertFalse(
            os.path.exists(fake.instance_path(self.instance['uuid']))
        )


class TestSpawnsHoldNoRpcThread(base.DBTestCase):
    """Found by benchmarks/builds_in_flight.py: each spawn held one of the
    host's 64 RPC threads for its whole length, so long spawns starved
    the host's other calls and builds failed."""

    def setUp(self):
        super().setUp()
        self.flags(group='compute', max_concurrent_builds=2)
        self.manager = compute_manager.ComputeManager(
            'host1', fake.FakeDriver('host1')
        )
        self.addCleanup(self.manager.pre_stop)
        self.instance = {'uuid': None, 'flavor': {'root_gb': 1}}
        self.workflow_id = test_manager.add_workflow(self.db.engine, 2)
        self.reports = []
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.report_completion',
                lambda api, ctxt, *args, **kwargs: (
                    self.reports.append(args) or completions.TAKEN
                ),
            )
        )
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.release = threading.Event()

        def spawn(instance, **kwargs):
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
            self.assertTrue(self.release.wait(10))
            with self.lock:
                self.running -= 1
            return {'uuid': instance['uuid']}

        self.manager.driver.spawn = spawn

    def test_the_cast_returns_at_once_and_builds_are_bounded(self):
        for i in range(5):
            self.manager.spawn_and_report(
                self.ctxt,
                dict(self.instance, uuid='a0b1c2d3-0000-4000-8000-%012d' % i),
                [],
                {},
                self.workflow_id,
                2,
                'spawn',
                'token-%d' % i,
            )
        # Every cast returned; two spawns run, the others wait.
        deadline = time.monotonic() + 10
        while self.running < 2:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        time.sleep(0.1)  # room for a third, which must not start
        self.assertEqual([], self.reports)
        self.release.set()
        wait_for_reports(self, 5)
        self.assertEqual(2, self.most)


class TestCompletionReporter(test.TestCase):
    """The host reports until a conductor acknowledges, within a bound."""

    def setUp(self):
        super().setUp()
        self.reporter = completions.CompletionReporter('host1')
        self.answers = []
        self.sent = 0
        self.waits = []

        def report_completion(api, ctxt, *args, **kwargs):
            self.sent += 1
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.report_completion',
                report_completion,
            )
        )
        # Waiting costs no time: the waits are recorded instead.
        self.now = 0.0
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.compute.completions.time.monotonic', lambda: self.now
            )
        )
        real_wait = self.reporter._stopping.wait

        def wait(seconds):
            self.waits.append(seconds)
            self.now += seconds
            return real_wait(0)

        self.reporter._stopping.wait = wait

    def report(self):
        return self.reporter.report(
            None, 'wf-1', 'spawn', 'tok-1', {'ok': 1}, None
        )

    def test_an_answer_ends_the_report(self):
        for answer in (completions.TAKEN, completions.STALE):
            self.answers = [answer]
            self.assertEqual(answer, self.report())
        self.assertEqual([], self.waits)

    def test_no_answer_busy_or_error_is_sent_again_with_backoff(self):
        timeout = messaging.MessagingTimeout('lost with the broker')
        error = messaging.MessageDeliveryFailure('broker down')
        self.answers = [timeout, 'busy', error] * 3 + [completions.TAKEN]
        self.assertEqual(completions.TAKEN, self.report())
        self.assertEqual(10, self.sent)
        self.assertEqual([1, 2, 4, 8, 16, 30, 30, 30, 30], self.waits)

    def test_gives_up_after_the_report_timeout(self):
        self.flags(group='compute', completion_report_timeout=100)
        self.answers = [messaging.MessagingTimeout('no conductor')] * 50
        with self.assertLogs('nova.compute.completions', 'ERROR') as logs:
            self.assertIsNone(self.report())
        self.assertIn('Giving up the report of spawn', logs.output[0])
        # Sent at 0, 1, 3, 7, 15, 31, 61 and 91 s; the next would be at
        # 121 s, past the 100 s.
        self.assertEqual(8, self.sent)
        self.assertEqual(91, sum(self.waits))

    def test_a_stopping_host_gives_up_at_once(self):
        self.reporter.stop()
        self.answers = [messaging.MessagingTimeout('no conductor')]
        self.assertIsNone(self.report())
        self.assertEqual(1, self.sent)
        self.assertEqual([], self.waits)
