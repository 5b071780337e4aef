"""The power actions of a server through the REST API: stop, start,
reboot, pause, unpause, suspend, resume (each a conductor workflow,
nova.conductor.workflows.power_actions), their state checks and errors
as stock nova's, one action at a time, and a DELETE that wins.
"""

import functools
import threading

from nova import exception
from nova.conductor.workflows import power_actions as power_workflows
from nova.tests.functional import base
from nova.virt import fake
from nova.virt import power_state

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'


class ServerApiTestCase(base.RestApiTestCase):
    """A server of project alpha, ACTIVE, and its REST API."""

    def setUp(self):
        super().setUp()
        response = self.call(
            'POST',
            '/servers',
            {
                'server': {
                    'name': 'vm',
                    'imageRef': IMAGE,
                    'flavorRef': '1',
                    'networks': 'auto',
                }
            },
        )
        self.assertEqual(202, response.status_int, response.body)
        self.uuid = response.json['server']['id']
        self.wait_for(self.uuid, 'active')
        self.wait_for_workflows(self.uuid)

    def act(self, body, expect=202, **kwargs):
        response = self.call(
            'POST', '/servers/%s/action' % self.uuid, body, **kwargs
        )
        self.assertEqual(expect, response.status_int, response.body)
        return response

    def server(self):
        response = self.call('GET', '/servers/%s' % self.uuid)
        return response.json['server']

    def settle(self, vm_state):
        row = self.wait_for(self.uuid, vm_state)
        self.wait_for_workflows(self.uuid)
        return row

    def actions(self):
        response = self.call(
            'GET', '/servers/%s/os-instance-actions' % self.uuid
        )
        return [a['action'] for a in response.json['instanceActions']]

    def workflow_names(self):
        return [w['name'] for w in self.workflows_of(self.uuid) if w['name']]


class ServerActionsTest(ServerApiTestCase):
    def test_stop_and_start(self):
        self.act({'os-stop': None})
        row = self.settle('stopped')
        self.assertEqual(power_state.SHUTDOWN, row['power_state'])
        server = self.server()
        self.assertEqual('SHUTOFF', server['status'])
        self.assertEqual(4, server['OS-EXT-STS:power_state'])
        self.act({'os-start': None})
        row = self.settle('active')
        self.assertEqual(power_state.RUNNING, row['power_state'])
        self.assertEqual('ACTIVE', self.server()['status'])
        self.assertEqual(['start', 'stop', 'create'], self.actions())
        self.assertEqual(
            ['build_instance', 'stop_instance', 'start_instance'],
            self.workflow_names(),
        )
        events = self.finished_action_events(self.uuid, 'stop', count=2)
        self.assertEqual(
            [
                ('conductor_power_action', 'Success'),
                ('conductor_record_power_state', 'Success'),
            ],
            [(e['event'], e['result']) for e in events],
        )
        self.assert_audit_clean()

    def test_reboot_soft_and_hard(self):
        self.act({'reboot': {'type': 'SOFT'}})
        self.settle('active')
        self.act({'reboot': {'type': 'hard'}})
        self.settle('active')
        self.assertEqual(['reboot', 'reboot', 'create'], self.actions())
        # Each reboot boots the guest again.
        self.assertEqual(3, self.boots_of(self.uuid))

    def test_a_stopped_server_reboots_hard_only(self):
        self.act({'os-stop': None})
        self.settle('stopped')
        response = self.act({'reboot': {'type': 'SOFT'}}, expect=409)
        self.assertEqual(
            "Cannot 'reboot' instance %s while it is in vm_state stopped"
            % self.uuid,
            response.json['conflictingRequest']['message'],
        )
        self.act({'reboot': {'type': 'HARD'}})
        row = self.settle('active')
        self.assertEqual(power_state.RUNNING, row['power_state'])

    def test_pause_unpause_suspend_resume(self):
        for body, vm_state, status, power in (
            ({'pause': None}, 'paused', 'PAUSED', power_state.PAUSED),
            ({'unpause': None}, 'active', 'ACTIVE', power_state.RUNNING),
            ({'suspend': None}, 'suspended', 'SUSPENDED', 7),
            ({'resume': None}, 'active', 'ACTIVE', power_state.RUNNING),
        ):
            self.act(body)
            row = self.settle(vm_state)
            self.assertEqual(power, row['power_state'], body)
            self.assertEqual(status, self.server()['status'], body)
        self.assertEqual(
            ['resume', 'suspend', 'unpause', 'pause', 'create'],
            self.actions(),
        )
        self.assert_audit_clean()

    def test_a_state_conflict_writes_nothing(self):
        before = (self.actions(), self.workflow_names())
        for body, state in (
            ({'os-start': None}, 'active'),
            ({'unpause': None}, 'active'),
            ({'resume': None}, 'active'),
        ):
            name = next(iter(body)).replace('os-', '')
            response = self.act(body, expect=409)
            self.assertEqual(
                {
                    'conflictingRequest': {
                        'code': 409,
                        'message': "Cannot '%s' instance %s while it is in "
                        'vm_state %s' % (name, self.uuid, state),
                    }
                },
                response.json,
            )
        self.assertEqual(before, (self.actions(), self.workflow_names()))
        self.assertIsNone(self.instance_row(self.uuid)['task_state'])

    def test_a_server_on_no_host_is_not_ready(self):
        # An ERROR server whose build never placed it.
        with self.db.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE instances SET vm_state = 'error', host = NULL "
                "WHERE uuid = '%s'" % self.uuid
            )
        response = self.act({'os-stop': None}, expect=409)
        self.assertEqual(
            'Instance %s is not ready' % self.uuid,
            response.json['conflictingRequest']['message'],
        )
        self.assertEqual(['create'], self.actions())

    def test_bad_bodies_are_400(self):
        for body, message in (
            ({'fly': None}, 'There is no such action: fly'),
            (
                {'os-stop': None, 'os-start': None},
                'Malformed message body: too many body keys',
            ),
            ([], 'Malformed message body: cannot understand JSON'),
        ):
            response = self.act(body, expect=400)
            self.assertEqual(
                message, response.json['badRequest']['message'], body
            )
        for body in (
            {'reboot': {'type': 'WARM'}},
            {'reboot': {}},
            {'reboot': None},
            {'reboot': {'type': 'SOFT', 'extra': 1}},
        ):
            response = self.act(body, expect=400)
            self.assertIn(
                'Invalid input', response.json['badRequest']['message']
            )
        self.assertEqual(['create'], self.actions())

    def test_another_project_sees_no_server(self):
        response = self.act({'os-stop': None}, expect=404, project='beta')
        self.assertIn('could not be found', response.body.decode())
        self.assertEqual('active', self.instance_row(self.uuid)['vm_state'])

    def block_host(self):
        """Hold the host's next power action until the returned event."""
        go = threading.Event()
        entered = threading.Event()
        real = fake.FakeDriver.power_off

        def power_off(driver, instance):
            entered.set()
            go.wait(10)
            return real(driver, instance)

        self.patch(fake.FakeDriver, 'power_off', power_off)
        self.addCleanup(go.set)
        return entered, go

    def test_one_action_at_a_time(self):
        entered, go = self.block_host()
        self.act({'os-stop': None})
        self.assertTrue(entered.wait(10))
        response = self.act({'reboot': {'type': 'HARD'}}, expect=409)
        self.assertEqual(
            "Cannot 'reboot' instance %s while it is in task_state "
            'powering-off' % self.uuid,
            response.json['conflictingRequest']['message'],
        )
        go.set()
        self.settle('stopped')
        self.assertEqual(['stop', 'create'], self.actions())

    def test_a_delete_wins_over_a_running_action(self):
        entered, go = self.block_host()
        self.act({'os-stop': None})
        self.assertTrue(entered.wait(10))
        response = self.call('DELETE', '/servers/%s' % self.uuid)
        self.assertEqual(204, response.status_int, response.body)
        go.set()
        self.wait_for(self.uuid, gone=True)
        self.wait_for_workflows(self.uuid)
        states = {w['name']: w['state'] for w in self.workflows_of(self.uuid)}
        self.assertEqual('SUCCESS', states['delete_instance'])
        self.assertIn(states['stop_instance'], ('REVERTED', 'SUCCESS'))
        self.assert_nothing_leaked(self.uuid)
        self.assert_audit_clean()

    def during_record(self, before=None, after=None):
        """Run ``before()`` and ``after()`` around the real execute of
        the next record_power_state step (in the conductor's thread);
        -> the task_state right after it, once it ran."""
        seen = []
        done = threading.Event()
        real = power_workflows.RecordPowerState.execute

        # The engine reads a step's inputs from its signature: keep it.
        @functools.wraps(real)
        def execute(step, *args, **kwargs):
            if before:
                before()
            try:
                return real(step, *args, **kwargs)
            finally:
                seen.append(self.instance_row(self.uuid)['task_state'])
                if after:
                    after()
                done.set()

        self.patch(power_workflows.RecordPowerState, 'execute', execute)
        return seen, done

    def test_a_delete_during_the_last_step_keeps_its_task_state(self):
        # Found by review: the step's write put stopped/None over the
        # delete's 'deleting', and the API took a start meanwhile.
        def delete():
            response = self.call('DELETE', '/servers/%s' % self.uuid)
            self.assertEqual(204, response.status_int, response.body)

        seen, done = self.during_record(before=delete)
        self.act({'os-stop': None})
        self.assertTrue(done.wait(20))
        self.assertEqual(['deleting'], seen)
        self.wait_for(self.uuid, gone=True)
        self.wait_for_workflows(self.uuid)
        states = {w['name']: w['state'] for w in self.workflows_of(self.uuid)}
        self.assertEqual(
            {
                'build_instance': 'SUCCESS',
                'stop_instance': 'REVERTED',
                'delete_instance': 'SUCCESS',
            },
            states,
        )
        self.assert_nothing_leaked(self.uuid)
        self.assert_audit_clean()

    def test_no_action_while_a_workflow_is_unfinished(self):
        # Found by review: a workflow whose last write cleared the
        # task_state but whose end was not recorded yet (a crash there
        # makes the step run again) let another action start.
        answers = []
        seen, done = self.during_record(
            after=lambda: answers.append(self.act({'os-start': None}, 409))
        )
        self.act({'os-stop': None})
        self.assertTrue(done.wait(20))
        self.assertEqual([None], seen)
        self.assertEqual(
            "Cannot 'start' instance %s while it is in workflow "
            'stop_instance' % self.uuid,
            answers[0].json['conflictingRequest']['message'],
        )
        self.settle('stopped')
        self.assertEqual(['stop', 'create'], self.actions())

    def test_a_refused_action_keeps_the_vm_state_with_a_fault(self):
        def refuse(driver, instance):
            raise exception.InstanceInvalidPowerState(
                instance_id=instance['uuid'], state='crashed'
            )

        self.patch(fake.FakeDriver, 'pause', refuse)
        self.act({'pause': None})
        row = self.settle('active')
        self.assertIsNone(row['task_state'])
        self.assertIn(
            'power state crashed', self.faults(self.uuid)[-1]['message']
        )
        events = self.finished_action_events(self.uuid, 'pause', count=1)
        self.assertEqual(
            ('conductor_power_action', 'Error'),
            (events[0]['event'], events[0]['result']),
        )
        self.assertEqual(
            ['REVERTED'],
            [
                w['state']
                for w in self.workflows_of(self.uuid)
                if w['name'] == 'pause_instance'
            ],
        )
        self.assert_audit_clean()

    def test_a_failed_reboot_leaves_the_server_in_error(self):
        def fail(driver, instance, reboot_type='SOFT'):
            raise exception.InstanceNotRunning(instance_id=instance['uuid'])

        self.patch(fake.FakeDriver, 'reboot', fail)
        self.act({'reboot': {'type': 'SOFT'}})
        self.settle('error')
        self.assertEqual('ERROR', self.server()['status'])
        self.assert_audit_clean()


class LockTest(ServerApiTestCase):
    """lock and unlock, and what a locked server refuses."""

    def test_a_locked_server_refuses_its_owner_not_an_admin(self):
        self.act({'lock': None})
        self.assertTrue(self.server()['locked'])
        locked = "Instance %s is locked" % self.uuid
        response = self.act({'os-stop': None}, expect=409)
        self.assertEqual(
            locked, response.json['conflictingRequest']['message']
        )
        response = self.call('DELETE', '/servers/%s' % self.uuid)
        self.assertEqual(409, response.status_int)
        self.assertEqual(
            locked, response.json['conflictingRequest']['message']
        )
        # An admin may act on it.
        self.act({'os-stop': None}, user='admin', project='alpha')
        self.settle('stopped')
        self.act({'unlock': None})
        self.assertFalse(self.server()['locked'])
        self.act({'os-start': None})
        self.settle('active')
        self.assertEqual(
            ['start', 'unlock', 'stop', 'lock', 'create'], self.actions()
        )

    def test_an_admin_lock_is_unlocked_by_an_admin_only(self):
        self.act({'lock': None}, user='admin', project='ops')
        # Found by review: the owner's lock turned the admin's lock into
        # its own, which it could then lift.
        self.act({'lock': None})
        response = self.act({'unlock': None}, expect=403)
        self.assertIn('forbidden', response.json)
        self.assertTrue(self.server()['locked'])
        self.act({'unlock': None}, user='admin', project='ops')
        self.assertFalse(self.server()['locked'])
