"""A compute host dies while it spawns, or restarts, with the spawn
report (``[conductor] spawn_mode = report``) never sent.

* Down for good: the conductors' sweep finds the build waiting on a down
  host and fails its spawn; the build tries the next host, and the
  claim on the dead host is released (nova.conductor.down_hosts).
* Restarted: the host tells the conductors when it starts, and the
  builds that waited on its spawn run the step again on it
  (orc.Engine.redo), booting each server once.
"""

import collections
import os
import time

import oslo_messaging as messaging
import sqlalchemy as sa

from nova.compute import manager as compute_manager
from nova.compute import rpcapi as compute_rpcapi
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


class DeadHost:
    """A host's process dies: the conductors' calls to it time out, and
    its service stops reporting (forced down here, at once)."""

    #: Whether the host of the first call dies during it.
    die_during_first_call = False

    def setUp(self):
        super().setUp()
        self.dead = set()
        self.calls = collections.Counter()
        for method in (
            'prepare_block_devices',
            'destroy',
            'cleanup_block_devices',
        ):
            self._time_out_when_dead(method)

    def _time_out_when_dead(self, method):
        real = getattr(compute_rpcapi.ComputeAPI, method)
        test = self

        def call(api, ctxt, host, *args, **kwargs):
            if test.die_during_first_call:
                test.die_during_first_call = False
                test.kill(host)
            if host in test.dead:
                test.calls[method, host] += 1
                raise messaging.MessagingTimeout('no reply from %s' % host)
            return real(api, ctxt, host, *args, **kwargs)

        self.patch(compute_rpcapi.ComputeAPI, method, call)

    def _force_down(self, host, down):
        with self.db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    'UPDATE services SET forced_down = :d WHERE host = :h'
                ),
                {'d': down, 'h': host},
            )

    def kill(self, host):
        self.dead.add(host)
        self._force_down(host, True)

    def restart(self, host):
        """The host's process starts again."""
        self.dead.discard(host)
        self._force_down(host, False)
        self.stack.computes[host].init_host()


class TestHostDiesDuringACall(DeadHost, base.FunctionalTestCase):
    compute_hosts = ('host1', 'host2')

    die_during_first_call = True

    def test_the_build_moves_on_after_one_timeout(self):
        # Found by test_compute_host_kill: a build calling a host killed
        # mid-call waited out four RPC timeouts (the step's retries)
        # before trying the next host.
        server = self.boot()
        row = self.wait_for(server['uuid'], 'active')
        (dead,) = self.dead
        self.assertNotEqual(dead, row['host'])
        self.assertEqual(
            {('prepare_block_devices', dead): 1}, dict(self.calls)
        )
        tracebacks = ' '.join(
            e['traceback'] or ''
            for e in self.action_events(server['uuid'])
            if e['event'] == 'conductor_prepare_block_devices'
        )
        self.assertIn('ComputeHostDown', tracebacks)
        self.assert_usage_matches_claims()
        self.assert_audit_clean()


class TestDeleteOnADownHost(DeadHost, base.FunctionalTestCase):
    def test_the_host_destroys_the_guest_when_it_starts(self):
        server = self.boot()
        uuid = server['uuid']
        self.wait_for(uuid, 'active')
        self.kill('host1')
        self.api.delete(self.context, uuid)
        # Not after four timeouts per attempt, three attempts: the host
        # is not called at all.
        self.wait_for(uuid, gone=True)
        self.wait_for_workflows(uuid)
        self.assertEqual({}, dict(self.calls))
        self.assertEqual(
            ['SUCCESS', 'SUCCESS'],
            [w['state'] for w in self.workflows_of(uuid)],
        )
        # The guest stays on the host until it starts again.
        self.assertTrue(os.path.exists(self.instance_dir(uuid)))
        self.restart('host1')
        self.assert_nothing_leaked(uuid)
        self.assert_usage_matches_claims()
        self.assert_audit_clean()
