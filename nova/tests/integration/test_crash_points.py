"""nova-all dies right after each database write of a request, at every
one of them, and the request still ends as it should.

For three requests on nova-all (SQLite, in-process messaging), a
build, a delete and a build that fails on its only host
(``[fake_driver] spawn_failure_hosts``: the spawn fails, the
host-scoped steps revert, no alternate host is left and the whole
build reverts): a baseline request with the crash-point
hook counting (:mod:`nova.db.crash_points`) gives the number T of write
commits the request makes, from the API's own transaction to the last
step or revert; then, for every N in 1..T, the hook ends the process
(``os._exit``, as a ``kill -9``) right after the Nth commit, nova-all
is started again and the test checks the end state:

* build: the server ACTIVE, booted exactly once (the fake hypervisor's
  console.log), one claim, one fixed IP and one root block device;
* delete: the server deleted, booted once in all, nothing left (claim,
  fixed IP, block device, instance directory);
* failed build: the server in ERROR with the fault "Exceeded maximum
  number of retries", on no host, its 'create' action finished in
  error, the build REVERTED, never booted and nothing left;

and, for all, every workflow finished, compute node usage equal to the
ACTIVE servers and the audit of ``nova-manage workflow audit`` clean.
The build runs on MariaDB and on PostgreSQL with RabbitMQ too. The
machinery, shared by all, is :mod:`nova.tests.integration.crash_harness`.

One nova-all process serves as the restarted process of point N and
the crashing process of point N+1: the hook is armed by a control file
that the process deletes when it reads it, so two starts per point are
not needed; and each restart is taken over by a standby process that
did its imports while the one before still ran (see crash_harness).
Periodic tasks (service and capacity reports, lease heartbeats, sweeps)
are made hourly so that none writes during a request and the numbering
is the same in every run; a conductor's first sweep runs when it
starts, and the proof that its previous incarnation is dead
(doc/source/admin/conductors.rst) lets it take the crashed request back
at once. Commits of steps that run in parallel (network and block
devices) may come in either order: each N is a position in the commit
order, and the test details list what the commit at each N wrote in
this run. T is counted in each run, so it follows ``[conductor]
spawn_mode`` (the mode adds the commits of the host's report).

Measured on a 2-core machine (``spawn_mode = report``): 37 points per
build (58 s on SQLite, 75 s on MariaDB or PostgreSQL), 29 per delete
(53 s) and 45 per failed build (65 s), about 5.5 minutes for the
module; up to twice that while other tests load the machine. Each
point costs a restart (0.5 to 1.5 s once the standby has imported
nova), the request's recovery and the checks. Rerun with::

    .venv/bin/python -m testtools.run nova.tests.integration.test_crash_points

Found by this test and fixed: a failed build whose revert ran again
after a crash recorded its fault twice (the sentinel's revert wrote the
ERROR state with its fault and the end of the action in two commits;
see nova.conductor.workflows.base.finish_revert); and action events of
steps left unfinished when the process died right after the commit that
ended the step (see nova.conductor.events.close_finished_events).
"""

from nova.tests.integration import crash_harness

#: What the fault of a build that failed on every host says, and why
#: it failed on host1.
MAX_RETRIES_FAULT = 'Exceeded maximum number of retries'
SPAWN_FAILURE = 'host1: Failed to deploy instance: fake spawn failure'


class _Build:
    """Every write commit of a build, one crash each."""

    def test_build_survives_a_crash_after_every_write(self):
        def built(uuid):
            return lambda: (
                self.instance(uuid)[:2] == ('active', None)
                and self.workflows(uuid) == [('build_instance', 'SUCCESS')]
            )

        def check(uuid, where, wrote):
            self.assertEqual(('active', None, 0), self.instance(uuid), where)
            self.assertEqual(
                [('build_instance', 'SUCCESS')], self.workflows(uuid), where
            )
            self.assertEqual(1, self.nova.boots(uuid), '%s: boots' % where)
            self.assertEqual(
                {'claims': 1, 'fixed_ips': 1, 'bdms': 1, 'directory': 1},
                self.held(uuid),
                where,
            )
            self.assert_consistent(where)

        points = self.crash_at_every_point(
            'build_instance', self.post_server, built, check
        )
        self.assertIn('INSERT INTO instances', points[1])


class _Booted:
    def boot_all(self, names):
        """Boot a server per name and wait until each is ACTIVE."""
        for name in names:
            self.post_server(name)
        uuids = [self.uuid_of(name) for name in names]
        self.wait_for(
            lambda: all(
                self.instance(u)[:2] == ('active', None) for u in uuids
            ),
            lambda: 'boot %s' % names,
        )
        # Deleting removes the console.log: count the boots before.
        self.assertEqual(
            {u: 1 for u in uuids}, {u: self.nova.boots(u) for u in uuids}
        )


class _Delete(_Booted):
    """Every write commit of a delete, one crash each."""

    def test_delete_survives_a_crash_after_every_write(self):
        def delete(name):
            self.send('DELETE', '/servers/%s' % self.uuid_of(name))

        def deleted(uuid):
            return lambda: (
                self.instance(uuid)[2] != 0
                and self.workflows(uuid)[-1:]
                == [('delete_instance', 'SUCCESS')]
            )

        def check(uuid, where, wrote):
            state = self.instance(uuid)
            self.assertNotEqual(0, state[2], '%s: %s' % (where, state))
            self.assertEqual(
                [
                    ('build_instance', 'SUCCESS'),
                    ('delete_instance', 'SUCCESS'),
                ],
                self.workflows(uuid),
                where,
            )
            self.assertEqual(
                {'claims': 0, 'fixed_ips': 0, 'bdms': 0, 'directory': 0},
                self.held(uuid),
                where,
            )
            self.assert_consistent(where)

        self.crash_at_every_point(
            'delete_instance', delete, deleted, check, prepare=self.boot_all
        )


class _Stop(_Booted):
    """Every write commit of a stop (a power action), one crash each."""

    def test_stop_survives_a_crash_after_every_write(self):
        def stop(name):
            self.send(
                'POST',
                '/servers/%s/action' % self.uuid_of(name),
                {'os-stop': None},
            )

        def stopped(uuid):
            return lambda: (
                self.instance(uuid)[:2] == ('stopped', None)
                and self.workflows(uuid)[-1:] == [('stop_instance', 'SUCCESS')]
            )

        def check(uuid, where, wrote):
            self.assertEqual(('stopped', None, 0), self.instance(uuid), where)
            self.assertEqual(
                [
                    ('build_instance', 'SUCCESS'),
                    ('stop_instance', 'SUCCESS'),
                ],
                self.workflows(uuid),
                where,
            )
            # Stopping boots nothing, and keeps what the server holds.
            self.assertEqual(1, self.nova.boots(uuid), '%s: boots' % where)
            self.assertEqual(
                {'claims': 1, 'fixed_ips': 1, 'bdms': 1, 'directory': 1},
                self.held(uuid),
                where,
            )
            self.assert_consistent(where)

        self.crash_at_every_point(
            'stop_instance', stop, stopped, check, prepare=self.boot_all
        )


class _FailedBuild:
    """Every write commit of a build that fails and reverts, one crash
    each: the only compute host fails every spawn."""

    options = dict(
        crash_harness.OPTIONS,
        fake_driver=dict(
            crash_harness.OPTIONS['fake_driver'], spawn_failure_hosts='host1'
        ),
    )

    def test_failed_build_reverts_despite_a_crash_after_every_write(self):
        def reverted(uuid):
            return lambda: (
                self.instance(uuid)[:2] == ('error', None)
                and self.workflows(uuid) == [('build_instance', 'REVERTED')]
            )

        def check(uuid, where, wrote):
            self.assertEqual(('error', None, 0), self.instance(uuid), where)
            self.assertEqual((None, None), self.placed_on(uuid), where)
            self.assertEqual(
                [('build_instance', 'REVERTED')], self.workflows(uuid), where
            )
            faults = self.faults(uuid)
            self.assertEqual(1, len(faults), '%s: faults %s' % (where, faults))
            for fault in faults:
                self.assertIn(MAX_RETRIES_FAULT, fault, where)
                self.assertIn(SPAWN_FAILURE, fault, where)
            self.assertEqual(
                [('create', True, 'Error')], self.actions(uuid), where
            )
            # A spawn on a failure host never boots a guest.
            self.assertEqual(0, self.nova.boots(uuid), '%s: boots' % where)
            self.assertEqual(
                {'claims': 0, 'fixed_ips': 0, 'bdms': 0, 'directory': 0},
                self.held(uuid),
                where,
            )
            self.assert_consistent(where)

        points = self.crash_at_every_point(
            'build_instance (spawn fails)', self.post_server, reverted, check
        )
        self.assertIn('INSERT INTO instances', points[1])
        # The points include those of the reverts: the claim released,
        # the fault recorded.
        wrote = '\n'.join(points.values())
        self.assertIn('DELETE FROM resource_claims', wrote)
        self.assertIn('INSERT INTO instance_faults', wrote)


class TestCrashPoints(
    _Build, _Delete, _Stop, crash_harness.CrashPointsTestCase
):
    """A build, a delete and a stop on nova-all on SQLite."""


class TestFailedBuildCrashPoints(
    _FailedBuild, crash_harness.CrashPointsTestCase
):
    """A failed build on nova-all on SQLite."""


class TestCrashPointsMySQL(_Build, _Delete, crash_harness.CrashPointsTestCase):
    """A build and a delete on MariaDB, their messages through
    RabbitMQ."""

    backend = 'mysql'


class TestFailedBuildCrashPointsMySQL(
    _FailedBuild, crash_harness.CrashPointsTestCase
):
    backend = 'mysql'


class TestCrashPointsPostgreSQL(
    _Build, _Delete, crash_harness.CrashPointsTestCase
):
    """A build and a delete on PostgreSQL, their messages through
    RabbitMQ."""

    backend = 'postgresql'


class TestFailedBuildCrashPointsPostgreSQL(
    _FailedBuild, crash_harness.CrashPointsTestCase
):
    backend = 'postgresql'
