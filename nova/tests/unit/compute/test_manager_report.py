"""spawn_and_report: the spawn outcome is cast back to the conductors."""

import os

import fixtures

from nova.compute import manager as compute_manager
from nova.tests.unit.compute import base
from nova.tests.unit.compute import test_manager
from nova.virt import fake


class TestSpawnAndReport(base.DBTestCase):
    def setUp(self):
        super().setUp()
        self.manager = compute_manager.ComputeManager(
            'host1', fake.FakeDriver('host1')
        )
        self.instance = {
            'uuid': 'a0b1c2d3-0000-4000-8000-000000000001',
            'flavor': {'root_gb': 1},
        }
        self.workflow_id = test_manager.add_workflow(self.db.engine, 2)
        self.reports = []
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.rpcapi.ConductorAPI.task_complete',
                lambda api, ctxt, *args, **kwargs: self.reports.append(
                    (args, kwargs)
                ),
            )
        )

    def _spawn_and_report(self):
        self.manager.spawn_and_report(
            self.ctxt,
            self.instance,
            [],
            {},
            self.workflow_id,
            2,
            'spawn',
            'token-1',
        )
        self.assertEqual(1, len(self.reports))
        (workflow_id, task, token), kwargs = self.reports[0]
        self.assertEqual(
            (self.workflow_id, 'spawn', 'token-1'), (workflow_id, task, token)
        )
        return kwargs

    def test_success_is_reported_with_the_result(self):
        report = self._spawn_and_report()
        self.assertIsNone(report['failure'])
        self.assertEqual(self.instance['uuid'], report['result']['uuid'])
        self.assertTrue(
            os.path.exists(
                os.path.join(fake.instance_path(self.instance['uuid']), 'disk')
            )
        )

    def test_failure_is_reported_as_a_failure_dict(self):
        test_manager.set_generation(self.db.engine, self.workflow_id, 3)
        report = self._spawn_and_report()
        self.assertIsNone(report['result'])
        self.assertIn(
            'nova.exception.StaleWorkflowGeneration',
            report['failure']['exc_type_names'],
        )

    def test_spawn_after_the_revert_destroy_does_not_boot(self):
        # The step was reverted before its cast reached the host.
        self.manager.destroy(self.ctxt, self.instance, self.workflow_id, 2)
        report = self._spawn_and_report()
        self.assertIn(
            'reverted before its spawn', report['failure']['message']
        )
        self.assertFalse(
            os.path.exists(fake.instance_path(self.instance['uuid']))
        )
