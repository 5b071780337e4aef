"""Conductors die, hang and lose messages; builds still finish once.

Separate processes (3 conductors, a scheduler, 2 fake computes with a
spawn delay) on RabbitMQ and MariaDB, and on PostgreSQL. See
nova/tests/integration/harness.py for isolation and cleanup.
"""

import os
import time
from unittest import mock

from nova.tests.integration import base
from nova.tests.integration import harness

SERVERS = 30


class _ConductorFailover:
    """The scenarios of issue 6; mixed into one class per database."""

    # The spawn step holds its conductor for the whole spawn, so that a
    # conductor dies, stops or stalls while it holds builds. (In report
    # mode it holds them only between steps: see test_crash_points.)
    extra_options = {'conductor': {'spawn_mode': 'call'}}
    spawn_delay = 3.0

    def test_kill_conductor_mid_build(self):
        procs = self.deployment.start_services(conductors=3, computes=2)
        uuids = self.boot(SERVERS)
        victim, owned = self.busiest_conductor(procs['conductor'])
        victim.kill()
        killed_at = time.monotonic()

        self.wait_active(uuids, timeout=60)
        took = time.monotonic() - killed_at
        self.assert_booted_once(uuids)
        self.assert_no_step_completed_twice(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)
        # What the dead conductor held was adopted by a live one.
        rows = self.owners_of(owned)
        self.assertTrue(
            all(r.adoptions >= 1 for r in rows.values()),
            [tuple(r) for r in rows.values()],
        )
        opts = self.deployment.orchestration
        self.addDetail(
            'takeover',
            _text(
                '%d workflows of the killed '
                'conductor; all ACTIVE %.1f s after '
                'the kill (lease %ss)'
                % (len(owned), took, opts['lease_seconds'])
            ),
        )

    def test_paused_conductor_is_fenced(self):
        procs = self.deployment.start_services(conductors=3, computes=2)
        uuids = self.boot(SERVERS)
        victim, owned = self.busiest_conductor(procs['conductor'])
        victim.pause()
        try:
            # Past its lease: the others adopt everything it held.
            opts = self.deployment.orchestration
            budget = opts['lease_seconds'] + opts['sweep_interval'] + 20

            def adopted():
                # Everything it holds, not only the builds it had in
                # spawn: a workflow it claimed just before the pause has
                # a later lease and is adopted last.
                rows = self.owners_of(owned)
                return not self.deployment.owned_by(victim.host) and all(
                    not (r.owner or '').startswith(victim.host + ':')
                    for r in rows.values()
                )

            harness.wait_until(
                adopted,
                budget,
                interval=0.3,
                message=lambda: (
                    'workflows of the paused conductor not '
                    'adopted: %s\nopen transactions: %s'
                    % (
                        self.deployment.owned_by(victim.host),
                        self.deployment.open_transactions(),
                    )
                ),
            )
        finally:
            victim.resume()
        self.wait_active(uuids, timeout=60)
        # The woken conductor found out at its first fenced write.
        harness.wait_until(
            lambda: harness.OWNERSHIP_LOST_RE.search(victim.log_text()),
            20,
            interval=0.5,
            message=lambda: (
                'paused conductor never reported its lost '
                'ownership:\n%s' % victim.log_tail(60)
            ),
        )
        self.assertTrue(victim.alive, victim.log_tail())
        self.assert_booted_once(uuids)
        self.assert_no_step_completed_twice(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)

    def test_lost_cast_is_swept(self):
        self.deployment.start_services(conductors=2, computes=1)
        with mock.patch(
            'nova.conductor.rpcapi.ConductorAPI.build_instances'
        ) as cast:
            uuids = self.boot(3, name='lost')
        self.assertEqual(3, cast.call_count)
        # Nobody was told: the rows wait, PENDING and unowned.
        rows = self.deployment.query(
            "SELECT state, owner FROM workflows WHERE name = 'build_instance'"
        )
        self.assertEqual(
            [('PENDING', None)] * 3, [(r.state, r.owner) for r in rows]
        )
        opts = self.deployment.orchestration
        self.wait_active(
            uuids,
            timeout=opts['sweep_grace_seconds'] + opts['sweep_interval'] + 30,
        )
        self.assertIn(
            'Sweeper of', '\n'.join(self.deployment.logs('conductor').values())
        )
        self.assert_booted_once(uuids)
        self.assert_no_step_completed_twice(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)

    def test_kill_conductor_mid_delete(self):
        procs = self.deployment.start_services(conductors=3, computes=2)
        uuids = self.boot(SERVERS)
        self.busiest_conductor(procs['conductor'])
        # Delete everything while builds are in flight: each delete
        # aborts its build, waits for the revert, then cleans up.
        for uuid in uuids:
            self.api.delete(self.context, uuid)
        victim = max(
            procs['conductor'],
            key=lambda p: len(self.deployment.owned_by(p.host)),
        )
        victim.kill()
        opts = self.deployment.orchestration
        self.wait_deleted(
            uuids,
            timeout=60 + 2 * (opts['lease_seconds'] + opts['sweep_interval']),
        )
        self.assert_nothing_left(uuids)

    def test_graceful_stop_hands_back(self):
        procs = self.deployment.start_services(conductors=3, computes=2)
        uuids = self.boot(SERVERS)
        victim, owned = self.busiest_conductor(procs['conductor'])
        code = victim.terminate(timeout=30)
        self.assertEqual(0, code, victim.log_tail())
        # Handed back, not left to expire: once it has exited, nothing
        # unfinished is still owned (leased) by it.
        self.assertEqual(
            [],
            self.deployment.owned_by(victim.host),
            'workflows a gracefully stopped conductor kept',
        )
        self.wait_active(uuids, timeout=60)
        self.assert_booted_once(uuids)
        self.assert_no_step_completed_twice(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)


class _BriefPause:
    """A conductor paused for less than its lease just carries on.

    The pause is longer than the idle-in-transaction timeout the
    conductor's DB sessions get (half a lease), so a transaction it had
    open is cut by the server; the builds must still all finish.
    """

    spawn_delay = 3.0
    orchestration = {
        'lease_seconds': 12,
        'heartbeat_interval': 2,
        'sweep_interval': 1,
        'sweep_grace_seconds': 3,
    }

    def test_pause_shorter_than_lease(self):
        procs = self.deployment.start_services(conductors=3, computes=2)
        uuids = self.boot(SERVERS)
        victim, owned = self.busiest_conductor(procs['conductor'])
        opts = self.deployment.orchestration
        # Lease left >= lease - heartbeat = 10 s; idle timeout 6 s.
        pause = opts['lease_seconds'] / 2 + 1.5
        victim.pause()
        try:
            time.sleep(pause)
        finally:
            victim.resume()
        self.wait_active(uuids, timeout=60)
        self.assert_booted_once(uuids)
        self.assert_no_step_completed_twice(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)


class _BrokerRestart:
    """RabbitMQ restarted (stop_app/start_app) while builds run.

    The whole broker goes down, so this holds the broker lock
    exclusively: no other integration test runs meanwhile. Anything else
    on the machine using RabbitMQ sees the restart too; set
    NOVA_TEST_SKIP_BROKER_RESTART=1 to skip this test.
    """

    spawn_delay = 3.0
    broker_lock = False

    def setUp(self):
        if os.environ.get('NOVA_TEST_SKIP_BROKER_RESTART', '') not in (
            '',
            '0',
        ):
            self.skipTest(
                'NOVA_TEST_SKIP_BROKER_RESTART is set: RabbitMQ '
                'is shared with something that must not see it '
                'restart'
            )
        if harness.rabbitmqctl_path() is None:
            self.skipTest('rabbitmqctl not found: cannot restart RabbitMQ')
        lock = harness.broker_restart_lock()
        lock.__enter__()
        self.addCleanup(lock.__exit__, None, None, None)
        super().setUp()

    def test_broker_restart_during_builds(self):
        procs = self.deployment.start_services(conductors=3, computes=2)
        uuids = self.boot(SERVERS)
        self.busiest_conductor(procs['conductor'])
        harness.restart_broker(down_seconds=2)
        self.wait_active(uuids, timeout=90)
        self.assert_booted_once(uuids)
        self.assert_no_step_completed_twice(uuids)
        self.assert_nothing_leaked(uuids)
        self.assert_all_workflows_succeeded(uuids)


def _text(value):
    from testtools import content

    return content.text_content(value)


class TestConductorFailoverMySQL(_ConductorFailover, base.IntegrationTestCase):
    backend = 'mysql'


class TestConductorFailoverPostgreSQL(
    _ConductorFailover, base.IntegrationTestCase
):
    backend = 'postgresql'


class TestBriefPauseMySQL(_BriefPause, base.IntegrationTestCase):
    backend = 'mysql'


class TestBriefPausePostgreSQL(_BriefPause, base.IntegrationTestCase):
    backend = 'postgresql'


class TestBrokerRestartMySQL(_BrokerRestart, base.IntegrationTestCase):
    backend = 'mysql'


class TestBrokerRestartPostgreSQL(_BrokerRestart, base.IntegrationTestCase):
    backend = 'postgresql'
