"""Builds and deletes with [conductor] spawn_mode = report.

The spawn step casts to the compute host and returns a Pending token:
the workflow waits with no thread until the host reports back with
task_complete. The scenarios of the call mode must hold unchanged.
"""

import time

from nova.conductor.workflows import build_instance
from nova.tests.functional import base
from nova.tests.functional import test_build_instance
from nova.tests.functional import test_delete_instance


class ReportMode:
    def configure(self):
        super().configure()
        self.flags(group='conductor', spawn_mode='report')


class TestBootReport(ReportMode, test_build_instance.TestBoot):
    pass


class TestFailureAtEveryStepReport(
    ReportMode, test_build_instance.TestFailureAtEveryStep
):
    pass


class TestRescheduleReport(ReportMode, test_build_instance.TestReschedule):
    pass


class TestSpawnFailureReport(
    ReportMode, test_build_instance.TestSpawnFailureOnOnlyHost
):
    pass


class TestDeleteReport(ReportMode, test_delete_instance.TestDelete):
    pass


class TestDeleteWaitsForBuildReport(
    ReportMode, test_delete_instance.TestDeleteWaitsForBuildWithoutThread
):
    pass


class TestWaitingWithoutThread(ReportMode, base.FunctionalTestCase):
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
