"""The fake hypervisor's observable side effects (files on disk)."""

import os
import threading
import time

from oslo_utils import uuidutils

from nova import exception
from nova import test
from nova.virt import fake
from nova.virt import power_state


def _instance(**kw):
    values = {
        'uuid': uuidutils.generate_uuid(),
        'image_ref': 'img',
        'flavor': {'root_gb': 1},
    }
    values.update(kw)
    return values


class FakeDriverTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.driver = fake.FakeDriver('host1')
        self.instance = _instance()
        self.path = os.path.join(
            self.state_path, 'instances', self.instance['uuid']
        )

    def _console_lines(self):
        with open(os.path.join(self.path, 'console.log')) as f:
            return f.read().splitlines()

    def test_spawn_creates_disk_and_one_console_line(self):
        info = self.driver.spawn(
            self.instance, network_info=[{'address': '10.0.0.2'}]
        )
        self.assertTrue(os.path.isfile(os.path.join(self.path, 'disk')))
        lines = self._console_lines()
        self.assertEqual(1, len(lines))
        self.assertIn('10.0.0.2', lines[0])
        self.assertEqual(power_state.RUNNING, info['power_state'])
        self.assertEqual('host1', info['host'])

    def test_spawn_twice_boots_once(self):
        self.driver.spawn(self.instance)
        self.driver.spawn(self.instance)
        self.assertEqual(1, len(self._console_lines()))

    def test_spawn_after_restart_boots_once(self):
        self.driver.spawn(self.instance)
        restarted = fake.FakeDriver('host1')
        self.assertEqual([self.instance['uuid']], restarted.list_instances())
        restarted.spawn(self.instance)
        self.assertEqual(1, len(self._console_lines()))

    def test_spawn_completes_boot_interrupted_before_console_line(self):
        self.driver.spawn(self.instance)
        os.remove(os.path.join(self.path, 'console.log'))
        self.driver.spawn(self.instance)
        self.assertEqual(1, len(self._console_lines()))

    def test_concurrent_spawns_boot_once(self):
        threads = [
            threading.Thread(target=self.driver.spawn, args=(self.instance,))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
            self.assertFalse(thread.is_alive(), 'spawn deadlocked')
        self.assertEqual(1, len(self._console_lines()))

    def test_destroy_removes_directory_and_is_idempotent(self):
        self.driver.spawn(self.instance)
        self.driver.destroy(self.instance)
        self.assertFalse(os.path.exists(self.path))
        self.driver.destroy(self.instance)
        self.assertEqual([], self.driver.list_instances())

    def test_destroy_on_another_host_leaves_directory(self):
        self.driver.spawn(self.instance)
        fake.FakeDriver('host2').destroy(self.instance)
        self.assertTrue(os.path.isfile(os.path.join(self.path, 'disk')))

    def test_spawn_refuses_directory_of_another_host(self):
        self.driver.spawn(self.instance)
        other = fake.FakeDriver('host2')
        self.assertRaises(
            exception.InstanceDeployFailure, other.spawn, self.instance
        )
        self.assertEqual(1, len(self._console_lines()))

    def test_hosts_list_only_their_instances(self):
        other = fake.FakeDriver('host2')
        second = _instance()
        self.driver.spawn(self.instance)
        other.spawn(second)
        self.assertEqual([self.instance['uuid']], self.driver.list_instances())
        self.assertEqual([second['uuid']], other.list_instances())
        self.assertRaises(
            exception.InstanceNotFound, other.get_info, self.instance['uuid']
        )

    def test_spawn_failure_host_creates_nothing(self):
        self.flags(group='fake_driver', spawn_failure_hosts=['host1'])
        self.assertRaises(
            exception.InstanceDeployFailure, self.driver.spawn, self.instance
        )
        self.assertFalse(os.path.exists(self.path))
        fake.FakeDriver('host2').spawn(self.instance)
        self.assertEqual(1, len(self._console_lines()))

    def test_spawn_delay_is_interrupted_by_cleanup_host(self):
        self.flags(group='fake_driver', spawn_delay=30)
        errors = []

        def spawn():
            try:
                self.driver.spawn(self.instance)
            except exception.InstanceDeployFailure as exc:
                errors.append(exc)

        thread = threading.Thread(target=spawn)
        started = time.monotonic()
        thread.start()
        time.sleep(0.1)
        self.driver.cleanup_host()
        thread.join(5)
        self.assertFalse(thread.is_alive())
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(1, len(errors))
        self.assertFalse(os.path.exists(self.path))

    def test_spawn_delay_is_interrupted_by_its_caller(self):
        self.flags(group='fake_driver', spawn_delay=30)
        interrupt = threading.Event()
        errors = []

        def spawn():
            try:
                self.driver.spawn(self.instance, interrupt=interrupt)
            except exception.InstanceDeployFailure as exc:
                errors.append(exc)

        thread = threading.Thread(target=spawn)
        started = time.monotonic()
        thread.start()
        time.sleep(0.1)
        interrupt.set()
        thread.join(5)
        self.assertFalse(thread.is_alive())
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(1, len(errors))
        self.assertIn('interrupted', str(errors[0]))
        self.assertFalse(os.path.exists(self.path))
        # Another spawn, not interrupted, boots.
        self.flags(group='fake_driver', spawn_delay=0)
        self.driver.spawn(self.instance, interrupt=threading.Event())
        self.assertEqual(1, len(self._console_lines()))

    def test_spawn_delay_delays(self):
        self.flags(group='fake_driver', spawn_delay=0.2)
        started = time.monotonic()
        self.driver.spawn(self.instance)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)

    def test_power_off_and_on(self):
        self.driver.spawn(self.instance)
        info = self.driver.power_off(self.instance)
        self.assertEqual(power_state.SHUTDOWN, info['power_state'])
        self.assertEqual(
            power_state.SHUTDOWN,
            fake.FakeDriver('host1').get_info(self.instance['uuid'])[
                'power_state'
            ],
        )
        info = self.driver.power_on(self.instance)
        self.assertEqual(power_state.RUNNING, info['power_state'])
        self.assertEqual(2, len(self._console_lines()))
        self.driver.power_on(self.instance)
        self.assertEqual(2, len(self._console_lines()))

    def test_power_off_unknown_instance(self):
        self.assertRaises(
            exception.InstanceNotFound, self.driver.power_off, self.instance
        )

    def test_block_devices_prepared_and_cleaned(self):
        bdms = [
            {
                'boot_index': 0,
                'device_name': '/dev/vda',
                'source_type': 'image',
                'destination_type': 'local',
            },
            {
                'boot_index': -1,
                'device_name': '/dev/vdb',
                'source_type': 'blank',
                'destination_type': 'local',
                'volume_size': 1,
            },
            {
                'boot_index': -1,
                'device_name': '/dev/vdc',
                'source_type': 'blank',
                'destination_type': 'local',
                'guest_format': 'swap',
                'volume_size': 512,
            },
        ]
        info = self.driver.prepare_block_devices(self.instance, bdms)
        self.assertEqual('/dev/vda', info['root_device_name'])
        self.assertEqual('/dev/vdb', info['ephemerals'][0]['device_name'])
        self.assertEqual(512, info['swap']['swap_size'])
        self.assertEqual(
            ['disk.eph0', 'disk.swap', 'host'], sorted(os.listdir(self.path))
        )
        self.assertEqual(
            info, self.driver.prepare_block_devices(self.instance, bdms)
        )
        self.driver.cleanup_block_devices(self.instance, bdms)
        self.assertFalse(os.path.exists(self.path))
        self.driver.cleanup_block_devices(self.instance, bdms)

    def test_cleanup_block_devices_keeps_spawned_instance(self):
        bdms = [
            {
                'source_type': 'blank',
                'destination_type': 'local',
                'volume_size': 1,
            }
        ]
        self.driver.prepare_block_devices(self.instance, bdms)
        self.driver.spawn(self.instance)
        self.driver.cleanup_block_devices(self.instance, bdms)
        self.assertEqual(
            ['console.log', 'disk', 'host', 'power_state'],
            sorted(os.listdir(self.path)),
        )

    def test_root_only_mappings_create_no_directory(self):
        self.driver.prepare_block_devices(
            self.instance,
            [
                {
                    'boot_index': 0,
                    'source_type': 'image',
                    'destination_type': 'local',
                }
            ],
        )
        self.assertFalse(os.path.exists(self.path))

    def test_available_resource_from_options(self):
        self.flags(group='fake_driver', vcpus=2, memory_mb=1024, local_gb=7)
        resources = self.driver.get_available_resource()
        self.assertEqual(
            (2, 1024, 7, 'host1', 'fake'),
            (
                resources['vcpus'],
                resources['memory_mb'],
                resources['local_gb'],
                resources['hypervisor_hostname'],
                resources['hypervisor_type'],
            ),
        )
