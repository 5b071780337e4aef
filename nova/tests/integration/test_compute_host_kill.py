"""A nova-compute process is killed (``kill -9``) while it spawns.

Separate processes (2 conductors, a scheduler, 2 fake computes with a
long spawn delay) on RabbitMQ and MariaDB, and on PostgreSQL, in the
default ``[conductor] spawn_mode = report``: the builds spawning on the
killed host wait, with no thread, for reports its process will never
send. The functional test_compute_host_failures shows the same paths
in one process with the spawn cast dropped; here the process really
dies, with spawns half done and casts still queued for it.

* Restarted at once: the new process tells the conductors it started,
  and the builds that waited on it spawn again there (orc.Engine.redo):
  every server ACTIVE, each booted once.
* Down for good, then back: the conductors' sweep finds the host down
  after ``service_down_time`` and fails the spawns that wait on it; the
  builds revert their attempt there (the claim on the dead host is
  released) and boot on the other host. When the host comes back it
  runs the spawn casts still queued for it, which are stale, and reaps
  what no claim holds: nothing is left on it.

Neither waits for ``spawn_timeout`` (600 s): the test's own bound is
150 s.
"""

import collections
import json
import time

from testtools import content

from nova.tests.integration import base
from nova.tests.integration import harness

SERVERS = 8


class _ComputeHostKill:
    # Long enough that the kill lands in the spawns' delay (before the
    # fake driver writes anything), short enough for a bounded test.
    spawn_delay = 6.0
    extra_options = {'compute': {'orphan_reap_interval': 2}}

    def start(self):
        procs = self.deployment.start_services(conductors=2, computes=2)
        return procs['compute']

    def kill_while_spawning(self, computes, uuids):
        """Wait until a compute spawns at least one of ``uuids``; kill it
        -9; return (its process, the uuids it was spawning)."""
        by_host = {p.host: p for p in computes}

        def spawning():
            hosts = collections.defaultdict(list)
            for uuid, row in self.deployment.instance_states(uuids).items():
                if row.task_state == 'spawning' and row.host in by_host:
                    hosts[row.host].append(uuid)
            return max(hosts.items(), key=lambda h: len(h[1]), default=None)

        host, victims = harness.wait_until(
            spawning,
            60,
            interval=0.1,
            message=lambda: (
                'nothing spawning\n%s' % self.deployment.diagnosis()
            ),
        )
        victim = by_host[host]
        victim.kill()
        harness.trace('killed %s while it spawned %s', host, victims)
        return victim, victims

    def restart(self, victim):
        """Start the killed host's service again, under its own name."""
        name = victim.host.rsplit('-', 1)[0]
        proc = self.deployment.start('compute', name)
        self.deployment.wait_up([proc])
        return proc

    def report(self, victims, **figures):
        """Figures for tools/reliability-report.sh; reached once nothing
        leaked."""
        figures.update(
            requests=SERVERS,
            faults=1,
            leaks=0,
            spawns_cut_by_the_kill=len(victims),
        )
        self.addDetail('figures', content.text_content(json.dumps(figures)))

    def assert_nothing_on(self, host, uuids):
        """No instance directory of ``uuids`` is owned by ``host``."""
        owned = [u for u in uuids if self.deployment.instance_owner(u) == host]
        self.assertEqual([], owned, 'guests left on %s' % host)

    def test_restarted_host_spawns_again(self):
        computes = self.start()
        uuids = self.boot(SERVERS)
        victim, victims = self.kill_while_spawning(computes, uuids)
        self.restart(victim)
        self.wait_active(uuids, timeout=90)
        states = self.deployment.instance_states(uuids)
        # Spawned where they were claimed, on the restarted host.
        self.assertEqual(
            {victim.host}, {states[u].host for u in victims}, states
        )
        self.assertIn(
            'restarted while spawning',
            '\n'.join(self.deployment.logs('conductor').values()),
        )
        self.assert_booted_once(uuids)
        self.assert_no_step_completed_twice(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)
        self.report(victims)

    def test_host_down_for_good_then_back(self):
        computes = self.start()
        uuids = self.boot(SERVERS)
        victim, victims = self.kill_while_spawning(computes, uuids)
        # After service_down_time (15 s) and a sweep, elsewhere.
        self.wait_active(uuids, timeout=90)
        states = self.deployment.instance_states(uuids)
        self.assertNotIn(victim.host, {r.host for r in states.values()})
        self.assertIn(
            'went down while spawning',
            '\n'.join(self.deployment.logs('conductor').values()),
        )
        self.assert_booted_once(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)
        # The host comes back: its queued spawn casts are stale, and it
        # keeps no guest that no claim holds.
        back = self.restart(victim)
        # Its queue drained and two reaps (every 2 s) later.
        time.sleep(5)
        self.assertTrue(back.alive, back.log_tail())
        self.assert_nothing_on(victim.host, uuids)
        self.assert_booted_once(uuids)
        self.assert_nothing_leaked(uuids)
        self.report(victims)


class TestComputeHostKillMySQL(_ComputeHostKill, base.IntegrationTestCase):
    backend = 'mysql'


class TestComputeHostKillPostgreSQL(
    _ComputeHostKill, base.IntegrationTestCase
):
    backend = 'postgresql'
