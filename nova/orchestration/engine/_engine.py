"""Engine: validate, persist, claim, run, resume and complete workflows.

An engine is composed of small parts, each with a narrow job: a Journal
(rows, dirty state, the fenced write), Values (results and arguments), a
Scheduler (ready, in-flight and waiting steps), a Reverter (failures,
decisions, revert passes) and the RunLoop that moves between them through
a declared table of phases. This module only builds them and offers the
public API.
"""

import json
import logging
import os
import socket
import uuid

from nova.orchestration import factory as factory_mod
from nova.orchestration import states
from nova.orchestration._compiler import compile_flow
from nova.orchestration.engine._journal import Journal
from nova.orchestration.engine._loop import PENDING_KEY
from nova.orchestration.engine._loop import RunLoop
from nova.orchestration.engine._policy import DEFAULT_POLICY
from nova.orchestration.engine._pool import work_pool
from nova.orchestration.engine._restorer import restore
from nova.orchestration.engine._reverter import Reverter
from nova.orchestration.engine._scheduler import Scheduler
from nova.orchestration.engine._values import Values
from nova.orchestration.exceptions import FlowChanged
from nova.orchestration.exceptions import NotSerializable
from nova.orchestration.exceptions import OrchestrationError
from nova.orchestration.exceptions import OwnershipLost
from nova.orchestration.exceptions import ResultTooLarge
from nova.orchestration.exceptions import UnknownFactory
from nova.orchestration.exceptions import WorkflowFailed
from nova.orchestration.failure import Failure
from nova.orchestration.persistence.base import EXPIRED_LEASE
from nova.orchestration.persistence.base import STORE_SIZE_FACTOR
from nova.orchestration.persistence.memory import MemoryBackend

LOG = logging.getLogger(__name__)
SECRET_KEY = '__secret__'
_default_owner = None


def default_owner():
    """'host:pid:token', this process's owner name. The random token makes
    a restarted process a new owner: it adopts its old workflows once
    their leases expire, like any other owner."""
    global _default_owner
    if _default_owner is None:
        _default_owner = '%s:%d:%s' % (
            socket.gethostname(),
            os.getpid(),
            uuid.uuid4().hex[:8],
        )
    return _default_owner


def _resolve_flow(flow, store):
    """A flow, or a registered factory name -> (flow, FactoryInfo or None)."""
    if isinstance(flow, str):
        info = factory_mod.lookup(flow)
        return factory_mod.build_flow(info, store), info
    if isinstance(flow, tuple) and len(flow) == 2 and isinstance(flow[0], str):
        info = factory_mod.lookup(flow[0], flow[1])
        return factory_mod.build_flow(info, store), info
    return flow, getattr(flow, '_factory', None)


def _encode_store(store, secret, limit):
    persisted = {k: v for k, v in store.items() if k not in secret}
    if secret:
        persisted[SECRET_KEY] = sorted(secret)
    try:
        text = json.dumps(persisted, separators=(',', ':'))
    except (TypeError, ValueError) as e:
        raise NotSerializable(
            'workflow store is not JSON serializable (%s); '
            'mark such inputs secret or convert them' % e
        ) from None
    if len(text) > limit * STORE_SIZE_FACTOR:
        raise ResultTooLarge(
            'workflow store is %d bytes, over the %d bytes '
            'cap' % (len(text), limit * STORE_SIZE_FACTOR)
        )
    return text


#: What the rows say of a completion (see _completion_status).
_TAKEN, _NOT_YET, _STALE = 'taken', 'not yet', 'stale'


def _completion_status(loaded, task_name, token):
    """What the rows say of a completion of ``task_name`` with ``token``.

    _TAKEN: the workflow runs forward and the step waits for ``token``.
    _NOT_YET: the step runs and no token is recorded yet: its owner is
    between the step's execute (which started the remote work, so the
    report can be faster than the write) and recording the token it
    returned, or died there (its adopter runs the step again, with a new
    token). Try again. _STALE: anything else; it never becomes wanted.
    """
    row, tasks = loaded
    if row['state'] != states.RUNNING:
        return _STALE
    for t in tasks:
        if t['name'] == task_name:
            if t['state'] != states.RUNNING:
                return _STALE
            if not t['result']:
                return _NOT_YET
            return _TAKEN if _pending_token(t) == token else _STALE
    return _STALE


def _pending_token(task_row):
    """The token a RUNNING task row waits for, else None."""
    if task_row['state'] != states.RUNNING or not task_row['result']:
        return None
    data = json.loads(task_row['result'])
    return data.get(PENDING_KEY) if isinstance(data, dict) else None


class Engine:
    """Runs one workflow: a flow plus its store, persisted in a backend.

    ``Engine(flow, store=..., backend=...)`` validates everything first
    (missing requirements, duplicate names, cycles, store encoding, a
    registered factory when the backend is durable) and only then writes
    the workflow and its task rows in one transaction, claimed by
    ``owner``. ``run()`` returns on SUCCESS (or with ``waiting`` set when
    steps returned Pending) and raises WorkflowFailed once reverted (state
    REVERTED, or FAILED when a revert failed). ``flow`` may also be a
    registered factory name (or (name, version)). ``policy`` (an
    EnginePolicy) holds every option.

    Secrets: store keys in ``secret`` stay in memory only; they are never
    written nor logged. After a resume they are absent unless given again
    via ``Engine.load(..., secrets={...})``: a task with that argument
    optional runs with its default, a task requiring it fails with
    MissingRequirement (a revert gets None for it).
    """

    def __init__(
        self,
        flow,
        store=None,
        backend=None,
        *,
        policy=None,
        listeners=(),
        owner=None,
        secret=(),
        name=None,
        target=None,
        request_id=None,
        project_id=None,
        user_id=None,
        workflow_id=None,
        resumable=None,
    ):
        backend = backend if backend is not None else MemoryBackend()
        policy = policy or DEFAULT_POLICY
        compiled, store, wf, tasks = self._prepare(
            flow,
            store,
            backend,
            policy,
            secret,
            resumable,
            dict(
                id=workflow_id,
                name=name,
                target=target,
                request_id=request_id,
                project_id=project_id,
                user_id=user_id,
            ),
        )
        self._assemble(
            backend,
            policy,
            compiled,
            store,
            wf['id'],
            wf['name'],
            listeners,
            owner,
        )
        since = policy.clock.monotonic()
        self._journal.own(
            backend.create_workflow(
                wf, tasks, owner=self.owner, lease_seconds=policy.lease_seconds
            ),
            since,
        )

    # -- construction --------------------------------------------------------
    @staticmethod
    def _prepare(flow, store, backend, policy, secret, resumable, meta):
        """Validate -> (compiled flow, store, workflow row, task rows)."""
        store = dict(store or {})
        flow, info = _resolve_flow(flow, store)
        compiled = compile_flow(flow, store.keys())
        if resumable is None:
            resumable = not isinstance(backend, MemoryBackend)
        if resumable and info is None:
            raise UnknownFactory(
                'flow %r is not built by a registered flow_factory, so no '
                'other process could resume it; register one '
                '(orc.flow_factory) or pass resumable=False'
                % getattr(flow, 'name', flow)
            )
        limit = policy.result_size_limit or backend.result_size_limit
        text = _encode_store(store, frozenset(secret or ()), limit)
        workflow_id = meta['id'] or str(uuid.uuid4())
        target_type, target_id = meta['target'] or (None, None)
        wf = {
            'id': workflow_id,
            'name': meta['name'] or getattr(flow, 'name', None) or workflow_id,
            'factory': info.name if info else None,
            'factory_version': info.version if info else None,
            'state': states.PENDING,
            'store': text,
            'target_type': target_type,
            'target_id': target_id,
            'request_id': meta['request_id'],
            'project_id': meta['project_id'],
            'user_id': meta['user_id'],
        }
        return compiled, store, wf, [(n.name, n.index) for n in compiled.nodes]

    def _assemble(
        self,
        backend,
        policy,
        compiled,
        store,
        workflow_id,
        name,
        listeners,
        owner,
    ):
        self._backend = backend
        self._compiled = compiled
        self.workflow_id = workflow_id
        self.name = name
        self.owner = owner or default_owner()
        limit = policy.result_size_limit or backend.result_size_limit
        journal = Journal(
            backend,
            policy,
            workflow_id,
            name,
            [n.name for n in compiled.nodes],
            listeners,
        )
        values = Values(compiled, store, limit)
        scheduler = Scheduler(
            compiled,
            work_pool(policy.executor, policy.max_workers),
            policy.clock,
            journal.lease_is_fresh,
        )
        reverter = Reverter(compiled, journal, values, scheduler)
        self._journal, self._values = journal, values
        self._scheduler, self._reverter = scheduler, reverter
        self._loop = RunLoop(compiled, journal, values, scheduler, reverter)

    @classmethod
    def create(
        cls,
        flow,
        store=None,
        backend=None,
        connection=None,
        secret=(),
        name=None,
        target=None,
        request_id=None,
        project_id=None,
        user_id=None,
        workflow_id=None,
        result_size_limit=None,
        resumable=None,
    ):
        """Validate and write a workflow without claiming nor running it.

        Returns the workflow id. With ``connection`` (an SQLAlchemy
        Connection in the caller's transaction) the rows commit with the
        caller's own writes (e.g. nova-api's instance row); a conductor
        later runs it with ``Engine.resume(workflow_id, backend)``.
        Secrets are not kept.
        """
        backend = backend if backend is not None else MemoryBackend()
        policy = DEFAULT_POLICY.replace(result_size_limit=result_size_limit)
        _, _, wf, tasks = cls._prepare(
            flow,
            store,
            backend,
            policy,
            secret,
            resumable,
            dict(
                id=workflow_id,
                name=name,
                target=target,
                request_id=request_id,
                project_id=project_id,
                user_id=user_id,
            ),
        )
        backend.create_workflow(wf, tasks, connection=connection)
        return wf['id']

    @classmethod
    def load(
        cls,
        workflow_id,
        backend,
        *,
        policy=None,
        owner=None,
        listeners=(),
        secrets=None,
    ):
        """Claim a persisted workflow and rebuild its engine (does not run
        it).

        The flow is rebuilt by its registered factory; its steps must match
        the rows by name and position (else FlowChanged, nothing written).
        Raises OwnershipLost when another owner holds a live lease, and
        WorkflowFailed when the workflow was adopted more than
        ``policy.max_adoptions`` times (it is set FAILED: a poison workflow
        must not cycle between conductors forever). A finished workflow
        gives a read-only engine whose ``run()`` returns or raises its
        outcome.
        """
        return cls._load(
            workflow_id, backend, policy, owner, listeners, secrets
        )

    @classmethod
    def _load(
        cls,
        workflow_id,
        backend,
        policy,
        owner,
        listeners,
        secrets,
        loaded=None,
    ):
        """``load``; with ``loaded`` (rows just read), claim only if the
        workflow is still at the generation read (else OwnershipLost)."""
        policy = policy or DEFAULT_POLICY
        row, tasks = loaded or backend.load(workflow_id)
        expect = row['generation'] if loaded else None
        if not row['factory']:
            raise UnknownFactory(
                'workflow %s was not created from a flow factory and cannot '
                'be resumed' % workflow_id
            )
        info = factory_mod.lookup(row['factory'], row['factory_version'])
        store = json.loads(row['store'] or '{}')
        secret_names = store.pop(SECRET_KEY, [])
        if secrets:
            store.update(secrets)
        compiled = compile_flow(
            factory_mod.build_flow(info, store), set(store) | set(secret_names)
        )
        have = [(t['name'], t['position']) for t in tasks]
        want = [(n.name, n.index) for n in compiled.nodes]
        if tasks and have != want:
            raise FlowChanged(
                'workflow %s: factory %s v%s now builds steps %s but the '
                'workflow has %s; keep the old factory version registered '
                'to resume it'
                % (
                    workflow_id,
                    info.name,
                    info.version,
                    [n for n, _ in want],
                    [n for n, _ in have],
                )
            )
        self = cls.__new__(cls)
        self._assemble(
            backend,
            policy,
            compiled,
            store,
            workflow_id,
            row['name'],
            listeners,
            owner,
        )
        since = policy.clock.monotonic()
        claimed = backend.claim(
            workflow_id, self.owner, policy.lease_seconds, generation=expect
        )
        if claimed is None:
            row, tasks = backend.load(workflow_id)
            if row['state'] not in states.WORKFLOW_TERMINAL:
                raise OwnershipLost(
                    'workflow %s is held by %s until %s'
                    % (workflow_id, row['owner'], row['lease_expires_at']),
                    workflow_id=workflow_id,
                    owner=row['owner'],
                    current_generation=row['generation'],
                    lease_expires_at=row['lease_expires_at'],
                )
            self._journal.generation = row['generation']
            self._journal.state = row['state']
            restore(self._loop, tasks, row['failure'])
            return self
        generation, adoptions = claimed
        self._journal.own(generation, since)
        try:
            self._take_over(
                backend.load(workflow_id), adoptions, policy.max_adoptions
            )
        except (WorkflowFailed, OwnershipLost):
            raise
        except Exception:
            # Invariant I3: never leave a claimed workflow held by nobody
            # running it.
            self._give_up('could not be restored after its claim')
            raise
        return self

    def _take_over(self, loaded, adoptions, max_adoptions):
        row, tasks = loaded
        journal = self._journal
        if row['generation'] != journal.generation:
            # Adopted again between our claim and this read (we stalled
            # past the lease): the rows are the new owner's, and acting on
            # them (poisoning a workflow it already ended, say) is a stale
            # write.
            journal.disown()
            raise OwnershipLost(
                'workflow %s was adopted at generation %s while generation '
                '%s was loading it'
                % (self.workflow_id, row['generation'], journal.generation),
                workflow_id=self.workflow_id,
                owner=row['owner'],
                current_generation=row['generation'],
                lease_expires_at=row['lease_expires_at'],
            )
        journal.state = row['state']
        if max_adoptions is not None and adoptions > max_adoptions:
            self._reverter.restore_reasons(row['failure'])
            self._poison(adoptions, max_adoptions)
        if tasks:
            restore(self._loop, tasks, row['failure'])
        else:
            journal.insert_all()
        if row['abort_requested'] and journal.state in (
            states.PENDING,
            states.RUNNING,
        ):
            self._reverter.abort()

    def _poison(self, adoptions, max_adoptions):
        """Set FAILED, whatever else was asked (an abort included)."""
        journal, reverter = self._journal, self._reverter
        reverter.failures['adoptions'] = Failure.from_exception(
            OrchestrationError(
                'workflow %s was adopted %d times (max_adoptions %d): set '
                'FAILED for an operator instead of cycling between owners'
                % (self.workflow_id, adoptions, max_adoptions)
            )
        )
        journal.workflow('poison')
        journal.set(
            failure=reverter.summary(),
            finished_at=journal.policy.clock.utcnow(),
        )
        journal.save(release=True, check_abort=False)
        raise WorkflowFailed(
            self.workflow_id, journal.state, reverter.failures
        )

    def _give_up(self, why):
        """After an unexpected error: stop, and free the workflow (fenced,
        counted as an adoption) so another owner takes it at once."""
        LOG.exception(
            'workflow %s: engine stopped (%s); freeing it for adoption',
            self.workflow_id,
            why,
        )
        self._loop.abandon()
        policy = self._journal.policy
        for attempt in range(policy.save_attempts):
            try:
                self._backend.free(self.workflow_id, self._journal.generation)
                return
            except Exception:
                LOG.warning(
                    'workflow %s: could not be freed',
                    self.workflow_id,
                    exc_info=True,
                )
                policy.clock.sleep(policy.save_retry_delay * (attempt + 1))
        LOG.error(
            'workflow %s: could not be freed; its lease runs out instead',
            self.workflow_id,
        )

    # -- running -------------------------------------------------------------
    def run(self):
        """Run to the end (or until only Pending steps remain); see the
        class doc."""
        journal = self._journal
        if journal.state in states.WORKFLOW_TERMINAL:
            return self._terminal_result()
        if not journal.owned:
            raise OwnershipLost(
                'workflow %s: this engine does not own it (anymore)'
                % self.workflow_id,
                workflow_id=self.workflow_id,
                generation=journal.generation,
            )
        if journal.state == states.PENDING and not self._reverter.abort_due:
            journal.workflow('start')
        try:
            self._loop.run()
        except WorkflowFailed:
            raise
        except OwnershipLost:
            LOG.warning(
                'workflow %s: ownership lost (generation %s); '
                'stopping with no further action',
                self.workflow_id,
                journal.generation,
            )
            self._loop.abandon()
            raise
        except Exception:
            self._give_up('unexpected error')
            raise
        except BaseException:
            self._loop.abandon()
            raise
        return self

    def _terminal_result(self):
        if self._journal.state == states.SUCCESS:
            return self
        raise WorkflowFailed(
            self.workflow_id, self._journal.state, self.failures
        )

    @classmethod
    def resume(cls, workflow_id, backend, **kwargs):
        """Claim, rebuild and run a persisted workflow; returns the engine.

        SUCCESS steps are skipped with their stored results; a step found
        RUNNING is re-executed if idempotent, else failed (interrupted) and
        reverted; a REVERTING workflow resumes its revert.
        """
        return cls.load(workflow_id, backend, **kwargs).run()

    @classmethod
    def complete(
        cls,
        workflow_id,
        task_name,
        token,
        backend,
        result=None,
        failure=None,
        *,
        run=True,
        policy=None,
        owner=None,
        listeners=(),
        secrets=None,
    ):
        """Record the completion of a Pending step and continue the
        workflow.

        Accepted at most once, only while that step is still RUNNING with
        ``token`` (invariant I5): a duplicate, stale or late completion
        changes nothing at all, not even the lease. When it returns an
        engine the completion is committed, so whoever reported it may
        forget it. Returns the engine (after running when ``run``,
        claimed and not run otherwise), or None when the completion is stale,
        when the workflow is held by a live owner, or when the step has
        not recorded its token yet (``waits_for`` tells whether to try
        again).
        """
        claimed = cls._claim_waiting(
            workflow_id,
            task_name,
            token,
            backend,
            policy,
            owner,
            listeners,
            secrets,
        )
        if claimed is None:
            return None
        engine, node = claimed
        if failure is not None:
            if isinstance(failure, BaseException):
                failure = Failure.from_exception(failure)
            elif isinstance(failure, dict):
                failure = Failure.from_dict(failure)
            engine._reverter.task_failed(node.index, failure)
        else:
            engine._loop.completed(node.index, True, result)
        # Committed before anyone is told it was taken: a caller may then
        # forget the completion (e.g. acknowledge it to the remote side),
        # and a crash before run() loses nothing. The abort check is the
        # run's: a requested abort reverts what this recorded.
        engine._save_claimed('its completion could not be written')
        return engine.run() if run else engine

    @classmethod
    def _claim_waiting(
        cls,
        workflow_id,
        task_name,
        token,
        backend,
        policy,
        owner,
        listeners,
        secrets,
    ):
        """Claim the workflow if ``task_name`` waits for ``token``, and
        stop the wait -> (engine, node); None when it does not (stale,
        not yet recorded) or another owner holds the workflow."""
        loaded = backend.load(workflow_id)
        status = _completion_status(loaded, task_name, token)
        if status == _NOT_YET:
            return None
        if status == _STALE:
            LOG.info(
                'workflow %s: stale completion of %s (token %s) ignored',
                workflow_id,
                task_name,
                token,
            )
            return None
        try:
            # Claimed only if nothing was written since the check.
            engine = cls._load(
                workflow_id,
                backend,
                policy,
                owner,
                listeners,
                secrets,
                loaded=loaded,
            )
        except OwnershipLost:
            return None
        node = engine._compiled.by_name[task_name]
        waiting = engine._scheduler.waiting
        if waiting.get(node.index, (None,))[0] != token:
            # A stale owner wrote between our read and our claim.
            engine.release()
            return None
        del waiting[node.index]
        return engine, node

    @classmethod
    def redo(
        cls,
        workflow_id,
        task_name,
        token,
        backend,
        *,
        run=True,
        policy=None,
        owner=None,
        listeners=(),
        secrets=None,
    ):
        """Run a waiting step again: its remote side lost the work (the
        host that was doing it restarted), so no completion will come.

        Taken like a completion (at most once, only while the step waits
        for ``token``; see ``complete``): the step's execute runs again
        and starts the remote work anew, with a new token. A step that is
        not idempotent fails instead (interrupted), as one found RUNNING
        after its owner died would. Returns the engine (run when ``run``)
        or None.
        """
        claimed = cls._claim_waiting(
            workflow_id,
            task_name,
            token,
            backend,
            policy,
            owner,
            listeners,
            secrets,
        )
        if claimed is None:
            return None
        engine, node = claimed
        if node.atom.idempotent:
            engine._journal.touch(node.index)['result'] = None
            engine._scheduler.ready.append(node.index)
        else:
            engine._reverter.task_failed(
                node.index,
                Failure.from_exception(
                    OrchestrationError(
                        'task %r: its remote work was lost and it is not '
                        'idempotent' % task_name
                    )
                ),
            )
        engine._save_claimed('its new start could not be written')
        return engine.run() if run else engine

    def _save_claimed(self, why):
        """Commit what a completion or a redo changed in a workflow just
        claimed; on a database error free it (why) and raise."""
        try:
            self._journal.save(check_abort=False)
        except OwnershipLost:
            raise
        except Exception:
            self._give_up(why)
            raise

    @staticmethod
    def waits_for(workflow_id, task_name, token, backend):
        """True while a completion that ``complete`` returned None for
        may still be taken, so try again: the workflow runs forward and
        ``task_name`` waits for ``token`` (the workflow was busy), or the
        step runs and has not recorded its token yet (the report was
        faster than the owner's write). False once it never can be."""
        loaded = backend.load(workflow_id)
        return _completion_status(loaded, task_name, token) != _STALE

    @staticmethod
    def waiting_tokens(workflow_id, backend):
        """{task name: token} of the steps a running workflow waits for,
        as its rows show them ({} once it does not run forward): what a
        caller needs to complete one of them itself, e.g. with a failure
        when the remote side is known to be gone."""
        row, tasks = backend.load(workflow_id)
        if row['state'] != states.RUNNING:
            return {}
        tokens = {t['name']: _pending_token(t) for t in tasks}
        return {name: token for name, token in tokens.items() if token}

    @classmethod
    def sweep(cls, backend, *, grace_seconds=60, limit=100, **kwargs):
        """Adopt and run what ``find_adoptable`` returns (lost casts, dead
        owners, aborted or freed rows, waiting steps past their deadline).

        Runs them one after another in the calling thread; a conductor
        that wants them in parallel calls ``find_adoptable`` and ``resume``
        itself. Returns {workflow_id: final state}; a workflow that cannot
        be resumed (FlowChanged, UnknownFactory, a database error) is
        logged and reported as 'ERROR: <exception type>', the others still
        run.
        """
        out = {}
        for wid in backend.find_adoptable(grace_seconds, limit):
            try:
                engine = cls.load(wid, backend, **kwargs)
                if not engine._journal.owned:
                    continue  # finished by another owner meanwhile
                out[wid] = engine.run().state
            except WorkflowFailed as e:
                out[wid] = e.state
            except OwnershipLost:
                continue
            except Exception as e:
                LOG.exception('workflow %s: cannot be adopted', wid)
                out[wid] = 'ERROR: %s' % type(e).__name__
        return out

    def release(self):
        """Give the workflow up without running it, leaving it as a sweeper
        needs it: adoptable at once when it has work to do, else waiting
        until its earliest deadline (invariant I3)."""
        if not self._journal.owned:
            return
        scheduler, reverter = self._scheduler, self._reverter
        busy = (
            scheduler.ready
            or reverter.decision_due
            or reverter.revert_pass is not None
            or not scheduler.waiting
        )
        self._journal.save(
            release=True,
            check_abort=False,
            release_until=EXPIRED_LEASE
            if busy
            else scheduler.earliest_deadline(),
        )

    def stop(self):
        """Hand the workflow back at the next step boundary.

        Thread-safe; meant for a service that is shutting down. No new step
        starts; steps already running finish and are persisted; then the
        workflow is released with an expired lease so that another owner's
        sweeper adopts it at once, and ``run()`` returns with ``stopped``
        True and the workflow still unfinished.
        """
        self._loop.stop_requested = True

    # -- inspection ----------------------------------------------------------
    @property
    def stopped(self):
        """True when ``run()`` returned because of :meth:`stop`."""
        return self._loop.handed_back

    @property
    def state(self):
        """The workflow state (states.PENDING ... states.FAILED)."""
        return self._journal.state

    @property
    def generation(self):
        """The fencing generation this engine writes with."""
        return self._journal.generation

    @property
    def results(self):
        """{provided symbol: value} of every succeeded step."""
        return self._values.provided(self._journal.rows, states.SUCCESS)

    @property
    def task_results(self):
        """{task name: result} of every succeeded task."""
        return {
            r['name']: self._values.result[i]
            for i, r in enumerate(self._journal.rows)
            if r['state'] == states.SUCCESS
        }

    @property
    def waiting(self):
        """{task name: token} of steps waiting for ``Engine.complete``."""
        return {
            self._journal.rows[i]['name']: t
            for i, (t, _) in self._scheduler.waiting.items()
        }

    @property
    def failures(self):
        """{task name: Failure} seen by this engine."""
        return dict(self._reverter.failures, **self._reverter.revert_failures)

    def task_state(self, name):
        """The state of the step called ``name``."""
        return self._journal.rows[self._compiled.by_name[name].index]['state']
