"""The conductor's workflow runner."""

import fixtures

from nova import orchestration as orc
from nova import test
from nova.conductor import runner
from nova.db import workflows as workflows_db
from nova.tests import fixtures as nova_fixtures

FACTORY = 'nova.tests.unit.conductor.test_runner'


class Noop(orc.Task):
    def execute(self):
        return 'ok'


@orc.flow_factory(FACTORY, version=1)
def make_flow():
    return orc.LinearFlow('runner-test').add(Noop(name='noop'))


class TestRunner(test.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(nova_fixtures.Database())
        self.backend = workflows_db.get_backend()
        self.runner = runner.WorkflowRunner('conductor-a')
        self.addCleanup(self.runner.stop)

    def test_runs_a_workflow_to_the_end(self):
        workflow_id = orc.Engine.create(FACTORY, backend=self.backend)
        self.runner._run_workflow(workflow_id)
        row = self.backend.get_workflow(workflow_id)
        self.assertEqual(('SUCCESS', None), (row['state'], row['owner']))

    def test_engine_failure_frees_the_workflow_for_adoption(self):
        workflow_id = orc.Engine.create(FACTORY, backend=self.backend)

        def broken_run(engine):
            raise RuntimeError('database writes keep failing')

        self.useFixture(fixtures.MonkeyPatch(
            'nova.orchestration.Engine.run', broken_run))
        self.runner._run_workflow(workflow_id)
        row = self.backend.get_workflow(workflow_id)
        self.assertIsNone(row['owner'])
        # Claimed once (1), then freed: the generation moved on, so the
        # broken engine could not write anything more.
        self.assertEqual(2, row['generation'])
        self.assertIn(workflow_id,
                      self.backend.find_adoptable(grace_seconds=3600))
        # And the heartbeat no longer renews it for this owner.
        self.assertEqual(0, self.runner.heartbeat())
