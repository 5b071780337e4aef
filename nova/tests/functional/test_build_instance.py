"""A boot through the build_instance workflow, end to end in-process."""

import time

import fixtures

from nova.conductor import events
from nova.conductor.workflows import build_instance
from nova.tests.functional import base

#: The step classes of build_instance, by step name.
STEPS = {
    cls.name: cls
    for cls in (
        build_instance.SelectDestinations,
        build_instance.ClaimResources,
        build_instance.AllocateNetwork,
        build_instance.PrepareBlockDevices,
        build_instance.Spawn,
        build_instance.MarkActive,
    )
}
#: The action events of the steps that run in parallel, in either order.
PARALLEL_EVENTS = tuple(
    events.EVENT_PREFIX + cls.name
    for cls in (
        build_instance.AllocateNetwork,
        build_instance.PrepareBlockDevices,
    )
)


class InjectedFailure(Exception):
    """A failure planted by a test after the step did its work."""


class TestBoot(base.FunctionalTestCase):
    def test_boot_goes_active_with_host_ip_disk_and_events(self):
        server = self.boot()
        row = self.wait_for(server['uuid'], 'active')
        self.assertEqual('host1', row['host'])
        self.assertEqual(1, row['power_state'])
        self.assertIsNotNone(row['launched_at'])
        ips = self.query(
            'SELECT address, mac_address FROM fixed_ips '
            'WHERE instance_uuid = :u',
            u=server['uuid'],
        )
        self.assertEqual(1, len(ips))
        self.assertTrue(ips[0]['address'].startswith('10.0.0.'))
        self.assertEqual(1, self.boots_of(server['uuid']))
        self.assertTrue(self.instance_dir(server['uuid']))
        action_events = self.finished_action_events(
            server['uuid'], count=len(build_instance.EVENT_STEPS)
        )
        names = [
            events.EVENT_PREFIX + name for name in build_instance.EVENT_STEPS
        ]
        self.assertEqual(
            [name for name in names if name not in PARALLEL_EVENTS],
            [
                e['event']
                for e in action_events
                if e['event'] not in PARALLEL_EVENTS
            ],
        )
        self.assertEqual({'Success'}, {e['result'] for e in action_events})
        self.assertEqual(len(build_instance.EVENT_STEPS), len(action_events))
        self.assertEqual([], self.faults(server['uuid']))
        self.assertEqual(
            ['SUCCESS'],
            [w['state'] for w in self.workflows_of(server['uuid'])],
        )
        self.assert_usage_matches_claims()
        self.assert_audit_clean()

    def test_several_servers_each_with_its_own_workflow(self):
        servers = self.boot(min_count=3, max_count=3)
        self.assertEqual(3, len({s['uuid'] for s in servers}))
        for server in servers:
            self.wait_for(server['uuid'], 'active')
            self.assertEqual(1, len(self.workflows_of(server['uuid'])))


class TestFailureAtEveryStep(base.FunctionalTestCase):
    """A failure at any step leaves ERROR + fault and nothing leaked."""

    def _fail_step(self, step):
        cls = STEPS[step]
        original = cls.execute

        def execute(task, *args, **kwargs):
            original(task, *args, **kwargs)
            raise InjectedFailure('injected failure after %s' % step)

        self.useFixture(
            fixtures.MonkeyPatch(
                '%s.%s.execute' % (cls.__module__, cls.__qualname__), execute
            )
        )

    def _check_failed_cleanly(self, step):
        self._fail_step(step)
        server = self.boot()
        self.wait_for(server['uuid'], 'error')
        self.wait_for_workflows(server['uuid'])
        faults = self.faults(server['uuid'])
        self.assertEqual(1, len(faults), faults)
        self.assertIn('injected failure after %s' % step, faults[0]['message'])
        self.assert_nothing_leaked(server['uuid'])
        self.assert_usage_matches_claims()
        self.assert_audit_clean()
        self.assertEqual(
            ['REVERTED'],
            [w['state'] for w in self.workflows_of(server['uuid'])],
        )
        errors = [
            e
            for e in self.finished_action_events(server['uuid'])
            if e['result'] == 'Error'
        ]
        self.assertEqual(
            [events.EVENT_PREFIX + step], [e['event'] for e in errors]
        )
        self.assertIn('InjectedFailure', errors[0]['traceback'])


def _make_step_test(step):
    def test(self):
        self._check_failed_cleanly(step)

    test.__name__ = 'test_failure_at_%s' % step
    return test


for _step in STEPS:
    setattr(
        TestFailureAtEveryStep,
        'test_failure_at_%s' % _step,
        _make_step_test(_step),
    )


class TestSpawnFailureOnOnlyHost(base.FunctionalTestCase):
    def configure(self):
        self.flags(group='fake_driver', spawn_failure_hosts=['host1'])

    def test_no_valid_host_after_max_attempts(self):
        server = self.boot()
        self.wait_for(server['uuid'], 'error')
        fault = self.faults(server['uuid'])[0]
        self.assertIn('Exceeded maximum number of retries', fault['message'])
        self.assert_nothing_leaked(server['uuid'])


class TestReschedule(base.FunctionalTestCase):
    compute_hosts = ('host1', 'host2', 'host3')

    def configure(self):
        self.flags(group='fake_driver', spawn_failure_hosts=['host1'])
        # Make host1 the scheduler's first choice: it has most free RAM.
        self.flags(group='filter_scheduler', ram_weight_multiplier=1.0)

    def test_spawn_fails_on_one_host_succeeds_on_another(self):
        server = self.boot()
        row = self.wait_for(server['uuid'], 'active')
        self.assertIn(row['host'], ('host2', 'host3'))
        claims = self.query(
            'SELECT host FROM resource_claims WHERE instance_uuid = :u',
            u=server['uuid'],
        )
        self.assertEqual([row['host']], [c['host'] for c in claims])
        self.assert_usage_matches_claims()
        self.assertEqual(1, self.boots_of(server['uuid']))

    def test_all_hosts_fail(self):
        self.flags(
            group='fake_driver',
            spawn_failure_hosts=['host1', 'host2', 'host3'],
        )
        server = self.boot()
        self.wait_for(server['uuid'], 'error')
        fault = self.faults(server['uuid'])[0]
        self.assertIn('Exceeded maximum number of retries', fault['message'])
        self.assert_nothing_leaked(server['uuid'])
        self.assert_usage_matches_claims()


class TestCapacity(base.FunctionalTestCase):
    """20 concurrent boots on a host with room for 10."""

    node_vcpus = 10
    node_memory_mb = 512 * 10
    node_local_gb = 100

    def configure(self):
        self.flags(group='quota', instances=-1, cores=-1, ram=-1)

    def test_exactly_ten_fit(self):
        servers = [self.boot(name='s%d' % i) for i in range(20)]
        states = [
            self.wait_for_any(s['uuid'], ('active', 'error')) for s in servers
        ]
        self.assertEqual(10, states.count('active'), states)
        self.assertEqual(10, states.count('error'), states)
        for server, state in zip(servers, states, strict=True):
            if state == 'error':
                # NoValidHost, or its subclass MaxRetriesExceeded when
                # the claim lost the race on every alternate.
                self.assertRegex(
                    self.faults(server['uuid'])[0]['message'],
                    'No valid host|Exceeded maximum number of retries',
                )
                self.assert_nothing_leaked(server['uuid'])
        self.assert_usage_matches_claims()
        node = self.query('SELECT * FROM compute_nodes')[0]
        self.assertEqual(10, node['vcpus_used'])

    def wait_for_any(self, uuid, states):
        deadline = time.monotonic() + base.WAIT_TIMEOUT * 2
        while time.monotonic() < deadline:
            row = self.instance_row(uuid)
            if row['vm_state'] in states and row['task_state'] is None:
                return row['vm_state']
            time.sleep(0.05)
        self.fail('instance %s still %s' % (uuid, row['vm_state']))
