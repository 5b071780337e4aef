"""Who aborted a build decides how its server ends.

An operator's ``nova-manage workflow abort`` leaves the server ERROR with
a fault saying so: nothing drives it any more. A DELETE's abort leaves it
to the delete, which goes on (no ERROR). A DELETE writes its abort
requests and its delete workflow in one transaction, so a failure between
them leaves neither.
"""

import io

import fixtures

from nova.cmd import manage_workflow
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance
from nova.tests.functional import test_delete_instance


class Boom(Exception):
    """A failure planted between two writes of a DELETE."""


class AbortTestCase(test_delete_instance.DeleteDuringBuild):
    def nova_manage_abort(self, workflow_id):
        """``nova-manage workflow abort ID``: its exit code and output."""
        out = self.useFixture(
            fixtures.MonkeyPatch('sys.stdout', io.StringIO())
        ).new_value
        code = manage_workflow.WorkflowCommands().abort(workflow_id)
        return code, out.getvalue()

    def lose_build_casts(self):
        """The build casts never reach a conductor: a sweeper adopts the
        builds once they are older than sweep_grace_seconds."""
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.build_instances',
                lambda *args, **kwargs: None,
            )
        )

    def build_of(self, uuid):
        (row,) = [
            w for w in self.workflows_of(uuid) if w['name'] == 'build_instance'
        ]
        return row

    def assert_aborted_by_operator(self, uuid, workflow_id):
        self.wait_for(uuid, 'error')
        self.wait_for_workflows(uuid)
        (fault,) = self.faults(uuid)
        self.assertEqual(
            'Server create aborted by an operator (nova-manage workflow '
            'abort %s)' % workflow_id,
            fault['message'],
        )
        self.assertEqual('REVERTED', self.build_of(uuid)['state'])
        self.assert_nothing_leaked(uuid)
        self.assert_usage_matches_claims()
        self.assert_audit_clean()
        # It is deleted as any ERROR server.
        self.api.delete(self.context, uuid)
        self.assert_deleted(uuid)

    def assert_deleted(self, uuid):
        self.wait_for(uuid, gone=True)
        self.wait_for_workflows(uuid)
        self.assert_nothing_leaked(uuid)
        self.assert_audit_clean()


class TestOperatorAbort(AbortTestCase):
    def test_abort_while_spawning_sets_error_with_a_fault(self):
        server = self.boot()
        build = self.wait_for_step(
            server['uuid'],
            build_instance.NAME,
            build_instance.Spawn.name,
            'RUNNING',
        )
        code, out = self.nova_manage_abort(build['id'])
        self.assertEqual(0, code, out)
        self.assert_aborted_by_operator(server['uuid'], build['id'])

    def test_abort_of_a_build_no_conductor_claimed_yet(self):
        # The engine reverts only the steps that ran: none here, not even
        # the sentinel, so the conductor ends the server itself.
        self.lose_build_casts()
        server = self.boot()
        build = self.build_of(server['uuid'])
        self.assertEqual('PENDING', build['state'])
        code, out = self.nova_manage_abort(build['id'])
        self.assertEqual(0, code, out)
        self.assert_aborted_by_operator(server['uuid'], build['id'])


class TestDeleteAbort(AbortTestCase):
    def test_delete_while_spawning_is_no_error(self):
        server = self.delete_while_spawning()
        self.assert_deleted_cleanly(server['uuid'])
        self.assertEqual('REVERTED', self.build_of(server['uuid'])['state'])

    def test_delete_of_a_build_no_conductor_claimed_yet(self):
        self.lose_build_casts()
        server = self.boot()
        self.api.delete(self.context, server['uuid'])
        self.assert_deleted_cleanly(server['uuid'])
        self.assertEqual('REVERTED', self.build_of(server['uuid'])['state'])


class TestDeleteIsOneTransaction(AbortTestCase):
    def test_a_failure_between_abort_and_delete_workflow_leaves_neither(self):
        server = self.boot()
        uuid = server['uuid']
        self.wait_for_step(
            uuid, build_instance.NAME, build_instance.Spawn.name, 'RUNNING'
        )

        def create_delete_workflow(*args, **kwargs):
            raise Boom('the DELETE fails after its abort requests')

        with fixtures.MonkeyPatch(
            'nova.conductor.api.ComputeTaskAPI.create_delete_workflow',
            create_delete_workflow,
        ):
            self.assertRaises(Boom, self.api.delete, self.context, uuid)
        rows = self.query(
            'SELECT name, abort_requested FROM workflows WHERE target_id = :u',
            u=uuid,
        )
        self.assertEqual([('build_instance', False)], self.rows_of(rows))
        self.assertEqual(
            [],
            self.query(
                "SELECT id FROM instance_actions WHERE instance_uuid = :u "
                "AND action = 'delete'",
                u=uuid,
            ),
        )
        # Nothing was aborted: the build goes on, the server is usable.
        self.wait_for(uuid, 'active')
        self.assertEqual([], self.faults(uuid))
        self.api.delete(self.context, uuid)
        self.assert_deleted(uuid)
        self.assertEqual(
            1,
            len(
                [
                    w
                    for w in self.workflows_of(uuid)
                    if w['name'] == delete_instance.NAME
                ]
            ),
        )

    @staticmethod
    def rows_of(rows):
        return [(r['name'], bool(r['abort_requested'])) for r in rows]
