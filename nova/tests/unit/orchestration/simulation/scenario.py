"""One simulated run: a workflow driven through a schedule to its end.

1. An engine (actor e1, its own process and owner name) creates the
   workflow and runs it; the schedule's actions fire at their points.
2. The remote side delivers the completions of Pending steps, each through
   ``Engine.complete`` in a new engine, until none is left or none is
   taken (the owner may have died with a live lease).
3. At rest (no engine running), I3: every unfinished workflow is adoptable.
4. Driving to the end: deliver what is still owed, let leases and deadlines
   pass, sweep with a new engine; a few rounds, then every workflow must
   have finished (I3), and the end-of-run invariants are checked.

Engines are driven the way nova's conductor drives them: ``Engine.load``
then ``run()``; when ``run()`` raises something else than WorkflowFailed
or OwnershipLost the conductor frees the workflow, fenced by the
generation its engine held.
"""

import logging

from sqlalchemy import exc as sa_exc

from nova import orchestration as orc
from nova.orchestration import states
from nova.orchestration.exceptions import WorkflowNotFound
from nova.tests.unit.orchestration.simulation import endstate
from nova.tests.unit.orchestration.simulation import flows
from nova.tests.unit.orchestration.simulation import invariants
from nova.tests.unit.orchestration.simulation import world as world_mod

#: Seconds before the sweeper adopts a workflow nobody ever claimed.
GRACE_SECONDS = 60
#: Delivery rounds, and sweep rounds when driving to the end.
ROUNDS = 6
_TERMINAL = states.WORKFLOW_TERMINAL


class Outcome:
    """What one run did: its schedule, points, violations, final state."""

    def __init__(self, flow, world, final_state, error=None):
        self.flow = flow
        self.taken = dict(world.taken)
        self.points = world.n
        self.violations = list(world.violations)
        self.trace = list(world.trace)
        self.final_state = final_state
        self.error = error
        #: [(point, the actions that apply there)] (explorers only).
        self.reached = world.reached
        #: The seed of a random run (None for a given schedule).
        self.seed = None

    @property
    def schedule(self):
        """The replayable schedule, e.g. 'linear@7:crash,15:adopt'."""
        return format_schedule(self.flow.name, self.taken)

    def describe(self, trace=True):
        lines = ['schedule %s -> %s' % (self.schedule, self.final_state)]
        lines += ['  ' + str(v) for v in self.violations]
        if self.error:
            lines.append('  error: %s' % self.error)
        if trace:
            lines.append('  trace:')
            lines += ['    %4d %-4s %-9s %s' % t for t in self.trace]
        return '\n'.join(lines)


def format_schedule(flow_name, taken):
    return '%s@%s' % (
        flow_name,
        ','.join('%d:%s' % (n, a) for n, a in sorted(taken.items())),
    )


def parse_schedule(text):
    """'linear@7:crash,15:adopt' -> ('linear', {7: 'crash', 15: 'adopt'})."""
    name, _, rest = text.partition('@')
    schedule = {}
    for part in filter(None, rest.split(',')):
        n, _, action = part.partition(':')
        schedule[int(n)] = action
    return name, schedule


class Scenario:
    """Run ``flow`` through ``schedule`` (and ``chooser``); see the module
    doc. ``run()`` returns an Outcome."""

    def __init__(self, flow, schedule=None, chooser=None, branching=False):
        self.flow = flow
        world = world_mod.World(flow, schedule, chooser, handler=self)
        if branching:
            world.reached = []
        self.world = world

    def run(self):
        world = self.world
        error = None
        # The engines log every crash and fence with a traceback: costly,
        # and the trace says it better.
        muted = logging.root.manager.disable
        logging.disable(logging.CRITICAL)
        with flows.bound(world):
            try:
                self._engine('start', self._start)
                self._deliver_rounds()
                invariants.check_quiescent(world)
                self._drive()
                endstate.check_end(world)
            except world_mod.Runaway as e:
                error = str(e)
                world.violate('I3', 'livelock: %s' % e)
            finally:
                logging.disable(muted)
        snap = world.snapshot()
        return Outcome(
            self.flow, world, snap[0]['state'] if snap else None, error
        )

    # -- engines --------------------------------------------------------------
    def _options(self, actor):
        """The policy of every simulated engine: the world's clock, a
        pool of its own, the flow's max_adoptions."""
        actor.pool = world_mod.SimPool(self.world)
        return {
            'policy': orc.EnginePolicy(
                lease_seconds=world_mod.LEASE_SECONDS,
                max_adoptions=self.flow.max_adoptions,
                executor=actor.pool,
                clock=self.world.clock,
                save_attempts=world_mod.SAVE_ATTEMPTS,
                save_retry_delay=0.2,
            )
        }

    def _engine(self, what, body):
        """Run ``body(actor)`` as a new engine process; check I3 after."""
        world = self.world
        actor = world.new_actor(what)
        world.stack.append(actor)
        try:
            outcome = body(actor) or 'returned'
        except world_mod.SimulatedCrash as crash:
            if crash.actor is not actor:
                raise
            actor.crashed = True
            outcome = 'crashed'
        except orc.WorkflowFailed as e:
            outcome = 'failed %s' % e.state
        except orc.OwnershipLost:
            outcome = 'ownership lost'
        except Exception as e:
            outcome = 'raised %s: %s' % (
                type(e).__name__,
                str(e).splitlines()[0][:60],
            )
            if isinstance(e, world_mod.SimulationStuck):
                world.violate(
                    'I3', '%s would wait for ever: %s' % (actor.name, e)
                )
            elif not isinstance(e, sa_exc.OperationalError):
                # The conductor frees a workflow whose engine raised
                # anything else, which converges, but only by chance: the
                # engine left its own contract (run() ends the workflow,
                # waits, hands it back, or raises WorkflowFailed,
                # OwnershipLost or a database error).
                world.violate(
                    'I3',
                    '%s escaped %s (%s): %s'
                    % (
                        type(e).__name__,
                        actor.name,
                        actor.what,
                        str(e).splitlines()[0][:120],
                    ),
                )
        finally:
            actor.running = False
            world.stack.pop()
        actor.outcome = outcome
        world.log('end', actor, outcome)
        if actor.pool is not None and not actor.crashed:
            world.stack.append(actor)
            try:
                actor.pool.drain()
            except world_mod.SimulatedCrash as crash:
                if crash.actor is not actor:
                    raise
                actor.crashed = True
            finally:
                world.stack.pop()
        invariants.check_quiescent(world, actor)
        return outcome

    def _start(self, actor):
        engine = orc.Engine(
            self.flow.factory,
            backend=self.world.backend,
            owner=actor.name,
            workflow_id=self.world.wid,
            resumable=True,
            **self._options(actor),
        )
        actor.engine = engine
        return self._run(engine)

    def _run(self, engine):
        try:
            engine.run()
        except (orc.WorkflowFailed, orc.OwnershipLost):
            raise
        except Exception:
            # What the conductor does when an engine dies under it.
            try:
                self.world.backend.free(self.world.wid, engine.generation)
            except Exception:  # noqa: S110 (the original error matters)
                pass
            raise
        if engine.stopped:
            return 'stopped'
        if engine.waiting:
            return 'waiting for %s' % ', '.join(sorted(engine.waiting))
        return engine.state

    def _adopt(self, actor):
        engine = orc.Engine.load(
            self.world.wid,
            self.world.backend,
            owner=actor.name,
            **self._options(actor),
        )
        actor.engine = engine
        return self._run(engine)

    def _sweep(self, actor):
        out = orc.Engine.sweep(
            self.world.backend,
            grace_seconds=GRACE_SECONDS,
            owner=actor.name,
            **self._options(actor),
        )
        return 'swept %s' % (out,)

    # -- completions ----------------------------------------------------------
    def _complete(self, task, token, failure=None):
        world = self.world
        before = world.snapshot()
        current = invariants.token_is_current(before, task, token)
        mark = world.n

        def body(actor):
            kwargs = (
                {'failure': failure}
                if failure
                else {'result': {'by': task, 'token': token}}
            )
            engine = orc.Engine.complete(
                world.wid,
                task,
                token,
                world.backend,
                run=False,
                owner=actor.name,
                **kwargs,
                **self._options(actor),
            )
            if engine is None:
                return 'refused'
            actor.engine = engine
            return self._run(engine)

        outcome = self._engine('complete %s' % token, body)
        quiet = not any(n > mark for n in world.taken)
        invariants.check_completion(
            world, task, token, before, current, outcome, quiet
        )

    def _deliver(self, remote):
        world = self.world
        action = world.point('deliver', remote.task, timeout=remote.timeout)
        if remote.status != 'outstanding':
            return
        if action == world_mod.LOSE:
            remote.status = 'lost'
            return
        if action == world_mod.LATE:
            world.clock.advance(
                remote.issued + remote.timeout + 1 - world.clock.now
            )
        failure = None
        if action == world_mod.FAIL:
            failure = flows.RemoteFailed('%s failed remotely' % remote.task)
        self._complete(remote.task, remote.token, failure)
        if action == world_mod.DUP:
            self._complete(remote.task, remote.token, failure)

    def _deliver_rounds(self):
        for _ in range(ROUNDS):
            todo = self.world.outstanding()
            if not todo:
                return
            for remote in todo:
                self._deliver(remote)
            if self.world.outstanding() == todo:
                return  # none taken: an owner holds it; see _drive

    def _row(self):
        return self.world.inner.load(self.world.wid)[0]

    def _drive(self):
        world = self.world
        if world.snapshot() is None:
            return  # the first engine died before the workflow was written
        for _ in range(ROUNDS):
            if self._row()['state'] in _TERMINAL:
                return
            for remote in world.outstanding():
                self._deliver(remote)
            row = self._row()
            if row['state'] in _TERMINAL:
                return
            if row['lease_expires_at'] is not None:
                world.clock.advance_to(row['lease_expires_at'])
                world.clock.advance(1)
            if row['owner'] is None and row['state'] == states.PENDING:
                world.clock.advance(GRACE_SECONDS + 1)
            self._engine('sweep', self._sweep)

    # -- actions at yield points ----------------------------------------------
    def act(self, action):
        """Carry out a schedule action that needs the world or an engine."""
        world = self.world
        try:
            row = self._row()
        except WorkflowNotFound:
            return  # not created yet
        if action == world_mod.ABORT:
            world.inner.request_abort(world.wid)
            world.log('abort', None)
        elif action == world_mod.FREE:
            if world.inner.free(world.wid):
                world.log('free', None)
        elif action == world_mod.ADOPT:
            if row['lease_expires_at'] is not None:
                world.clock.advance_to(row['lease_expires_at'])
                world.clock.advance(1)
            self._engine('adopt', self._adopt)
        elif action == world_mod.COMPLETE:
            todo = world.outstanding()
            if todo:
                self._complete(todo[0].task, todo[0].token)
        elif action == world_mod.STALE:
            # The newest token the rows no longer wait for, else a made-up
            # one.
            snap = world.snapshot()
            old = [
                r
                for r in world.remote.values()
                if not invariants.token_is_current(snap, r.task, r.token)
            ]
            if old:
                self._complete(old[-1].task, old[-1].token)
            else:
                task = next(
                    s.name for s in self.flow.steps.values() if s.pending
                )
                self._complete(task, '%s.stale' % task)
        else:
            raise AssertionError('unknown action %r' % action)
