"""HostManager: host states from real compute_nodes and services rows."""

from nova.scheduler import host_manager
from nova.scheduler.request import ResourceRequest
from nova.tests.unit.scheduler import base

ONE = ResourceRequest(vcpus=1, memory_mb=512, disk_mb=1024)


class TestHostStates(base.SchedulerTestCase):
    def setUp(self):
        super().setUp()
        self.manager = host_manager.HostManager()

    def states(self):
        return {
            state.nodename: state
            for state in self.manager.get_all_host_states(self.context)
        }

    def test_capacity_and_usage_from_the_node_row(self):
        node_id = self.add_host(
            'c1',
            vcpus=8,
            vcpus_used=3,
            memory_mb=4096,
            memory_mb_used=1024,
            local_gb=40,
            local_gb_used=10,
            ram_ratio=1.5,
            zone='az1',
        )
        state = self.states()['c1']
        self.assertEqual(
            ('c1', 'c1', node_id),
            (state.host, state.nodename, state.compute_node_id),
        )
        self.assertEqual((8, 3), (state.vcpus_total, state.vcpus_used))
        self.assertEqual(
            (4096, 3072), (state.total_usable_ram_mb, state.free_ram_mb)
        )
        self.assertEqual(
            (40, 30 * 1024), (state.total_usable_disk_gb, state.free_disk_mb)
        )
        self.assertEqual(1.5, state.ram_allocation_ratio)
        self.assertEqual('az1', state.availability_zone)
        self.assertEqual('nova-compute', state.service['binary'])
        self.assertEqual(
            {'host': 'c1', 'nodename': 'c1', 'compute_node_id': node_id},
            state.to_destination(),
        )

    def test_zero_ratio_means_the_configured_default(self):
        self.flags(cpu_allocation_ratio=4.0)
        self.add_host('c1', cpu_ratio=0.0)
        self.assertEqual(4.0, self.states()['c1'].cpu_allocation_ratio)

    def test_deleted_nodes_are_left_out(self):
        self.add_host('c1')
        self.delete_node(self.add_host('c2'))
        self.assertEqual(['c1'], list(self.states()))

    def test_node_without_service_has_no_zone(self):
        self.add_host('c1', service=False)
        state = self.states()['c1']
        self.assertIsNone(state.service)
        self.assertIsNone(state.availability_zone)

    def test_consume_from_request(self):
        self.add_host('c1')
        state = self.states()['c1']
        state.consume_from_request(ONE)
        self.assertEqual(
            (1, 4096 - 512, 39 * 1024, 1),
            (
                state.vcpus_used,
                state.free_ram_mb,
                state.free_disk_mb,
                state.num_instances,
            ),
        )


class TestPendingSelections(base.SchedulerTestCase):
    """A selection counts until its claim shows in the database."""

    def setUp(self):
        super().setUp()
        self.manager = host_manager.HostManager()
        self.node_id = self.add_host('c1', memory_mb=4096)
        self.instance = self.add_building_instance()

    def free_ram(self):
        [state] = self.manager.get_all_host_states(self.context)
        return state.free_ram_mb

    def select(self):
        [state] = self.manager.get_all_host_states(self.context)
        self.manager.record_selection(self.instance, state, ONE)

    def test_selection_is_consumed_in_later_requests(self):
        self.select()
        self.assertEqual(4096 - 512, self.free_ram())
        self.assertEqual(4096 - 512, self.free_ram())

    def test_reselecting_an_instance_replaces_its_selection(self):
        self.select()
        self.select()
        self.assertEqual(4096 - 512, self.free_ram())

    def test_claim_row_ends_the_selection(self):
        self.select()
        self.add_claim(self.instance, self.node_id, 'c1')
        self.assertEqual(4096, self.free_ram())

    def test_build_moving_on_ends_the_selection(self):
        self.select()
        self.set_task_state(self.instance, 'networking')
        self.assertEqual(4096, self.free_ram())
        # Ended for good: going back to scheduling does not revive it.
        self.set_task_state(self.instance, 'scheduling')
        self.assertEqual(4096, self.free_ram())

    def test_unknown_instance_is_not_pending(self):
        [state] = self.manager.get_all_host_states(self.context)
        self.manager.record_selection('no-such-instance', state, ONE)
        self.assertEqual(4096, self.free_ram())
