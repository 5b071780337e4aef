"""Fixed IP allocation (nova.network.api) on the seeded default network."""

from oslo_utils import uuidutils
import sqlalchemy as sa
import testtools

from nova import context as nova_context
from nova import exception
from nova.db import models
from nova.network import api as network_api
from nova.tests.unit.compute import base


def _new_network(engine, label, addresses):
    """A network whose free addresses are exactly ``addresses``."""
    networks = models.Network.__table__
    with engine.begin() as conn:
        network_id = conn.execute(
            networks.insert().values(
                uuid=uuidutils.generate_uuid(),
                label=label,
                cidr='192.168.7.0/24',
                deleted=0,
            )
        ).inserted_primary_key[0]
        conn.execute(
            models.FixedIp.__table__.insert(),
            [
                {
                    'network_id': network_id,
                    'address': address,
                    'mac_address': 'fa:16:3e:00:07:%02x' % index,
                    'allocated': False,
                    'reserved': False,
                }
                for index, address in enumerate(addresses)
            ],
        )
        return conn.execute(
            sa.select(networks.c.uuid).where(networks.c.id == network_id)
        ).scalar()


class NetworkAPITestCase(base.DBTestCase):
    def setUp(self):
        super().setUp()
        self.uuid = uuidutils.generate_uuid()
        self.default = network_api.get_default_network(self.ctxt)

    def test_default_network_allocation(self):
        info = network_api.allocate_for_instance(
            self.ctxt, self.uuid, None, workflow_id='wf'
        )
        self.assertEqual(1, len(info))
        vif = info[0]
        self.assertEqual(
            (
                'private',
                self.default['uuid'],
                '10.0.0.2',
                'fa:16:3e:00:00:02',
                4,
            ),
            (
                vif['label'],
                vif['network_uuid'],
                vif['address'],
                vif['mac_address'],
                vif['version'],
            ),
        )
        self.assertEqual(
            {self.uuid: info},
            network_api.get_network_info(self.ctxt, [self.uuid]),
        )

    def test_auto_is_the_default_network(self):
        info = network_api.allocate_for_instance(self.ctxt, self.uuid, 'auto')
        self.assertEqual(self.default['uuid'], info[0]['network_uuid'])

    def test_none_allocates_nothing(self):
        self.assertEqual(
            [], network_api.allocate_for_instance(self.ctxt, self.uuid, 'none')
        )
        self.assertEqual(
            {self.uuid: []},
            network_api.get_network_info(self.ctxt, [self.uuid]),
        )

    def test_allocation_is_idempotent(self):
        first = network_api.allocate_for_instance(self.ctxt, self.uuid, None)
        again = network_api.allocate_for_instance(self.ctxt, self.uuid, None)
        self.assertEqual(first, again)
        self.assertEqual(
            1,
            len(
                network_api.get_network_info(self.ctxt, [self.uuid])[self.uuid]
            ),
        )

    def test_requested_fixed_ip(self):
        info = network_api.allocate_for_instance(
            self.ctxt,
            self.uuid,
            [{'uuid': self.default['uuid'], 'fixed_ip': '10.0.0.50'}],
        )
        self.assertEqual('10.0.0.50', info[0]['address'])
        self.assertRaises(
            exception.FixedIpNotAvailable,
            network_api.allocate_for_instance,
            self.ctxt,
            uuidutils.generate_uuid(),
            [{'uuid': self.default['uuid'], 'fixed_ip': '10.0.0.50'}],
        )

    def test_reserved_and_foreign_addresses_are_refused(self):
        for address in ('10.0.0.1', '10.0.0.255', '10.9.9.9', 'nonsense'):
            self.assertRaises(
                exception.FixedIpNotAvailable,
                network_api.allocate_for_instance,
                self.ctxt,
                self.uuid,
                [{'uuid': self.default['uuid'], 'fixed_ip': address}],
            )
        self.assertEqual(
            [], network_api.get_network_info(self.ctxt, [self.uuid])[self.uuid]
        )

    def test_unknown_network(self):
        self.assertRaises(
            exception.NetworkNotFound,
            network_api.allocate_for_instance,
            self.ctxt,
            self.uuid,
            [{'uuid': uuidutils.generate_uuid()}],
        )

    def test_exhausted_network_rolls_back_this_call(self):
        small = _new_network(self.db.engine, 'small', ['192.168.7.2'])
        network_api.allocate_for_instance(
            self.ctxt, uuidutils.generate_uuid(), [{'uuid': small}]
        )
        self.assertRaises(
            exception.FixedIpNotAvailable,
            network_api.allocate_for_instance,
            self.ctxt,
            self.uuid,
            [{'uuid': self.default['uuid']}, {'uuid': small}],
        )
        self.assertEqual(
            [], network_api.get_network_info(self.ctxt, [self.uuid])[self.uuid]
        )

    def test_two_networks(self):
        other = _new_network(self.db.engine, 'other', ['192.168.7.2'])
        info = network_api.allocate_for_instance(
            self.ctxt,
            self.uuid,
            [{'uuid': self.default['uuid']}, {'uuid': other}],
        )
        self.assertEqual(['private', 'other'], [v['label'] for v in info])
        self.assertEqual('fa:16:3e:00:07:00', info[1]['mac_address'])

    def test_deallocate_is_idempotent_and_frees_the_address(self):
        info = network_api.allocate_for_instance(self.ctxt, self.uuid, None)
        network_api.deallocate_for_instance(self.ctxt, self.uuid)
        network_api.deallocate_for_instance(self.ctxt, self.uuid)
        self.assertEqual(
            {self.uuid: []},
            network_api.get_network_info(self.ctxt, [self.uuid]),
        )
        again = network_api.allocate_for_instance(
            self.ctxt, uuidutils.generate_uuid(), None
        )
        self.assertEqual(info[0]['address'], again[0]['address'])

    def test_get_networks(self):
        self.assertEqual([self.default], network_api.get_networks(self.ctxt))
        self.assertEqual(
            self.default,
            network_api.get_network(self.ctxt, self.default['uuid']),
        )
        self.assertRaises(
            exception.NetworkNotFound,
            network_api.get_network,
            self.ctxt,
            'missing',
        )


class ConcurrentAllocationMixin:
    """20 instances race for a network with 10 free addresses."""

    def test_twenty_allocations_for_ten_addresses(self):
        addresses = ['192.168.7.%d' % i for i in range(2, 12)]
        net = _new_network(self.db.engine, 'ten', addresses)
        uuids = [uuidutils.generate_uuid() for _ in range(20)]

        def allocate(index):
            return network_api.allocate_for_instance(
                nova_context.get_admin_context(), uuids[index], [{'uuid': net}]
            )

        won, errors = base.run_concurrently(20, allocate)
        self.assertEqual(10, len(won), errors)
        for error in errors:
            self.assertIsInstance(error, exception.FixedIpNotAvailable)
        self.assertEqual(
            sorted(addresses), sorted(info[0]['address'] for info in won)
        )
        by_instance = network_api.get_network_info(self.ctxt, uuids)
        self.assertEqual(10, sum(len(v) for v in by_instance.values()))


class ConcurrentAllocationSQLite(
    ConcurrentAllocationMixin, base.DBTestCase, testtools.TestCase
):
    backend = 'sqlite'


class ConcurrentAllocationMySQL(
    ConcurrentAllocationMixin, base.DBTestCase, testtools.TestCase
):
    backend = 'mysql'


class ConcurrentAllocationPostgreSQL(
    ConcurrentAllocationMixin, base.DBTestCase, testtools.TestCase
):
    backend = 'postgresql'
