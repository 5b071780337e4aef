"""The compute RPC API end to end over the in-process transport."""

import os

from oslo_utils import uuidutils

from nova import exception
from nova import rpc
from nova import service
from nova.compute import manager as compute_manager
from nova.compute import rpcapi as compute_rpcapi
from nova.db import compute_nodes
from nova.tests.unit.compute import base
from nova.tests.unit.compute import test_manager
from nova.virt import fake
from nova.virt import power_state


class ComputeRPCAPITestCase(base.DBTestCase):
    def setUp(self):
        super().setUp()
        self.flags(transport_url=rpc.IN_PROCESS_URL)
        self.addCleanup(rpc.cleanup)
        for host in ('host1', 'host2'):
            server = service.Service(
                'nova-compute',
                'compute',
                compute_manager.ComputeManager(host, fake.FakeDriver(host)),
                host=host,
            )
            server.start()
            self.addCleanup(server.stop)
        self.api = compute_rpcapi.ComputeAPI()
        self.instance = {'uuid': uuidutils.generate_uuid()}
        self.path = fake.instance_path(self.instance['uuid'])
        self.workflow_id = test_manager.add_workflow(self.db.engine, 1)

    def test_services_report_their_nodes_at_start(self):
        self.assertEqual(
            ['host1', 'host2'],
            [node['host'] for node in compute_nodes.get_all(self.ctxt)],
        )

    def test_calls_reach_the_named_host(self):
        info = self.api.spawn(
            self.ctxt, 'host2', self.instance, [], {}, self.workflow_id, 1
        )
        self.assertEqual(
            ('host2', power_state.RUNNING), (info['host'], info['power_state'])
        )
        self.assertEqual(
            info, self.api.get_info(self.ctxt, 'host2', self.instance['uuid'])
        )
        self.assertEqual(
            power_state.SHUTDOWN,
            self.api.power_off(self.ctxt, 'host2', self.instance)[
                'power_state'
            ],
        )
        self.assertEqual(
            power_state.RUNNING,
            self.api.power_on(self.ctxt, 'host2', self.instance)[
                'power_state'
            ],
        )
        self.api.destroy(
            self.ctxt, 'host1', self.instance, self.workflow_id, 1
        )
        self.assertTrue(os.path.exists(self.path))
        self.api.destroy(
            self.ctxt, 'host2', self.instance, self.workflow_id, 1
        )
        self.assertFalse(os.path.exists(self.path))

    def test_block_devices_round_trip(self):
        bdms = [
            {
                'source_type': 'blank',
                'destination_type': 'local',
                'guest_format': 'swap',
                'volume_size': 64,
                'device_name': '/dev/vdb',
            }
        ]
        info = self.api.prepare_block_devices(
            self.ctxt, 'host1', self.instance, bdms, self.workflow_id, 1
        )
        self.assertEqual('/dev/vdb', info['swap']['device_name'])
        self.api.cleanup_block_devices(
            self.ctxt, 'host1', self.instance, bdms, self.workflow_id, 1
        )
        self.assertFalse(os.path.exists(self.path))

    def test_exceptions_are_reraised_as_nova_exceptions(self):
        test_manager.set_generation(self.db.engine, self.workflow_id, 2)
        self.assertRaises(
            exception.StaleWorkflowGeneration,
            self.api.spawn,
            self.ctxt,
            'host1',
            self.instance,
            [],
            {},
            self.workflow_id,
            1,
        )
        self.flags(group='fake_driver', spawn_failure_hosts=['host1'])
        self.assertRaises(
            exception.InstanceDeployFailure,
            self.api.spawn,
            self.ctxt,
            'host1',
            self.instance,
            [],
            {},
            self.workflow_id,
            2,
        )
        self.assertRaises(
            exception.InstanceNotFound,
            self.api.get_info,
            self.ctxt,
            'host1',
            self.instance['uuid'],
        )
        self.assertFalse(os.path.exists(self.path))

    def test_can_send_version(self):
        self.assertTrue(self.api.can_send_version('1.0'))
        self.assertTrue(self.api.can_send_version('1.1'))
        self.assertTrue(self.api.can_send_version('1.2'))
        self.assertFalse(self.api.can_send_version('1.3'))

    def test_power_action_reaches_the_named_host(self):
        self.api.spawn(
            self.ctxt, 'host1', self.instance, [], {}, self.workflow_id, 1
        )
        info = self.api.power_action(
            self.ctxt, 'host1', self.instance, 'pause', self.workflow_id, 1
        )
        self.assertEqual(
            ('host1', power_state.PAUSED), (info['host'], info['power_state'])
        )
        # A stale caller is refused with the same exception class.
        test_manager.set_generation(self.db.engine, self.workflow_id, 2)
        self.assertRaises(
            exception.StaleWorkflowGeneration,
            self.api.power_action,
            self.ctxt,
            'host1',
            self.instance,
            'unpause',
            self.workflow_id,
            1,
        )
