"""nova.db.compute_nodes: capacity reports and lookups."""

from nova import exception
from nova.db import compute_nodes
from nova.tests.unit.compute import base


class ComputeNodesTestCase(base.DBTestCase):
    def test_first_report_creates_the_node(self):
        node = self.create_node(vcpus=2, memory_mb=1024, local_gb=10)
        self.assertEqual(
            ('host1', 'host1', 2, 1024, 10, 0, 0, 0, 0, 1024, 10),
            (
                node['host'],
                node['hypervisor_hostname'],
                node['vcpus'],
                node['memory_mb'],
                node['local_gb'],
                node['vcpus_used'],
                node['memory_mb_used'],
                node['local_gb_used'],
                node['running_vms'],
                node['free_ram_mb'],
                node['free_disk_gb'],
            ),
        )
        self.assertEqual(node, compute_nodes.get(self.ctxt, node['id']))

    def test_reports_update_one_row(self):
        self.create_node(vcpus=2)
        node = self.create_node(vcpus=6, cpu=3.0)
        self.assertEqual(
            (6, 3.0), (node['vcpus'], node['cpu_allocation_ratio'])
        )
        self.assertEqual([node], compute_nodes.get_all(self.ctxt))

    def test_lookups(self):
        first = self.create_node(host='host1')
        second = self.create_node(host='host2')
        self.assertEqual(second, compute_nodes.get_by_host(self.ctxt, 'host2'))
        self.assertEqual(
            first,
            compute_nodes.get_by_host(self.ctxt, 'host1', nodename='host1'),
        )
        self.assertEqual([first, second], compute_nodes.get_all(self.ctxt))
        self.assertRaises(
            exception.ComputeHostNotFound,
            compute_nodes.get_by_host,
            self.ctxt,
            'host3',
        )
        self.assertRaises(
            exception.ComputeHostNotFound, compute_nodes.get, self.ctxt, 999
        )
