"""Convergence: each engine defect the review and the simulation found,
as a plain test on memory and on an SQLite file.

Every test here failed before its fix; doc/source/orchestration/
simulation.rst says which schedule found each one.
"""

import datetime
import threading

import futurist

from nova import orchestration as orc
from nova.orchestration import states
from nova.orchestration.engine import _pool
from nova.tests.unit.orchestration import base

PREFIX = 'nova.tests.unit.orchestration.test_convergence.'
LEDGER = {}


class Spawn(base.Step):
    """Starts remote work and waits for its completion, with a timeout."""

    def execute(self):
        super().execute()
        return orc.Pending('tok-1')


class Hook(base.Step):
    """Calls the test's hook inside execute (a DELETE arriving, say)."""

    def execute(self):
        hook = LEDGER.get('hook')
        if hook is not None:
            hook(self.name)
        return super().execute()


class FailingRevert(base.Step):
    def revert(self, **kwargs):
        super().revert(**kwargs)
        raise OSError('cannot undo %s' % self.name)


class ReasonRecorder(base.Step):
    def revert(self, flow_failures, **kwargs):
        super().revert(flow_failures=flow_failures, **kwargs)
        LEDGER.setdefault('reasons', []).append(
            sorted(
                f.exc_type.rsplit('.', 1)[-1] for f in flow_failures.values()
            )
        )


@orc.flow_factory(PREFIX + 'waits')
def waits():
    lg = LEDGER['ledger']
    return orc.LinearFlow('waits').add(
        base.Step('a', ledger=lg),
        Spawn('spawn', ledger=lg, timeout=600),
        base.Step('c', ledger=lg),
    )


class ReportedEarly(Spawn):
    """The remote side reports before execute has returned its token."""

    def execute(self):
        LEDGER['hook'](self.name)
        return super().execute()


@orc.flow_factory(PREFIX + 'reported_early')
def reported_early():
    lg = LEDGER['ledger']
    return orc.LinearFlow('reported_early').add(
        ReportedEarly('spawn', ledger=lg, timeout=600),
        base.Step('c', ledger=lg),
    )


class IdemSpawn(Spawn):
    idempotent = True


@orc.flow_factory(PREFIX + 'waits_idem')
def waits_idem():
    lg = LEDGER['ledger']
    return orc.LinearFlow('waits_idem').add(
        base.Step('a', ledger=lg),
        IdemSpawn('spawn', ledger=lg, timeout=600),
        base.Step('c', ledger=lg),
    )


class SpawnAgain(base.Step):
    def execute(self):
        super().execute()
        return orc.Pending('tok-2')


@orc.flow_factory(PREFIX + 'waits_twice')
def waits_twice():
    lg = LEDGER['ledger']
    return orc.LinearFlow('waits_twice').add(
        Spawn('spawn', ledger=lg, timeout=600),
        SpawnAgain('spawn2', ledger=lg, timeout=600),
    )


class SlowRevert(base.Step):
    def revert(self, **kwargs):
        threading.Event().wait(0.3)
        super().revert(**kwargs)


@orc.flow_factory(PREFIX + 'forked')
def forked():
    lg = LEDGER['ledger']
    return orc.LinearFlow('forked').add(
        base.Step('a', ledger=lg),
        orc.UnorderedFlow('u').add(
            FailingRevert('b', ledger=lg), SlowRevert('d', ledger=lg)
        ),
        base.Step('c', ledger=lg, fail=True),
    )


class SlowReasonRecorder(ReasonRecorder):
    def revert(self, flow_failures, **kwargs):
        threading.Event().wait(0.3)
        super().revert(flow_failures=flow_failures, **kwargs)


@orc.flow_factory(PREFIX + 'fails_twice')
def fails_twice():
    lg = LEDGER['ledger']
    return orc.LinearFlow('fails_twice').add(
        base.Step('a', ledger=lg),
        orc.UnorderedFlow('u').add(
            FailingRevert('b', ledger=lg, fail=True),
            SlowReasonRecorder('d', ledger=lg),
        ),
    )


@orc.flow_factory(PREFIX + 'hooked')
def hooked():
    lg = LEDGER['ledger']
    return orc.LinearFlow('hooked').add(
        ReasonRecorder('a', ledger=lg), Hook('b', ledger=lg)
    )


@orc.flow_factory(PREFIX + 'broken')
def broken():
    if LEDGER.get('broken'):
        raise RuntimeError('factory bug')
    return orc.LinearFlow('broken').add(
        base.Step('a', ledger=LEDGER['ledger'])
    )


@orc.flow_factory(PREFIX + 'chain')
def chain():
    lg = LEDGER['ledger']
    return orc.LinearFlow('chain').add(
        base.Step('a', ledger=lg),
        FailingRevert('b', ledger=lg),
        base.Step('c', ledger=lg, fail=True),
    )


class Convergence(base.BackendTestCase):
    def setUp(self):
        super().setUp()
        LEDGER.clear()
        LEDGER['ledger'] = self.ledger
        self.addCleanup(LEDGER.clear)

    def engine(self, factory, **kw):
        return orc.Engine(
            PREFIX + factory,
            backend=self.backend,
            owner='c1',
            resumable=True,
            **kw,
        )

    def row(self, wid):
        return self.backend.load(wid)[0]

    def test_stale_or_duplicate_completion_changes_nothing(self):
        # Defect 1: a completion not for the current token claimed the row
        # and released it with no lease: the deadline was lost for good.
        e = self.engine('waits').run()
        before = self.row(e.workflow_id)
        self.assertIsNotNone(before['lease_expires_at'])  # the deadline
        for task, token in (
            ('spawn', 'old-token'),
            ('a', 'tok-1'),
            ('c', 'tok-1'),
        ):
            self.assertIsNone(
                orc.Engine.complete(
                    e.workflow_id,
                    task,
                    token,
                    self.backend,
                    result=1,
                    owner='c2',
                )
            )
            self.assertEqual(before, self.row(e.workflow_id))
        done = orc.Engine.complete(
            e.workflow_id, 'spawn', 'tok-1', self.backend, result=1, owner='c2'
        )
        self.assertEqual(states.SUCCESS, done.state)
        after = self.row(e.workflow_id)
        self.assertIsNone(
            orc.Engine.complete(
                e.workflow_id, 'spawn', 'tok-1', self.backend, result=1
            )
        )
        self.assertEqual(after, self.row(e.workflow_id))

    def test_completion_before_its_token_is_recorded_is_retried(self):
        # Found in CI (report mode): the compute host reported before the
        # owner had recorded the spawn's token, and the completion was
        # dropped as stale; the build waited for its timeout in BUILD.
        # It changes nothing yet, but is still wanted: the caller tries
        # again and it is taken once the token is there.
        seen = []

        def report(task):
            wid = LEDGER['wid']
            before = self.row(wid)
            self.assertIsNone(
                orc.Engine.complete(
                    wid, task, 'tok-1', self.backend, result=1, owner='c2'
                )
            )
            self.assertEqual(before, self.row(wid))
            seen.append(orc.Engine.waits_for(wid, task, 'tok-1', self.backend))
            # A token the step will never wait for is stale all the same.
            seen.append(orc.Engine.waits_for(wid, 'c', 'tok-1', self.backend))

        LEDGER['hook'] = report
        wid = orc.Engine.create(
            PREFIX + 'reported_early', backend=self.backend
        )
        LEDGER['wid'] = wid
        waiting = orc.Engine.load(wid, self.backend, owner='c1').run()
        self.assertEqual({'spawn'}, set(waiting.waiting))
        self.assertEqual([True, False], seen)
        self.assertTrue(
            orc.Engine.waits_for(wid, 'spawn', 'tok-1', self.backend)
        )
        done = orc.Engine.complete(
            wid, 'spawn', 'tok-1', self.backend, result=1, owner='c2'
        )
        self.assertEqual(states.SUCCESS, done.state)
        self.assertFalse(
            orc.Engine.waits_for(wid, 'spawn', 'tok-1', self.backend)
        )

    def test_waiting_tokens_are_read_from_the_rows(self):
        e = self.engine('waits_twice').run()
        wid = e.workflow_id
        self.assertEqual(
            {'spawn': 'tok-1'}, orc.Engine.waiting_tokens(wid, self.backend)
        )
        orc.Engine.complete(wid, 'spawn', 'tok-1', self.backend, result=1)
        self.assertEqual(
            {'spawn2': 'tok-2'}, orc.Engine.waiting_tokens(wid, self.backend)
        )
        orc.Engine.complete(wid, 'spawn2', 'tok-2', self.backend, result=2)
        self.assertEqual({}, orc.Engine.waiting_tokens(wid, self.backend))

    def test_redo_runs_a_waiting_idempotent_step_again(self):
        # The host doing the remote work restarted: the step starts it
        # again, and waits again; a stale token changes nothing.
        e = self.engine('waits_idem').run()
        wid = e.workflow_id
        before = self.row(wid)
        self.assertIsNone(
            orc.Engine.redo(wid, 'spawn', 'old-token', self.backend)
        )
        self.assertEqual(before, self.row(wid))
        again = orc.Engine.redo(wid, 'spawn', 'tok-1', self.backend)
        self.assertEqual({'spawn': 'tok-1'}, again.waiting)
        self.assertEqual(
            [('execute', 'a'), ('execute', 'spawn'), ('execute', 'spawn')],
            [c for c in self.ledger.calls if c[0] == 'execute'],
        )
        done = orc.Engine.complete(
            wid, 'spawn', 'tok-1', self.backend, result=1
        )
        self.assertEqual(states.SUCCESS, done.state)

    def test_redo_fails_a_waiting_step_that_is_not_idempotent(self):
        e = self.engine('waits').run()
        wid = e.workflow_id
        self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.redo,
            wid,
            'spawn',
            'tok-1',
            self.backend,
        )
        self.assertEqual(states.REVERTED, self.row(wid)['state'])

    def test_completion_read_before_a_duplicate_landed_changes_nothing(self):
        # I5, the fenced claim: two conductors get the same completion;
        # the second read the rows before the first was accepted. Its
        # claim must not land on the row the first one released.
        e = self.engine('waits_twice').run()
        wid = e.workflow_id
        early = self.backend.load(wid)
        orc.Engine.complete(
            wid, 'spawn', 'tok-1', self.backend, result=1, owner='c2'
        )
        after = self.row(wid)
        self.assertIsNone(after['owner'])  # waits for spawn2, unowned
        real = self.backend.load
        reads = []

        def load(workflow_id):
            reads.append(1)
            return early if len(reads) == 1 else real(workflow_id)

        self.backend.load = load
        self.assertIsNone(
            orc.Engine.complete(
                wid, 'spawn', 'tok-1', self.backend, result=1, owner='c3'
            )
        )
        del self.backend.load
        self.assertEqual(after, self.row(wid))

    def test_completion_while_the_revert_is_handed_over_is_refused(self):
        # I5, _completion_status's state check: the row is ABORTING and unowned
        # (released mid-revert) while 'spawn' still shows its token.
        e = self.engine('waits').run()
        wid = e.workflow_id
        orc.request_abort(wid, self.backend)
        adopter = orc.Engine.load(wid, self.backend, owner='c2')
        adopter.release()  # e.g. its conductor stopped before reverting
        before = self.row(wid)
        self.assertEqual(states.ABORTING, before['state'])
        self.assertIsNone(before['owner'])
        self.assertIsNone(
            orc.Engine.complete(
                wid, 'spawn', 'tok-1', self.backend, result=1, owner='c3'
            )
        )
        self.assertEqual(before, self.row(wid))

    def test_completion_of_an_aborting_workflow_is_refused(self):
        e = self.engine('waits').run()
        orc.request_abort(e.workflow_id, self.backend)
        orc.Engine.sweep(self.backend, owner='s', grace_seconds=3600)
        self.assertEqual(states.REVERTED, self.row(e.workflow_id)['state'])
        self.assertIsNone(
            orc.Engine.complete(
                e.workflow_id, 'spawn', 'tok-1', self.backend, result=1
            )
        )

    def test_abort_during_the_last_step_reverts(self):
        # Defect 2: run() returned normally, nothing reverted, row owned.
        e = self.engine('hooked')
        LEDGER['hook'] = lambda name: orc.request_abort(
            e.workflow_id, self.backend
        )
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertEqual(states.REVERTED, err.state)
        row = self.row(e.workflow_id)
        self.assertEqual(states.REVERTED, row['state'])
        self.assertIsNone(row['owner'])
        self.assertEqual({}, self.ledger.held)
        self.assertEqual([['Aborted']], LEDGER['reasons'])

    def test_error_after_the_claim_frees_the_workflow(self):
        # Defect 3: an exception after the claim left the row held by a
        # live conductor that never ran it.
        wid = orc.Engine.create(PREFIX + 'broken', backend=self.backend)
        real_load = self.backend.load
        calls = []

        def load(workflow_id):
            calls.append(workflow_id)
            if len(calls) == 2:  # the read right after the claim
                raise ConnectionError('database went away')
            return real_load(workflow_id)

        self.backend.load = load
        self.assertRaises(
            ConnectionError, orc.Engine.load, wid, self.backend, owner='c1'
        )
        del self.backend.load
        row = self.row(wid)
        self.assertIsNone(row['owner'])
        self.assertEqual(1, row['adoptions'])
        self.assertIn(wid, self.backend.find_adoptable(3600))
        self.assertEqual(
            states.SUCCESS, orc.Engine.resume(wid, self.backend).state
        )

    def test_error_in_run_frees_the_workflow(self):
        # Defect 3, in run(): writes that keep failing must not leave the
        # row held by a live conductor whose engine stopped (I3).
        e = self.engine('hooked')
        real_save = self.backend.save

        def broken_save(*args, **kwargs):
            raise ConnectionError('writes keep failing')

        LEDGER['hook'] = lambda name: setattr(
            self.backend, 'save', broken_save
        )
        self.assertRaises(ConnectionError, e.run)
        self.backend.save = real_save
        row = self.row(e.workflow_id)
        self.assertIsNone(row['owner'])
        self.assertEqual(1, row['adoptions'])
        self.assertIn(e.workflow_id, self.backend.find_adoptable(3600))

    def test_workflow_failing_at_every_load_is_poisoned(self):
        # However the row was freed, adoptions count (invariant I4).
        wid = orc.Engine.create(PREFIX + 'broken', backend=self.backend)
        e = orc.Engine.load(wid, self.backend, owner='c0')
        e.release()
        policy = orc.EnginePolicy(max_adoptions=2)
        real_load = self.backend.load
        for n in range(3):
            reads = []

            def load(workflow_id, reads=reads):
                reads.append(1)
                if len(reads) == 2:
                    raise ValueError('restore bug')
                return real_load(workflow_id)

            self.backend.load = load
            self.assertRaises(
                ValueError,
                orc.Engine.load,
                wid,
                self.backend,
                owner='c%d' % (n + 1),
                policy=policy,
            )
        del self.backend.load
        err = self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.load,
            wid,
            self.backend,
            owner='c9',
            policy=policy,
        )
        self.assertEqual(states.FAILED, err.state)

    def test_stale_engine_cleanup_does_not_fence_the_new_owner(self):
        # Defect 4: the stale engine's free() bumped the new owner's
        # generation.
        e = self.engine('hooked')

        def adopted_meanwhile(name):
            base.expire_lease(self.backend, e.workflow_id)
            LEDGER['hook'] = None
            LEDGER['b_owner'] = orc.Engine.load(
                e.workflow_id, self.backend, owner='c2'
            )
            self.backend.save = broken_save

        def broken_save(*args, **kwargs):
            raise ConnectionError('writes keep failing')

        LEDGER['hook'] = adopted_meanwhile
        self.assertRaises(ConnectionError, e.run)
        del self.backend.save
        new_owner = LEDGER['b_owner']
        row = self.row(e.workflow_id)
        self.assertEqual('c2', row['owner'])
        self.assertEqual(new_owner.generation, row['generation'])
        # The new owner runs to the end, unfenced: b (not idempotent) was
        # interrupted in the stale engine, so it is reverted.
        err = self.assertRaises(orc.WorkflowFailed, new_owner.run)
        self.assertEqual(states.REVERTED, err.state)
        self.assertEqual({}, self.ledger.held)

    def test_hand_back_with_an_abort_requested(self):
        # The hand-back write checks no abort: the flag stays in the row
        # and the adopter reverts (I3: never left held by nobody).
        e = self.engine('hooked')

        def abort_and_stop(name):
            orc.request_abort(e.workflow_id, self.backend)
            e.stop()

        LEDGER['hook'] = abort_and_stop
        self.assertIs(e, e.run())
        self.assertTrue(e.stopped)
        row = self.row(e.workflow_id)
        self.assertIsNone(row['owner'])
        self.assertTrue(row['abort_requested'])
        self.assertEqual(0, row['adoptions'])
        self.assertIn(e.workflow_id, self.backend.find_adoptable(3600))
        LEDGER['hook'] = None
        err = self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.resume,
            e.workflow_id,
            self.backend,
            owner='c2',
        )
        self.assertEqual(states.REVERTED, err.state)
        self.assertEqual({}, self.ledger.held)

    def test_abort_during_a_revert_pass_still_ends_reverted(self):
        # F3: the final write of a revert checked the abort flag.
        e = self.engine('hooked')
        LEDGER['hook'] = lambda name: (_ for _ in ()).throw(
            RuntimeError('b failed')
        )

        def abort_in_revert(flow_failures, **kwargs):
            orc.request_abort(e.workflow_id, self.backend)

        e._compiled.by_name['a'].atom.revert = abort_in_revert
        err = self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertEqual(states.REVERTED, err.state)
        row = self.row(e.workflow_id)
        self.assertEqual(states.REVERTED, row['state'])
        self.assertIsNone(row['owner'])

    def test_poison_wins_over_a_requested_abort(self):
        # F6: the poison write checked the abort flag and never landed.
        wid = orc.Engine.create(PREFIX + 'hooked', backend=self.backend)
        orc.request_abort(wid, self.backend)
        for i in range(3):
            self.backend.claim(wid, 'c%d' % i, 30)
            base.expire_lease(self.backend, wid)
        err = self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.load,
            wid,
            self.backend,
            owner='c9',
            policy=orc.EnginePolicy(max_adoptions=1),
        )
        self.assertEqual(states.FAILED, err.state)
        row = self.row(wid)
        self.assertEqual(states.FAILED, row['state'])
        self.assertIn('max_adoptions', row['failure'])
        self.assertIsNone(row['owner'])

    def test_abort_reason_survives_a_resume(self):
        # F5, invariant I7: a resumed abort reverted with no reason.
        e = self.engine('hooked', policy=orc.EnginePolicy())
        crashing = base.CrashingBackend(self.backend, crash_after=3)
        e._journal.backend = crashing
        LEDGER['hook'] = lambda name: orc.request_abort(
            e.workflow_id, self.backend
        )
        self.assertRaises(base.SimulatedCrash, e.run)
        self.assertEqual(states.ABORTING, self.row(e.workflow_id)['state'])
        self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.resume,
            e.workflow_id,
            self.backend,
            owner='c2',
        )
        self.assertEqual([['Aborted']], LEDGER['reasons'])

    def test_failed_revert_blocks_predecessors_after_resume(self):
        # Invariant I2: a resumed revert reverted 'a' under the failed 'b'.
        e = self.engine('chain')
        crashing = base.CrashingBackend(self.backend, crash_after=None)
        e._journal.backend = crashing
        real = self.backend.save

        def crash_after_b_revert(workflow_id, *args, **kwargs):
            real(workflow_id, *args, **kwargs)
            tasks = kwargs.get('tasks') or ()
            if any(
                t['name'] == 'b' and t['state'] == states.REVERT_FAILURE
                for t in tasks
            ):
                base.expire_lease(self.backend, workflow_id)
                raise base.SimulatedCrash()

        crashing.save = crash_after_b_revert
        self.assertRaises(base.SimulatedCrash, e.run)
        err = self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.resume,
            e.workflow_id,
            self.backend,
            owner='c2',
        )
        self.assertEqual(states.FAILED, err.state)
        self.assertEqual(0, self.ledger.count('revert', 'a'))

    def test_failed_revert_blocks_predecessors_after_resume_forked(self):
        # I2 after a resume, for real: b's REVERT_FAILURE is written while
        # d still reverts (in a linear flow it only ever lands with the
        # final FAILED write, so a crash after it resumes nothing).
        e = self.engine('forked')
        crashing = base.CrashingBackend(self.backend, crash_after=None)
        e._journal.backend = crashing
        real = self.backend.save
        at_crash = []

        def crash_after_b_revert(workflow_id, *args, **kwargs):
            real(workflow_id, *args, **kwargs)
            tasks = kwargs.get('tasks') or ()
            if any(
                t['name'] == 'b' and t['state'] == states.REVERT_FAILURE
                for t in tasks
            ):
                at_crash.append(self.row(workflow_id)['state'])
                base.expire_lease(self.backend, workflow_id)
                raise base.SimulatedCrash()

        crashing.save = crash_after_b_revert
        self.assertRaises(base.SimulatedCrash, e.run)
        self.assertEqual([states.REVERTING], at_crash)
        err = self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.resume,
            e.workflow_id,
            self.backend,
            owner='c2',
        )
        self.assertEqual(states.FAILED, err.state)
        self.assertEqual(0, self.ledger.count('revert', 'a'))

    def test_reason_survives_when_its_step_failed_to_revert(self):
        # I7: b failed (the reason) and then its revert failed, which
        # overwrote b's failure column; a resume must still give d's
        # revert the reason (restore_reasons skipped names whose revert
        # failed).
        e = self.engine('fails_twice')
        crashing = base.CrashingBackend(self.backend, crash_after=None)
        e._journal.backend = crashing
        real = self.backend.save

        def crash_after_b_revert(workflow_id, *args, **kwargs):
            real(workflow_id, *args, **kwargs)
            tasks = kwargs.get('tasks') or ()
            if any(
                t['name'] == 'b' and t['state'] == states.REVERT_FAILURE
                for t in tasks
            ):
                base.expire_lease(self.backend, workflow_id)
                raise base.SimulatedCrash()

        crashing.save = crash_after_b_revert
        self.assertRaises(base.SimulatedCrash, e.run)
        self.assertRaises(
            orc.WorkflowFailed,
            orc.Engine.resume,
            e.workflow_id,
            self.backend,
            owner='c2',
        )
        # d reverted once or twice (the crashed engine's call may or may
        # not have run before the crash, in its thread): each time it saw
        # b's reason.
        self.assertIn(len(LEDGER['reasons']), (1, 2))
        for reasons in LEDGER['reasons']:
            self.assertEqual(['RuntimeError'], reasons)


class ConvergenceSQLite(Convergence):
    backend_kind = 'sqlite'


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def utcnow(self):
        return datetime.datetime(2030, 1, 1) + datetime.timedelta(
            seconds=self.now
        )

    def sleep(self, seconds):
        self.now += seconds


class StaleStart(base.BackendTestCase):
    """F4: an engine that stalled past its lease after writing a start
    must not start that step (invariant I8)."""

    def test_stalled_engine_does_not_start_its_step(self):
        clock = FakeClock()
        backend = orc.persistence.memory.MemoryBackend(clock=clock)
        LEDGER['ledger'] = self.ledger
        self.addCleanup(LEDGER.clear)
        policy = orc.EnginePolicy(lease_seconds=30, clock=clock)
        e = orc.Engine(
            PREFIX + 'hooked',
            backend=backend,
            owner='c1',
            policy=policy,
            resumable=True,
        )
        real = backend.save
        seen = []

        def stall_then_adopt(workflow_id, *args, **kwargs):
            real(workflow_id, *args, **kwargs)
            tasks = kwargs.get('tasks') or ()
            if not seen and any(
                t['name'] == 'b' and t['state'] == states.RUNNING
                for t in tasks
            ):
                seen.append(1)
                clock.now += 31  # the engine stalls past its lease
                backend.save = real
                self.assertRaises(
                    orc.WorkflowFailed,
                    orc.Engine.resume,
                    workflow_id,
                    backend,
                    owner='c2',
                    policy=policy,
                )

        backend.save = stall_then_adopt
        self.assertRaises(orc.OwnershipLost, e.run)
        # c2 reverted b as interrupted; the stale c1 never executed it.
        self.assertEqual(0, self.ledger.count('execute', 'b'))
        self.assertEqual({}, self.ledger.held)
        self.assertEqual(
            states.REVERTED, backend.load(e.workflow_id)[0]['state']
        )


class TimedOutStepNeverStarts(base.BackendTestCase):
    """Invariant I6: a queued step that timed out is cancelled, not just
    flagged: it never starts once its revert may run."""

    def test_queued_step_never_starts_after_its_timeout(self):
        one = futurist.ThreadPoolExecutor(max_workers=1)
        self.addCleanup(one.shutdown)
        release = threading.Event()
        started = []

        class Busy(orc.Task):
            def execute(self):
                release.wait(5)

        class Quick(orc.Task):
            timeout = 0.05

            def execute(self):
                started.append(self.name)

        flow = orc.UnorderedFlow('u').add(Busy('busy'), Quick('quick'))
        e = orc.Engine(flow, policy=orc.EnginePolicy(executor=one))
        t = threading.Thread(
            target=lambda: self.assertRaises(orc.WorkflowFailed, e.run)
        )
        t.start()
        threading.Event().wait(0.3)
        release.set()
        t.join(10)
        one.submit(lambda: None).result(5)  # the queue drained
        self.assertEqual([], started)
        self.assertTrue(e.failures['quick'].check(orc.TaskTimeout))


class TimedOutStepIsTold(base.BackendTestCase):
    """Design 4.2: a running step past its timeout is told so through
    Task.cancelled() (the call is withdrawn, not only its future)."""

    def test_running_step_sees_cancelled_after_its_timeout(self):
        seen = threading.Event()

        class Slow(orc.Task):
            timeout = 0.05

            def execute(self):
                for _ in range(500):
                    if self.cancelled():
                        seen.set()
                        return
                    threading.Event().wait(0.01)

        e = orc.Engine(orc.LinearFlow('s').add(Slow('slow')))
        self.assertRaises(orc.WorkflowFailed, e.run)
        self.assertTrue(seen.wait(5))


class PolicyTest(base.BackendTestCase):
    def test_bad_values_fail_at_construction(self):
        for kwargs, error in (
            ({'lease_seconds': 0}, ValueError),
            ({'lease_seconds': -1}, ValueError),
            ({'lease_seconds': '30'}, TypeError),
            ({'max_adoptions': -1}, ValueError),
            ({'max_adoptions': 1.5}, TypeError),
            ({'executor': 'trheads'}, ValueError),
            ({'save_attempts': 0}, ValueError),
            ({'clock': object()}, TypeError),
        ):
            err = self.assertRaises(error, orc.EnginePolicy, **kwargs)
            self.assertIn(next(iter(kwargs)), str(err))

    def test_durations_as_timedelta(self):
        policy = orc.EnginePolicy(lease_seconds=datetime.timedelta(minutes=1))
        self.assertEqual(60.0, policy.lease_seconds)
        self.assertEqual(5, policy.replace(max_adoptions=5).max_adoptions)
        self.assertRaises(AttributeError, setattr, policy, 'lease_seconds', 1)

    def test_work_pool_is_used_as_given(self):
        pool = _pool.FuturistPool(futurist.SynchronousExecutor())
        self.assertIs(pool, _pool.work_pool(pool))
