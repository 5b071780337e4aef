"""Runs workflows for one conductor: claim, run, heartbeat, sweep.

A conductor is one workflow *owner*. It claims a workflow when a cast
names it or when its sweeper finds one nobody runs (a lost cast, or an
owner whose lease expired), runs it through nova.orchestration, renews
the leases of what it runs in one statement per heartbeat, and on a
graceful stop hands its workflows back at the next step boundary. When
it starts, it first frees what its own dead previous incarnations held
(see nova.conductor.incarnation) so that its first sweep adopts them.
"""

import json
import threading
import time

import futurist
from oslo_log import log as logging

from nova import exception
from nova import orchestration as orc
from nova.conductor import events
from nova.conductor import incarnation
from nova.conductor.workflows import base
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance
from nova.conductor.workflows import power_actions
import nova.conf
from nova.db import workflows as workflows_db

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

#: Seconds between two tries to record a remote step's completion while
#: the workflow's owner is still recording that the step started.
_COMPLETION_RETRY_INTERVAL = 0.05

#: What record_completion says of a remote step's completion.
COMPLETION_TAKEN = 'taken'
COMPLETION_STALE = 'stale'
COMPLETION_BUSY = 'busy'

#: Most workflows one sweep adopts (more wait for the next sweep).
SWEEP_LIMIT = 100

#: What the runner reads of each workflow, by name: its instance action
#: (``ACTION``), the steps recorded as that action's events
#: (``EVENT_STEPS``) and, optionally, ``keep_vm_state`` (see
#: base.finish_revert).
WORKFLOWS = {
    module.NAME: module for module in (build_instance, delete_instance)
}
WORKFLOWS.update(power_actions.WORKFLOWS)


def new_owner_name(host=None):
    """A unique owner name: host, boot id, pid and a nonce (several per
    process); see nova.conductor.incarnation for why and the format."""
    return incarnation.new_owner_name(host or CONF.host)


class WorkflowRunner:
    """Claims and runs workflows on a bounded pool of dispatch threads."""

    def __init__(self, owner=None):
        self.owner = owner or new_owner_name()
        # Until it stops, no runner of this process takes this owner for
        # a dead incarnation that had the same pid.
        incarnation.register(self.owner)
        self._pool = futurist.ThreadPoolExecutor(
            max_workers=CONF.orchestration.max_workers
        )
        self._lock = threading.Lock()
        self._active = set()
        self._engines = {}
        self._handed_back = []
        self._stopping = False

    @property
    def backend(self):
        return workflows_db.get_backend()

    def submit(self, workflow_id, secrets=None):
        """Run ``workflow_id`` here unless it already runs here.

        ``secrets`` (store values the rows do not hold, e.g. a build's
        admin password) are given to the engine if this runner claims
        the workflow; they stay in memory only.
        """
        with self._lock:
            if self._stopping or workflow_id in self._active:
                return False
            self._active.add(workflow_id)
        self._pool.submit(self._run, workflow_id, secrets)
        return True

    def active(self):
        with self._lock:
            return set(self._active)

    def _run(self, workflow_id, secrets=None):
        try:
            self._run_workflow(workflow_id, secrets=secrets)
        except Exception:
            LOG.exception(
                'Workflow %s: unexpected error in the conductor', workflow_id
            )
        finally:
            with self._lock:
                self._active.discard(workflow_id)

    def _load(self, workflow_id):
        """(row, store, listeners) of an unfinished workflow, or None."""
        try:
            row, _tasks = self.backend.load(workflow_id)
        except orc.WorkflowNotFound:
            LOG.warning('Workflow %s not found (purged?)', workflow_id)
            return None
        if row['state'] in orc.states.WORKFLOW_TERMINAL:
            return None
        store = json.loads(row['store'] or '{}')
        module = WORKFLOWS.get(row['name'])
        listeners = []
        if module is not None:
            recorder = events.recorder_for(store, module.EVENT_STEPS)
            if recorder is not None:
                listeners.append(recorder)
        return row, store, listeners

    def _run_workflow(self, workflow_id, secrets=None):
        loaded = self._load(workflow_id)
        if loaded is None:
            return
        row, store, listeners = loaded
        try:
            engine = orc.Engine.load(
                workflow_id,
                self.backend,
                owner=self.owner,
                listeners=listeners,
                policy=workflows_db.engine_policy(),
                secrets=secrets,
            )
        except orc.OwnershipLost as exc:
            LOG.debug('Workflow %s not claimed: %s', workflow_id, exc)
            return
        except orc.WorkflowFailed as exc:
            # Poisoned: adopted too often. An operator must look.
            self._mark_target_error(row, store, exc)
            return
        # A dead owner may have left events of finished steps open.
        events.close_finished_events(
            self.backend, workflow_id, listeners, engine.generation
        )
        self._drive(engine, row, store)

    def complete(
        self, workflow_id, task_name, token, result=None, failure=None
    ):
        """Record the end of a remote step and continue its workflow, in
        the pool (a task_complete cast: nobody waits for the answer)."""
        self._pool.submit(
            self._complete, workflow_id, task_name, token, result, failure
        )

    def _complete(self, workflow_id, task_name, token, result, failure):
        try:
            recorded = self._record(
                workflow_id,
                task_name,
                token,
                result,
                failure,
                2 * CONF.orchestration.lease_seconds,
            )
            if recorded == COMPLETION_BUSY:
                LOG.warning(
                    'Workflow %s: the completion of %s is dropped; its '
                    'timeout will decide',
                    workflow_id,
                    task_name,
                )
            elif recorded != COMPLETION_STALE:
                self._drive(*recorded)
        except Exception:
            LOG.exception(
                'Workflow %s: completion of %s failed', workflow_id, task_name
            )

    def redo(self, workflow_id, task_name, token):
        """Run a waiting remote step again, in the pool: its host lost
        the work (see orc.Engine.redo)."""
        self._pool.submit(self._redo, workflow_id, task_name, token)

    def _redo(self, workflow_id, task_name, token):
        try:
            taken = self._take(
                orc.Engine.redo,
                workflow_id,
                task_name,
                token,
                2 * CONF.orchestration.lease_seconds,
            )
            if not isinstance(taken, str):
                self._drive(*taken)
        except Exception:
            LOG.exception(
                'Workflow %s: running %s again failed', workflow_id, task_name
            )

    def record_completion(
        self,
        workflow_id,
        task_name,
        token,
        patience,
        result=None,
        failure=None,
    ):
        """Record the end of a remote step now, then continue its
        workflow in the pool; the caller acknowledges the report.

        :param patience: seconds to keep trying while the workflow is
            busy or has not recorded the token yet.
        :returns: COMPLETION_TAKEN (committed), COMPLETION_STALE (never
            wanted: forget it) or COMPLETION_BUSY (report it again).
        :raises: a database error: nothing was recorded (report again).
        """
        if self._stopping:
            return COMPLETION_BUSY  # a running conductor will take it
        recorded = self._record(
            workflow_id, task_name, token, result, failure, patience
        )
        if isinstance(recorded, str):
            return recorded
        engine = recorded[0]
        with self._lock:
            # Until a thread drives it: renewed by the heartbeat, and not
            # taken for an orphan by this runner's own sweeper.
            mine = workflow_id not in self._active
            self._active.add(workflow_id)
            self._engines[workflow_id] = engine
        try:
            self._pool.submit(self._drive_recorded, mine, *recorded)
        except RuntimeError:
            # Stopped meanwhile: the completion is committed; hand the
            # rest back for a sweeper to adopt at once.
            with self._lock:
                if self._engines.get(workflow_id) is engine:
                    del self._engines[workflow_id]
                if mine:
                    self._active.discard(workflow_id)
            engine.release()
        return COMPLETION_TAKEN

    def _record(
        self, workflow_id, task_name, token, result, failure, patience
    ):
        """Engine.complete, tried again while the completion is wanted
        but cannot be taken yet.

        :returns: (engine, row, store) for the caller to drive once the
            completion is committed, else COMPLETION_STALE or
            COMPLETION_BUSY.
        """
        return self._take(
            orc.Engine.complete,
            workflow_id,
            task_name,
            token,
            patience,
            result=result,
            failure=failure,
        )

    def _take(self, take, workflow_id, task_name, token, patience, **kwargs):
        """``take`` (Engine.complete or Engine.redo) of the wait of
        ``task_name`` for ``token``, tried again while it is wanted but
        cannot be taken yet -> (engine, row, store), else
        COMPLETION_STALE or COMPLETION_BUSY."""
        loaded = self._load(workflow_id)
        if loaded is None:
            return COMPLETION_STALE
        row, store, listeners = loaded
        # The owner that started the step may still be recording its
        # token (the report can be faster than that write), or another
        # conductor may hold the workflow: retry while it is wanted.
        deadline = time.monotonic() + patience
        while True:
            try:
                engine = take(
                    workflow_id,
                    task_name,
                    token,
                    self.backend,
                    owner=self.owner,
                    run=False,
                    listeners=listeners,
                    policy=workflows_db.engine_policy(),
                    **kwargs,
                )
            except orc.WorkflowFailed as exc:
                self._mark_target_error(row, store, exc)
                return COMPLETION_STALE
            if engine is not None:
                return engine, row, store
            if not orc.Engine.waits_for(
                workflow_id, task_name, token, self.backend
            ):
                LOG.info(
                    'Workflow %s: %s of %s (token %s) is stale; ignored',
                    workflow_id,
                    take.__name__,
                    task_name,
                    token,
                )
                return COMPLETION_STALE
            # Still wanted: the token is not recorded yet, or another
            # conductor holds the workflow right now (perhaps recording a
            # sibling's completion). Try again.
            if time.monotonic() > deadline:
                current = self.backend.get_workflow(workflow_id)
                LOG.warning(
                    'Workflow %s: still busy (owner %s); %s of %s not '
                    'recorded yet',
                    workflow_id,
                    current['owner'],
                    take.__name__,
                    task_name,
                )
                return COMPLETION_BUSY
            time.sleep(_COMPLETION_RETRY_INTERVAL)

    def _drive_recorded(self, mine, engine, row, store):
        try:
            self._drive(engine, row, store)
        except Exception:
            LOG.exception(
                'Workflow %s: unexpected error in the conductor',
                engine.workflow_id,
            )
        finally:
            if mine:
                with self._lock:
                    self._active.discard(engine.workflow_id)

    def _drive(self, engine, row, store):
        """Run a claimed engine until it finishes, waits or is stopped."""
        workflow_id = engine.workflow_id
        LOG.info(
            'Workflow %s (%s of %s %s) claimed by %s, generation %s',
            workflow_id,
            row['name'],
            row['target_type'],
            row['target_id'],
            self.owner,
            engine.generation,
        )
        with self._lock:
            self._engines[workflow_id] = engine
            if self._stopping:
                engine.stop()
        try:
            engine.run()
            if engine.stopped:
                with self._lock:
                    self._handed_back.append(workflow_id)
            elif engine.waiting:
                LOG.info(
                    'Workflow %s waits, with no thread, for %s',
                    workflow_id,
                    ', '.join(sorted(engine.waiting)),
                )
            else:
                LOG.info('Workflow %s finished: %s', workflow_id, engine.state)
        except orc.WorkflowFailed as exc:
            LOG.info('Workflow %s ended %s: %s', workflow_id, exc.state, exc)
            if exc.state == orc.states.FAILED:
                self._mark_target_error(row, store, exc)
            else:
                self._finish_unstarted_revert(engine, row, store, exc)
        except orc.OwnershipLost:
            LOG.warning(
                'Workflow %s was adopted by another conductor; '
                'this one stopped without further side effects',
                workflow_id,
            )
        except Exception:
            # The engine died (e.g. its writes kept failing). Free the
            # workflow so a sweeper adopts it now rather than when its
            # lease runs out. Freeing bumps the generation, fencing off
            # anything still running.
            LOG.exception(
                'Workflow %s: engine failed; releasing it for adoption',
                workflow_id,
            )
            self._free(workflow_id, engine.generation)
        finally:
            with self._lock:
                # Only ours: this conductor may have adopted the workflow
                # again meanwhile, and that engine's lease must stay renewed.
                if self._engines.get(workflow_id) is engine:
                    del self._engines[workflow_id]

    def _free(self, workflow_id, generation):
        # Fenced: if another conductor adopted the workflow meanwhile (our
        # writes failed for longer than the lease), this changes nothing.
        try:
            self.backend.free(workflow_id, generation)
        except Exception:
            LOG.exception(
                'Workflow %s could not be released; it is '
                'adopted once this conductor stops',
                workflow_id,
            )

    def _mark_target_error(self, row, store, exc):
        """A workflow needing an operator leaves its instance in ERROR."""
        if row.get('target_type') != 'instance' or not store.get('context'):
            return
        ctxt = base.request_context(store['context'])
        uuid = row['target_id']
        message = (
            '%s workflow %s failed and needs an operator: '
            'nova-manage workflow show %s'
            % (row['name'], row['id'], row['id'])
        )
        try:
            base.set_error(ctxt, uuid, 500, message, str(exc))
        except exception.InstanceNotFound:
            return
        LOG.error('Instance %s: %s', uuid, message)

    def _finish_unstarted_revert(self, engine, row, store, exc):
        """Do for a workflow reverted before its sentinel ran what the
        sentinel's revert does (nova.conductor.workflows.base).

        The engine reverts only the steps that ran, and an abort
        requested before the first step (a workflow nobody had claimed
        yet) runs none: without this, an operator's abort of such a build
        would leave its server BUILDING with nothing to drive it.
        """
        module = WORKFLOWS.get(row['name'])
        if (
            module is None
            or row.get('target_type') != 'instance'
            or not store.get('context')
            or engine.task_state(base.MarkErrorOnRevert.name)
            != orc.states.PENDING
        ):
            return
        base.finish_revert(
            base.request_context(store['context']),
            row['target_id'],
            store['action_id'],
            module.ACTION,
            row['id'],
            exc.failures,
            keep_vm_state=getattr(module, 'keep_vm_state', False),
        )

    # -- periodics -----------------------------------------------------------
    def heartbeat(self):
        """Renew, in one statement, the leases of the workflows this
        owner's engines are running: a workflow whose engine died here
        must not stay held by this live process (its lease runs out and
        a sweeper adopts it)."""
        with self._lock:
            running = list(self._engines)
        return self.backend.extend_leases(
            self.owner, CONF.orchestration.lease_seconds, workflow_ids=running
        )

    def recover(self):
        """The first sweep of a starting conductor: free what this
        host's provably dead incarnations held, then sweep, adopting
        those at once instead of after their leases run out.

        :returns: ids of the workflows adopted.
        """
        freed = self.free_dead_incarnations()
        # Room for every freed workflow besides the usual candidates.
        return self.sweep(limit=SWEEP_LIMIT + freed)

    def free_dead_incarnations(self):
        """Free the unfinished workflows of this host's owners that are
        provably dead (see nova.conductor.incarnation); -> count."""
        me = incarnation.parse_owner_name(self.owner)
        if me is None or me.boot_id is None:
            return 0  # nothing can be proven with such a name
        freed = incarnation.free_dead_owners(self.backend, me.host)
        total = sum(freed.values())
        if total:
            LOG.info(
                'Conductor %s adopts now the %d workflow(s) its dead '
                'previous incarnation(s) %s held',
                self.owner,
                total,
                ', '.join(sorted(freed)),
            )
        return total

    def sweep(self, limit=SWEEP_LIMIT):
        """Adopt workflows nobody runs: lost casts and expired leases."""
        found = self.backend.find_adoptable(
            CONF.orchestration.sweep_grace_seconds, limit=limit
        )
        adopted = [wid for wid in found if self.submit(wid)]
        if adopted:
            LOG.info(
                'Sweeper of %s adopting %d workflow(s): %s',
                self.owner,
                len(adopted),
                ', '.join(adopted),
            )
        return adopted

    def stop(self, wait=True):
        """Take no new workflows; hand the running ones back.

        Each engine finishes the steps it has in flight, persists them and
        releases its workflow at that step boundary.

        :returns: ids of the workflows handed back (unfinished, unowned).
        """
        with self._lock:
            self._stopping = True
            engines = list(self._engines.values())
        for engine in engines:
            engine.stop()
        self._pool.shutdown(wait=wait)
        if wait:
            # Nothing runs as this owner any more: a later runner of this
            # process may free what it still holds (a failed release).
            incarnation.unregister(self.owner)
        with self._lock:
            return list(self._handed_back)
