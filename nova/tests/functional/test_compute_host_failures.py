"""A compute host dies while it spawns, or restarts, with the spawn
report (``[conductor] spawn_mode = report``) never sent.

* Down for good: the conductors' sweep finds the build waiting on a down
  host and fails its spawn; the build tries the next host, and the
  claim on the dead host is released (nova.conductor.down_hosts).
* Restarted: the host tells the conductors when it starts, and the
  builds that waited on its spawn run the step again on it
  (orc.Engine.redo), booting each server once.
"""

import time

from nova.compute import manager as compute_manager
from nova.tests.functional import base


class LostSpawns:
    """The first spawn cast is lost with the process of its host."""

    def configure(self):
        super().configure()
        self.flags(group='conductor', spawn_mode='report')

    def setUp(self):
        super().setUp()
        self.lost = []
        real = compute_manager.ComputeManager.spawn_and_report
        test = self

        def spawn_and_report(manager, context, instance, *args, **kwargs):
            if not test.lost:
                test.lost.append((manager.host, instance['uuid']))
                return None
            return real(manager, context, instance, *args, **kwargs)

        self.patch(
            compute_manager.ComputeManager,
            'spawn_and_report',
            spawn_and_report,
        )

    def wait_lost(self):
        deadline = time.monotonic() + base.WAIT_TIMEOUT
        while not self.lost:
            self.assertLess(time.monotonic(), deadline, 'no spawn was cast')
            time.sleep(0.02)
        return self.lost[0]

    def check_active_once(self, uuid, host):
        row = self.wait_for(uuid, 'active')
        self.wait_for_workflows(uuid)
        self.assertEqual(host, row['host'])
        self.assertEqual(1, self.boots_of(uuid))
        self.assertEqual(
            ['SUCCESS'], [w['state'] for w in self.workflows_of(uuid)]
        )
        self.assertEqual(
            [host],
            [
                c['host']
                for c in self.query(
                    'SELECT host FROM resource_claims '
                    'WHERE instance_uuid = :u',
                    u=uuid,
                )
            ],
        )
        self.assert_usage_matches_claims()


class TestHostDownWhileSpawning(LostSpawns, base.FunctionalTestCase):
    compute_hosts = ('host1', 'host2')

    def test_the_build_moves_to_another_host(self):
        started = time.monotonic()
        server = self.boot()
        dead, uuid = self.wait_lost()
        self.assertEqual(server['uuid'], uuid)
        # The host stops reporting; an operator may also force it down.
        with self.db.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE services SET forced_down = 1 WHERE host = '%s'" % dead
            )
        other = ({'host1', 'host2'} - {dead}).pop()
        self.check_active_once(uuid, other)
        # Within a few sweeps, far from spawn_timeout (600 s).
        self.assertLess(time.monotonic() - started, base.WAIT_TIMEOUT)
        self.assertIn(
            'went down while spawning',
            ' '.join(
                e['traceback'] or ''
                for e in self.action_events(uuid)
                if e['event'] == 'conductor_spawn'
            ),
        )
        self.assert_audit_clean()


class TestHostRestartedWhileSpawning(LostSpawns, base.FunctionalTestCase):
    def test_the_spawn_runs_again_on_the_restarted_host(self):
        server = self.boot()
        host, uuid = self.wait_lost()
        # The build waits for a report the dead process will never send;
        # the host's new process starts and says so.
        self.stack.computes[host].init_host()
        self.check_active_once(uuid, host)
        self.assertEqual(server['uuid'], uuid)
        self.assert_audit_clean()
