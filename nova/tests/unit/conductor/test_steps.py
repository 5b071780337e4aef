"""nova workflow steps: idempotent, and re-run on database disconnects."""

from oslo_db import exception as db_exc
import oslo_messaging as messaging
import testtools

from nova import orchestration as orc
from nova.conductor.workflows import base
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance


class Flaky(base.Step):
    """Fails its first run with ``error``, then succeeds."""

    def __init__(self, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error
        self.calls = 0

    def execute(self):
        self.calls += 1
        if self.calls == 1:
            raise self.error
        return 'done'


class TestStepRetries(testtools.TestCase):

    def _run(self, step):
        engine = orc.Engine(orc.LinearFlow('f').add(step), resumable=False)
        engine.run()
        return engine

    def test_disconnect_reruns_the_step(self):
        step = Flaky(db_exc.DBConnectionError('server closed the '
                                              'connection'), name='s')
        engine = self._run(step)
        self.assertEqual('SUCCESS', engine.state)
        self.assertEqual(2, step.calls)

    def test_deadlock_reruns_the_step(self):
        step = Flaky(db_exc.DBDeadlock(), name='s')
        self.assertEqual('SUCCESS', self._run(step).state)
        self.assertEqual(2, step.calls)

    def test_rpc_timeout_reruns_the_step(self):
        step = Flaky(messaging.MessagingTimeout('no reply'), name='s')
        self.assertEqual('SUCCESS', self._run(step).state)
        self.assertEqual(2, step.calls)

    def test_other_errors_fail_at_once(self):
        step = Flaky(ValueError('bug'), name='s')
        self.assertRaises(orc.WorkflowFailed, self._run, step)
        self.assertEqual(1, step.calls)

    def test_every_step_of_the_workflows_is_idempotent(self):
        for flow in (build_instance.build_flow(),
                     delete_instance.delete_flow()):
            for atom in flow.iter_atoms():
                if isinstance(atom, orc.Task):
                    self.assertTrue(atom.idempotent, atom.name)
