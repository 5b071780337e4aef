"""Chaos soak: boot and delete servers while services die, for N minutes.

Not a test and not part of CI: ``tools/chaos-soak.sh --minutes 30`` runs
it (see doc/source/admin/chaos-soak.rst). It starts a multi-process
deployment through :class:`nova.tests.integration.harness.Deployment`
(nova-api, a scheduler, two conductors and two fake computes on a
private RabbitMQ virtual host and a fresh MariaDB or PostgreSQL
database), then runs two loops at once:

* the *client* boots servers through the REST API, waits for each to be
  ACTIVE or ERROR, deletes it and waits for it to be gone, with a bounded
  number of servers in flight;
* the *chaos* loop, at seeded random times, kills -9 and restarts a
  random service, pauses a conductor past its lease and resumes it, and
  now and then restarts RabbitMQ (holding the harness's broker lock
  exclusively, so that no other integration test is in the middle of
  something). The database servers are shared with other tests and
  sessions on the machine, so they are never restarted.

At the end it stops the chaos, restarts whatever is down, lets every
workflow finish, deletes what is left and checks the invariants
(:func:`check_invariants`). It prints a text summary and one JSON line,
and exits 1 on any violation.
"""

import argparse
import collections
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'

SPAWNED_RE = re.compile(r'Spawned instance ([0-9a-f-]{36}) on (\S+)')

#: Relative weights of the fault kinds; ``restart_rabbitmq`` is further
#: limited to one per ``--broker-spacing`` seconds.
FAULT_WEIGHTS = {
    'kill_conductor': 3.0,
    'kill_compute': 2.0,
    'kill_scheduler': 1.0,
    'kill_api': 1.0,
    'pause_conductor': 2.0,
    'restart_rabbitmq': 0.6,
}

#: Seconds an ACTIVE or ERROR server may keep a task_state before the
#: client calls it stuck (an update in flight clears it in well under).
STUCK_TASK_SECONDS = 30

#: Seconds the client waits to see an ERROR server again, with still no
#: task, before it deletes it.
ERROR_CONFIRM_SECONDS = 3


def log(message, *args):
    """A timestamped progress line on stderr."""
    sys.stderr.write(
        '[soak %s] %s\n' % (time.strftime('%H:%M:%S'), message % args)
    )
    sys.stderr.flush()


class ApiError(Exception):
    """The API could not be reached or answered 5xx: worth retrying."""


class ApiClient:
    """Just enough of the compute API v2.1 for the soak (noauth2)."""

    def __init__(self, port, project='soak-project', timeout=30):
        self.base = 'http://127.0.0.1:%d/v2.1' % port
        self.token = 'soak:%s' % project
        self.timeout = timeout

    def request(self, method, path, body=None):
        """(status, JSON body or None); ApiError when unreachable/5xx."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={
                'X-Auth-Token': self.token,
                'Content-Type': 'application/json',
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read()
        except (http.client.HTTPException, OSError) as exc:
            raise ApiError('%s %s: %s' % (method, path, exc)) from exc
        if status >= 500:
            raise ApiError('%s %s: HTTP %d %s' % (method, path, status, text))
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = None
        return status, payload

    def listening(self):
        try:
            self.request('GET', '/flavors')
            return True
        except ApiError:
            return False


# -- invariants -----------------------------------------------------------
def check_invariants(records, db):
    """Check the soak's invariants; return (results, leaks).

    ``records`` are the client's per-request records (dicts with
    ``uuid``, ``accepted``, ``outcome``, ``deleted``, ``console_lines``);
    ``db`` holds what the database showed after the final cleanup:

    * ``instances``: {uuid: {vm_state, task_state, deleted}};
    * ``stuck_before_cleanup``: uuids in BUILD or with a task_state once
      every workflow had finished, before the leftovers were deleted;
    * ``unfinished_workflows``: [(id, name, state, owner)];
    * ``successful_builds``: {uuid: count of SUCCESS build_instance};
    * ``spawned``: {uuid: "Spawned instance" lines over compute logs};
    * ``held``: {kind: [instance uuids]} of claims, fixed IPs, live BDMs
      and instance directories left behind;
    * ``node_usage``: [(host, vcpus, ram, disk)] still in use;
    * ``audit``: {returncode, findings}.

    ``results`` maps each invariant to a list of violations (empty when
    it holds); ``leaks`` counts leaked resources.
    """
    results = collections.OrderedDict()
    accepted = [r for r in records if r.get('accepted')]
    instances = db['instances']

    bad = []
    for r in accepted:
        outcome = r.get('outcome')
        row = instances.get(r['uuid'])
        if outcome not in ('ACTIVE', 'ERROR'):
            bad.append(
                '%s: ended %s, not ACTIVE or ERROR' % (r['uuid'], outcome)
            )
        elif row is None or not row['deleted']:
            bad.append('%s: %s but not deleted' % (r['uuid'], outcome))
    results['every_boot_accounted'] = bad

    results['every_delete_removed'] = [
        '%s: delete accepted but the server is still there' % r['uuid']
        for r in accepted
        if r.get('delete_timed_out')
        or r.get('delete_accepted')
        and (
            not r.get('gone')
            or not (instances.get(r['uuid']) or {}).get('deleted')
        )
    ]

    bad = []
    for r in accepted:
        if r.get('outcome') == 'ACTIVE' and r.get('console_lines') != 1:
            bad.append(
                '%s: %s console line(s) while ACTIVE'
                % (r['uuid'], r.get('console_lines'))
            )
    for uuid, count in sorted(db['spawned'].items()):
        allowed = max(1, db['successful_builds'].get(uuid, 0))
        if count > allowed:
            bad.append(
                '%s: spawned %d times for %d successful build(s)'
                % (uuid, count, db['successful_builds'].get(uuid, 0))
            )
    results['booted_at_most_once'] = bad

    results['no_unfinished_workflow'] = [
        '%s %s %s owner=%s' % tuple(w) for w in db['unfinished_workflows']
    ]
    results['nothing_stuck'] = (
        [
            '%s: stuck in BUILD or a task_state' % u
            for u in db['stuck_before_cleanup']
        ]
        + [
            '%s: stayed %s with no workflow to finish it'
            % (r['uuid'], r['stuck_task'])
            for r in accepted
            if r.get('stuck_task')
        ]
        + [
            '%s: left undeleted (%s/%s)'
            % (u, row['vm_state'], row['task_state'])
            for u, row in sorted(instances.items())
            if not row['deleted']
        ]
    )

    leaks = []
    for kind, uuids in sorted(db['held'].items()):
        leaks.extend('%s of %s' % (kind, u) for u in uuids)
    leaks.extend('node usage %s' % (u,) for u in db['node_usage'])
    audit = db['audit']
    audit_bad = [
        '%s: %s' % (f['kind'], f['message']) for f in audit['findings']
    ]
    if audit['returncode'] != 0 and not audit_bad:
        audit_bad.append('audit exited %s' % audit['returncode'])
    results['audit_clean'] = audit_bad
    results['no_leaked_resource'] = leaks
    leak_count = len(leaks) + sum(
        1 for f in audit['findings'] if f['kind'].startswith('leaked')
    )
    return results, leak_count


# -- the soak -------------------------------------------------------------
class Soak:
    """One soak run: deployment, client loop, chaos loop and the checks."""

    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.stop_chaos = threading.Event()
        self.stop_client = threading.Event()
        self.faults = collections.Counter()
        self.skipped_faults = collections.Counter()
        self.records = []
        self.records_lock = threading.Lock()
        self.errors = collections.Counter()
        self.procs = {}
        self.chaos_log = []
        #: Held while RabbitMQ restarts: an interrupted soak waits for
        #: it, so that it never exits with the broker stopped.
        self.broker_busy = threading.Lock()

    # -- deployment -------------------------------------------------------
    def start_deployment(self):
        from nova.tests.integration import harness

        self.harness = harness
        self.port = _free_port()
        self.deployment = harness.Deployment(
            self.args.db,
            spawn_delay=self.args.spawn_delay,
            extra={
                'quota': {'instances': -1, 'cores': -1, 'ram': -1},
                # A compute killed mid-spawn never answers the spawn
                # call; the build fails (and is reverted) only at
                # spawn_timeout, 600 s by default.
                'conductor': {'spawn_timeout': self.args.spawn_timeout},
            },
            # The soak restarts the broker itself, under the exclusive
            # lock; holding the shared one too would block that.
            broker_lock=False,
        )
        self.deployment.setUp()
        log(
            'deployment %s on %s, workdir %s',
            self.deployment.tag,
            self.args.db,
            self.deployment.workdir,
        )
        procs = self.deployment.start_services(
            conductors=2, schedulers=1, computes=2, timeout=60
        )
        for role, group in procs.items():
            for i, proc in enumerate(group, 1):
                self.procs['%s%d' % (role, i)] = proc
        self.procs['api1'] = self._start_api()
        self.client = ApiClient(self.port)
        self.harness.wait_until(
            self.client.listening, 60, interval=0.5, message='nova-api'
        )

    def _start_api(self):
        return self.deployment.start(
            'api',
            'api1',
            options={
                'DEFAULT': {
                    'osapi_compute_listen': '127.0.0.1',
                    'osapi_compute_listen_port': self.port,
                }
            },
        )

    def _restart(self, name):
        """Start service ``name`` again (same host); wait until it serves."""
        role = name.rstrip('0123456789')
        if role == 'api':
            proc = self._start_api()
            self.procs[name] = proc
            self.harness.wait_until(
                lambda: _alive_or_raise(proc) and self.client.listening(),
                90,
                interval=0.3,
                message=lambda: 'nova-api back: %s' % proc.log_tail(20),
            )
            return proc
        host = self.deployment.host_name(
            name.replace(role, _HOST_PREFIX[role])
        )
        before = self._report_count(host, 'nova-' + role)
        proc = self.deployment.start(
            role, name.replace(role, _HOST_PREFIX[role])
        )
        self.procs[name] = proc
        self.harness.wait_until(
            lambda: (
                _alive_or_raise(proc)
                and self._report_count(host, 'nova-' + role) > before
            ),
            90,
            interval=0.3,
            message=lambda: '%r back: %s' % (proc, proc.log_tail(20)),
        )
        return proc

    def _report_count(self, host, binary):
        rows = self.deployment.query(
            'SELECT report_count FROM services WHERE host = :host AND '
            '"binary" = :binary AND deleted = 0',
            host=host,
            binary=binary,
        )
        return max([r.report_count or 0 for r in rows] or [0])

    # -- chaos ------------------------------------------------------------
    def chaos_loop(self):
        last_broker = time.monotonic()
        kinds = list(FAULT_WEIGHTS)
        weights = [FAULT_WEIGHTS[k] for k in kinds]
        while not self.stop_chaos.wait(
            self.rng.expovariate(1.0 / self.args.fault_interval)
        ):
            kind = self.rng.choices(kinds, weights)[0]
            if kind == 'restart_rabbitmq' and (
                time.monotonic() - last_broker < self.args.broker_spacing
                or self.args.no_broker_restart
            ):
                kind = 'kill_conductor'
            try:
                done = getattr(self, '_' + kind)()
            except Exception as exc:
                # A service that will not come back is itself a finding;
                # record it and go on (the end phase restarts it again).
                self.errors['fault_%s_failed' % kind] += 1
                log('fault %s failed: %s', kind, exc)
                self.chaos_log.append((time.time(), kind, 'failed: %s' % exc))
                continue
            if done is False:
                self.skipped_faults[kind] += 1
                continue
            if kind == 'restart_rabbitmq':
                last_broker = time.monotonic()
            self.faults[kind] += 1

    def _kill(self, role):
        names = sorted(n for n in self.procs if n.startswith(role))
        name = self.rng.choice(names)
        down = self.rng.uniform(0.2, 4.0)
        victim = self.procs[name]
        log('chaos: kill -9 %s (%r), down %.1f s', name, victim, down)
        self.chaos_log.append((time.time(), 'kill', name))
        victim.kill()
        time.sleep(down)
        self._restart(name)
        log('chaos: %s back', name)

    def _kill_conductor(self):
        self._kill('conductor')

    def _kill_compute(self):
        self._kill('compute')

    def _kill_scheduler(self):
        self._kill('scheduler')

    def _kill_api(self):
        self._kill('api')

    def _pause_conductor(self):
        name = self.rng.choice(
            sorted(n for n in self.procs if n.startswith('conductor'))
        )
        opts = self.deployment.orchestration
        held = opts['lease_seconds'] + opts['sweep_interval'] + 3
        victim = self.procs[name]
        log('chaos: SIGSTOP %s for %.0f s (past its lease)', name, held)
        self.chaos_log.append((time.time(), 'pause', name))
        victim.pause()
        try:
            time.sleep(held)
        finally:
            victim.resume()
        log('chaos: SIGCONT %s', name)

    def _restart_rabbitmq(self):
        lock = self.harness.BrokerLock(exclusive=True, timeout=15)
        if not lock.acquire():
            log('chaos: broker lock busy (other tests), no broker restart')
            return False
        try:
            with self.broker_busy:
                log('chaos: restarting RabbitMQ')
                self.chaos_log.append((time.time(), 'broker', 'restart'))
                self.harness.restart_broker(
                    down_seconds=self.rng.uniform(1.0, 4.0)
                )
        finally:
            lock.release()
        log('chaos: RabbitMQ back')
        return True

    # -- client -----------------------------------------------------------
    def client_loop(self, worker):
        index = 0
        while not self.stop_client.is_set():
            index += 1
            record = {
                'worker': worker,
                'index': index,
                'uuid': None,
                'accepted': False,
                'outcome': None,
                'delete_accepted': False,
                'gone': False,
                'console_lines': None,
            }
            with self.records_lock:
                self.records.append(record)
            try:
                self._lifecycle(record, 'soak-%d-%d' % (worker, index))
            except Exception as exc:  # recorded; the checks judge it
                record['error'] = repr(exc)
                self.errors['client_exception'] += 1
                log('client %d: %r', worker, exc)

    def _lifecycle(self, record, name):
        t0 = time.monotonic()
        try:
            status, body = self.client.request(
                'POST',
                '/servers',
                {
                    'server': {
                        'name': name,
                        'imageRef': IMAGE,
                        'flavorRef': '1',
                    }
                },
            )
        except ApiError as exc:
            # Not accepted as far as the client knows: a server it made
            # anyway is found and deleted at the end.
            record['outcome'] = 'boot_not_accepted'
            record['error'] = str(exc)
            self.errors['boot_api_error'] += 1
            time.sleep(1)
            return
        if status != 202:
            record['outcome'] = 'boot_refused_%d' % status
            self.errors['boot_refused_%d' % status] += 1
            time.sleep(1)
            return
        uuid = body['server']['id']
        record.update(uuid=uuid, accepted=True)
        state = self._wait_settled(uuid, self.args.build_timeout, record)
        record['outcome'] = state
        record['build_seconds'] = round(time.monotonic() - t0, 1)
        if state == 'ACTIVE':
            record['console_lines'] = self.deployment.boots(uuid)
        elif state not in ('ERROR',):
            # Still building after the bound: left for the end phase.
            self.errors['build_timeout'] += 1
            return
        self._delete(record)

    def _wait_settled(self, uuid, timeout, record=None):
        """ACTIVE or ERROR (with no task) as the API shows it, or the
        last status seen when ``timeout`` runs out.

        ACTIVE or ERROR with a task_state for ``STUCK_TASK_SECONDS`` is
        recorded in ``record['stuck_task']`` (a violation: nothing will
        clear that task) and returned as settled, so the server is
        deleted anyway.
        """
        deadline = time.monotonic() + timeout
        status = None
        with_task_since = None
        confirming = False
        while time.monotonic() < deadline:
            try:
                code, body = self.client.request('GET', '/servers/%s' % uuid)
            except ApiError:
                time.sleep(1)
                continue
            if code == 404:
                return 'GONE'
            server = body['server']
            status = server['status']
            task = server.get('OS-EXT-STS:task_state')
            if status == 'ERROR' and not task and not confirming:
                # Look again before deleting: a step still running after
                # its workflow was reverted can put a task back (the
                # soak's first finding, doc/source/admin/chaos-soak.rst).
                confirming = True
                time.sleep(ERROR_CONFIRM_SECONDS)
                continue
            if status in ('ACTIVE', 'ERROR') and not task:
                return status
            confirming = False
            if status in ('ACTIVE', 'ERROR'):
                now = time.monotonic()
                with_task_since = with_task_since or now
                if now - with_task_since >= STUCK_TASK_SECONDS:
                    if record is not None:
                        record['stuck_task'] = '%s/%s' % (status, task)
                    log('client: %s stuck %s/%s', uuid, status, task)
                    return status
            else:
                with_task_since = None
            time.sleep(0.5)
        return 'TIMEOUT(%s)' % status

    def _delete(self, record, timeout=None):
        uuid = record['uuid']
        timeout = timeout or self.args.build_timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not record['delete_accepted']:
            try:
                code, body = self.client.request(
                    'DELETE', '/servers/%s' % uuid
                )
            except ApiError:
                time.sleep(1)
                continue
            if code in (202, 204, 404):
                record['delete_accepted'] = True
            else:
                # 409 while a task runs (a retried delete): try again.
                self.errors['delete_refused_%d' % code] += 1
                time.sleep(1)
        while time.monotonic() < deadline:
            try:
                code, _ = self.client.request('GET', '/servers/%s' % uuid)
            except ApiError:
                time.sleep(1)
                continue
            if code == 404:
                record['gone'] = True
                return
            time.sleep(0.5)
        record['delete_timed_out'] = True
        self.errors['delete_timeout'] += 1

    # -- the end ----------------------------------------------------------
    def restart_everything_down(self):
        for name, proc in sorted(self.procs.items()):
            proc.resume()
            if not proc.alive:
                log('end: %s was down, restarting', name)
                self._restart(name)

    def unfinished_workflows(self):
        return [
            tuple(r)
            for r in self.deployment.query(
                'SELECT id, name, state, owner FROM workflows WHERE state '
                "IN ('PENDING', 'RUNNING', 'REVERTING')"
            )
        ]

    def wait_workflows(self, timeout):
        try:
            self.harness.wait_until(
                lambda: not self.unfinished_workflows(),
                timeout,
                interval=1,
                message=lambda: 'unfinished: %s' % self.unfinished_workflows(),
            )
            return True
        except AssertionError as exc:
            log('end: %s', exc)
            return False

    def finish(self):
        """Settle, delete leftovers and gather what the checks need."""
        deployment = self.deployment
        self.restart_everything_down()
        self.wait_workflows(self.args.settle_timeout)
        rows = deployment.query(
            'SELECT uuid, vm_state, task_state, deleted FROM instances'
        )
        stuck = sorted(
            r.uuid
            for r in rows
            if not r.deleted
            and (r.vm_state == 'building' or r.task_state is not None)
        )
        # The audit while the leftovers still exist: a stuck instance
        # is gone from its view once deleted.
        audit_before = self._audit()
        # Servers the client lost track of: a boot whose POST failed
        # but was created, or a build still going at the bound.
        known = {r['uuid']: r for r in self.records if r['uuid']}
        leftovers = [r.uuid for r in rows if not r.deleted]
        self.unacknowledged = sorted(u for u in leftovers if u not in known)
        log('end: %d server(s) left to delete', len(leftovers))
        for uuid in leftovers:
            record = known.get(uuid) or {
                'uuid': uuid,
                'accepted': False,
                'delete_accepted': False,
                'gone': False,
            }
            if record.get('accepted') and record.get('outcome') not in (
                'ACTIVE',
                'ERROR',
            ):
                state = self._wait_settled(uuid, 60, record)
                record['outcome'] = state
                if state == 'ACTIVE':
                    record['console_lines'] = deployment.boots(uuid)
            record['delete_accepted'] = False
            self._delete(record, timeout=120)
        self.wait_workflows(self.args.settle_timeout)

        rows = deployment.query(
            'SELECT uuid, vm_state, task_state, deleted FROM instances'
        )
        instances = {
            r.uuid: {
                'vm_state': r.vm_state,
                'task_state': r.task_state,
                'deleted': bool(r.deleted),
            }
            for r in rows
        }
        successful = collections.Counter(
            r.target_id
            for r in deployment.query(
                "SELECT target_id FROM workflows WHERE name = "
                "'build_instance' AND state = 'SUCCESS'"
            )
        )
        spawned = collections.Counter()
        for text in deployment.logs('compute').values():
            for match in SPAWNED_RE.finditer(text):
                spawned[match.group(1)] += 1
        deleted = {u for u, r in instances.items() if r['deleted']}

        def held(sql):
            return sorted(
                {r[0] for r in deployment.query(sql) if r[0] in deleted}
            )

        audit = self._audit()
        workflows = collections.Counter(
            (r.name, r.state)
            for r in deployment.query('SELECT name, state FROM workflows')
        )
        self.workflow_states = {
            '%s:%s' % k: v for k, v in sorted(workflows.items())
        }
        return {
            'instances': instances,
            'stuck_before_cleanup': stuck,
            'unfinished_workflows': self.unfinished_workflows(),
            'successful_builds': dict(successful),
            'spawned': dict(spawned),
            'held': {
                'claims': held('SELECT instance_uuid FROM resource_claims'),
                'fixed_ips': held(
                    'SELECT instance_uuid FROM fixed_ips WHERE '
                    'instance_uuid IS NOT NULL'
                ),
                'bdms': held(
                    'SELECT instance_uuid FROM block_device_mappings '
                    'WHERE deleted = 0'
                ),
                'directories': sorted(
                    u
                    for u in deleted
                    if os.path.exists(
                        os.path.join(deployment.state_path, 'instances', u)
                    )
                ),
            },
            'node_usage': [
                tuple(r)
                for r in deployment.query(
                    'SELECT host, vcpus_used, memory_mb_used, local_gb_used '
                    'FROM compute_nodes WHERE deleted = 0'
                )
                if any(tuple(r)[1:])
            ],
            'audit': {
                'returncode': max(
                    audit['returncode'], audit_before['returncode']
                ),
                'findings': audit_before['findings'] + audit['findings'],
            },
        }

    def _audit(self):
        """{returncode, findings} of ``nova-manage workflow audit``."""
        result = self.deployment.manage(
            'workflow', 'audit', '--json', check=False
        )
        try:
            findings = json.loads(result.stdout or '[]')
        except ValueError:
            findings = [
                {
                    'kind': 'audit_output',
                    'message': result.stdout + result.stderr,
                }
            ]
        return {'returncode': result.returncode, 'findings': findings}

    def save_logs(self):
        """Copy the service logs and config out of the deployment's
        temporary directory, which cleanup removes."""
        self.log_dir = self.args.log_dir or '/tmp/chaos-soak-%s-%s' % (
            self.args.seed,
            time.strftime('%Y%m%d-%H%M%S'),
        )
        os.makedirs(self.log_dir, exist_ok=True)
        for name in os.listdir(self.deployment.workdir):
            if name.endswith(('.log', '.conf')):
                shutil.copy(
                    os.path.join(self.deployment.workdir, name), self.log_dir
                )
        with open(os.path.join(self.log_dir, 'records.json'), 'w') as f:
            json.dump(
                {'records': self.records, 'chaos': self.chaos_log},
                f,
                indent=1,
                default=str,
            )

    # -- driver -----------------------------------------------------------
    def run(self):
        started = time.monotonic()
        self.start_deployment()
        log('deployment up in %.0f s', time.monotonic() - started)
        soak_start = time.monotonic()
        # Daemon threads: an interrupted soak exits (and cleans up in
        # main) without waiting for a client's poll to time out.
        chaos = threading.Thread(
            target=self.chaos_loop, name='chaos', daemon=True
        )
        chaos.start()
        workers = [
            threading.Thread(
                target=self.client_loop,
                args=(i,),
                name='client-%d' % i,
                daemon=True,
            )
            for i in range(1, self.args.concurrency + 1)
        ]
        for worker in workers:
            worker.start()
        # An interrupt (Ctrl-C, SIGTERM) leaves from here: main's
        # cleanup kills everything, with no settling and no report.
        self.stop_chaos.wait(self.args.minutes * 60)
        log('end: stopping the chaos')
        self.stop_chaos.set()
        chaos.join()
        self.chaos_seconds = time.monotonic() - soak_start
        self.stop_client.set()
        self.restart_everything_down()
        log('end: waiting for the clients to finish their servers')
        deadline = time.monotonic() + self.args.settle_timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        soak_seconds = time.monotonic() - soak_start
        db = self.finish()
        self.save_logs()
        with self.records_lock:
            records = list(self.records)
        results, leaks = check_invariants(records, db)
        return self.report(records, results, leaks, soak_seconds, db)

    def report(self, records, results, leaks, soak_seconds, db):
        accepted = [r for r in records if r.get('accepted')]
        outcomes = collections.Counter(r.get('outcome') for r in records)
        build_times = sorted(
            r['build_seconds']
            for r in accepted
            if r.get('outcome') == 'ACTIVE' and 'build_seconds' in r
        )
        violations = sum(len(v) for v in results.values())
        summary = {
            'seed': self.args.seed,
            'db': self.args.db,
            'minutes': self.args.minutes,
            'chaos_seconds': round(self.chaos_seconds, 1),
            'soak_seconds': round(soak_seconds, 1),
            'requests': {
                'boots_attempted': len(records),
                'boots_accepted': len(accepted),
                'active': outcomes.get('ACTIVE', 0),
                'error': outcomes.get('ERROR', 0),
                'deletes_accepted': sum(
                    1 for r in accepted if r.get('delete_accepted')
                ),
                'boot_not_accepted': outcomes.get('boot_not_accepted', 0),
                'unacknowledged_servers_found': len(self.unacknowledged),
                'build_seconds_median': (
                    build_times[len(build_times) // 2] if build_times else None
                ),
                'build_seconds_max': build_times[-1] if build_times else None,
            },
            'faults': dict(sorted(self.faults.items())),
            'faults_total': sum(self.faults.values()),
            'faults_skipped': dict(self.skipped_faults),
            'client_errors': dict(sorted(self.errors.items())),
            'workflows': self.workflow_states,
            'invariants': {
                k: ('ok' if not v else '%d violation(s)' % len(v))
                for k, v in results.items()
            },
            'violations': violations,
            'leaks': leaks,
            'logs': self.log_dir,
        }
        print('chaos soak: seed %s, %s' % (self.args.seed, self.args.db))
        print(
            '  duration: %.1f min of chaos (%g asked), %.1f min until '
            'the clients were done'
            % (
                self.chaos_seconds / 60,
                self.args.minutes,
                soak_seconds / 60,
            )
        )
        req = summary['requests']
        print(
            '  requests: %d boots attempted, %d accepted (%d ACTIVE, '
            '%d ERROR), %d deletes accepted, %d boots not accepted by '
            'a dying API, %d unacknowledged servers found and deleted'
            % (
                req['boots_attempted'],
                req['boots_accepted'],
                req['active'],
                req['error'],
                req['deletes_accepted'],
                req['boot_not_accepted'],
                req['unacknowledged_servers_found'],
            )
        )
        print(
            '  build to ACTIVE: median %s s, max %s s'
            % (req['build_seconds_median'], req['build_seconds_max'])
        )
        print(
            '  faults injected: %d (%s)'
            % (
                summary['faults_total'],
                ', '.join('%s %d' % kv for kv in summary['faults'].items()),
            )
        )
        if self.skipped_faults:
            print('  faults skipped: %s' % dict(self.skipped_faults))
        print('  client retries/errors: %s' % summary['client_errors'])
        print('  workflows: %s' % summary['workflows'])
        print('  invariants:')
        for name, problems in results.items():
            print('    %-24s %s' % (name, 'ok' if not problems else 'FAILED'))
            for problem in problems[:20]:
                print('      - %s' % problem)
            if len(problems) > 20:
                print('      ... %d more' % (len(problems) - 20))
        print('  leaks: %d' % leaks)
        print('  violations: %d' % violations)
        print('  logs: %s' % self.log_dir)
        print('CHAOS-SOAK-JSON ' + json.dumps(summary, sort_keys=True))
        sys.stdout.flush()
        return 1 if violations or leaks else 0


_HOST_PREFIX = {
    'conductor': 'cond',
    'scheduler': 'sched',
    'compute': 'cpu',
    'api': 'api',
}


def _alive_or_raise(proc):
    if not proc.alive:
        raise AssertionError(
            '%r exited with %s:\n%s'
            % (proc, proc.popen.returncode, proc.log_tail())
        )
    return True


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='chaos-soak',
        description='Boot and delete servers while services die; check '
        'that nothing is lost, doubled or leaked.',
    )
    parser.add_argument('--minutes', type=float, default=10.0)
    parser.add_argument(
        '--db', choices=('mariadb', 'mysql', 'postgresql'), default='mariadb'
    )
    parser.add_argument(
        '--seed', type=int, help='chaos seed (printed; random if not given)'
    )
    parser.add_argument(
        '--concurrency', type=int, default=4, help='servers in flight'
    )
    parser.add_argument(
        '--fault-interval',
        type=float,
        default=10.0,
        help='mean seconds between faults (exponential)',
    )
    parser.add_argument(
        '--broker-spacing',
        type=float,
        default=120.0,
        help='at least this many seconds between RabbitMQ restarts',
    )
    parser.add_argument('--no-broker-restart', action='store_true')
    parser.add_argument('--spawn-delay', type=float, default=1.0)
    parser.add_argument(
        '--spawn-timeout',
        type=int,
        default=60,
        help='[conductor] spawn_timeout of the deployment, in seconds',
    )
    parser.add_argument(
        '--build-timeout',
        type=float,
        default=300.0,
        help='seconds a client waits for a boot or a delete',
    )
    parser.add_argument(
        '--settle-timeout',
        type=float,
        default=300.0,
        help='seconds the end phase waits for workflows to finish',
    )
    parser.add_argument(
        '--log-dir',
        help='where to copy the service logs '
        '(default /tmp/chaos-soak-SEED-TIME)',
    )
    args = parser.parse_args(argv)
    if args.db == 'mariadb':
        args.db = 'mysql'
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**31)
    return args


def _exit_on_sigterm(signum, frame):
    # SIGTERM (timeout(1), a CI job cancelled) unwinds like Ctrl-C, so
    # that main's cleanup kills the services and drops the database.
    raise SystemExit(128 + signum)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(
        'chaos soak: seed %d (rerun with --seed %d)' % (args.seed, args.seed)
    )
    sys.stdout.flush()
    soak = Soak(args)
    try:
        return soak.run()
    except Exception as exc:
        log('soak aborted: %r', exc)
        deployment = getattr(soak, 'deployment', None)
        if deployment is not None and getattr(deployment, 'processes', None):
            sys.stderr.write(deployment.diagnosis(40) + '\n')
            with contextlib.suppress(Exception):
                soak.save_logs()
                log('logs copied to %s', soak.log_dir)
        print(
            'CHAOS-SOAK-JSON '
            + json.dumps({'seed': args.seed, 'aborted': repr(exc)})
        )
        return 2
    finally:
        deployment = getattr(soak, 'deployment', None)
        if deployment is not None:
            soak.stop_chaos.set()
            soak.stop_client.set()
            soak.broker_busy.acquire(timeout=300)
            with contextlib.suppress(Exception):
                deployment.cleanUp()


if __name__ == '__main__':
    sys.exit(main())
