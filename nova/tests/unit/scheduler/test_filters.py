"""Host filters and their registry, on host states of real rows."""

from nova.db import models
from nova.scheduler import filters
from nova.scheduler import host_manager
from nova.tests.unit.scheduler import base


class FilterTestCase(base.SchedulerTestCase):
    filter_name = None

    def passing(self, **spec):
        """Names of the hosts that pass ``filter_name`` for the spec."""
        [host_filter] = filters.load_filters([self.filter_name])
        states = host_manager.HostManager().get_all_host_states(self.context)
        passed = host_filter.filter_all(states, base.request_spec(**spec))
        return sorted(state.host for state in passed)


class TestComputeFilter(FilterTestCase):
    filter_name = 'ComputeFilter'

    def test_only_up_and_enabled_services_pass(self):
        self.add_host('up')
        self.add_host('disabled', disabled=True)
        self.add_host('down', down=True)
        self.add_host('no-service', service=False)
        self.assertEqual(['up'], self.passing())

    def test_forced_down_service_fails(self):
        self.add_host('c1')
        services = models.Service.__table__
        with self.db.engine.begin() as conn:
            conn.execute(services.update().values(forced_down=True))
        self.assertEqual([], self.passing())

    def test_service_down_time_decides(self):
        self.add_host('c1', down=True)  # reported an hour ago
        self.flags(service_down_time=2 * 3600)
        self.assertEqual(['c1'], self.passing())


class TestRamFilter(FilterTestCase):
    filter_name = 'RamFilter'

    def test_free_ram_without_overcommit(self):
        self.add_host('exact', memory_mb=1024, memory_mb_used=512)
        self.add_host('short', memory_mb=1024, memory_mb_used=513)
        self.assertEqual(['exact'], self.passing(flavor={'memory_mb': 512}))

    def test_ram_allocation_ratio_of_the_node(self):
        # 1024 MiB * 1.5 may be claimed: 1536 - 1100 leaves 436 MiB.
        self.add_host(
            'overcommit', memory_mb=1024, memory_mb_used=1100, ram_ratio=1.5
        )
        self.assertEqual(
            ['overcommit'], self.passing(flavor={'memory_mb': 436})
        )
        self.assertEqual([], self.passing(flavor={'memory_mb': 437}))


class TestCoreFilter(FilterTestCase):
    filter_name = 'CoreFilter'

    def test_vcpus_under_ratio(self):
        self.add_host('full', vcpus=2, vcpus_used=2)
        self.add_host('room', vcpus=2, vcpus_used=1)
        self.add_host('overcommit', vcpus=2, vcpus_used=2, cpu_ratio=2.0)
        self.assertEqual(['overcommit', 'room'], self.passing())
        self.assertEqual(['overcommit'], self.passing(flavor={'vcpus': 2}))


class TestDiskFilter(FilterTestCase):
    filter_name = 'DiskFilter'

    def test_root_ephemeral_and_swap_count(self):
        self.add_host('c1', local_gb=10, local_gb_used=7)
        self.assertEqual(
            ['c1'],
            self.passing(flavor={'root_gb': 2, 'ephemeral_gb': 1, 'swap': 0}),
        )
        self.assertEqual(
            [],
            self.passing(flavor={'root_gb': 2, 'ephemeral_gb': 1, 'swap': 1}),
        )

    def test_disk_ratio(self):
        self.add_host('c1', local_gb=10, local_gb_used=10, disk_ratio=2.0)
        self.assertEqual(['c1'], self.passing(flavor={'root_gb': 10}))
        self.assertEqual([], self.passing(flavor={'root_gb': 11}))


class TestAvailabilityZoneFilter(FilterTestCase):
    filter_name = 'AvailabilityZoneFilter'

    def setUp(self):
        super().setUp()
        self.add_host('a1', zone='az1')
        self.add_host('a2', zone='az1')
        self.add_host('b1', zone='az2')

    def test_requested_zone_only(self):
        self.assertEqual(['a1', 'a2'], self.passing(availability_zone='az1'))
        self.assertEqual([], self.passing(availability_zone='az3'))

    def test_no_zone_means_any(self):
        self.assertEqual(['a1', 'a2', 'b1'], self.passing())


class TestFilterRegistry(base.SchedulerTestCase):
    def test_default_filters_load_in_order(self):
        loaded = filters.load_filters(
            self.conf.conf.filter_scheduler.enabled_filters
        )
        self.assertEqual(
            [
                'AvailabilityZoneFilter',
                'ComputeFilter',
                'RamFilter',
                'CoreFilter',
                'DiskFilter',
            ],
            [type(f).__name__ for f in loaded],
        )

    def test_unknown_name_fails_naming_it(self):
        exc = self.assertRaises(
            filters.FilterNotFound,
            filters.load_filters,
            ['ComputeFilter', 'RamFliter'],
        )
        self.assertIn('RamFliter', str(exc))
        self.assertIn('RamFilter', str(exc))  # the known ones are listed
