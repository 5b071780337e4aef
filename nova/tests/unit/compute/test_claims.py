"""Atomic claims on compute nodes (nova.compute.claims), on every DB."""

from oslo_utils import uuidutils
import testtools

from nova import context as nova_context
from nova import exception
from nova.compute import claims
from nova.db import compute_nodes
from nova.tests.unit.compute import base


class ClaimsTestCase(base.DBTestCase):
    def setUp(self):
        super().setUp()
        self.node = self.create_node(vcpus=4, memory_mb=4096, local_gb=40)
        self.uuid = uuidutils.generate_uuid()

    def _usage(self):
        node = compute_nodes.get(self.ctxt, self.node['id'])
        return (
            node['vcpus_used'],
            node['memory_mb_used'],
            node['local_gb_used'],
            node['running_vms'],
        )

    def test_claim_records_row_and_usage(self):
        claim = claims.claim(
            self.ctxt,
            self.uuid,
            'host1',
            'host1',
            2,
            1024,
            10,
            workflow_id='wf',
        )
        self.assertEqual(
            (self.uuid, self.node['id'], 'host1', 'wf'),
            (
                claim['instance_uuid'],
                claim['compute_node_id'],
                claim['host'],
                claim['workflow_id'],
            ),
        )
        self.assertEqual((2, 1024, 10, 1), self._usage())
        self.assertEqual([claim], claims.get_claims(self.ctxt, self.uuid))

    def test_claim_is_idempotent_per_instance_and_node(self):
        first = claims.claim(
            self.ctxt, self.uuid, 'host1', 'host1', 2, 1024, 10
        )
        again = claims.claim(
            self.ctxt, self.uuid, 'host1', 'host1', 2, 1024, 10
        )
        self.assertEqual(first, again)
        self.assertEqual((2, 1024, 10, 1), self._usage())

    def test_claim_that_does_not_fit_changes_nothing(self):
        claims.claim(self.ctxt, self.uuid, 'host1', 'host1', 3, 1024, 10)
        for amounts in ((2, 1, 1), (1, 4000, 1), (1, 1, 31)):
            self.assertRaises(
                exception.ComputeResourcesUnavailable,
                claims.claim,
                self.ctxt,
                uuidutils.generate_uuid(),
                'host1',
                'host1',
                *amounts,
            )
        self.assertEqual((3, 1024, 10, 1), self._usage())
        self.assertEqual(1, len(claims.get_claims(self.ctxt)))

    def test_allocation_ratios_allow_overcommit(self):
        self.create_node(
            vcpus=4, memory_mb=4096, local_gb=40, cpu=2.0, ram=1.5
        )
        claims.claim(self.ctxt, self.uuid, 'host1', 'host1', 8, 6144, 40)
        self.assertRaises(
            exception.ComputeResourcesUnavailable,
            claims.claim,
            self.ctxt,
            uuidutils.generate_uuid(),
            'host1',
            'host1',
            1,
            0,
            0,
        )

    def test_claim_on_unknown_host(self):
        self.assertRaises(
            exception.ComputeResourcesUnavailable,
            claims.claim,
            self.ctxt,
            self.uuid,
            'nohost',
            'nohost',
            1,
            1,
            1,
        )

    def test_release_is_idempotent(self):
        claims.claim(self.ctxt, self.uuid, 'host1', 'host1', 2, 1024, 10)
        claims.release(self.ctxt, self.uuid)
        claims.release(self.ctxt, self.uuid)
        self.assertEqual((0, 0, 0, 0), self._usage())
        self.assertEqual([], claims.get_claims(self.ctxt, self.uuid))

    def test_release_only_on_given_host(self):
        self.create_node(host='host2')
        claims.claim(self.ctxt, self.uuid, 'host1', 'host1', 1, 1, 1)
        claims.claim(self.ctxt, self.uuid, 'host2', 'host2', 1, 1, 1)
        claims.release(self.ctxt, self.uuid, host='host1')
        self.assertEqual(
            ['host2'],
            [c['host'] for c in claims.get_claims(self.ctxt, self.uuid)],
        )
        self.assertEqual((0, 0, 0, 0), self._usage())

    def test_capacity_report_keeps_usage(self):
        claims.claim(self.ctxt, self.uuid, 'host1', 'host1', 2, 1024, 10)
        node = self.create_node(vcpus=16, memory_mb=1, local_gb=1)
        self.assertEqual(
            (16, 2, 1024, 10, 1),
            (
                node['vcpus'],
                node['vcpus_used'],
                node['memory_mb_used'],
                node['local_gb_used'],
                node['running_vms'],
            ),
        )


class ConcurrentClaimsMixin:
    """20 builds race for a node with room for 10: exactly 10 win."""

    def test_twenty_claims_for_ten_slots(self):
        node = self.create_node(vcpus=10, memory_mb=100000, local_gb=1000)
        uuids = [uuidutils.generate_uuid() for _ in range(20)]

        def claim(index):
            return claims.claim(
                nova_context.get_admin_context(),
                uuids[index],
                'host1',
                'host1',
                1,
                512,
                1,
            )

        won, errors = base.run_concurrently(20, claim)
        self.assertEqual(10, len(won), errors)
        self.assertEqual(10, len(errors))
        for error in errors:
            self.assertIsInstance(error, exception.ComputeResourcesUnavailable)
        node = compute_nodes.get(self.ctxt, node['id'])
        self.assertEqual(
            (10, 5120, 10, 10),
            (
                node['vcpus_used'],
                node['memory_mb_used'],
                node['local_gb_used'],
                node['running_vms'],
            ),
        )
        self.assertEqual(10, len(claims.get_claims(self.ctxt)))

    def test_concurrent_claims_and_releases_stay_consistent(self):
        node = self.create_node(vcpus=10, memory_mb=100000, local_gb=1000)
        uuids = [uuidutils.generate_uuid() for _ in range(10)]
        for uuid in uuids[:5]:
            claims.claim(self.ctxt, uuid, 'host1', 'host1', 1, 1, 1)

        def churn(index):
            ctxt = nova_context.get_admin_context()
            if index < 5:
                claims.release(ctxt, uuids[index])
                claims.release(ctxt, uuids[index])
            else:
                claims.claim(ctxt, uuids[index], 'host1', 'host1', 1, 1, 1)
                claims.claim(ctxt, uuids[index], 'host1', 'host1', 1, 1, 1)

        won, errors = base.run_concurrently(10, churn)
        self.assertEqual([], errors)
        node = compute_nodes.get(self.ctxt, node['id'])
        self.assertEqual(
            (5, 5, 5, 5),
            (
                node['vcpus_used'],
                node['memory_mb_used'],
                node['local_gb_used'],
                node['running_vms'],
            ),
        )
        self.assertEqual(
            sorted(uuids[5:]),
            sorted(c['instance_uuid'] for c in claims.get_claims(self.ctxt)),
        )


class ConcurrentClaimsSQLite(
    ConcurrentClaimsMixin, base.DBTestCase, testtools.TestCase
):
    backend = 'sqlite'


class ConcurrentClaimsMySQL(
    ConcurrentClaimsMixin, base.DBTestCase, testtools.TestCase
):
    backend = 'mysql'


class ConcurrentClaimsPostgreSQL(
    ConcurrentClaimsMixin, base.DBTestCase, testtools.TestCase
):
    backend = 'postgresql'
