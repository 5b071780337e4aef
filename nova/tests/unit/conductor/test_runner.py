"""The conductor's workflow runner."""

import json
import threading
import time
from unittest import mock

import fixtures

from nova import orchestration as orc
from nova import test
from nova.conductor import incarnation
from nova.conductor import manager
from nova.conductor import runner
from nova.db import workflows as workflows_db
from nova.tests import fixtures as nova_fixtures
from nova.tests.unit.conductor import test_incarnation

FACTORY = 'nova.tests.unit.conductor.test_runner'


class Noop(orc.Task):
    def execute(self):
        return 'ok'


@orc.flow_factory(FACTORY, version=1)
def make_flow():
    return orc.LinearFlow('runner-test').add(Noop(name='noop'))


class RemoteStep(orc.Task):
    def execute(self):
        return orc.Pending('tok-%s' % self.name)


@orc.flow_factory(FACTORY + '.remote', version=1)
def make_remote_flow():
    return orc.LinearFlow('remote-test').add(
        orc.UnorderedFlow('both').add(
            RemoteStep(name='one'), RemoteStep(name='two')
        ),
        Noop(name='after'),
    )


#: Called by EarlyReporter.execute with the step's name and token.
EARLY_REPORT = []


class EarlyReporter(orc.Task):
    """Its remote side reports before execute has returned the token."""

    def execute(self):
        token = 'tok-%s' % self.name
        EARLY_REPORT[0](self.name, token)
        return orc.Pending(token)


@orc.flow_factory(FACTORY + '.early', version=1)
def make_early_flow():
    return orc.LinearFlow('early-test').add(
        EarlyReporter(name='spawn'), Noop(name='after')
    )


class SecretProbe(orc.Task):
    """Says whether it got the secret (a bool: the secret is no result)."""

    def execute(self, admin_password=None):
        return admin_password == 's3cr3t-pw'


@orc.flow_factory(FACTORY + '.secret', version=1)
def make_secret_flow():
    return orc.LinearFlow('secret-test').add(SecretProbe(name='probe'))


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

    def secret_workflow(self):
        return orc.Engine.create(
            FACTORY + '.secret',
            store={'admin_password': 's3cr3t-pw'},
            secret=('admin_password',),
            backend=self.backend,
        )

    def probe_result(self, workflow_id):
        (task,) = self.backend.get_workflow(workflow_id)['tasks']
        self.assertEqual('SUCCESS', task['state'])
        return json.loads(task['result'])

    def test_the_secrets_of_a_cast_reach_the_engine(self):
        workflow_id = self.secret_workflow()
        conductor = manager.ConductorManager('host1')
        self.addCleanup(conductor.runner.stop)
        conductor.build_instances(
            None, [workflow_id], admin_password='s3cr3t-pw'
        )
        deadline = time.monotonic() + 10
        while self.backend.get_workflow(workflow_id)['state'] != 'SUCCESS':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        self.assertIs(True, self.probe_result(workflow_id))

    def test_an_adopted_workflow_has_no_secret(self):
        # As a sweeper adopts it: with no cast, so with no secret.
        workflow_id = self.secret_workflow()
        self.runner._run_workflow(workflow_id)
        self.assertIs(False, self.probe_result(workflow_id))

    def test_engine_failure_frees_the_workflow_for_adoption(self):
        workflow_id = orc.Engine.create(FACTORY, backend=self.backend)

        def broken_run(engine):
            raise RuntimeError('database writes keep failing')

        self.useFixture(
            fixtures.MonkeyPatch('nova.orchestration.Engine.run', broken_run)
        )
        self.runner._run_workflow(workflow_id)
        row = self.backend.get_workflow(workflow_id)
        self.assertIsNone(row['owner'])
        # Claimed once (1), then freed: the generation moved on, so the
        # broken engine could not write anything more.
        self.assertEqual(2, row['generation'])
        self.assertIn(
            workflow_id, self.backend.find_adoptable(grace_seconds=3600)
        )
        # And the heartbeat no longer renews it for this owner.
        self.assertEqual(0, self.runner.heartbeat())

    def test_completion_while_a_sibling_is_recorded_is_not_dropped(self):
        # Both remote steps report at once: the first claims the workflow
        # and the second finds it busy; once the first released it, the
        # second was taken as stale because the row had no owner.
        wid = orc.Engine.create(FACTORY + '.remote', backend=self.backend)
        self.runner._run_workflow(wid)
        self.assertEqual(
            {'one': 'tok-one', 'two': 'tok-two'},
            {
                t['name']: json.loads(t['result'])['__pending__']
                for t in self.backend.get_workflow(wid)['tasks']
                if t['state'] == 'RUNNING'
            },
        )
        real_complete = orc.Engine.complete
        calls = []

        def busy_once(cls, *args, **kwargs):
            calls.append(args[1])
            if len(calls) == 1:
                return None  # the sibling's conductor holds the row now
            return real_complete(*args, **kwargs)

        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.orchestration.Engine.complete', busy_once
            )
        )
        self.runner._complete(wid, 'two', 'tok-two', 2, None)
        self.assertEqual(['two', 'two'], calls)
        tasks = {
            t['name']: t['state']
            for t in self.backend.get_workflow(wid)['tasks']
        }
        self.assertEqual(
            {'one': 'RUNNING', 'two': 'SUCCESS', 'after': 'PENDING'}, tasks
        )

    def test_completion_faster_than_the_token_write_is_not_dropped(self):
        # Found in CI (report mode, three servers): the host's report
        # reached a conductor before the owner had recorded the spawn's
        # token; it was dropped as stale and the server stayed BUILD
        # until the step's timeout.
        wid = orc.Engine.create(FACTORY + '.early', backend=self.backend)
        real_complete = orc.Engine.complete
        tried = threading.Event()

        def complete(cls, *args, **kwargs):
            engine = real_complete(*args, **kwargs)
            tried.set()
            return engine

        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.orchestration.Engine.complete', complete
            )
        )

        def report(name, token):
            self.runner.complete(wid, name, token, result={'ok': 1})
            self.assertTrue(tried.wait(10))  # refused: no token yet

        EARLY_REPORT[:] = [report]
        self.addCleanup(EARLY_REPORT.clear)
        self.runner._run_workflow(wid)
        deadline = time.monotonic() + 10
        while self.backend.get_workflow(wid)['state'] != 'SUCCESS':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)

    def waiting_remote_workflow(self):
        wid = orc.Engine.create(FACTORY + '.remote', backend=self.backend)
        self.runner._run_workflow(wid)
        return wid

    def task_states(self, wid):
        return {
            t['name']: t['state']
            for t in self.backend.get_workflow(wid)['tasks']
        }

    def test_a_recorded_completion_is_committed_before_the_answer(self):
        wid = self.waiting_remote_workflow()
        driven = []
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.runner.WorkflowRunner._drive_recorded',
                lambda runner, *args: driven.append(args),
            )
        )
        self.assertEqual(
            runner.COMPLETION_TAKEN,
            self.runner.record_completion(wid, 'one', 'tok-one', 1, result=1),
        )
        # Committed, though the workflow has not been driven on yet;
        # meanwhile its lease is renewed and the sweeper leaves it alone.
        self.assertEqual('SUCCESS', self.task_states(wid)['one'])
        # Driven on by a thread of the runner's pool, after the answer.
        deadline = time.monotonic() + 10
        while not driven:
            self.assertLess(time.monotonic(), deadline, 'never driven on')
            time.sleep(0.01)
        self.assertEqual(1, len(driven))
        self.assertIn(wid, self.runner.active())
        self.assertEqual(1, self.runner.heartbeat())
        self.assertFalse(self.runner.submit(wid))
        # The same report again (its answer was lost): stale.
        self.assertEqual(
            runner.COMPLETION_STALE,
            self.runner.record_completion(wid, 'one', 'tok-one', 1, result=1),
        )
        self.assertEqual(1, len(driven))

    def test_a_stopped_runner_records_nothing_and_strands_nothing(self):
        # Found by TestResumeElsewhere: a conductor whose runner stopped
        # still served RPC; it took a report, could not run the rest, and
        # its heartbeat kept the workflow owned for good.
        wid = self.waiting_remote_workflow()
        self.runner.stop()
        self.assertEqual(
            runner.COMPLETION_BUSY,
            self.runner.record_completion(wid, 'one', 'tok-one', 1, result=1),
        )
        self.assertEqual('RUNNING', self.task_states(wid)['one'])
        # Stopped between the record and the hand-over to its pool.
        other = runner.WorkflowRunner('conductor-b')
        self.addCleanup(other.stop)
        other._pool.shutdown()
        self.assertEqual(
            runner.COMPLETION_TAKEN,
            other.record_completion(wid, 'one', 'tok-one', 1, result=1),
        )
        self.assertEqual('SUCCESS', self.task_states(wid)['one'])
        self.assertIsNone(self.backend.get_workflow(wid)['owner'])
        self.assertEqual(0, other.heartbeat())

    def test_a_completion_the_owner_keeps_busy_is_not_recorded(self):
        wid = self.waiting_remote_workflow()
        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.orchestration.Engine.complete',
                lambda cls, *args, **kwargs: None,  # always held elsewhere
            )
        )
        self.assertEqual(
            runner.COMPLETION_BUSY,
            self.runner.record_completion(wid, 'two', 'tok-two', 0.1),
        )
        self.assertEqual('RUNNING', self.task_states(wid)['two'])

    def test_engines_of_a_readopted_workflow_stay_renewed(self):
        # The old engine's exit must not unregister the new one.
        wid = orc.Engine.create(FACTORY, backend=self.backend)
        new_engine = mock.Mock(workflow_id=wid)

        def run(engine):
            with self.runner._lock:
                self.runner._engines[wid] = new_engine
            return engine

        self.useFixture(
            fixtures.MonkeyPatch('nova.orchestration.Engine.run', run)
        )
        self.runner._run_workflow(wid)
        self.assertIs(new_engine, self.runner._engines.get(wid))


class TestRecoverAtStart(test.TestCase):
    """A restarted conductor takes back at once what its dead previous
    incarnation held, on the real (SQLite) backend."""

    def setUp(self):
        super().setUp()
        if incarnation.boot_id() is None:
            self.skipTest('no kernel boot id here: nothing can be proven')
        self.useFixture(nova_fixtures.Database())
        self.backend = workflows_db.get_backend()
        self.procs = self.useFixture(test_incarnation.Processes())
        self.dead = self.owner_with_pid(self.procs.gone_pid)

    @staticmethod
    def owner_with_pid(pid):
        name = incarnation.parse_owner_name(runner.new_owner_name('host1'))
        return str(name._replace(pid=pid))

    def held_by(self, owner, lease=30):
        """A workflow ``owner`` claimed, its lease still running."""
        workflow_id = orc.Engine.create(FACTORY, backend=self.backend)
        self.assertIsNotNone(self.backend.claim(workflow_id, owner, lease))
        return workflow_id

    def start_runner(self):
        new = runner.WorkflowRunner(runner.new_owner_name('host1'))
        self.addCleanup(new.stop)
        return new

    def assert_finished_after_one_adoption(self, workflow_id):
        deadline = time.monotonic() + 10
        row = self.backend.get_workflow(workflow_id)
        while row['state'] != 'SUCCESS' and time.monotonic() < deadline:
            time.sleep(0.02)
            row = self.backend.get_workflow(workflow_id)
        # Freed (an adoption, generation 2), claimed (3), finished.
        self.assertEqual(
            ('SUCCESS', None, 3, 1),
            (row['state'], row['owner'], row['generation'], row['adoptions']),
        )

    def test_first_sweep_adopts_a_dead_incarnations_workflows(self):
        held = [self.held_by(self.dead) for _ in range(3)]
        new = self.start_runner()
        self.assertEqual(set(held), set(new.recover()))
        for workflow_id in held:
            self.assert_finished_after_one_adoption(workflow_id)

    def test_recovery_is_not_bounded_by_one_sweep(self):
        self.useFixture(
            fixtures.MockPatch('nova.conductor.runner.SWEEP_LIMIT', 2)
        )
        held = [self.held_by(self.dead) for _ in range(5)]
        self.assertEqual(set(held), set(self.start_runner().recover()))

    def test_live_or_foreign_owners_keep_their_leases(self):
        others = [
            self.held_by(self.owner_with_pid(self.procs.live.pid)),
            self.held_by(self.dead.replace('host1:', 'host2:', 1)),
            self.held_by('host1:%d:abcdef' % self.procs.gone_pid),
        ]
        self.assertEqual([], self.start_runner().recover())
        for workflow_id in others:
            row = self.backend.get_workflow(workflow_id)
            self.assertEqual((1, 0), (row['generation'], row['adoptions']))

    def test_runner_of_this_process_that_stopped(self):
        # Same pid, another nonce: once stopped it runs nothing any more.
        earlier = runner.WorkflowRunner(runner.new_owner_name('host1'))
        self.addCleanup(earlier.stop)
        held = self.held_by(earlier.owner)
        new = self.start_runner()
        self.assertEqual([], new.recover())  # alive in this process
        earlier.stop()
        self.assertEqual([held], new.recover())
        self.assert_finished_after_one_adoption(held)

    def test_first_periodic_sweep_recovers_until_it_succeeds(self):
        held = self.held_by(self.dead)
        conductor = manager.ConductorManager('host1')
        self.addCleanup(conductor.runner.stop)
        sweep = [
            task
            for task in conductor.periodic_tasks()
            if task.__name__ == 'sweep'
        ][0]
        with mock.patch.object(
            self.backend, 'stats', side_effect=RuntimeError('DB down')
        ):
            self.assertRaises(RuntimeError, sweep)
        self.assertEqual(self.dead, self.backend.get_workflow(held)['owner'])
        sweep()
        self.assert_finished_after_one_adoption(held)
