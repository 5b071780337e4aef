"""RAMWeigher and the weighing of hosts."""

from nova.scheduler import host_manager
from nova.scheduler import weights
from nova.scheduler.weights import ram
from nova.tests.unit.scheduler import base


class TestRAMWeigher(base.SchedulerTestCase):
    def setUp(self):
        super().setUp()
        self.add_host('small', memory_mb=1024)
        self.add_host('large', memory_mb=8192)
        self.add_host('medium', memory_mb=4096)

    def weighed(self):
        states = host_manager.HostManager().get_all_host_states(self.context)
        return [
            (weight, state.host)
            for weight, state in weights.weigh_hosts(
                [ram.RAMWeigher()], states
            )
        ]

    def test_spreads_by_default(self):
        weighed = self.weighed()
        self.assertEqual(
            ['large', 'medium', 'small'], [host for _weight, host in weighed]
        )
        # Normalized over the candidates: best 1.0, worst 0.0.
        self.assertEqual(1.0, weighed[0][0])
        self.assertEqual(0.0, weighed[-1][0])

    def test_negative_multiplier_stacks(self):
        self.flags(group='filter_scheduler', ram_weight_multiplier=-2.0)
        weighed = self.weighed()
        self.assertEqual(
            ['small', 'medium', 'large'], [host for _weight, host in weighed]
        )
        self.assertEqual(-2.0, weighed[-1][0])

    def test_ties_are_ordered_by_host_name(self):
        self.flags(group='filter_scheduler', ram_weight_multiplier=0.0)
        self.assertEqual(
            ['large', 'medium', 'small'],
            [host for _weight, host in self.weighed()],
        )
