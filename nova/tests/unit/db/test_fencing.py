"""Fencing of step writes: a stale generation writes nothing."""

from oslo_utils import uuidutils

from nova import context as nova_context
from nova import exception
from nova import orchestration as orc
from nova import test
from nova.compute import claims
from nova.db import block_device as bdm_db
from nova.db import compute_nodes
from nova.db import fencing
from nova.db import instances as instances_db
from nova.db import workflows as workflows_db
from nova.tests import fixtures as nova_fixtures

FACTORY = 'nova.tests.unit.db.test_fencing'


class Noop(orc.Task):
    def execute(self):
        pass


@orc.flow_factory(FACTORY, version=1)
def make_flow():
    return orc.LinearFlow('fenced').add(Noop(name='noop'))


class TestFencing(test.TestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(nova_fixtures.Database())
        self.backend = workflows_db.get_backend()
        self.workflow_id = orc.Engine.create(FACTORY, backend=self.backend)
        self.generation = self.backend.claim(self.workflow_id, 'a', 30)[0]
        self.admin = nova_context.get_admin_context()
        self.uuid = uuidutils.generate_uuid()
        instances_db.create(
            self.admin,
            {
                'uuid': self.uuid,
                'project_id': 'p',
                'user_id': 'u',
                'vm_state': 'building',
            },
        )

    def stale_context(self):
        ctxt = nova_context.get_admin_context()
        fenced = fencing.fenced(ctxt, self.workflow_id, self.generation)
        # Another owner adopts the workflow (it bumps the generation).
        self.backend.free(self.workflow_id)
        return fenced

    def test_current_generation_writes(self):
        ctxt = fencing.fenced(
            nova_context.get_admin_context(), self.workflow_id, self.generation
        )
        instances_db.update(ctxt, self.uuid, {'task_state': 'spawning'})
        self.assertEqual(
            'spawning', instances_db.get(self.admin, self.uuid)['task_state']
        )

    def test_stale_instance_update_is_refused(self):
        ctxt = self.stale_context()
        self.assertRaises(
            exception.StaleWorkflowGeneration,
            instances_db.update,
            ctxt,
            self.uuid,
            {'task_state': 'spawning'},
        )
        self.assertIsNone(
            instances_db.get(self.admin, self.uuid)['task_state']
        )

    def test_stale_block_devices_are_not_created(self):
        ctxt = self.stale_context()
        self.assertRaises(
            exception.StaleWorkflowGeneration,
            bdm_db.create_defaults_for_instance,
            ctxt,
            self.uuid,
            {'root_gb': 1, 'ephemeral_gb': 0, 'swap': 0},
            {'id': 'image'},
        )
        self.assertEqual([], bdm_db.get_by_instance(self.admin, self.uuid))

    def test_stale_claim_is_refused(self):
        node = compute_nodes.update_capacity(
            self.admin,
            'host1',
            {'vcpus': 4, 'memory_mb': 4096, 'local_gb': 40},
        )
        ctxt = self.stale_context()
        self.assertRaises(
            exception.StaleWorkflowGeneration,
            claims.claim,
            ctxt,
            self.uuid,
            'host1',
            None,
            1,
            1,
            1,
        )
        self.assertEqual([], claims.get_claims(self.admin, self.uuid))
        self.assertEqual(
            0, compute_nodes.get(self.admin, node['id'])['vcpus_used']
        )

    def test_deleted_workflow_is_stale(self):
        ctxt = fencing.fenced(
            nova_context.get_admin_context(), uuidutils.generate_uuid(), 1
        )
        self.assertRaises(
            exception.StaleWorkflowGeneration,
            instances_db.update,
            ctxt,
            self.uuid,
            {'task_state': 'x'},
        )

    def test_unfenced_context_passes(self):
        instances_db.update(self.admin, self.uuid, {'task_state': 'x'})
        self.assertEqual(
            'x', instances_db.get(self.admin, self.uuid)['task_state']
        )
