"""Base of the integration tests: separate service processes, real
RabbitMQ and MariaDB or PostgreSQL, and the test process as the API.

The test process plays nova-api: it writes instance and workflow rows
through :class:`nova.compute.api.API` and casts to the conductors over
the deployment's RabbitMQ virtual host. Everything else runs in
processes started by :class:`nova.tests.integration.harness.Deployment`.
"""

import collections
import os
import re
import time

import fixtures

from nova import context as nova_context
from nova import rpc
from nova import test
from nova.compute import api as compute_api
from nova.db import api as db_api
from nova.db import defaults
from nova.tests.integration import harness

#: Hard bound of one integration test, setup and cleanup included.
TEST_TIMEOUT = 150

SPAWNED_RE = re.compile(r'Spawned instance ([0-9a-f-]{36}) on (\S+)')


class IntegrationTestCase(test.TestCase):
    """A deployment per test; subclasses set ``backend``."""

    backend = None
    spawn_delay = 2.0
    orchestration = None
    broker_lock = True
    #: More options of the deployment, by group.
    extra_options = None
    #: Seconds the test may take, setup and cleanup included.
    test_timeout = TEST_TIMEOUT

    def setUp(self):
        super().setUp()
        if self.backend is None:
            self.skipTest('abstract integration test case')
        self.useFixture(fixtures.Timeout(self.test_timeout, gentle=True))
        self.deployment = self.useFixture(
            harness.Deployment(
                self.backend,
                orchestration=self.orchestration,
                spawn_delay=self.spawn_delay,
                broker_lock=self.broker_lock,
                extra=self.extra_options,
            )
        )
        # This process acts as nova-api on the same DB and broker.
        self.flags(transport_url=self.deployment.transport_url)
        self.flags(group='quota', instances=-1, cores=-1, ram=-1)
        connection = db_api.use_connection(self.deployment.db_url)
        connection.__enter__()
        self.addCleanup(connection.__exit__, None, None, None)
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.api = compute_api.API()
        self.context = nova_context.RequestContext(
            user_id='it-user', project_id='it-project'
        )

    # -- actions -----------------------------------------------------------
    def boot(self, count, name='it'):
        """Boot ``count`` servers, one request (one cast) each, so that
        the casts spread over the conductors; return their uuids."""
        uuids = []
        for index in range(count):
            instances, _ = self.api.create(
                self.context,
                flavor_id='1',
                image_ref=defaults.DEFAULT_IMAGE_ID,
                name='%s-%d' % (name, index),
            )
            uuids.extend(i['uuid'] for i in instances)
        harness.trace('booted %d servers', count)
        return uuids

    def wait_active(self, uuids, timeout):
        """Wait until every instance is ACTIVE with no task; fail early
        when one goes to ERROR."""

        def check():
            states = self.deployment.instance_states(uuids)
            errors = [u for u, r in states.items() if r.vm_state == 'error']
            if errors:
                raise AssertionError(
                    'instances in ERROR: %s\nfaults: %s\n%s'
                    % (
                        errors,
                        self._faults(errors),
                        self.deployment.diagnosis(),
                    )
                )
            return len(states) == len(uuids) and all(
                r.vm_state == 'active' and r.task_state is None
                for r in states.values()
            )

        harness.wait_until(
            check,
            timeout,
            interval=0.5,
            message=lambda: (
                'instances not ACTIVE: %s\n%s'
                % (
                    collections.Counter(
                        (r.vm_state, r.task_state)
                        for r in self.deployment.instance_states(
                            uuids
                        ).values()
                    ),
                    self.deployment.diagnosis(),
                )
            ),
        )
        harness.trace('all %d instances ACTIVE', len(uuids))

    def wait_deleted(self, uuids, timeout):
        """Wait until every instance is soft-deleted."""

        def check():
            rows = self.deployment.query(
                'SELECT uuid, deleted, vm_state, task_state FROM instances'
            )
            return all(r.deleted for r in rows if r.uuid in set(uuids))

        harness.wait_until(
            check,
            timeout,
            interval=0.5,
            message=lambda: (
                'instances not deleted: %s\n%s'
                % (
                    collections.Counter(
                        (r.vm_state, r.task_state)
                        for r in self.deployment.instance_states(
                            uuids
                        ).values()
                    ),
                    self.deployment.diagnosis(),
                )
            ),
        )
        harness.trace('all %d instances deleted', len(uuids))

    def busiest_conductor(self, conductors, timeout=30, minimum=1):
        """Wait until a conductor owns ``minimum`` running workflows whose
        spawn is in flight; return (process, workflow ids)."""

        def check():
            best = None
            for proc in conductors:
                owned = self.spawning_owned_by(proc.host)
                if len(owned) >= minimum and (
                    best is None or len(owned) > len(best[1])
                ):
                    best = (proc, owned)
            return best

        return harness.wait_until(
            check,
            timeout,
            interval=0.1,
            message=lambda: (
                'no conductor owning %d building workflow(s)'
                '\n%s' % (minimum, self.deployment.diagnosis())
            ),
        )

    def spawning_owned_by(self, host):
        """Workflows owned by ``host`` whose spawn step is RUNNING."""
        return [
            r.id
            for r in self.deployment.query(
                "SELECT w.id FROM workflows w JOIN workflow_tasks t ON "
                "t.workflow_id = w.id WHERE w.owner LIKE :prefix AND "
                "w.state = 'RUNNING' AND t.name LIKE :spawn AND "
                "t.state = 'RUNNING'",
                prefix=host + ':%',
                spawn='%spawn',
            )
        ]

    def owners_of(self, workflow_ids):
        rows = self.deployment.query(
            'SELECT id, owner, generation, state, adoptions FROM workflows'
        )
        wanted = set(workflow_ids)
        return {r.id: r for r in rows if r.id in wanted}

    # -- checks ------------------------------------------------------------
    def _faults(self, uuids):
        rows = self.deployment.query(
            'SELECT instance_uuid, message FROM instance_faults'
        )
        return [
            (r.instance_uuid, r.message)
            for r in rows
            if r.instance_uuid in set(uuids)
        ]

    def assert_booted_once(self, uuids):
        """One console line per instance, and one "Spawned" log line
        over all computes: no spawn ran twice, on any host."""
        boots = {u: self.deployment.boots(u) for u in uuids}
        self.assertEqual(
            {u: 1 for u in uuids}, boots, 'console.log lines per instance'
        )
        spawned = collections.Counter()
        for text in self.deployment.logs('compute').values():
            for match in SPAWNED_RE.finditer(text):
                spawned[match.group(1)] += 1
        self.assertEqual(
            {u: 1 for u in uuids},
            {u: spawned[u] for u in uuids},
            'driver spawns per instance over all computes',
        )

    def assert_no_step_completed_twice(self, uuids):
        """At most one 'Success' event per step of each 'create' action.

        A step that runs again after it completed would start and finish
        a second event row (nova.db.actions reuses only an unfinished
        one). A step re-run because it was RUNNING when its owner died
        reuses its open row, so that is not counted.
        """
        rows = self.deployment.query(
            "SELECT a.instance_uuid, e.event, COUNT(*) AS n FROM "
            "instance_actions a JOIN instance_actions_events e ON "
            "e.action_id = a.id WHERE a.action = 'create' AND "
            "e.result = 'Success' GROUP BY a.instance_uuid, e.event"
        )
        wanted = set(uuids)
        twice = [
            (r.instance_uuid, r.event, r.n)
            for r in rows
            if r.instance_uuid in wanted and r.n > 1
        ]
        self.assertEqual([], twice, 'steps that succeeded twice')
        self.assertTrue(rows, 'no action events recorded at all')

    def assert_nothing_leaked(self, uuids):
        """Exactly one claim, fixed IP and root BDM per ACTIVE instance,
        on its host; node usage equal to the claims; the audit clean."""
        deployment = self.deployment
        states = deployment.instance_states(uuids)
        claims = collections.defaultdict(list)
        for r in deployment.query(
            'SELECT instance_uuid, host FROM resource_claims'
        ):
            claims[r.instance_uuid].append(r.host)
        self.assertEqual(
            {u: [states[u].host] for u in uuids},
            {u: claims.get(u, []) for u in uuids},
            'resource claims per instance',
        )
        self.assertEqual(
            set(), set(claims) - set(uuids), 'claims of unknown instances'
        )
        ips = collections.Counter(
            r.instance_uuid
            for r in deployment.query(
                'SELECT instance_uuid FROM fixed_ips WHERE '
                'instance_uuid IS NOT NULL'
            )
        )
        self.assertEqual(
            {u: 1 for u in uuids}, dict(ips), 'fixed IPs per instance'
        )
        bdms = collections.Counter(
            r.instance_uuid
            for r in deployment.query(
                'SELECT instance_uuid FROM block_device_mappings WHERE '
                'deleted = 0'
            )
        )
        self.assertEqual(
            {u: 1 for u in uuids},
            dict(bdms),
            'block device mappings per instance',
        )
        usage = {
            r.host: (r.vcpus_used, r.memory_mb_used, r.running_vms)
            for r in deployment.query(
                'SELECT host, vcpus_used, memory_mb_used, running_vms '
                'FROM compute_nodes WHERE deleted = 0'
            )
        }
        per_host = collections.Counter(states[u].host for u in uuids)
        self.assertEqual(
            {h: (n, 512 * n) for h, n in per_host.items() if n},
            {h: (v, m) for h, (v, m, _r) in usage.items() if v or m},
            'compute node usage (m1.tiny: 1 vCPU, 512 MiB each)',
        )
        unfinished = deployment.query(
            "SELECT id, name, state, owner FROM workflows WHERE state NOT "
            "IN ('SUCCESS', 'REVERTED', 'FAILED')"
        )
        self.assertEqual(
            [], [tuple(r) for r in unfinished], 'unfinished workflows'
        )
        audit = deployment.manage('workflow', 'audit', check=False)
        self.assertEqual(
            0,
            audit.returncode,
            'nova-manage workflow audit:\n%s%s' % (audit.stdout, audit.stderr),
        )

    def assert_nothing_left(self, uuids):
        """Deleted instances hold nothing: no claim, fixed IP, live BDM,
        instance directory or node usage; every workflow finished; the
        delete workflows all succeeded; the audit is clean."""
        deployment = self.deployment
        wanted = set(uuids)
        held = {
            'claims': [
                r.instance_uuid
                for r in deployment.query(
                    'SELECT instance_uuid FROM resource_claims'
                )
            ],
            'fixed_ips': [
                r.instance_uuid
                for r in deployment.query(
                    'SELECT instance_uuid FROM fixed_ips WHERE instance_uuid '
                    'IS NOT NULL'
                )
            ],
            'bdms': [
                r.instance_uuid
                for r in deployment.query(
                    'SELECT instance_uuid FROM block_device_mappings WHERE '
                    'deleted = 0'
                )
            ],
            'directories': [
                u
                for u in uuids
                if os.path.exists(
                    os.path.join(deployment.state_path, 'instances', u)
                )
            ],
        }
        self.assertEqual(
            {k: [] for k in held},
            {k: sorted(set(v) & wanted) for k, v in held.items()},
            'resources left by deleted instances',
        )
        usage = [
            tuple(r)
            for r in deployment.query(
                'SELECT host, vcpus_used, memory_mb_used, local_gb_used FROM '
                'compute_nodes WHERE deleted = 0'
            )
        ]
        self.assertEqual(
            [],
            [u for u in usage if any(u[1:])],
            'compute node usage after deleting everything',
        )
        unfinished = deployment.query(
            "SELECT id, name, state, owner FROM workflows WHERE state NOT "
            "IN ('SUCCESS', 'REVERTED', 'FAILED')"
        )
        self.assertEqual(
            [], [tuple(r) for r in unfinished], 'unfinished workflows'
        )
        deletes = collections.Counter(
            r.state
            for r in deployment.query(
                "SELECT state FROM workflows WHERE name = 'delete_instance'"
            )
        )
        self.assertEqual(
            {'SUCCESS': len(uuids)}, dict(deletes), 'delete workflows by state'
        )
        audit = deployment.manage('workflow', 'audit', check=False)
        self.assertEqual(
            0,
            audit.returncode,
            'nova-manage workflow audit:\n%s%s' % (audit.stdout, audit.stderr),
        )

    def assert_all_workflows_succeeded(self, uuids):
        rows = self.deployment.query(
            "SELECT target_id, state, failure FROM workflows WHERE "
            "name = 'build_instance'"
        )
        states = {r.target_id: r.state for r in rows}
        self.assertEqual({u: 'SUCCESS' for u in uuids}, states)


def timed(fn):
    """(result, seconds) of ``fn()``."""
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start
