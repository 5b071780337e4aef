"""The sentinel of instance workflows (base.MarkErrorOnRevert): how an
aborted workflow leaves its server, by who asked for the abort.

Each test runs a real engine on the nova database whose second step is
aborted, as ``nova-manage workflow abort`` or a DELETE would do it.
"""

import datetime
from unittest import mock

from oslo_utils import uuidutils
import sqlalchemy as sa

from nova import context as nova_context
from nova import exception
from nova import orchestration as orc
from nova import test
from nova.compute import vm_states
from nova.conductor.workflows import base
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance
from nova.db import actions as actions_db
from nova.db import instances as instances_db
from nova.db import workflows as workflows_db
from nova.tests import fixtures as nova_fixtures


class AbortedHere(orc.Task):
    """Has its own workflow aborted while it runs, as an operator would."""

    def execute(self, workflow_id):
        orc.request_abort(workflow_id, workflows_db.get_backend())


class SentinelFixture(test.TestCase):
    """A BUILDING server on the nova database, and what to look at."""

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
                'task_state': vm_states.SPAWNING,
            },
        )

    def run_aborted(self, name=build_instance.NAME, action='create'):
        """Run [sentinel, aborted step] as workflow ``name``; its id."""
        action_id = actions_db.action_start(self.ctxt, self.uuid, action)
        engine = orc.Engine(
            orc.LinearFlow(name).add(
                base.MarkErrorOnRevert(action), AbortedHere(name='aborted')
            ),
            store={
                'context': self.ctxt.to_dict(),
                'instance_uuid': self.uuid,
                'action_id': action_id,
            },
            backend=workflows_db.get_backend(),
            target=('instance', self.uuid),
            name=name,
            resumable=False,
        )
        exc = self.assertRaises(orc.WorkflowFailed, engine.run)
        self.assertEqual(orc.states.REVERTED, exc.state)
        self.action_id = action_id
        return engine.workflow_id

    def add_workflow(self, name, state):
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    'INSERT INTO workflows (id, name, state, target_type, '
                    'target_id, generation, abort_requested, adoptions, '
                    'created_at) VALUES (:id, :name, :state, :type, '
                    ':target, 1, :abort, 0, :now)'
                ),
                {
                    'id': uuidutils.generate_uuid(),
                    'name': name,
                    'state': state,
                    'type': 'instance',
                    'target': self.uuid,
                    'abort': False,
                    'now': datetime.datetime.utcnow(),
                },
            )

    def server(self):
        """(vm_state, task_state, fault messages, action message)."""
        instance = instances_db.get(self.ctxt, self.uuid, read_deleted=True)
        with self.db.engine.connect() as conn:
            faults = [
                row.message
                for row in conn.execute(
                    sa.text(
                        'SELECT message FROM instance_faults WHERE '
                        'instance_uuid = :u ORDER BY id'
                    ),
                    {'u': self.uuid},
                )
            ]
            action = conn.execute(
                sa.text('SELECT message FROM instance_actions WHERE id = :i'),
                {'i': self.action_id},
            ).scalar()
        return instance['vm_state'], instance['task_state'], faults, action


class SentinelTestCase(SentinelFixture):
    def test_an_operators_abort_is_an_error_with_a_fault(self):
        workflow_id = self.run_aborted()
        self.assertEqual(
            (
                vm_states.ERROR,
                None,
                [
                    'Server create aborted by an operator (nova-manage '
                    'workflow abort %s)' % workflow_id
                ],
                'Error',
            ),
            self.server(),
        )

    def test_a_deletes_abort_leaves_the_server_to_the_delete(self):
        self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        self.run_aborted()
        self.assertEqual(
            (vm_states.BUILDING, vm_states.SPAWNING, [], 'Aborted'),
            self.server(),
        )

    def test_a_finished_delete_does_not_own_a_later_abort(self):
        # A delete that failed earlier left the server ERROR; it drives
        # nothing now.
        self.add_workflow(delete_instance.NAME, orc.states.REVERTED)
        self.run_aborted()
        self.assertEqual(vm_states.ERROR, self.server()[0])

    def test_a_deleted_server_is_left_alone(self):
        instances_db.soft_delete(self.ctxt, self.uuid)
        self.run_aborted()
        vm_state, _, faults, action = self.server()
        self.assertEqual(([], 'Aborted'), (faults, action))
        self.assertNotEqual(vm_states.ERROR, vm_state)

    def test_an_aborted_delete_is_an_error(self):
        # Nothing in nova aborts a delete: its own row does not count.
        workflow_id = self.run_aborted(delete_instance.NAME, 'delete')
        self.assertEqual(
            (
                vm_states.ERROR,
                None,
                [
                    'Server delete aborted by an operator (nova-manage '
                    'workflow abort %s)' % workflow_id
                ],
                'Error',
            ),
            self.server(),
        )

    def test_a_concurrent_delete_owns_the_abort_of_another(self):
        self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        self.run_aborted(delete_instance.NAME, 'delete')
        self.assertEqual([], self.server()[2])


class CrashedAfterCommit(Exception):
    """The process died right after the commit before this call."""


class RevertRunAgainTestCase(SentinelFixture):
    """A sentinel's revert run again after a crash (found by
    nova/tests/integration/test_crash_points.py: the engine records the
    revert done in its own commit, so a process that died after the
    revert's writes but before that commit runs it again on restart).
    The server ends with one fault and its action finished once."""

    def setUp(self):
        super().setUp()
        self.action_id = actions_db.action_start(
            self.ctxt, self.uuid, 'create'
        )
        self.workflow_id = uuidutils.generate_uuid()

    def revert(self, failures=None):
        if failures is None:
            failures = {
                'select_destinations': orc.Failure.from_exception(
                    exception.NoValidHost(reason='none left')
                )
            }
        base.finish_revert(
            self.ctxt,
            self.uuid,
            self.action_id,
            'create',
            self.workflow_id,
            failures,
        )

    def finish_time(self):
        return actions_db.action_get(self.ctxt, self.action_id)['finish_time']

    def test_a_revert_run_again_records_one_fault(self):
        self.revert()
        finished = self.finish_time()
        self.revert()
        self.assertEqual(
            (
                vm_states.ERROR,
                None,
                ['No valid host was found. none left'],
                'Error',
            ),
            self.server(),
        )
        self.assertEqual(finished, self.finish_time())

    def test_a_crash_between_the_writes_of_a_revert(self):
        # Whatever write of the revert the process dies after, what it
        # committed is all or nothing: the revert run again on restart
        # still records one fault.
        def crash(*args, **kwargs):
            raise CrashedAfterCommit()

        with mock.patch.object(actions_db, 'action_finish', crash):
            self.assertRaises(CrashedAfterCommit, self.revert)
        self.revert()
        self.assertEqual(
            (
                vm_states.ERROR,
                None,
                ['No valid host was found. none left'],
                'Error',
            ),
            self.server(),
        )

    def test_an_abort_decided_for_a_delete_is_not_taken_back(self):
        # The first run left the server to its delete; the delete failed
        # before the revert ran again. The revert does not change its
        # mind (the failed delete set the server ERROR itself).
        self.add_workflow(delete_instance.NAME, orc.states.RUNNING)
        aborted = {'aborted': orc.Failure.from_exception(orc.Aborted('x'))}
        self.revert(aborted)
        with self.db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE workflows SET state = 'REVERTED'"))
        self.revert(aborted)
        self.assertEqual(
            (vm_states.BUILDING, vm_states.SPAWNING, [], 'Aborted'),
            self.server(),
        )

    def test_a_server_deleted_meanwhile_gets_no_fault(self):
        instances_db.soft_delete(self.ctxt, self.uuid)
        self.revert()
        vm_state, _, faults, action = self.server()
        self.assertEqual(([], 'Error'), (faults, action))
        self.assertNotEqual(vm_states.ERROR, vm_state)
