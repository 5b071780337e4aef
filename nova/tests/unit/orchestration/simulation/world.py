"""The simulated world: fake time, numbered yield points, faults.

Everything through which an engine could interleave with anything else is a
*yield point*: the moment before every backend call, the moment after every
backend write commits, the start and the end of every execute and revert,
every choice of the work pool, every backoff sleep, and every completion the
remote side delivers. Points are numbered in the order they are reached;
the whole simulation runs in one thread with a fake clock, so the same
schedule always reaches the same points in the same order.

A *schedule* maps point numbers to actions ({7: 'crash', 15: 'adopt'});
at every other point nothing happens (the pool runs its oldest queued
call). An action that does not apply to the point it names is ignored and
traced as such, so an old schedule replays on a changed engine without
blowing up. Actions that need an engine (adopt, deliver a completion) are
carried out by the scenario, nested in the same thread: the engine that
reached the point is frozen there until they return.
"""

import collections
import datetime

from sqlalchemy import exc as sa_exc

from nova.orchestration.persistence.memory import MemoryBackend
from nova.tests.unit.orchestration.simulation import invariants

#: Time zero of every simulation (naive UTC, like every timestamp column).
EPOCH = datetime.datetime(2030, 1, 1)
#: Seconds a claim holds a workflow in the simulation.
LEASE_SECONDS = 30.0
#: Tries of a failed write the simulated engines are configured with.
SAVE_ATTEMPTS = 3
#: Points one run may reach before it is declared a livelock.
MAX_POINTS = 4000

# Actions anywhere: the world acts while an engine is frozen at the point.
ABORT = 'abort'  # an operator asks for an abort (orc.request_abort)
ADOPT = 'adopt'  # the owner stalls past its lease; another engine adopts
FREE = 'free'  # an operator frees the workflow (backend.free)
COMPLETE = 'complete'  # the remote side reports a waiting step right now
STALE = 'stale'  # a completion with a token that is not the current one
TICK = 'tick'  # time passes beyond every step timeout
STALL = 'stall'  # the engine freezes for half a lease; nobody adopts
STOP = 'stop'  # the conductor stops the engine frozen here (Engine.stop)
# Actions at some points only.
CRASH = 'crash'  # the process of the engine dies here
DBERR = 'dberr'  # this write fails before committing (transient)
SLOW = 'slow'  # this execute outlives its step's timeout
WAIT = 'wait'  # the pool runs nothing; time passes to the next deadline
LOSE = 'lose'  # the completion is lost
DUP = 'dup'  # the completion is delivered twice
LATE = 'late'  # the completion comes after the step's deadline
FAIL = 'fail'  # the remote work failed: the completion carries a failure

#: Backend methods that write nothing (one yield point: before the call).
READS = frozenset(
    ('load', 'find_adoptable', 'get_workflow', 'list_workflows', 'stats')
)

Entry = collections.namedtuple(
    'Entry',
    'seq kind task actor gen wf_state task_state row_gen stale detail',
)
Entry.__doc__ = """One line of the side-effect ledger.

``kind`` is exec, exec-end, revert or revert-end; ``gen`` the
workflow_generation the engine passed to the task; ``wf_state``,
``task_state`` and ``row_gen`` what the backend rows said at that moment;
``stale``: a newer generation had been claimed (I8 reports it);
``detail``: ok/fail/pending:<token> for ends, the exception types of
flow_failures for a revert start."""

Event = collections.namedtuple('Event', 'seq kind actor data')
Event.__doc__ = """A backend event: claim, release, free, abort, accepted,
end (an engine call ended; data is its outcome)."""


class SimulatedCrash(BaseException):
    """The process running ``actor`` died at this point.

    A BaseException, like the SystemExit of a killed process: no engine
    code may take it for a step failure.
    """

    def __init__(self, actor, where):
        super().__init__('%s died at %s' % (actor.name, where))
        self.actor = actor


class Runaway(BaseException):
    """The run reached MAX_POINTS points: something loops for ever."""


class SimulationStuck(Exception):
    """The engine waits on futures that nothing can ever finish."""


def transient_db_error(where):
    """What a lost database connection looks like to the engine."""
    return sa_exc.OperationalError(
        'simulated %s' % where, {}, Exception('database is locked (sim)')
    )


class FakeClock:
    """The only time an engine and the backend see (EnginePolicy.clock).

    It moves only when the simulation moves it: a backoff ``sleep``, a
    stall, a slow step, the pool letting time pass to a deadline.
    """

    def __init__(self, world=None):
        self.now = 0.0
        self.world = world

    def monotonic(self):
        return self.now

    def utcnow(self):
        return EPOCH + datetime.timedelta(seconds=self.now)

    def sleep(self, seconds):
        self.advance(seconds)
        if self.world is not None:
            self.world.point('sleep', 'backoff')

    def advance(self, seconds):
        self.now += max(0.0, float(seconds))

    def advance_to(self, when):
        """Move to ``when`` (a naive UTC datetime) unless already past."""
        at = (when - EPOCH).total_seconds()
        if at > self.now:
            self.now = at


class Actor:
    """Who acts: one engine call (one process, one owner name)."""

    __slots__ = (
        'name',
        'what',
        'generation',
        'running',
        'crashed',
        'outcome',
        'dberrs',
        'exhausted',
        'pool',
        'engine',
    )

    def __init__(self, name, what):
        self.name = name
        self.what = what
        self.generation = None  # what its claim (or creation) returned
        self.running = True
        self.crashed = False
        self.outcome = None
        self.dberrs = 0  # injected write errors in a row
        self.exhausted = False  # it gave up after SAVE_ATTEMPTS of them
        self.pool = None
        self.engine = None  # the Engine it drives, once there is one


class Remote:
    """Work a Pending step started elsewhere, and what became of its
    report."""

    __slots__ = ('task', 'token', 'timeout', 'issued', 'status')

    def __init__(self, task, token, timeout, issued):
        self.task = task
        self.token = token
        self.timeout = timeout
        self.issued = issued  # fake monotonic time of the cast
        self.status = 'outstanding'  # then accepted or lost


class World:
    """One simulated deployment: a database, a clock, processes, a ledger.

    ``handler`` (the scenario) carries out the actions that need engines.
    ``chooser(world, n, kind, where, options)`` picks actions at points the
    schedule says nothing about (random exploration); what was done at each
    point ends up in ``taken``, which replays the run exactly.
    """

    def __init__(self, flow, schedule=None, chooser=None, handler=None):
        self.flow = flow
        self.wid = 'wf-%s' % flow.name
        self.clock = FakeClock(self)
        self.inner = MemoryBackend(clock=self.clock)
        self.backend = SimBackend(self)
        self.schedule = dict(schedule or {})
        self.chooser = chooser
        self.handler = handler
        self.taken = {}
        #: [(point, its options)] when an explorer wants to branch.
        self.reached = None
        self.n = 0
        self.seq = 0
        self.trace = []
        self.ledger = []
        self.events = []
        self.violations = []
        self.stack = []
        self.actors = {}
        self.remote = {}
        self.accepts = collections.Counter()
        self.max_claim = 0  # the newest generation any claim returned
        generic = [ABORT, ADOPT, FREE, STALL, STOP]
        if flow.has_pending:
            generic += [COMPLETE, STALE]
        if flow.has_timeouts:
            generic.append(TICK)
        self.generic = tuple(generic)

    # -- actors ---------------------------------------------------------------
    @property
    def current(self):
        return self.stack[-1] if self.stack else None

    def new_actor(self, what):
        actor = Actor('e%d' % (len(self.actors) + 1), what)
        self.actors[actor.name] = actor
        return actor

    def running_owners(self):
        return {a.name for a in self.stack if a.running}

    # -- yield points ---------------------------------------------------------
    def options(self, kind, info):
        """The actions that apply at a point of ``kind``."""
        if kind == 'call':
            if not info.get('write'):
                return self.generic + (DBERR,)
            return self.generic + (CRASH, DBERR)
        if kind in ('commit', 'exec-end', 'revert', 'revert-end'):
            return self.generic + (CRASH,)
        if kind == 'exec':
            slow = (SLOW,) if info.get('timeout') else ()
            return self.generic + (CRASH,) + slow
        if kind == 'pool':
            runs = tuple('run%d' % i for i in range(1, min(info['n'], 3)))
            # A deadline (0: already passed) lets the pool run nothing.
            waits = (WAIT,) if info.get('timeout') is not None else ()
            return runs + waits
        if kind == 'deliver':
            return (DUP, FAIL) + ((LOSE, LATE) if info.get('timeout') else ())
        if kind == 'sleep':
            return self.generic
        raise AssertionError('unknown point kind %r' % kind)

    def point(self, kind, where, **info):
        """Reach the next yield point; perform what the schedule says.

        Returns the action for points whose owner decides (pool, deliver),
        raises SimulatedCrash or a database error, or acts through the
        handler and returns None.
        """
        self.n += 1
        n = self.n
        if n > MAX_POINTS:
            raise Runaway('more than %d points' % MAX_POINTS)
        actor = self.current
        who = actor.name if actor is not None else '-'
        self.trace.append((n, who, kind, where))
        if self.reached is not None:
            self.reached.append((n, self.options(kind, info)))
        action = self.schedule.get(n)
        if action is None and self.chooser is not None:
            action = self.chooser(self, n, kind, where, info)
        if action is None:
            return None
        if action not in self.options(kind, info):
            self.trace.append((n, who, 'ignored', action))
            return None
        self.taken[n] = action
        self.trace.append((n, who, 'do', action))
        if kind in ('pool', 'deliver'):
            return action
        if action == CRASH:
            raise SimulatedCrash(
                actor or Actor('-', '-'), '%s %s' % (kind, where)
            )
        if action == DBERR:
            actor.dberrs += 1
            actor.exhausted = actor.dberrs >= SAVE_ATTEMPTS
            raise transient_db_error(where)
        if action == SLOW:
            self.clock.advance(info['timeout'] + 1)
            return None
        if action == TICK:
            self.clock.advance(self.flow.max_timeout + 1)
            return None
        if action == STALL:
            self.clock.advance(LEASE_SECONDS / 2)
            return None
        if action == STOP:
            engine = actor.engine if actor is not None else None
            if engine is not None:
                engine.stop()
            return None
        self.handler.act(action)
        return None

    # -- rows -----------------------------------------------------------------
    def rows(self):
        """(workflow row, {task name: row}) as the database has them now."""
        row, tasks = self.inner.load(self.wid)
        return row, {t['name']: t for t in tasks}

    def snapshot(self):
        try:
            row, tasks = self.inner.load(self.wid)
        except Exception:
            return None
        return row, tasks

    def log(self, kind, actor, data=None):
        self.seq += 1
        self.events.append(
            Event(self.seq, kind, actor.name if actor else '-', data)
        )

    def violate(self, invariant, message, point=None):
        self.violations.append(
            invariants.Violation(
                invariant, self.n if point is None else point, message
            )
        )

    # -- the backend seam -----------------------------------------------------
    def backend_call(self, name, fn, args, kwargs):
        actor = self.current
        write = name not in READS
        self.point('call', name, write=write)
        stale = write and actor is not None and self._stale(actor)
        before = self.snapshot() if stale else None
        result = fn(*args, **kwargs)
        if actor is not None:
            actor.dberrs = 0
        self._note(name, actor, args, kwargs, result)
        if stale:
            invariants.check_stale_write(self, actor, name, before)
        if write:
            self.point('commit', name)
        return result

    def _stale(self, actor):
        if actor.generation is None:
            return False
        try:
            gen = self.inner.load(self.wid)[0]['generation']
        except Exception:
            return False
        return gen != actor.generation

    def _note(self, name, actor, args, kwargs, result):
        if name == 'create_workflow' and result:
            actor.generation = result
            self.max_claim = max(self.max_claim, result)
            self.log('claim', actor, (result, 0))
        elif name == 'claim' and result is not None:
            actor.generation = result[0]
            self.max_claim = max(self.max_claim, result[0])
            self.log('claim', actor, tuple(result))
        elif name == 'save' and kwargs.get('release'):
            self.log('release', actor)
        elif name == 'release' and result:
            self.log('release', actor)
        elif name in ('free', 'free_owned_by') and result:
            self.log('free', actor)

    # -- the ledger (called by the simulated tasks) ---------------------------
    def task_start(self, kind, task, generation, detail=None, timeout=None):
        actor = self.current
        row, tasks = self.rows()
        self.seq += 1
        entry = Entry(
            self.seq,
            kind,
            task,
            actor.name if actor else '-',
            generation,
            row['state'],
            tasks[task]['state'],
            row['generation'],
            generation is not None and generation < self.max_claim,
            detail,
        )
        self.ledger.append(entry)
        invariants.check_start(self, entry)
        self.point(kind, task, timeout=timeout)

    def task_end(self, kind, task, generation, detail):
        actor = self.current
        self.seq += 1
        self.ledger.append(
            Entry(
                self.seq,
                kind + '-end',
                task,
                actor.name if actor else '-',
                generation,
                None,
                None,
                None,
                False,
                detail,
            )
        )
        self.point(kind + '-end', task)

    def issue_token(self, task, generation, timeout):
        """The remote side got a cast: it will report under this token."""
        token = '%s.g%s.%d' % (task, generation, len(self.remote) + 1)
        self.remote[token] = Remote(task, token, timeout, self.clock.now)
        return token

    def outstanding(self):
        return [r for r in self.remote.values() if r.status == 'outstanding']


class SimBackend:
    """The backend the engines see: every call is a yield point.

    Wraps the world's MemoryBackend generically (any method, including
    ones added later), so no write can escape fault injection.
    """

    def __init__(self, world):
        self._world = world
        self._inner = world.inner

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name.startswith('_') or not callable(attr):
            return attr
        world = self._world

        def call(*args, **kwargs):
            return world.backend_call(name, attr, args, kwargs)

        call.__name__ = name
        return call


class SimFuture:
    """A queued call of the simulated work pool."""

    __slots__ = ('call', 'state', 'value')

    def __init__(self, call):
        self.call = call
        self.state = 'queued'
        self.value = None

    def done(self):
        return self.state in ('done', 'cancelled')

    def cancel(self):
        if self.state == 'queued':
            self.state = 'cancelled'
            return True
        return self.state == 'cancelled'

    def cancelled(self):
        return self.state == 'cancelled'

    def result(self, timeout=None):
        if self.state != 'done':
            raise RuntimeError('simulated future is %s' % self.state)
        return self.value


class SimPool:
    """The work pool of one engine: nothing runs until the engine waits.

    ``wait_any`` reaches a 'pool' point: by default the oldest queued call
    runs (to its end, in this thread); 'runK' runs the K-th instead;
    'wait' runs nothing and lets the clock reach the engine's deadline. A
    cancelled call never runs; calls still queued when the engine's call
    ends run then (a real pool would run them), see ``drain``.
    """

    def __init__(self, world):
        self.world = world
        self.queue = []

    def submit(self, call):
        fut = SimFuture(call)
        self.queue.append(fut)
        return fut

    def _run(self, fut):
        fut.state = 'running'
        fut.value = fut.call()
        fut.state = 'done'

    def wait_any(self, futures, timeout):
        futures = list(futures)
        while True:
            done = {f for f in futures if f.state == 'done'}
            if done:
                return done
            queued = [f for f in self.queue if f.state == 'queued']
            if not queued and timeout is not None:
                self.world.clock.advance(timeout)  # to the next deadline
                return set()
            if not queued:
                raise SimulationStuck(
                    'the engine waits on %d futures nothing will run'
                    % len(futures)
                )
            action = self.world.point(
                'pool', 'wait_any', n=len(queued), timeout=timeout
            )
            if action == WAIT:
                self.world.clock.advance(timeout)
                return set()
            index = int(action[3:]) if action else 0
            self._run(queued[min(index, len(queued) - 1)])

    def drain(self):
        """Run what is still queued (the engine's call has ended)."""
        for fut in self.queue:
            if fut.state == 'queued':
                self._run(fut)
