"""nova.db.block_device: default mappings of a boot from image."""

from oslo_utils import uuidutils

from nova.db import block_device
from nova.tests.unit.compute import base

FLAVOR = {'root_gb': 10, 'ephemeral_gb': 5, 'swap': 512}


class BlockDeviceTestCase(base.DBTestCase):
    def setUp(self):
        super().setUp()
        self.uuid = uuidutils.generate_uuid()

    def test_root_ephemeral_and_swap(self):
        bdms = block_device.create_defaults_for_instance(
            self.ctxt, {'uuid': self.uuid}, FLAVOR, {'id': 'img'}
        )
        self.assertEqual(
            [
                ('/dev/vda', 'image', 0, 10, None, 'img'),
                ('/dev/vdb', 'blank', -1, 5, None, None),
                ('/dev/vdc', 'blank', -1, 512, 'swap', None),
            ],
            [
                (
                    b['device_name'],
                    b['source_type'],
                    b['boot_index'],
                    b['volume_size'],
                    b['guest_format'],
                    b['image_id'],
                )
                for b in bdms
            ],
        )
        self.assertEqual(
            bdms, block_device.get_by_instance(self.ctxt, self.uuid)
        )

    def test_root_only_flavor(self):
        bdms = block_device.create_defaults_for_instance(
            self.ctxt, self.uuid, {'root_gb': 1}, 'img'
        )
        self.assertEqual(['/dev/vda'], [b['device_name'] for b in bdms])

    def test_create_is_idempotent(self):
        first = block_device.create_defaults_for_instance(
            self.ctxt, self.uuid, FLAVOR, 'img'
        )
        again = block_device.create_defaults_for_instance(
            self.ctxt, self.uuid, FLAVOR, 'img'
        )
        self.assertEqual(first, again)

    def test_destroy_is_idempotent_and_allows_recreate(self):
        first = block_device.create_defaults_for_instance(
            self.ctxt, self.uuid, FLAVOR, 'img'
        )
        self.assertEqual(
            3, block_device.destroy_by_instance(self.ctxt, self.uuid)
        )
        self.assertEqual(
            0, block_device.destroy_by_instance(self.ctxt, self.uuid)
        )
        self.assertEqual(
            [], block_device.get_by_instance(self.ctxt, self.uuid)
        )
        again = block_device.create_defaults_for_instance(
            self.ctxt, self.uuid, FLAVOR, 'img'
        )
        self.assertEqual(3, len(again))
        self.assertFalse(
            {b['uuid'] for b in first} & {b['uuid'] for b in again}
        )
