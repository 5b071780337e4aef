"""Engine: validate, persist, claim, run, resume and complete workflows."""

import json
import logging
import os
import socket
import time
import uuid

from nova.orchestration import factory as factory_mod
from nova.orchestration import states
from nova.orchestration._compiler import compile_flow
from nova.orchestration.engine import _executors
from nova.orchestration.engine._restore import RestoreMixin
from nova.orchestration.engine._runtime import Runtime
from nova.orchestration.engine._runtime import _Job
from nova.orchestration.exceptions import FlowChanged
from nova.orchestration.exceptions import NotSerializable
from nova.orchestration.exceptions import OwnershipLost
from nova.orchestration.exceptions import ResultTooLarge
from nova.orchestration.exceptions import UnknownFactory
from nova.orchestration.exceptions import WorkflowFailed
from nova.orchestration.failure import Failure
from nova.orchestration.persistence.base import STORE_SIZE_FACTOR
from nova.orchestration.persistence.base import AbortRequested
from nova.orchestration.persistence.memory import MemoryBackend

LOG = logging.getLogger(__name__)
SECRET_KEY = '__secret__'
_default_owner = None


def default_owner():
    """'host:pid:token', this process's owner name (what the conductor's
    heartbeat passes to extend_leases). The random token makes a restarted
    process a new owner: it adopts its old workflows once their leases
    expire, like any other owner."""
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


class Engine(RestoreMixin, Runtime):
    """Runs one workflow: a flow plus its store, persisted in a backend.

    ``Engine(flow, store=..., backend=...)`` validates everything first
    (missing
    requirements, duplicate names, cycles, store encoding, a registered
    factory when the backend is durable) and only then writes the workflow and
    its task rows in one transaction, claimed by ``owner``. ``run()`` returns
    on SUCCESS (or with ``waiting`` set when steps returned Pending) and raises
    WorkflowFailed once reverted (state REVERTED, or FAILED when a revert
    failed). ``flow`` may also be a registered factory name (or (name,
    version)).

    Secrets: store keys in ``secret`` stay in memory only; they are never
    written nor logged. After a resume they are absent unless given again via
    ``Engine.load(..., secrets={...})``: a task with that argument optional
    runs with its default, a task requiring it fails with MissingRequirement
    (a revert gets None for it).
    """

    def __init__(
        self,
        flow,
        store=None,
        backend=None,
        executor=None,
        listeners=(),
        owner=None,
        secret=(),
        name=None,
        target=None,
        request_id=None,
        project_id=None,
        user_id=None,
        workflow_id=None,
        lease_seconds=30,
        result_size_limit=None,
        max_workers=None,
        resumable=None,
    ):
        self._configure(
            backend,
            executor,
            listeners,
            owner,
            lease_seconds,
            result_size_limit,
            max_workers,
        )
        wf, tasks = self._prepare(
            flow,
            store,
            secret,
            name,
            target,
            request_id,
            project_id,
            user_id,
            workflow_id,
            resumable,
        )
        self._generation = self._backend.create_workflow(
            wf, tasks, owner=self.owner, lease_seconds=self._lease_seconds
        )
        self._owned = True

    # -- construction --------------------------------------------------------
    def _configure(
        self,
        backend,
        executor,
        listeners,
        owner,
        lease_seconds,
        result_size_limit,
        max_workers,
    ):
        self._backend = backend if backend is not None else MemoryBackend()
        if executor is None or isinstance(executor, str):
            executor = _executors.shared_executor(
                executor or 'threads', max_workers
            )
        self._executor = executor
        self._listeners = list(listeners or ())
        self.owner = owner or default_owner()
        self._lease_seconds = lease_seconds
        self._limit = result_size_limit or self._backend.result_size_limit
        self._owned = False
        # Claims (create_workflow, claim) set a fresh lease.
        self._lease_renewed = time.monotonic()

    def _prepare(
        self,
        flow,
        store,
        secret,
        name,
        target,
        request_id,
        project_id,
        user_id,
        workflow_id,
        resumable,
    ):
        store = dict(store or {})
        secret = frozenset(secret or ())
        flow, info = _resolve_flow(flow, store)
        self._compiled = compile_flow(flow, store.keys())
        if resumable is None:
            resumable = not isinstance(self._backend, MemoryBackend)
        if resumable and info is None:
            raise UnknownFactory(
                'flow %r is not built by a registered flow_factory, so no '
                'other process could resume it; register one '
                '(orc.flow_factory) or '
                'pass resumable=False' % getattr(flow, 'name', flow)
            )
        persisted = {k: v for k, v in store.items() if k not in secret}
        if secret:
            persisted[SECRET_KEY] = sorted(secret)
        try:
            store_text = json.dumps(persisted, separators=(',', ':'))
        except (TypeError, ValueError) as e:
            raise NotSerializable(
                'workflow store is not JSON serializable (%s); '
                'mark such inputs secret or convert them' % e
            ) from None
        if len(store_text) > self._limit * STORE_SIZE_FACTOR:
            raise ResultTooLarge(
                'workflow store is %d bytes, over the %d bytes cap'
                % (len(store_text), self._limit * STORE_SIZE_FACTOR)
            )
        self.workflow_id = workflow_id or str(uuid.uuid4())
        self.name = name or getattr(flow, 'name', None) or self.workflow_id
        self._store = store
        self._wf_state = states.PENDING
        self._init_state()
        target_type, target_id = target if target else (None, None)
        wf = {
            'id': self.workflow_id,
            'name': self.name,
            'factory': info.name if info else None,
            'factory_version': info.version if info else None,
            'state': states.PENDING,
            'store': store_text,
            'target_type': target_type,
            'target_id': target_id,
            'request_id': request_id,
            'project_id': project_id,
            'user_id': user_id,
        }
        return wf, [(n.name, n.index) for n in self._compiled.nodes]

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

        Returns the workflow id. With ``connection`` (an SQLAlchemy Connection
        in the caller's transaction) the rows commit with the caller's own
        writes (e.g. nova-api's instance row); a conductor later runs it with
        ``Engine.resume(workflow_id, backend)``. Secrets are not kept.
        """
        self = cls.__new__(cls)
        self._configure(
            backend, 'threads', (), None, 30, result_size_limit, None
        )
        wf, tasks = self._prepare(
            flow,
            store,
            secret,
            name,
            target,
            request_id,
            project_id,
            user_id,
            workflow_id,
            resumable,
        )
        self._backend.create_workflow(wf, tasks, connection=connection)
        return self.workflow_id

    @classmethod
    def load(
        cls,
        workflow_id,
        backend,
        owner=None,
        executor=None,
        listeners=(),
        secrets=None,
        lease_seconds=30,
        max_adoptions=None,
        result_size_limit=None,
        max_workers=None,
    ):
        """Claim a persisted workflow and rebuild its engine (does not run it).

        The flow is rebuilt by its registered factory; its steps must match the
        rows by name and position (else FlowChanged, nothing written). Raises
        OwnershipLost when another owner holds a live lease, WorkflowFailed
        when
        the workflow was adopted more than ``max_adoptions`` times (it is set
        FAILED: a poison workflow must not cycle between conductors forever).
        """
        row, tasks = backend.load(workflow_id)
        if not row['factory']:
            raise UnknownFactory(
                'workflow %s was not created from a flow factory '
                'and cannot be resumed' % workflow_id
            )
        info = factory_mod.lookup(row['factory'], row['factory_version'])
        store = json.loads(row['store'] or '{}')
        secret_names = store.pop(SECRET_KEY, [])
        if secrets:
            store.update(secrets)
        flow = factory_mod.build_flow(info, store)
        compiled = compile_flow(flow, set(store) | set(secret_names))
        if tasks:
            have = [(t['name'], t['position']) for t in tasks]
            want = [(n.name, n.index) for n in compiled.nodes]
            if have != want:
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
        self._configure(
            backend,
            executor,
            listeners,
            owner,
            lease_seconds,
            result_size_limit,
            max_workers,
        )
        claimed = backend.claim(workflow_id, self.owner, lease_seconds)
        adoptions = 0
        if claimed is None:
            row, tasks = backend.load(workflow_id)
            if row['state'] not in states.WORKFLOW_TERMINAL:
                raise OwnershipLost(
                    'workflow %s is held by %s until %s'
                    % (workflow_id, row['owner'], row['lease_expires_at'])
                )
            # Finished: a read-only engine whose run() returns or raises the
            # outcome.
            self._generation = row['generation']
        else:
            self._generation, adoptions = claimed
            self._owned = True
            row, tasks = backend.load(workflow_id)
        self.workflow_id = workflow_id
        self.name = row['name']
        self._compiled = compiled
        self._store = store
        self._wf_state = row['state']
        self._init_state()
        if tasks:
            self._restore(tasks)
        else:
            self._new_tasks = [
                dict(r, workflow_id=workflow_id, position=i)
                for i, r in enumerate(self._rows)
            ]
        if max_adoptions is not None and adoptions > max_adoptions:
            self._poison(adoptions, max_adoptions)
        if row['abort_requested'] and self._wf_state in (
            states.PENDING,
            states.RUNNING,
        ):
            self._begin_abort()
        return self

    # -- running -------------------------------------------------------------
    def run(self):
        """Run to the end (or until only Pending steps remain); see the class
        doc."""
        if self._wf_state in states.WORKFLOW_TERMINAL:
            return self._terminal_result()
        if not self._owned:
            raise OwnershipLost(
                'workflow %s: this engine does not own it (anymore)'
                % self.workflow_id
            )
        if self._wf_state == states.PENDING and not self._aborting:
            self._wf_event('start')
        try:
            self._loop()
        except (WorkflowFailed, AbortRequested):
            raise
        except OwnershipLost:
            LOG.warning(
                'workflow %s: ownership lost (generation %s); stopping '
                'with no further action',
                self.workflow_id,
                self._generation,
            )
            self._abandon()
            raise
        except BaseException:
            LOG.exception(
                'workflow %s: engine stopped; it resumes when adopted',
                self.workflow_id,
            )
            self._abandon()
            raise
        return self

    def _terminal_result(self):
        if self._wf_state == states.SUCCESS:
            return self
        failures = {
            self._rows[i]['name']: f for i, f in enumerate(self._fail) if f
        }
        raise WorkflowFailed(self.workflow_id, self._wf_state, failures)

    def _finish(self):
        prev = self._wf_state
        try:
            return super()._finish()
        except AbortRequested:
            # The abort arrived just before the final write: honour it.
            self._wf_state = prev
            self._wf_dirty.pop('state', None)
            self._wf_dirty.pop('finished_at', None)
            self._begin_abort()
            return None

    @classmethod
    def resume(cls, workflow_id, backend, owner=None, **kwargs):
        """Claim, rebuild and run a persisted workflow; returns the engine.

        SUCCESS steps are skipped with their stored results; a step found
        RUNNING is re-executed if idempotent, else failed (interrupted) and
        reverted; a REVERTING workflow resumes its revert.
        """
        engine = cls.load(workflow_id, backend, owner=owner, **kwargs)
        return engine.run()

    @classmethod
    def complete(
        cls,
        workflow_id,
        task_name,
        token,
        backend,
        result=None,
        failure=None,
        owner=None,
        run=True,
        **kwargs,
    ):
        """Record the completion of a Pending step and continue the workflow.

        Accepted only while that step is still RUNNING with ``token``. Returns
        the engine (after running when ``run``), or None when the completion
        is stale or the workflow is held by a live owner (try again later).
        """
        try:
            engine = cls.load(workflow_id, backend, owner=owner, **kwargs)
        except OwnershipLost:
            return None
        node = engine._compiled.by_name.get(task_name)
        waiting = engine._waiting.get(node.index) if node is not None else None
        if waiting is None or waiting[0] != token:
            LOG.info(
                'workflow %s: stale completion of %s (token %s) ignored',
                workflow_id,
                task_name,
                token,
            )
            engine.release()
            return None
        del engine._waiting[node.index]
        if failure is not None:
            if isinstance(failure, BaseException):
                failure = Failure.from_exception(failure)
            elif isinstance(failure, dict):
                failure = Failure.from_dict(failure)
            engine._fail_task(node.index, failure)
        else:
            engine._complete(_Job('exec', node.index), True, result)
        return engine.run() if run else engine

    @classmethod
    def sweep(cls, backend, owner=None, grace_seconds=60, limit=100, **kwargs):
        """Adopt and run what ``find_adoptable`` returns (lost casts, dead
        owners, aborted or freed rows, waiting steps past their deadline).

        Runs them one after another in the calling thread; a conductor that
        wants them in parallel calls ``find_adoptable`` and ``resume`` itself.
        Returns {workflow_id: final state}; a workflow that cannot be resumed
        (FlowChanged, UnknownFactory, a database error) is logged and
        reported as 'ERROR: <exception type>', the others still run.
        """
        out = {}
        for wid in backend.find_adoptable(grace_seconds, limit):
            try:
                engine = cls.load(wid, backend, owner=owner, **kwargs)
                if not engine._owned:
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

    check_timeouts = sweep

    def release(self):
        """Give the workflow up without running it (another owner may adopt
        it)."""
        if self._owned:
            self._backend.release(self.workflow_id, self._generation)
            self._owned = False

    # -- inspection ----------------------------------------------------------
    @property
    def state(self):
        """The workflow state (states.PENDING ... states.FAILED)."""
        return self._wf_state

    @property
    def generation(self):
        """The fencing generation this engine writes with."""
        return self._generation

    @property
    def results(self):
        """{provided symbol: value} of every succeeded step."""
        out = {}
        for i, nd in enumerate(self._compiled.nodes):
            if self._rows[i]['state'] == states.SUCCESS and not nd.is_retry:
                for sym, ext in nd.provides:
                    v = self._res[i]
                    out[sym] = (
                        v
                        if ext is None
                        else (v[ext] if isinstance(ext, int) else v[ext[1]])
                    )
        return out

    @property
    def task_results(self):
        """{task name: result} of every succeeded task."""
        return {
            r['name']: self._res[i]
            for i, r in enumerate(self._rows)
            if r['state'] == states.SUCCESS
        }

    @property
    def waiting(self):
        """{task name: token} of steps waiting for ``Engine.complete``."""
        return {
            self._rows[i]['name']: t for i, (t, _) in self._waiting.items()
        }

    @property
    def failures(self):
        """{task name: Failure} seen by this engine."""
        return dict(self._failures, **self._revert_failures)

    def task_state(self, name):
        """The state of the step called ``name``."""
        return self._rows[self._compiled.by_name[name].index]['state']
