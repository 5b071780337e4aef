"""A conductor killed (-9) and restarted on its host resumes its own
builds at once, not after their leases expire.

The restarted conductor proves its previous incarnation dead (same
host, same kernel boot, its pid gone: nova.conductor.incarnation),
frees what it held and adopts it in its first sweep. Two setups, both
with the default 30 s lease, which the builds would otherwise wait out:

* nova-all (every service in one process, SQLite), as a user runs it;
* one nova-conductor process beside a scheduler and two computes on
  RabbitMQ and MariaDB, and on PostgreSQL (see harness.py).

The bound asserted is loose on purpose (a slow machine must not fail
it); the measured times go into the test details.
"""

import collections
import time

import fixtures
from testtools import content

from nova import test
from nova.tests.integration import base
from nova.tests.integration import harness
from nova.tests.integration import nova_all

SERVERS = 6

#: Seconds each spawn takes: builds are in flight when the kill lands.
SPAWN_DELAY = 4.0

#: The options a deployment runs with by default: a 30 s lease.
DEFAULT_LEASES = {
    'lease_seconds': 30,
    'heartbeat_interval': 10,
    'sweep_interval': 15,
    'sweep_grace_seconds': 30,
}

#: Restart to every build resumed, at most: well under the 30 s lease
#: the builds would wait for if the dead incarnation were not proven
#: dead. (Measured: about 2 s, most of it the process starting.)
RESUME_BOUND = 10.0

_BUILDS_SQL = (
    "SELECT id, owner, state, generation, adoptions FROM "
    "workflows WHERE name = 'build_instance'"
)
_SPAWNING_SQL = (
    "SELECT w.id, w.owner FROM workflows w JOIN workflow_tasks t ON "
    "t.workflow_id = w.id WHERE w.name = 'build_instance' AND w.state = "
    "'RUNNING' AND w.owner IS NOT NULL AND t.name LIKE '%spawn' AND "
    "t.state = 'RUNNING'"
)


#: The spawn step holds its conductor for the whole spawn, so that the
#: restart finds builds held by the dead process. (In report mode they
#: wait unowned and the restarted host spawns them again: see
#: test_crash_points and doc/source/admin/compute-hosts.rst.)
CALL_MODE = {'spawn_mode': 'call'}


class _Restart:
    """What both setups check; ``query(sql)`` reads their database."""

    def wait_all_spawning(self, count):
        """Wait until ``count`` builds are owned and in their spawn step
        (no cast left unclaimed); return {workflow id: owner}."""

        def check():
            rows = self.query(_SPAWNING_SQL)
            return {r[0]: r[1] for r in rows} if len(rows) == count else None

        return harness.wait_until(
            check, 60, interval=0.05, message=lambda: self.diagnosis()
        )

    def wait_resumed(self, held, timeout):
        """Wait until no build is still held by a dead owner in ``held``
        ({id: owner}): each finished or claimed by a new owner."""
        dead = set(held.values())

        def check():
            rows = {r[0]: r for r in self.query(_BUILDS_SQL)}
            return all(
                rows[w][2] == 'SUCCESS'
                or (rows[w][1] is not None and rows[w][1] not in dead)
                for w in held
            )

        harness.wait_until(
            check,
            timeout,
            interval=0.05,
            message=lambda: (
                'builds not resumed: %s\n%s'
                % (
                    [
                        tuple(r)
                        for r in self.query(_BUILDS_SQL)
                        if r[0] in held
                    ],
                    self.diagnosis(),
                )
            ),
        )

    def assert_each_adopted_once(self, held):
        """Each build finished after one adoption: the free that the
        proof of death allowed (its claim then is not another one)."""

        def finished():
            rows = {r[0]: r for r in self.query(_BUILDS_SQL)}
            return (
                rows
                if all(
                    rows[w][2] in ('SUCCESS', 'REVERTED', 'FAILED')
                    for w in held
                )
                else None
            )

        rows = harness.wait_until(
            finished, 30, interval=0.05, message=lambda: self.diagnosis()
        )
        self.assertEqual(
            {w: ('SUCCESS', 1) for w in held},
            {w: (rows[w][2], rows[w][4]) for w in held},
            '(state, adoptions) of the builds in flight',
        )

    def record(self, name, **seconds):
        text = ', '.join('%s %.2f s' % item for item in seconds.items())
        self.addDetail(name, content.text_content(text))
        harness.trace('%s: %s', self.id(), text)


class TestNovaAllRestart(_Restart, test.TestCase):
    """kill -9 of nova-all mid-build, then nova-all again."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(base.TEST_TIMEOUT, gentle=True))
        self.nova = self.useFixture(
            nova_all.NovaAll(
                {
                    'all': {'compute_hosts': 'host1,host2'},
                    'fake_driver': {'spawn_delay': SPAWN_DELAY},
                    'orchestration': DEFAULT_LEASES,
                    'conductor': CALL_MODE,
                }
            )
        )

    def query(self, sql):
        return self.nova.query(sql)

    def diagnosis(self):
        return self.nova.process.log_tail(40)

    def test_restart_resumes_builds_at_once(self):
        self.nova.start()
        uuids = self.nova.boot(SERVERS)
        held = self.wait_all_spawning(SERVERS)
        self.nova.process.kill()

        restarted = time.monotonic()
        new = self.nova.start(wait=False)
        self.wait_resumed(held, RESUME_BOUND)
        resumed = time.monotonic()
        self.nova.wait_listening(new)

        def active():
            rows = self.query(
                'SELECT uuid, vm_state, task_state FROM instances'
            )
            states = {r[0]: (r[1], r[2]) for r in rows if r[0] in uuids}
            self.assertNotIn(('error', None), states.values())
            return states == {u: ('active', None) for u in uuids}

        harness.wait_until(
            active,
            60,
            interval=0.1,
            message=lambda: (
                'not ACTIVE: %s\n%s'
                % (
                    collections.Counter(
                        (r[1], r[2])
                        for r in self.query(
                            'SELECT uuid, vm_state, task_state FROM instances'
                        )
                    ),
                    self.diagnosis(),
                )
            ),
        )
        done = time.monotonic()
        self.record(
            'restart', resumed=resumed - restarted, active=done - restarted
        )
        self.assertIn('dead incarnation', self.nova.log_of(new))
        self.assert_each_adopted_once(held)
        self.assertEqual(
            {u: 1 for u in uuids},
            {u: self.nova.boots(u) for u in uuids},
            'console.log lines per instance',
        )


class _ConductorRestart(_Restart):
    """One nova-conductor killed mid-build and started again."""

    spawn_delay = SPAWN_DELAY
    orchestration = DEFAULT_LEASES
    extra_options = {'conductor': CALL_MODE}

    def query(self, sql):
        return self.deployment.query(sql)

    def diagnosis(self):
        return self.deployment.diagnosis()

    def test_restart_resumes_builds_at_once(self):
        procs = self.deployment.start_services(conductors=1, computes=2)
        uuids = self.boot(SERVERS)
        held = self.wait_all_spawning(SERVERS)
        victim = procs['conductor'][0]
        victim.kill()

        restarted = time.monotonic()
        new = self.deployment.start('conductor', 'cond1')
        self.assertEqual(victim.host, new.host)
        self.wait_resumed(held, RESUME_BOUND)
        resumed = time.monotonic()
        self.wait_active(uuids, timeout=60)
        self.record(
            'restart',
            resumed=resumed - restarted,
            active=time.monotonic() - restarted,
        )
        self.assertIn('dead incarnation', new.log_text())
        self.assert_each_adopted_once(held)
        self.assert_booted_once(uuids)
        self.assert_no_step_completed_twice(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)


class TestConductorRestartMySQL(_ConductorRestart, base.IntegrationTestCase):
    backend = 'mysql'


class TestConductorRestartPostgreSQL(
    _ConductorRestart, base.IntegrationTestCase
):
    backend = 'postgresql'
