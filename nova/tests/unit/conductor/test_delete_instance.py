"""delete_instance's stop_build: it waits for the instance's build with
no thread, and the end of the build wakes it."""

import datetime

import fixtures
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova import context as nova_context
from nova import orchestration as orc
from nova import test
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance
from nova.tests import fixtures as nova_fixtures


class StopBuildTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database())
        self.ctxt = nova_context.get_admin_context()
        self.uuid = uuidutils.generate_uuid()
        self.wakeups = []
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.task_complete',
                lambda api, ctxt, *args, **kwargs: self.wakeups.append(args),
            )
        )
        self.step = delete_instance.StopBuild()

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

    def abort_requested(self, workflow_id):
        with self.db.engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.text(
                        'SELECT abort_requested FROM workflows WHERE id = :id'
                    ),
                    {'id': workflow_id},
                ).scalar()
            )

    def test_nothing_to_wait_for(self):
        self.add_workflow(build_instance.NAME, orc.states.REVERTED)
        self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        self.assertIsNone(self.step.execute(self.uuid, build_wait=1))

    def test_aborts_the_build_and_waits_for_it_with_no_thread(self):
        build = self.add_workflow(build_instance.NAME, orc.states.RUNNING)
        self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        pending = self.step.execute(self.uuid, build_wait=1)
        self.assertIsInstance(pending, orc.Pending)
        self.assertEqual(delete_instance.BUILDS_ENDED, pending.token)
        self.assertTrue(self.abort_requested(build))

    def test_after_its_last_wait_it_deletes_anyway(self):
        build = self.add_workflow(build_instance.NAME, orc.states.RUNNING)
        self.assertIsNone(
            self.step.execute(
                self.uuid, build_wait=delete_instance.BUILD_WAITS + 1
            )
        )
        self.assertTrue(self.abort_requested(build))

    def test_the_end_of_the_last_build_wakes_the_delete(self):
        self.add_workflow(build_instance.NAME, orc.states.REVERTED)
        delete = self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        delete_instance.workflow_ended(
            self.ctxt, self.uuid, build_instance.NAME
        )
        self.assertEqual(
            [
                (
                    delete,
                    delete_instance.StopBuild.name,
                    delete_instance.BUILDS_ENDED,
                )
            ],
            self.wakeups,
        )

    def test_no_wake_up_while_another_workflow_runs(self):
        self.add_workflow(build_instance.NAME, orc.states.REVERTED)
        self.add_workflow(build_instance.NAME, orc.states.REVERTING)
        self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        delete_instance.workflow_ended(
            self.ctxt, self.uuid, build_instance.NAME
        )
        self.assertEqual([], self.wakeups)

    def test_no_wake_up_for_a_delete_not_started_nor_by_a_delete(self):
        self.add_workflow(delete_instance.NAME, orc.states.PENDING)
        delete_instance.workflow_ended(
            self.ctxt, self.uuid, build_instance.NAME
        )
        self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        delete_instance.workflow_ended(
            self.ctxt, self.uuid, delete_instance.NAME
        )
        self.assertEqual([], self.wakeups)
