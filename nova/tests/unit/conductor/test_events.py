"""The listener of instance workflows (nova.conductor.events): a write
cut by a dropped database connection is made again, so no action event
and no wake-up of a waiting delete is lost (found by
nova/tests/integration/test_db_outages.py: events left unfinished when
the conductor's sessions were killed)."""

import datetime

import fixtures
from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova import context as nova_context
from nova import orchestration as orc
from nova import test
from nova.compute import vm_states
from nova.conductor import events
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance
from nova.db import actions as actions_db
from nova.db import instances as instances_db
from nova.tests import fixtures as nova_fixtures


class FailsOnce:
    """``function``, whose first call raises ``error`` before doing
    anything (its connection dropped); the calls after it run it."""

    def __init__(self, function, error):
        self.function = function
        self.error = error
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            raise self.error
        return self.function(*args, **kwargs)


class AnswerLostOnce(FailsOnce):
    """``function``, whose first call does its work and commits, then
    raises ``error`` (the connection dropped before COMMIT's answer)."""

    def __call__(self, *args, **kwargs):
        self.calls += 1
        result = self.function(*args, **kwargs)
        if self.calls == 1:
            raise self.error
        return result


def dropped():
    return db_exc.DBConnectionError('server closed the connection')


class ListenerTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database())
        self.ctxt = nova_context.get_admin_context()
        self.uuid = uuidutils.generate_uuid()
        instances_db.create(
            self.ctxt,
            {
                'uuid': self.uuid,
                'project_id': 'p1',
                'user_id': 'u1',
                'vm_state': vm_states.BUILDING,
            },
        )
        self.action_id = actions_db.action_start(
            self.ctxt, self.uuid, 'create'
        )
        self.listener = events.InstanceWorkflowListener(
            self.ctxt.to_dict(),
            self.action_id,
            build_instance.EVENT_STEPS,
            instance_uuid=self.uuid,
        )

    def fail_once(self, path, wrapper=FailsOnce):
        """Make the function at ``path`` fail its first call."""
        module, name = path.rsplit('.', 1)
        original = getattr(__import__(module, fromlist=[name]), name)
        flaky = wrapper(original, dropped())
        self.useFixture(fixtures.MonkeyPatch(path, flaky))
        return flaky

    def tell(self, kind, name, state):
        self.listener(orc.Event(kind, 'wf-1', name, state, None, None))

    def recorded_events(self):
        with self.db.engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(
                    sa.text(
                        'SELECT event, result FROM instance_actions_events '
                        'WHERE action_id = :id ORDER BY id'
                    ),
                    {'id': self.action_id},
                )
            ]

    def test_event_start_and_finish_survive_a_dropped_connection(self):
        start = self.fail_once('nova.db.actions.event_start')
        finish = self.fail_once('nova.db.actions.event_finish')
        self.tell('task', 'spawn', orc.states.RUNNING)
        self.assertEqual([('conductor_spawn', None)], self.recorded_events())
        self.tell('task', 'spawn', orc.states.SUCCESS)
        self.assertEqual(
            [('conductor_spawn', 'Success')], self.recorded_events()
        )
        self.assertEqual((2, 2), (start.calls, finish.calls))

    def test_a_finish_whose_answer_was_lost_is_recorded_once(self):
        self.tell('task', 'spawn', orc.states.RUNNING)
        finish = self.fail_once(
            'nova.db.actions.event_finish', wrapper=AnswerLostOnce
        )
        self.tell('task', 'spawn', orc.states.SUCCESS)
        self.assertEqual(2, finish.calls)
        self.assertEqual(
            [('conductor_spawn', 'Success')], self.recorded_events()
        )

    def test_other_errors_are_not_retried(self):
        calls = []

        def broken(*args, **kwargs):
            calls.append(args)
            raise ValueError('a bug')

        self.useFixture(
            fixtures.MonkeyPatch('nova.db.actions.event_start', broken)
        )
        self.assertRaises(
            ValueError, self.tell, 'task', 'spawn', orc.states.RUNNING
        )
        self.assertEqual(1, len(calls))

    def test_wake_up_of_the_delete_survives_a_dropped_connection(self):
        wakeups = []
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.task_complete',
                lambda api, ctxt, *args, **kwargs: wakeups.append(args),
            )
        )
        self.add_workflow(build_instance.NAME, orc.states.REVERTED)
        delete = self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        self.fail_once('nova.conductor.workflows.delete_instance._unfinished')
        self.tell('workflow', build_instance.NAME, orc.states.REVERTED)
        self.assertEqual(
            [
                (
                    delete,
                    delete_instance.StopBuild.name,
                    delete_instance.BUILDS_ENDED,
                )
            ],
            wakeups,
        )

    def add_workflow(self, name, state):
        """A workflow of the instance in ``state``; returns its id."""
        workflow_id = uuidutils.generate_uuid()
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    'INSERT INTO workflows (id, name, state, target_type, '
                    'target_id, generation, abort_requested, adoptions, '
                    'created_at) VALUES (:id, :name, :state, :type, :target, '
                    '1, :abort, 0, :now)'
                ),
                {
                    'id': workflow_id,
                    'name': name,
                    'state': state,
                    'type': 'instance',
                    'target': self.uuid,
                    'abort': False,
                    'now': datetime.datetime.utcnow(),
                },
            )
        return workflow_id
