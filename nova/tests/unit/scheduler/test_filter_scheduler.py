"""select_destinations: which hosts, in which order, and why none."""

from nova import exception
from nova.scheduler import filter_scheduler
from nova.scheduler import filters
from nova.tests.unit.scheduler import base


class SelectTestCase(base.SchedulerTestCase):
    def setUp(self):
        super().setUp()
        self.scheduler = filter_scheduler.FilterScheduler()

    def select(self, **spec):
        return self.scheduler.select_destinations(
            self.context, base.request_spec(**spec)
        )

    def hosts(self, **spec):
        return [dest['host'] for dest in self.select(**spec)]


class TestSelectDestinations(SelectTestCase):
    def test_selected_first_then_alternates_by_free_ram(self):
        ids = {
            host: self.add_host(host, memory_mb=memory)
            for host, memory in (('c1', 2048), ('c2', 8192), ('c3', 4096))
        }
        self.assertEqual(
            [
                {'host': 'c2', 'nodename': 'c2', 'compute_node_id': ids['c2']},
                {'host': 'c3', 'nodename': 'c3', 'compute_node_id': ids['c3']},
                {'host': 'c1', 'nodename': 'c1', 'compute_node_id': ids['c1']},
            ],
            self.select(),
        )

    def test_at_most_max_attempts_entries(self):
        for index in range(5):
            self.add_host('c%d' % index, memory_mb=1024 * (index + 1))
        self.assertEqual(['c4', 'c3', 'c2'], self.hosts())
        self.flags(group='scheduler', max_attempts=1)
        self.assertEqual(['c4'], self.hosts())

    def test_distinct_hosts_best_node_of_each(self):
        self.add_host('c1', nodename='c1-small', memory_mb=2048)
        self.add_host(
            'c1', nodename='c1-large', memory_mb=8192, service=False
        )  # c1's service row serves it too
        self.add_host('c2', memory_mb=4096)
        self.assertEqual(
            [('c1', 'c1-large'), ('c2', 'c2')],
            [(d['host'], d['nodename']) for d in self.select()],
        )

    def test_ignore_hosts_are_skipped(self):
        for host in ('c1', 'c2', 'c3'):
            self.add_host(host, memory_mb=2048 if host == 'c1' else 1024)
        self.assertEqual(['c2', 'c3'], self.hosts(ignore_hosts=['c1']))

    def test_failing_hosts_are_not_alternates(self):
        self.add_host('c1', memory_mb=8192, disabled=True)
        self.add_host('c2', memory_mb=1024, memory_mb_used=1024)
        self.add_host('c3', memory_mb=2048)
        self.assertEqual(['c3'], self.hosts())

    def test_availability_zone(self):
        self.add_host('a1', memory_mb=1024, zone='az1')
        self.add_host('b1', memory_mb=8192, zone='az2')
        self.assertEqual(['a1'], self.hosts(availability_zone='az1'))
        self.assertEqual(['b1', 'a1'], self.hosts())

    def test_host_subset_size_picks_among_the_best(self):
        for host, memory in (('c1', 8192), ('c2', 4096), ('c3', 1024)):
            self.add_host(host, memory_mb=memory)
        self.flags(group='filter_scheduler', host_subset_size=2)
        selected = {self.hosts(instance_uuid=None)[0] for _ in range(60)}
        self.assertEqual({'c1', 'c2'}, selected)

    def test_alternates_follow_the_selected_host_in_weight_order(self):
        for host, memory in (('c1', 8192), ('c2', 4096), ('c3', 1024)):
            self.add_host(host, memory_mb=memory)
        self.flags(group='filter_scheduler', host_subset_size=3)
        for _ in range(20):
            hosts = self.hosts(instance_uuid=None)
            self.assertEqual(sorted(hosts), ['c1', 'c2', 'c3'])
            rest = [host for host in ['c1', 'c2', 'c3'] if host != hosts[0]]
            self.assertEqual(rest, hosts[1:])


class TestNoValidHost(SelectTestCase):
    def test_no_compute_node(self):
        exc = self.assertRaises(exception.NoValidHost, self.select)
        self.assertIn('No compute node is registered', str(exc))

    def test_every_host_ignored(self):
        self.add_host('c1')
        exc = self.assertRaises(
            exception.NoValidHost, self.select, ignore_hosts=['c1']
        )
        self.assertIn('Every compute host (c1) is in ignore_hosts', str(exc))

    def test_reason_names_the_filter_and_instance(self):
        self.add_host('c1', memory_mb=1024)
        self.add_host('c2', memory_mb=1024, down=True)
        exc = self.assertRaises(
            exception.NoValidHost,
            self.select,
            instance_uuid='inst-1',
            flavor={'memory_mb': 2048},
        )
        self.assertEqual(
            'No valid host was found. There are not enough hosts available.'
            ' RamFilter removed the last 1 host(s) for instance inst-1'
            ' (AvailabilityZoneFilter 2->2, ComputeFilter 2->1,'
            ' RamFilter 1->0).',
            str(exc),
        )

    def test_only_enabled_filters_apply(self):
        self.add_host('c1', memory_mb=1024)
        self.flags(group='filter_scheduler', enabled_filters=['ComputeFilter'])
        scheduler = filter_scheduler.FilterScheduler()
        self.assertEqual(
            ['c1'],
            [
                d['host']
                for d in scheduler.select_destinations(
                    self.context, base.request_spec(flavor={'memory_mb': 2048})
                )
            ],
        )

    def test_typo_in_enabled_filters_fails_at_construction(self):
        self.flags(group='filter_scheduler', enabled_filters=['RamFliter'])
        self.assertRaises(
            filters.FilterNotFound, filter_scheduler.FilterScheduler
        )


class TestConcurrentBuilds(SelectTestCase):
    """Selections not claimed yet count against the selected host."""

    def test_second_build_goes_elsewhere_until_claimed(self):
        big = self.add_host('big', memory_mb=1024 + 256)
        self.add_host('small', memory_mb=1024)
        first = self.add_building_instance()
        second = self.add_building_instance()
        self.assertEqual(['big', 'small'], self.hosts(instance_uuid=first))
        # big now has 768 MiB free in the scheduler's view: small wins.
        self.assertEqual(['small', 'big'], self.hosts(instance_uuid=second))
        # The first claim landed (the compute row would show the usage),
        # the second build failed: neither counts any more.
        self.add_claim(first, big, 'big')
        self.set_task_state(second, None)
        self.assertEqual(['big', 'small'], self.hosts())

    def test_full_host_is_not_offered_to_more_builds(self):
        self.add_host('c1', memory_mb=1024)
        builds = [self.add_building_instance() for _ in range(3)]
        self.assertEqual(['c1'], self.hosts(instance_uuid=builds[0]))
        self.assertEqual(['c1'], self.hosts(instance_uuid=builds[1]))
        exc = self.assertRaises(
            exception.NoValidHost, self.select, instance_uuid=builds[2]
        )
        self.assertIn('RamFilter', str(exc))
