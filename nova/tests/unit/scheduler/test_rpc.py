"""select_destinations through RPC on the in-process transport."""

from nova import exception
from nova import rpc
from nova import service
from nova.scheduler import manager
from nova.scheduler import rpcapi
from nova.tests.unit.scheduler import base


class TestSchedulerRPC(base.SchedulerTestCase):
    def setUp(self):
        super().setUp()
        self.flags(transport_url='fake://')
        self.addCleanup(rpc.cleanup)
        server = service.Service(
            'nova-scheduler',
            'scheduler',
            manager.SchedulerManager(),
            host='sched1',
        )
        server.start()
        self.addCleanup(server.stop)
        self.api = rpcapi.SchedulerAPI()

    def test_hosts_come_back_as_dicts(self):
        node_id = self.add_host('c1', memory_mb=8192)
        self.add_host('c2', memory_mb=4096)
        destinations = self.api.select_destinations(
            self.context, base.request_spec()
        )
        self.assertEqual(
            {'host': 'c1', 'nodename': 'c1', 'compute_node_id': node_id},
            destinations[0],
        )
        self.assertEqual(['c1', 'c2'], [d['host'] for d in destinations])

    def test_no_valid_host_is_raised_on_the_caller(self):
        self.add_host('c1', disabled=True)
        exc = self.assertRaises(
            exception.NoValidHost,
            self.api.select_destinations,
            self.context,
            base.request_spec(),
        )
        self.assertIn('ComputeFilter removed the last 1 host(s)', str(exc))
