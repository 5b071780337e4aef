"""MemoryBackend: the Backend in process memory, for tests and scripts.

Same semantics as SQLBackend (fencing, abort flag, leases), under one lock.
"""

import datetime
import threading

from nova.orchestration import states
from nova.orchestration.exceptions import OwnershipLost
from nova.orchestration.exceptions import WorkflowNotFound
from nova.orchestration.persistence import base


class MemoryBackend(base.Backend):
    """Workflows in dicts; ``memory://``."""

    def __init__(self, result_size_limit=None, clock=None):
        if result_size_limit is not None:
            self.result_size_limit = result_size_limit
        #: Anything with ``utcnow()`` (a simulation's clock); None: the
        #: host's clock.
        self.clock = clock
        self._lock = threading.Lock()
        self._workflows = {}
        self._tasks = {}  # workflow id -> {name: row}
        self.clock_offset = datetime.timedelta()  # tests move time forward

    def _now(self):
        now = self.clock.utcnow() if self.clock is not None else base.utcnow()
        return now + self.clock_offset

    def _get(self, workflow_id):
        try:
            return self._workflows[workflow_id]
        except KeyError:
            raise WorkflowNotFound(workflow_id=workflow_id) from None

    def create_workflow(
        self,
        workflow,
        tasks=(),
        owner=None,
        lease_seconds=base.DEFAULT_LEASE_SECONDS,
        connection=None,
    ):
        now = self._now()
        row = dict.fromkeys(base.WORKFLOW_COLUMNS)
        row.update(
            state=states.PENDING,
            generation=0,
            abort_requested=False,
            adoptions=0,
            created_at=now,
            updated_at=now,
        )
        row.update(workflow)
        if owner:
            row.update(
                owner=owner,
                generation=1,
                lease_expires_at=now
                + datetime.timedelta(seconds=lease_seconds),
            )
        wid = row['id']
        with self._lock:
            if wid in self._workflows:
                raise ValueError('workflow %s already exists' % wid)
            self._workflows[wid] = row
            self._tasks[wid] = {
                name: base.new_task_row(wid, name, pos) for name, pos in tasks
            }
        return row['generation']

    def claim(self, workflow_id, owner, lease_seconds, generation=None):
        with self._lock:
            row = self._get(workflow_id)
            now = self._now()
            if row['state'] in states.WORKFLOW_TERMINAL or (
                generation is not None and row['generation'] != generation
            ):
                return None
            if not (
                row['owner'] is None
                or (
                    row['lease_expires_at'] is not None
                    and row['lease_expires_at'] < now
                )
            ):
                return None
            if row['owner'] not in (None, base.FREED_OWNER):
                row['adoptions'] += 1
            row.update(
                owner=owner,
                generation=row['generation'] + 1,
                lease_expires_at=now
                + datetime.timedelta(seconds=lease_seconds),
                updated_at=now,
            )
            return row['generation'], row['adoptions']

    def load(self, workflow_id):
        with self._lock:
            row = dict(self._get(workflow_id))
            tasks = sorted(
                (dict(t) for t in self._tasks[workflow_id].values()),
                key=lambda t: t['position'],
            )
        return row, tasks

    def save(
        self,
        workflow_id,
        generation,
        tasks=(),
        workflow=None,
        check_abort=True,
        lease_seconds=base.DEFAULT_LEASE_SECONDS,
        release=False,
        release_until=None,
        new_tasks=(),
    ):
        with self._lock:
            row = self._get(workflow_id)
            if row['generation'] != generation:
                raise OwnershipLost(
                    workflow_id=workflow_id,
                    generation=generation,
                    current_generation=row['generation'],
                    owner=row['owner'],
                    lease_expires_at=row['lease_expires_at'],
                )
            if check_abort and row['abort_requested']:
                raise base.AbortRequested(workflow_id=workflow_id)
            now = self._now()
            row['updated_at'] = now
            if lease_seconds is not None:
                row['lease_expires_at'] = now + datetime.timedelta(
                    seconds=lease_seconds
                )
            trows = self._tasks[workflow_id]
            for t in new_tasks:
                trows[t['name']] = dict(t)
            for t in tasks:
                trows[t['name']].update(t)
            if workflow:
                row.update(workflow)
            if release:
                row['owner'] = None
                row['lease_expires_at'] = release_until

    def extend_leases(self, owner, lease_seconds, workflow_ids=None):
        with self._lock:
            until = self._now() + datetime.timedelta(seconds=lease_seconds)
            if workflow_ids is None:
                rows = self._workflows.values()
            else:
                rows = [
                    self._workflows[w]
                    for w in workflow_ids
                    if w in self._workflows
                ]
            n = 0
            for row in rows:
                if row['owner'] == owner:
                    row['lease_expires_at'] = until
                    n += 1
            return n

    def release(self, workflow_id, generation):
        with self._lock:
            row = self._get(workflow_id)
            if row['generation'] != generation:
                return False
            row['owner'] = None
            row['lease_expires_at'] = base.EXPIRED_LEASE
            return True

    def free(self, workflow_id, generation=None):
        with self._lock:
            row = self._get(workflow_id)
            if row['state'] in states.WORKFLOW_TERMINAL or (
                generation is not None and row['generation'] != generation
            ):
                return False
            lease = row['lease_expires_at']
            held = (
                row['owner'] is not None
                and lease is not None
                and (lease > self._now())
            )
            self._free_row(row)
            if generation is None and held:  # see Backend.free
                row.update(owner=base.FREED_OWNER, lease_expires_at=lease)
            return True

    def free_owned_by(self, owner):
        with self._lock:
            rows = [
                r
                for r in self._workflows.values()
                if r['owner'] == owner
                and r['state'] not in states.WORKFLOW_TERMINAL
            ]
            for row in rows:
                self._free_row(row)
            return len(rows)

    @staticmethod
    def _free_row(row):
        row.update(
            owner=None,
            generation=row['generation'] + 1,
            adoptions=row['adoptions'] + 1,
            lease_expires_at=base.EXPIRED_LEASE,
        )

    def find_adoptable(self, grace_seconds=60, limit=100):
        with self._lock:
            now = self._now()
            old = now - datetime.timedelta(seconds=grace_seconds)
            out = []
            for row in sorted(
                self._workflows.values(), key=lambda r: r['created_at']
            ):
                if row['state'] in states.WORKFLOW_TERMINAL:
                    continue
                if (
                    row['owner'] is None
                    and row['state'] == states.PENDING
                    and row['created_at'] < old
                ) or (
                    row['lease_expires_at'] is not None
                    and row['lease_expires_at'] < now
                ):
                    out.append(row['id'])
                    if len(out) >= limit:
                        break
            return out

    def request_abort(self, workflow_id, connection=None):
        with self._lock:
            row = self._get(workflow_id)
            if row['state'] in states.WORKFLOW_TERMINAL:
                return False
            row['abort_requested'] = True
            if row['owner'] is None and row['state'] != states.PENDING:
                # A waiting workflow has no owner to notice: let the sweeper
                # adopt it.
                row['lease_expires_at'] = base.EXPIRED_LEASE
            return True

    # Operator queries.
    def list_workflows(
        self, state=None, target=None, owner=None, older_than=None, limit=100
    ):
        with self._lock:
            rows = [dict(r) for r in self._workflows.values()]
        out = []
        for r in sorted(rows, key=lambda r: r['created_at'], reverse=True):
            if state and r['state'] != state:
                continue
            if target is not None:
                if isinstance(target, (tuple, list)):
                    if (r['target_type'], r['target_id']) != tuple(target):
                        continue
                elif r['target_id'] != target:
                    continue
            if owner and r['owner'] != owner:
                continue
            if older_than and not r['created_at'] < older_than:
                continue
            r.pop('store', None)
            out.append(r)
            if len(out) >= limit:
                break
        return out

    def stats(self):
        with self._lock:
            now = self._now()
            by_state = {}
            by_owner = {}
            oldest = None
            owned = expired = aborts = 0
            for r in self._workflows.values():
                by_state[r['state']] = by_state.get(r['state'], 0) + 1
                if r['state'] not in states.WORKFLOW_TERMINAL:
                    by_owner[r['owner']] = by_owner.get(r['owner'], 0) + 1
                    if (
                        oldest is None
                        or r['created_at'] < oldest['created_at']
                    ):
                        oldest = r
                owned += r['owner'] is not None
                expired += (
                    r['owner'] is not None
                    and r['lease_expires_at'] is not None
                    and r['lease_expires_at'] < now
                )
                aborts += bool(r['abort_requested'])
            return {
                'by_state': by_state,
                'by_owner': by_owner,
                'oldest_running': (
                    {
                        k: oldest[k]
                        for k in ('id', 'name', 'state', 'created_at')
                    }
                    if oldest
                    else None
                ),
                'owned': owned,
                'expired_leases': expired,
                'abort_requested': aborts,
            }

    def purge(self, before, batch_size=1000, dry_run=False):
        with self._lock:
            ids = [
                w
                for w, r in self._workflows.items()
                if r['state'] in states.WORKFLOW_TERMINAL
                and r['finished_at'] is not None
                and r['finished_at'] < before
            ]
            if not dry_run:
                for w in ids:
                    del self._workflows[w]
                    del self._tasks[w]
            return len(ids)
