"""The interface nova-compute drives a hypervisor through.

A :class:`ComputeDriver` serves one host. Its operations are called by
:class:`nova.compute.manager.ComputeManager` on behalf of a workflow step
that may be re-executed after a conductor crash, so every operation must
be idempotent: spawning an instance that already runs, or destroying one
that is gone, succeeds without a second side effect.

Instances are passed as dicts (rows of :mod:`nova.db.instances`); only
``uuid`` is required, ``flavor`` is used when present.
"""

from oslo_utils import importutils

import nova.conf

CONF = nova.conf.CONF

# Short names of [compute] compute_driver are relative to this package.
_DRIVER_PACKAGE = 'nova.virt'


class ComputeDriverNotFound(Exception):
    """``[compute] compute_driver`` names no importable driver class."""


class ComputeDriver:
    """Base of the virt drivers; one instance per compute host."""

    def __init__(self, host):
        self.host = host

    def init_host(self):
        """Prepare the hypervisor before the service takes requests."""

    def cleanup_host(self):
        """Stop in-flight long operations: the service is stopping."""

    def spawn(
        self,
        instance,
        network_info=None,
        block_device_info=None,
        admin_password=None,
        interrupt=None,
    ):
        """Boot ``instance`` (idempotent by uuid); return get_info().

        ``interrupt`` (a :class:`threading.Event`, or None) is set when
        the caller no longer wants the boot: the instance is being
        destroyed. Give up as soon as possible and raise; whatever was
        built is destroyed by the caller once this returns. A driver
        that ignores it is still correct: the guest it builds is
        destroyed then, only later.

        :raises nova.exception.InstanceDeployFailure: the boot failed.
        """
        raise NotImplementedError()

    def destroy(self, instance, network_info=None, block_device_info=None):
        """Remove ``instance`` and its local disks (idempotent)."""
        raise NotImplementedError()

    def prepare_block_devices(self, instance, block_device_mappings):
        """Create the local disks of the mappings; return block_device_info.

        ``block_device_info`` is a dict the driver later receives at spawn:
        ``root_device_name``, ``ephemerals`` (list), ``swap`` (dict or
        None). Idempotent.
        """
        raise NotImplementedError()

    def cleanup_block_devices(self, instance, block_device_mappings):
        """Remove what prepare_block_devices created (idempotent)."""
        raise NotImplementedError()

    def power_on(self, instance):
        """Start a stopped instance; return get_info()."""
        raise NotImplementedError()

    def power_off(self, instance):
        """Stop a running instance; return get_info()."""
        raise NotImplementedError()

    def get_info(self, instance_uuid):
        """``{'uuid', 'power_state', 'host'}`` of an instance of this host.

        :raises nova.exception.InstanceNotFound: not on this host.
        """
        raise NotImplementedError()

    def list_instances(self):
        """Uuids of the instances this host runs."""
        raise NotImplementedError()

    def get_available_resource(self):
        """The node's capacity, as :func:`nova.db.compute_nodes.
        update_capacity` stores it: hypervisor_hostname, hypervisor_type,
        hypervisor_version, host_ip, vcpus, memory_mb, local_gb.
        """
        raise NotImplementedError()


def load_compute_driver(host, compute_driver=None):
    """Instantiate the driver named by ``[compute] compute_driver``.

    The name is ``<module under nova.virt>.<class>`` (``fake.FakeDriver``)
    or a full dotted path. A typo fails here, at service start, rather
    than at the first boot.

    :raises ComputeDriverNotFound: the class cannot be imported or is not
        a :class:`ComputeDriver`.
    """
    name = compute_driver or CONF.compute.compute_driver
    if not name:
        raise ComputeDriverNotFound(
            '[compute] compute_driver is empty; set it, for example to '
            'fake.FakeDriver'
        )
    candidates = ['%s.%s' % (_DRIVER_PACKAGE, name), name]
    errors = []
    for path in candidates:
        try:
            cls = importutils.import_class(path)
        except (ImportError, ValueError, AttributeError) as exc:
            errors.append('%s: %s' % (path, exc))
            continue
        if not (isinstance(cls, type) and issubclass(cls, ComputeDriver)):
            raise ComputeDriverNotFound(
                '[compute] compute_driver %r: %s is not a ComputeDriver'
                % (name, path)
            )
        return cls(host)
    raise ComputeDriverNotFound(
        '[compute] compute_driver %r cannot be loaded (%s); use '
        '<module under nova.virt>.<class>, for example fake.FakeDriver'
        % (name, '; '.join(errors))
    )
