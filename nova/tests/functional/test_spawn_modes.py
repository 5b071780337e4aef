"""How the spawn step waits: ``[conductor] spawn_mode``.

With ``report`` (the default, which the other functional tests run) the
spawn step casts to the compute host and returns a Pending token: the
workflow waits with no thread until the host reports back, and the host
reports until a conductor has committed the outcome. With ``call`` the
step waits on an RPC call: the scenarios of the report mode must hold
unchanged.
"""

import time

import oslo_messaging as messaging

from nova.compute import completions
from nova.conductor import rpcapi as conductor_rpcapi
from nova.conductor.workflows import build_instance
from nova.tests.functional import base
from nova.tests.functional import test_build_instance
from nova.tests.functional import test_delete_instance


class CallMode:
    def configure(self):
        super().configure()
        self.flags(group='conductor', spawn_mode='call')


class TestBootCall(CallMode, test_build_instance.TestBoot):
    pass


class TestFailureAtEveryStepCall(
    CallMode, test_build_instance.TestFailureAtEveryStep
):
    pass


class TestRescheduleCall(CallMode, test_build_instance.TestReschedule):
    pass


class TestSpawnFailureCall(
    CallMode, test_build_instance.TestSpawnFailureOnOnlyHost
):
    pass


class TestDeleteCall(CallMode, test_delete_instance.TestDelete):
    pass


class TestDeleteWaitsForBuildCall(
    CallMode, test_delete_instance.TestDeleteWaitsForBuildWithoutThread
):
    pass


class TestWaitingWithoutThread(base.FunctionalTestCase):
    def configure(self):
        super().configure()
        self.flags(group='fake_driver', spawn_delay=2.0)

    def test_no_conductor_thread_waits_for_a_spawn(self):
        servers = [self.boot(name='s%d' % i) for i in range(3)]
        deadline = time.monotonic() + base.WAIT_TIMEOUT
        # While the hosts spawn, the workflows are RUNNING, unowned, and
        # no conductor runs them.
        while True:
            rows = self.query(
                "SELECT w.state, w.owner, t.state AS step "
                "FROM workflows w JOIN workflow_tasks t ON "
                "t.workflow_id = w.id WHERE t.name = :spawn",
                spawn=build_instance.Spawn.name,
            )
            # Spawns take 2 s: all three wait at once, unowned, and no
            # conductor thread runs any of them.
            if (
                len(rows) == 3
                and all(
                    (r['step'], r['state'], r['owner'])
                    == ('RUNNING', 'RUNNING', None)
                    for r in rows
                )
                and not self.stack.conductors[0].runner.active()
            ):
                break
            if time.monotonic() > deadline:
                self.fail('spawns never all waiting unowned: %s' % rows)
            time.sleep(0.02)
        for server in servers:
            self.wait_for(server['uuid'], 'active')
            self.assertEqual(1, self.boots_of(server['uuid']))

    def test_spawn_timeout_reverts_the_build(self):
        self.flags(group='conductor', spawn_timeout=1)
        server = self.boot()
        self.wait_for(server['uuid'], 'error')
        self.wait_for_workflows(server['uuid'])
        self.assertIn(
            'no completion', self.faults(server['uuid'])[0]['message']
        )
        self.assert_nothing_leaked(server['uuid'])


class TestReportsUntilAcknowledged(base.FunctionalTestCase):
    """The host keeps a spawn's report until a conductor committed it."""

    def setUp(self):
        super().setUp()
        self.patch(completions, 'RETRY_FIRST', 0.05)
        self.answers = []
        real = conductor_rpcapi.ConductorAPI.report_completion
        test = self

        def report_completion(api, *args, **kwargs):
            what = test.lose.pop(0) if test.lose else None
            if what == 'request':  # the broker lost it on the way
                raise messaging.MessagingTimeout('request lost')
            answer = real(api, *args, **kwargs)
            test.answers.append(answer)
            if what == 'answer':  # committed; the conductor died then
                raise messaging.MessagingTimeout('answer lost')
            return answer

        self.patch(
            conductor_rpcapi.ConductorAPI,
            'report_completion',
            report_completion,
        )

    def boot_and_check(self):
        self.server = server = self.boot()
        self.wait_for(server['uuid'], 'active')
        self.wait_for_workflows(server['uuid'])
        self.assertEqual(1, self.boots_of(server['uuid']))
        self.assertEqual(
            ['SUCCESS'],
            [w['state'] for w in self.workflows_of(server['uuid'])],
        )
        self.assert_usage_matches_claims()
        self.assert_audit_clean()

    def test_a_lost_report_is_sent_again(self):
        self.lose = ['request', 'request']
        self.boot_and_check()
        self.assertEqual(['taken'], self.answers)

    def test_a_report_committed_but_not_answered_is_taken_once(self):
        self.lose = ['answer']
        self.boot_and_check()
        # The second report finds the step done: stale, nothing changes.
        deadline = time.monotonic() + base.WAIT_TIMEOUT
        while len(self.answers) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(['taken', 'stale'], self.answers)
        self.assertEqual(1, self.boots_of(self.server['uuid']))
