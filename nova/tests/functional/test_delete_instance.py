"""Deleting servers in every state leaves nothing behind."""

import json
import time

import fixtures

from nova import exception
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance
from nova.tests.functional import base


class TestDelete(base.FunctionalTestCase):
    def test_delete_active(self):
        server = self.boot()
        self.wait_for(server['uuid'], 'active')
        self.api.delete(self.context, server['uuid'])
        row = self.wait_for(server['uuid'], gone=True)
        self.wait_for_workflows(server['uuid'])
        self.assertEqual('deleted', row['vm_state'])
        self.assert_nothing_leaked(server['uuid'])
        self.assert_usage_matches_claims()
        self.assert_audit_clean()
        events = self.finished_action_events(server['uuid'], 'delete')
        self.assertTrue(events)
        self.assertEqual({'Success'}, {e['result'] for e in events})

    def test_delete_error(self):
        self.flags(group='fake_driver', spawn_failure_hosts=['host1'])
        server = self.boot()
        self.wait_for(server['uuid'], 'error')
        self.api.delete(self.context, server['uuid'])
        self.wait_for(server['uuid'], gone=True)
        self.assert_nothing_leaked(server['uuid'])

    def test_delete_while_building(self):
        self.flags(group='fake_driver', spawn_delay=1.0)
        server = self.boot()
        # Delete as soon as the build is under way.
        self.api.delete(self.context, server['uuid'])
        self.wait_for(server['uuid'], gone=True)
        self.wait_for_workflows(server['uuid'])
        self.assert_nothing_leaked(server['uuid'])
        self.assert_usage_matches_claims()
        states = {
            w['name']: w['state'] for w in self.workflows_of(server['uuid'])
        }
        self.assertEqual('SUCCESS', states[delete_instance.NAME])
        self.assertIn(states[build_instance.NAME], ('REVERTED', 'SUCCESS'))
        # The build's sentinel did not turn the deleted server to ERROR.
        self.assertEqual([], self.faults(server['uuid']))
        self.assert_audit_clean()

    def test_second_delete_is_a_noop(self):
        server = self.boot()
        self.wait_for(server['uuid'], 'active')
        self.api.delete(self.context, server['uuid'])
        try:
            self.api.delete(self.context, server['uuid'])
        except exception.InstanceNotFound:
            pass  # the first delete already finished: also fine
        self.wait_for(server['uuid'], gone=True)
        deletes = [
            w
            for w in self.workflows_of(server['uuid'])
            if w['name'] == delete_instance.NAME
        ]
        self.assertEqual(1, len(deletes))


class DeleteDuringBuild(base.FunctionalTestCase):
    """A DELETE during a build: stop_build aborts the build, then waits
    for its end as a Pending step (no conductor thread)."""

    #: Seconds the fake hypervisor takes to spawn.
    spawn_delay = 3.0

    def configure(self):
        self.flags(group='fake_driver', spawn_delay=self.spawn_delay)

    def delete_while_spawning(self):
        server = self.boot()
        self.wait_for_step(
            server['uuid'],
            build_instance.NAME,
            build_instance.Spawn.name,
            'RUNNING',
        )
        self.api.delete(self.context, server['uuid'])
        return server

    def wait_for_step(self, uuid, workflow, step, state):
        """The workflow row once its ``step`` is in ``state``."""
        deadline = time.monotonic() + base.WAIT_TIMEOUT
        while True:
            rows = self.query(
                'SELECT w.id, w.state, w.owner, t.state AS step FROM '
                'workflows w JOIN workflow_tasks t ON t.workflow_id = w.id '
                'WHERE w.target_id = :u AND w.name = :w AND t.name = :s',
                u=uuid,
                w=workflow,
                s=step,
            )
            if rows and rows[0]['step'] == state:
                return rows[0]
            if time.monotonic() > deadline:
                self.fail(
                    '%s of %s never %s: %s' % (step, workflow, state, rows)
                )
            time.sleep(0.02)

    def build_waits(self, uuid):
        """The attempts of the delete's build_waits retry controller."""
        return json.loads(
            self.query(
                'SELECT t.result FROM workflow_tasks t JOIN workflows w ON '
                't.workflow_id = w.id WHERE w.target_id = :u AND w.name = :w '
                'AND t.name = :t',
                u=uuid,
                w=delete_instance.NAME,
                t='build_waits',
            )[0]['result']
        )['history']

    def assert_deleted_cleanly(self, uuid):
        self.wait_for(uuid, gone=True)
        self.wait_for_workflows(uuid)
        self.assert_nothing_leaked(uuid)
        self.assert_usage_matches_claims()
        self.assert_audit_clean()
        states = {w['name']: w['state'] for w in self.workflows_of(uuid)}
        self.assertEqual('SUCCESS', states[delete_instance.NAME])
        self.assertIn(states[build_instance.NAME], ('REVERTED', 'SUCCESS'))
        self.assertEqual([], self.faults(uuid))


class TestDeleteWaitsForBuildWithoutThread(DeleteDuringBuild):
    """stop_build is woken when the build's workflow ends."""

    def test_stop_build_waits_with_no_thread_and_is_woken(self):
        server = self.delete_while_spawning()
        delete = self.wait_for_step(
            server['uuid'],
            delete_instance.NAME,
            delete_instance.StopBuild.name,
            'RUNNING',
        )
        # Waiting: no conductor owns the delete, none of its threads
        # runs it, while the build still spawns.
        deadline = time.monotonic() + base.WAIT_TIMEOUT
        while (
            delete['owner'] is not None
            or delete['id'] in self.stack.conductors[0].runner.active()
        ):
            if time.monotonic() > deadline:
                self.fail('delete %s never waited unowned' % delete)
            time.sleep(0.02)
            delete = self.wait_for_step(
                server['uuid'],
                delete_instance.NAME,
                delete_instance.StopBuild.name,
                'RUNNING',
            )
        self.assertEqual('RUNNING', delete['state'])
        self.assert_deleted_cleanly(server['uuid'])
        # Woken by the end of the build, not by its timeout: one wait.
        self.assertEqual(
            [{'value': 1, 'failures': {}}], self.build_waits(server['uuid'])
        )


class TestDeleteWhenTheWakeUpIsLost(DeleteDuringBuild):
    """A wake-up that never comes: stop_build's timeout (a lease plus a
    sweep) fails its wait, build_waits runs it again, it finds the build
    ended and the delete goes on."""

    spawn_delay = 1.0

    def configure(self):
        super().configure()
        # stop_build then waits lease_seconds + sweep_interval = 5 s.
        self.flags(group='orchestration', lease_seconds=4)
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.workflows.delete_instance.workflow_ended',
                lambda *args, **kwargs: None,
            )
        )

    def test_stop_build_waits_again_after_its_timeout(self):
        server = self.delete_while_spawning()
        self.assert_deleted_cleanly(server['uuid'])
        first, second = self.build_waits(server['uuid'])
        self.assertEqual(
            [delete_instance.StopBuild.name], list(first['failures'])
        )
        self.assertIn('TaskTimeout', json.dumps(first['failures']))
        self.assertEqual({'value': 2, 'failures': {}}, second)
