"""The consistency audit finds each kind of planted leak."""

from oslo_utils import uuidutils

from nova.conductor import audit
from nova.tests.functional import base


class TestAudit(base.FunctionalTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.boot()
        self.wait_for(self.server['uuid'], 'active')
        self.wait_for_workflows(self.server['uuid'])
        self.assert_audit_clean()

    def execute(self, sql, **params):
        import sqlalchemy as sa

        with self.db.engine.begin() as conn:
            conn.execute(sa.text(sql), params)

    def kinds(self):
        return sorted({f.kind for f in audit.audit(self.admin)})

    def test_every_kind_is_documented(self):
        self.assertEqual(9, len(audit.KINDS))

    def test_leaked_claim_ip_and_bdm_of_deleted_instance(self):
        # Delete the instance row behind the workflows' back.
        self.execute(
            "UPDATE instances SET deleted = id, vm_state = "
            "'deleted' WHERE uuid = :u",
            u=self.server['uuid'],
        )
        self.assertEqual(
            ['leaked_block_device', 'leaked_claim', 'leaked_fixed_ip'],
            self.kinds(),
        )

    def test_ip_without_instance(self):
        self.execute(
            "UPDATE fixed_ips SET instance_uuid = :u, allocated = "
            ":t WHERE address = '10.0.0.200'",
            u=uuidutils.generate_uuid(),
            t=True,
        )
        findings = audit.audit(self.admin)
        self.assertEqual(['leaked_fixed_ip'], [f.kind for f in findings])
        self.assertIn('10.0.0.200', str(findings[0]))

    def test_stuck_instance(self):
        self.execute(
            "UPDATE instances SET vm_state = 'building', "
            "task_state = 'spawning' WHERE uuid = :u",
            u=self.server['uuid'],
        )
        self.assertEqual(['stuck_instance'], self.kinds())

    def test_active_without_claim_and_usage_mismatch(self):
        self.execute('DELETE FROM resource_claims')
        self.assertEqual(
            ['active_without_claim', 'usage_mismatch'], self.kinds()
        )

    def test_usage_mismatch(self):
        self.execute('UPDATE compute_nodes SET vcpus_used = vcpus_used + 3')
        findings = audit.audit(self.admin)
        self.assertEqual(['usage_mismatch'], [f.kind for f in findings])
        self.assertEqual(4, findings[0].ids['vcpus_used'])
        self.assertEqual(1, findings[0].ids['claimed_vcpus'])

    def test_unfinished_workflow_of_missing_instance(self):
        self.execute(
            "UPDATE workflows SET state = 'RUNNING', target_id = :u",
            u=uuidutils.generate_uuid(),
        )
        self.assertIn('workflow_without_target', self.kinds())

    def test_duplicate_fixed_ip_and_block_device(self):
        uuid = self.server['uuid']
        self.execute(
            "UPDATE fixed_ips SET instance_uuid = :u, allocated = "
            ":t WHERE address = '10.0.0.201'",
            u=uuid,
            t=True,
        )
        self.execute(
            "INSERT INTO block_device_mappings (uuid, "
            "instance_uuid, device_name, boot_index, "
            "delete_on_termination, deleted) SELECT :n, "
            "instance_uuid, device_name, boot_index, "
            "delete_on_termination, 0 FROM block_device_mappings "
            "WHERE instance_uuid = :u AND boot_index = 0",
            n=uuidutils.generate_uuid(),
            u=uuid,
        )
        self.assertEqual(
            ['duplicate_block_device', 'duplicate_fixed_ip'], self.kinds()
        )
