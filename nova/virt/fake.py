"""The fake hypervisor: nova-all's and the tests' driver.

Its side effects are files, so tests and users can see them and they
survive a restart of the process:

``<state_path>/instances/<uuid>/``
    ``host``         the host that owns the directory (written first, with
                     O_EXCL, so two hosts never share one instance)
    ``disk``         the root disk; its presence means "spawned"
    ``console.log``  one line per boot
    ``power_state``  the power state (an int of :mod:`nova.virt.power_state`)
    ``disk.eph0``, ``disk.swap``  local disks of prepare_block_devices

Several FakeDrivers (one per host) share one process and one state_path
in nova-all; each acts only on directories its host owns, so a destroy
sent to the wrong host removes nothing.
"""

import os
import shutil
import threading
import time

from oslo_log import log as logging
from oslo_utils import timeutils

from nova import exception
import nova.conf
from nova.virt import driver
from nova.virt import power_state

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

OWNER_FILE = 'host'
DISK_FILE = 'disk'
CONSOLE_FILE = 'console.log'
POWER_FILE = 'power_state'
SWAP_FILE = 'disk.swap'
EPHEMERAL_PREFIX = 'disk.eph'

#: Seconds between two looks at a caller's interrupt during spawn_delay.
_INTERRUPT_POLL = 0.02

_locks_guard = threading.Lock()
_locks = {}


def _instance_lock(uuid):
    """One lock per instance uuid, shared by every FakeDriver of the
    process (they share the instance directories). Reentrant: a spawn
    holding it may complete an interrupted boot."""
    with _locks_guard:
        return _locks.setdefault(uuid, threading.RLock())


def instances_path():
    """``<state_path>/instances``, where the fake keeps its instances."""
    return os.path.join(CONF.state_path, 'instances')


def instance_path(uuid):
    """The directory of one instance."""
    return os.path.join(instances_path(), uuid)


class FakeDriver(driver.ComputeDriver):
    """A hypervisor whose instances are directories of files."""

    hypervisor_type = 'fake'
    hypervisor_version = 1000

    def __init__(self, host):
        super().__init__(host)
        self._stopping = threading.Event()

    def cleanup_host(self):
        """Interrupt spawns waiting out ``[fake_driver] spawn_delay``."""
        self._stopping.set()

    def _wait_spawn_delay(self, uuid, interrupt):
        """Take ``[fake_driver] spawn_delay`` seconds, as a boot would;
        give up at once when the host stops or the caller interrupts.

        :raises InstanceDeployFailure: the spawn was given up.
        """
        deadline = time.monotonic() + CONF.fake_driver.spawn_delay
        while True:
            if self._stopping.is_set():
                raise exception.InstanceDeployFailure(
                    reason='host %s is stopping' % self.host
                )
            if interrupt is not None and interrupt.is_set():
                raise exception.InstanceDeployFailure(
                    reason='spawn of %s on %s interrupted' % (uuid, self.host)
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if interrupt is None:
                self._stopping.wait(remaining)
            else:
                interrupt.wait(min(remaining, _INTERRUPT_POLL))

    # -- ownership of instance directories -----------------------------

    def _owner(self, uuid):
        try:
            with open(os.path.join(instance_path(uuid), OWNER_FILE)) as f:
                return f.read().strip() or None
        except FileNotFoundError:
            return None

    def _owned(self, uuid):
        return self._owner(uuid) == self.host

    def _take_directory(self, uuid):
        """Create the instance directory for this host, or refuse when
        another host owns it (its disks are not ours to overwrite)."""
        path = instance_path(uuid)
        os.makedirs(path, exist_ok=True)
        try:
            fd = os.open(
                os.path.join(path, OWNER_FILE),
                os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                0o644,
            )
        except FileExistsError:
            owner = self._owner(uuid)
            if owner != self.host:
                raise exception.InstanceDeployFailure(
                    reason='instance %s already has a directory on host %s;'
                    ' destroy it there first' % (uuid, owner)
                )
            return path
        with os.fdopen(fd, 'w') as f:
            f.write(self.host + '\n')
        return path

    def _spawned(self, uuid):
        return self._owned(uuid) and os.path.exists(
            os.path.join(instance_path(uuid), DISK_FILE)
        )

    # -- boot and delete -----------------------------------------------

    def spawn(
        self,
        instance,
        network_info=None,
        block_device_info=None,
        admin_password=None,
        interrupt=None,
    ):
        """Boot once per uuid: disk, power state, one console line.

        A repeated spawn (a step re-executed after a crash) returns the
        running instance's info and writes nothing. ``spawn_delay`` is
        cut short by ``interrupt`` (InstanceDeployFailure, nothing
        written) or by :meth:`cleanup_host`.
        """
        uuid = instance['uuid']
        if self._spawned(uuid):
            return self._complete_boot(uuid)
        if self.host in CONF.fake_driver.spawn_failure_hosts:
            raise exception.InstanceDeployFailure(
                reason='fake spawn failure injected on host %s '
                '([fake_driver] spawn_failure_hosts)' % self.host
            )
        if CONF.fake_driver.spawn_delay:
            self._wait_spawn_delay(uuid, interrupt)
        with _instance_lock(uuid):
            if self._spawned(uuid):
                return self._complete_boot(uuid)
            path = self._take_directory(uuid)
            self._write_power_state(uuid, power_state.RUNNING)
            flavor = instance.get('flavor') or {}
            tmp = os.path.join(path, DISK_FILE + '.part')
            with open(tmp, 'w') as f:
                f.write(
                    'fake root disk of %s: image %s, %s GiB\n'
                    % (
                        uuid,
                        instance.get('image_ref'),
                        flavor.get('root_gb', 0),
                    )
                )
            # The rename is the commit point of the boot: "spawned" is
            # the presence of the disk, never half of it.
            os.replace(tmp, os.path.join(path, DISK_FILE))
            self._append_console(uuid, network_info)
        LOG.info('Spawned instance %s on %s', uuid, self.host)
        return self.get_info(uuid)

    def _complete_boot(self, uuid):
        """Finish a boot interrupted between the disk and its console
        line (a crash), without ever writing a second line."""
        with _instance_lock(uuid):
            if not os.path.exists(
                os.path.join(instance_path(uuid), CONSOLE_FILE)
            ):
                self._append_console(uuid)
        return self.get_info(uuid)

    def _append_console(self, uuid, network_info=None):
        addresses = ','.join(
            vif.get('address', '') for vif in network_info or []
        )
        with open(os.path.join(instance_path(uuid), CONSOLE_FILE), 'a') as f:
            f.write(
                '%s boot %s on %s addresses=%s\n'
                % (timeutils.utcnow().isoformat(), uuid, self.host, addresses)
            )

    def destroy(self, instance, network_info=None, block_device_info=None):
        """Remove the instance directory if this host owns it."""
        uuid = instance['uuid']
        path = instance_path(uuid)
        with _instance_lock(uuid):
            owner = self._owner(uuid)
            if owner not in (None, self.host):
                LOG.warning(
                    'Not destroying instance %s on %s: its directory'
                    ' belongs to host %s',
                    uuid,
                    self.host,
                    owner,
                )
                return
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
                LOG.info('Destroyed instance %s on %s', uuid, self.host)

    # -- local disks ---------------------------------------------------

    def prepare_block_devices(self, instance, block_device_mappings):
        """Create the ephemeral and swap files; the root disk comes with
        spawn. Returns the block_device_info spawn receives."""
        uuid = instance['uuid']
        info = {'root_device_name': '/dev/vda', 'ephemerals': [], 'swap': None}
        files = []
        for bdm in block_device_mappings or []:
            if bdm.get('boot_index') == 0:
                info['root_device_name'] = (
                    bdm.get('device_name') or info['root_device_name']
                )
                continue
            if (
                bdm.get('destination_type') != 'local'
                or bdm.get('source_type') != 'blank'
            ):
                continue
            if bdm.get('guest_format') == 'swap':
                info['swap'] = {
                    'device_name': bdm.get('device_name'),
                    'swap_size': bdm.get('volume_size'),
                    'path': SWAP_FILE,
                }
                files.append(SWAP_FILE)
            else:
                name = '%s%d' % (EPHEMERAL_PREFIX, len(info['ephemerals']))
                info['ephemerals'].append(
                    {
                        'device_name': bdm.get('device_name'),
                        'size': bdm.get('volume_size'),
                        'path': name,
                    }
                )
                files.append(name)
        if files:
            with _instance_lock(uuid):
                path = self._take_directory(uuid)
                for name in files:
                    with open(os.path.join(path, name), 'a'):
                        pass
        return info

    def cleanup_block_devices(self, instance, block_device_mappings):
        """Remove the local disk files, and the directory if nothing else
        (no root disk) is left in it."""
        uuid = instance['uuid']
        path = instance_path(uuid)
        with _instance_lock(uuid):
            if not self._owned(uuid):
                return
            for name in os.listdir(path):
                if name == SWAP_FILE or name.startswith(EPHEMERAL_PREFIX):
                    os.remove(os.path.join(path, name))
            if os.listdir(path) == [OWNER_FILE]:
                shutil.rmtree(path, ignore_errors=True)

    # -- power ---------------------------------------------------------

    def _write_power_state(self, uuid, state):
        with open(os.path.join(instance_path(uuid), POWER_FILE), 'w') as f:
            f.write('%d\n' % state)

    def _read_power_state(self, uuid):
        try:
            with open(os.path.join(instance_path(uuid), POWER_FILE)) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return power_state.NOSTATE

    def power_off(self, instance):
        """Mark the instance shut down (idempotent)."""
        uuid = instance['uuid']
        with _instance_lock(uuid):
            self._require_spawned(uuid)
            self._write_power_state(uuid, power_state.SHUTDOWN)
        return self.get_info(uuid)

    def power_on(self, instance):
        """Boot a shut down instance again: one more console line."""
        uuid = instance['uuid']
        with _instance_lock(uuid):
            self._require_spawned(uuid)
            if self._read_power_state(uuid) != power_state.RUNNING:
                self._write_power_state(uuid, power_state.RUNNING)
                self._append_console(uuid)
        return self.get_info(uuid)

    def reboot(self, instance, reboot_type='SOFT'):
        """Restart the guest: running again, one more console line. A
        soft reboot needs a running guest; a hard one starts any."""
        uuid = instance['uuid']
        with _instance_lock(uuid):
            self._require_spawned(uuid)
            if (
                reboot_type == 'SOFT'
                and self._read_power_state(uuid) != power_state.RUNNING
            ):
                raise exception.InstanceNotRunning(instance_id=uuid)
            self._write_power_state(uuid, power_state.RUNNING)
            self._append_console(uuid)
        return self.get_info(uuid)

    def _move_power_state(self, instance, wanted, to):
        """From power state ``wanted`` (or already ``to``: idempotent) to
        ``to``; InstanceInvalidPowerState otherwise."""
        uuid = instance['uuid']
        with _instance_lock(uuid):
            self._require_spawned(uuid)
            current = self._read_power_state(uuid)
            if current not in (wanted, to):
                raise exception.InstanceInvalidPowerState(
                    instance_id=uuid,
                    state=power_state.STATE_MAP.get(current, current),
                )
            self._write_power_state(uuid, to)
        return self.get_info(uuid)

    def pause(self, instance):
        return self._move_power_state(
            instance, power_state.RUNNING, power_state.PAUSED
        )

    def unpause(self, instance):
        return self._move_power_state(
            instance, power_state.PAUSED, power_state.RUNNING
        )

    def suspend(self, instance):
        return self._move_power_state(
            instance, power_state.RUNNING, power_state.SUSPENDED
        )

    def resume(self, instance):
        return self._move_power_state(
            instance, power_state.SUSPENDED, power_state.RUNNING
        )

    def _require_spawned(self, uuid):
        if not self._spawned(uuid):
            raise exception.InstanceNotFound(instance_id=uuid)

    # -- inventory -----------------------------------------------------

    def get_info(self, instance_uuid):
        """Power state of an instance spawned on this host."""
        self._require_spawned(instance_uuid)
        return {
            'uuid': instance_uuid,
            'power_state': self._read_power_state(instance_uuid),
            'host': self.host,
            'node': self.host,
        }

    def list_instances(self):
        """Uuids spawned on this host, read from disk (survives restarts)."""
        try:
            names = sorted(os.listdir(instances_path()))
        except FileNotFoundError:
            return []
        return [name for name in names if self._spawned(name)]

    def get_available_resource(self):
        """One node named like the host, sized by ``[fake_driver]``."""
        return {
            'hypervisor_hostname': self.host,
            'hypervisor_type': self.hypervisor_type,
            'hypervisor_version': self.hypervisor_version,
            'host_ip': '127.0.0.1',
            'vcpus': CONF.fake_driver.vcpus,
            'memory_mb': CONF.fake_driver.memory_mb,
            'local_gb': CONF.fake_driver.local_gb,
        }
