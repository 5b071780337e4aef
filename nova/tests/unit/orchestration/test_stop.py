"""Engine.stop(): graceful hand-back at a step boundary."""

import os
import threading

import fixtures
import testtools

from nova import orchestration as orc

FACTORY = 'nova.tests.unit.orchestration.test_stop'
CALLS = []
GATE = threading.Event()
STARTED = threading.Event()


class Slow(orc.Task):
    """Blocks until the test opens the gate."""

    def execute(self):
        CALLS.append(self.name)
        STARTED.set()
        GATE.wait(10)
        return self.name


class Quick(orc.Task):
    def execute(self):
        CALLS.append(self.name)
        return self.name


@orc.flow_factory(FACTORY, version=1)
def make_flow():
    return orc.LinearFlow('stoppable').add(
        Slow(name='one'), Quick(name='two'), Quick(name='three')
    )


class _StopTests:
    def make_backend(self):
        raise NotImplementedError

    def setUp(self):
        super().setUp()
        del CALLS[:]
        GATE.clear()
        STARTED.clear()
        self.backend = self.make_backend()

    def test_stop_hands_back_and_another_engine_finishes(self):
        engine = orc.Engine(FACTORY, backend=self.backend, owner='a')
        runner = threading.Thread(target=engine.run)
        runner.start()
        self.assertTrue(STARTED.wait(10))
        engine.stop()
        GATE.set()
        runner.join(10)
        self.assertFalse(runner.is_alive())

        self.assertTrue(engine.stopped)
        self.assertEqual('RUNNING', engine.state)
        row = self.backend.get_workflow(engine.workflow_id)
        self.assertIsNone(row['owner'])
        states = {t['name']: t['state'] for t in row['tasks']}
        # The step in flight finished and was persisted; nothing new ran.
        self.assertEqual(
            {'one': 'SUCCESS', 'two': 'PENDING', 'three': 'PENDING'}, states
        )
        self.assertEqual(['one'], CALLS)
        # Adoptable at once, whatever the grace period.
        self.assertIn(
            engine.workflow_id, self.backend.find_adoptable(grace_seconds=3600)
        )

        other = orc.Engine.resume(engine.workflow_id, self.backend, owner='b')
        self.assertEqual('SUCCESS', other.state)
        self.assertFalse(other.stopped)
        self.assertEqual(['one', 'two', 'three'], CALLS)

    def test_stop_before_run_hands_back_without_running(self):
        GATE.set()
        engine = orc.Engine(FACTORY, backend=self.backend, owner='a')
        engine.stop()
        engine.run()
        self.assertTrue(engine.stopped)
        self.assertEqual([], CALLS)
        self.assertIsNone(
            self.backend.get_workflow(engine.workflow_id)['owner']
        )


class TestStopMemory(_StopTests, testtools.TestCase):
    def make_backend(self):
        return orc.persistence.backend_from_url('memory://')


class TestStopSQLite(_StopTests, testtools.TestCase):
    def make_backend(self):
        path = self.useFixture(fixtures.TempDir()).path
        backend = orc.persistence.backend_from_url(
            'sqlite:///' + os.path.join(path, 'wf.sqlite')
        )
        backend.upgrade()
        return backend
