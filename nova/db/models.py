"""SQLAlchemy models of the nova tables.

The schema itself is created only by the alembic migrations in
:mod:`nova.db.migrations`; these models must match them (a test compares
the two). The workflow tables belong to :mod:`nova.orchestration` and are
not declared here.

Soft-deleted tables follow nova's convention: ``deleted`` is 0 for a live
row and equals ``id`` once deleted, so unique constraints can include it.
"""

from oslo_db.sqlalchemy import models
import sqlalchemy as sa
from sqlalchemy import orm

BASE = orm.declarative_base()

# MySQL TEXT holds 64 KiB; tracebacks and embedded flavors may exceed it.
MediumText = sa.Text().with_variant(sa.dialects.mysql.MEDIUMTEXT(), 'mysql')


class NovaBase(models.TimestampMixin, models.ModelBase):
    """Base of every nova model: created_at/updated_at and dict access."""


class SoftDeleteBase(models.SoftDeleteMixin, NovaBase):
    """Base of models whose rows are soft-deleted."""


class Flavor(NovaBase, BASE):
    """A server size. ``flavorid`` is the id the API shows."""

    __tablename__ = 'flavors'
    __table_args__ = (
        sa.UniqueConstraint('flavorid', name='uniq_flavors0flavorid'),
        sa.UniqueConstraint('name', name='uniq_flavors0name'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    flavorid = sa.Column(sa.String(255), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    memory_mb = sa.Column(sa.Integer, nullable=False)
    vcpus = sa.Column(sa.Integer, nullable=False)
    root_gb = sa.Column(sa.Integer, nullable=False, default=0)
    ephemeral_gb = sa.Column(sa.Integer, nullable=False, default=0)
    swap = sa.Column(sa.Integer, nullable=False, default=0)
    rxtx_factor = sa.Column(sa.Float, nullable=False, default=1.0)
    vcpu_weight = sa.Column(sa.Integer)
    is_public = sa.Column(sa.Boolean, nullable=False, default=True)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    description = sa.Column(sa.Text)


class Image(NovaBase, BASE):
    """An image of the built-in catalog the images API proxies."""

    __tablename__ = 'images'
    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    status = sa.Column(sa.String(30), nullable=False, default='ACTIVE')
    size = sa.Column(sa.BigInteger, nullable=False, default=0)
    min_disk = sa.Column(sa.Integer, nullable=False, default=0)
    min_ram = sa.Column(sa.Integer, nullable=False, default=0)
    disk_format = sa.Column(sa.String(30), nullable=False, default='qcow2')
    container_format = sa.Column(sa.String(30), nullable=False, default='bare')
    # JSON object of the image properties the API shows as "metadata".
    properties = sa.Column(sa.Text, nullable=False, default='{}')


class Instance(SoftDeleteBase, BASE):
    """A server."""

    __tablename__ = 'instances'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_instances0uuid'),
        sa.Index('instances_project_id_deleted_idx', 'project_id', 'deleted'),
        sa.Index('instances_host_deleted_idx', 'host', 'deleted'),
        sa.Index('instances_updated_at_idx', 'updated_at'),
    )
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    display_name = sa.Column(sa.String(255))
    display_description = sa.Column(sa.Text)
    hostname = sa.Column(sa.String(255))
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=False)
    vm_state = sa.Column(sa.String(255))
    task_state = sa.Column(sa.String(255))
    power_state = sa.Column(sa.Integer, nullable=False, default=0)
    host = sa.Column(sa.String(255))
    node = sa.Column(sa.String(255))
    availability_zone = sa.Column(sa.String(255))
    instance_type_id = sa.Column(sa.Integer)
    # JSON copy of the flavor at boot time (nova's embedded flavor).
    flavor = sa.Column(MediumText)
    image_ref = sa.Column(sa.String(255))
    memory_mb = sa.Column(sa.Integer)
    vcpus = sa.Column(sa.Integer)
    root_gb = sa.Column(sa.Integer)
    ephemeral_gb = sa.Column(sa.Integer)
    key_name = sa.Column(sa.String(255))
    user_data = sa.Column(MediumText)
    config_drive = sa.Column(sa.String(255))
    access_ip_v4 = sa.Column(sa.String(39))
    access_ip_v6 = sa.Column(sa.String(39))
    reservation_id = sa.Column(sa.String(255))
    launch_index = sa.Column(sa.Integer)
    locked = sa.Column(sa.Boolean, nullable=False, default=False)
    #: Who locked it: 'owner' (its project) or 'admin'; None if unlocked.
    locked_by = sa.Column(sa.String(5))
    progress = sa.Column(sa.Integer)
    launched_at = sa.Column(sa.DateTime)
    terminated_at = sa.Column(sa.DateTime)


class InstanceMetadata(SoftDeleteBase, BASE):
    """A user metadata item of a server."""

    __tablename__ = 'instance_metadata'
    __table_args__ = (
        sa.Index('instance_metadata_instance_uuid_idx', 'instance_uuid'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    key = sa.Column(sa.String(255), nullable=False)
    value = sa.Column(sa.String(255))
    instance_uuid = sa.Column(sa.String(36), nullable=False)


class KeyPair(SoftDeleteBase, BASE):
    """A user's SSH key or x509 certificate (os-keypairs)."""

    __tablename__ = 'key_pairs'
    __table_args__ = (
        sa.UniqueConstraint(
            'user_id', 'name', 'deleted', name='uniq_key_pairs0user_id0name'
        ),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=False)
    fingerprint = sa.Column(sa.String(255))
    public_key = sa.Column(sa.Text)
    type = sa.Column(sa.String(5), nullable=False)


class InstanceFault(NovaBase, BASE):
    """Why a server went to ERROR; the API shows the latest one."""

    __tablename__ = 'instance_faults'
    __table_args__ = (
        sa.Index('instance_faults_instance_uuid_idx', 'instance_uuid'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    instance_uuid = sa.Column(sa.String(36), nullable=False)
    code = sa.Column(sa.Integer, nullable=False)
    message = sa.Column(sa.String(255))
    details = sa.Column(MediumText)
    host = sa.Column(sa.String(255))


class InstanceAction(NovaBase, BASE):
    """A user request on a server (create, delete, ...)."""

    __tablename__ = 'instance_actions'
    __table_args__ = (
        sa.Index('instance_actions_instance_uuid_idx', 'instance_uuid'),
        sa.Index('instance_actions_request_id_idx', 'request_id'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    action = sa.Column(sa.String(255), nullable=False)
    instance_uuid = sa.Column(sa.String(36), nullable=False)
    request_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255))
    project_id = sa.Column(sa.String(255))
    start_time = sa.Column(sa.DateTime)
    finish_time = sa.Column(sa.DateTime)
    message = sa.Column(sa.String(255))


class InstanceActionEvent(NovaBase, BASE):
    """One step of an action: a workflow task's start, finish and result."""

    __tablename__ = 'instance_actions_events'
    __table_args__ = (
        sa.Index('instance_actions_events_action_id_idx', 'action_id'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    event = sa.Column(sa.String(255), nullable=False)
    action_id = sa.Column(
        sa.Integer,
        sa.ForeignKey('instance_actions.id', ondelete='CASCADE'),
        nullable=False,
    )
    start_time = sa.Column(sa.DateTime)
    finish_time = sa.Column(sa.DateTime)
    result = sa.Column(sa.String(255))
    traceback = sa.Column(MediumText)
    host = sa.Column(sa.String(255))
    details = sa.Column(sa.Text)


class Service(SoftDeleteBase, BASE):
    """A running nova service; liveness from report_count/updated_at."""

    __tablename__ = 'services'
    __table_args__ = (
        sa.UniqueConstraint(
            'host',
            'binary',
            'deleted',
            name='uniq_services0host0binary0deleted',
        ),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    host = sa.Column(sa.String(255), nullable=False)
    binary = sa.Column(sa.String(255), nullable=False)
    topic = sa.Column(sa.String(255))
    report_count = sa.Column(sa.Integer, nullable=False, default=0)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    disabled_reason = sa.Column(sa.String(255))
    forced_down = sa.Column(sa.Boolean, nullable=False, default=False)
    last_seen_up = sa.Column(sa.DateTime)
    version = sa.Column(sa.Integer, nullable=False, default=0)
    availability_zone = sa.Column(sa.String(255))


class ComputeNode(SoftDeleteBase, BASE):
    """A hypervisor's capacity and the usage claimed on it.

    The ``*_used`` columns are changed only by conditional UPDATEs that
    check capacity in the same statement, so concurrent claims cannot
    over-commit beyond the allocation ratios.
    """

    __tablename__ = 'compute_nodes'
    __table_args__ = (
        sa.UniqueConstraint(
            'host',
            'hypervisor_hostname',
            'deleted',
            name='uniq_compute_nodes0host0node0deleted',
        ),
        sa.UniqueConstraint('uuid', name='uniq_compute_nodes0uuid'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    host = sa.Column(sa.String(255), nullable=False)
    hypervisor_hostname = sa.Column(sa.String(255), nullable=False)
    hypervisor_type = sa.Column(sa.String(255), nullable=False)
    hypervisor_version = sa.Column(sa.Integer, nullable=False)
    host_ip = sa.Column(sa.String(39))
    vcpus = sa.Column(sa.Integer, nullable=False)
    memory_mb = sa.Column(sa.Integer, nullable=False)
    local_gb = sa.Column(sa.Integer, nullable=False)
    vcpus_used = sa.Column(sa.Integer, nullable=False, default=0)
    memory_mb_used = sa.Column(sa.Integer, nullable=False, default=0)
    local_gb_used = sa.Column(sa.Integer, nullable=False, default=0)
    running_vms = sa.Column(sa.Integer, nullable=False, default=0)
    cpu_allocation_ratio = sa.Column(sa.Float, nullable=False)
    ram_allocation_ratio = sa.Column(sa.Float, nullable=False)
    disk_allocation_ratio = sa.Column(sa.Float, nullable=False)


class ResourceClaim(NovaBase, BASE):
    """Resources of one instance held on one compute node.

    One row per (instance, node): claiming twice is a no-op, so a claim
    step can be re-executed after a crash without double counting.
    """

    __tablename__ = 'resource_claims'
    __table_args__ = (
        sa.UniqueConstraint(
            'instance_uuid',
            'compute_node_id',
            name='uniq_resource_claims0instance0node',
        ),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    instance_uuid = sa.Column(sa.String(36), nullable=False)
    compute_node_id = sa.Column(
        sa.Integer, sa.ForeignKey('compute_nodes.id'), nullable=False
    )
    host = sa.Column(sa.String(255), nullable=False)
    vcpus = sa.Column(sa.Integer, nullable=False)
    memory_mb = sa.Column(sa.Integer, nullable=False)
    disk_gb = sa.Column(sa.Integer, nullable=False)
    workflow_id = sa.Column(sa.String(36))


class Network(SoftDeleteBase, BASE):
    """A nova-network style private network."""

    __tablename__ = 'networks'
    __table_args__ = (sa.UniqueConstraint('uuid', name='uniq_networks0uuid'),)
    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    label = sa.Column(sa.String(255), nullable=False)
    cidr = sa.Column(sa.String(43), nullable=False)
    netmask = sa.Column(sa.String(39))
    gateway = sa.Column(sa.String(39))
    broadcast = sa.Column(sa.String(39))
    dns1 = sa.Column(sa.String(39))
    project_id = sa.Column(sa.String(255))


class FixedIp(NovaBase, BASE):
    """An address of a network; allocated when instance_uuid is set.

    Every address of a network has a row (created with the network), so
    allocation is a conditional UPDATE of a free row: atomic without
    locks on every database.
    """

    __tablename__ = 'fixed_ips'
    __table_args__ = (
        sa.UniqueConstraint(
            'network_id', 'address', name='uniq_fixed_ips0network0address'
        ),
        sa.Index('fixed_ips_instance_uuid_idx', 'instance_uuid'),
        sa.Index(
            'fixed_ips_network_id_allocated_idx', 'network_id', 'allocated'
        ),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    network_id = sa.Column(
        sa.Integer, sa.ForeignKey('networks.id'), nullable=False
    )
    address = sa.Column(sa.String(39), nullable=False)
    mac_address = sa.Column(sa.String(17))
    instance_uuid = sa.Column(sa.String(36))
    allocated = sa.Column(sa.Boolean, nullable=False, default=False)
    reserved = sa.Column(sa.Boolean, nullable=False, default=False)
    workflow_id = sa.Column(sa.String(36))


class BlockDeviceMapping(SoftDeleteBase, BASE):
    """A disk of a server (root image disk, ephemeral, swap)."""

    __tablename__ = 'block_device_mappings'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_block_device_mappings0uuid'),
        sa.Index('block_device_mappings_instance_uuid_idx', 'instance_uuid'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    instance_uuid = sa.Column(sa.String(36), nullable=False)
    device_name = sa.Column(sa.String(255))
    source_type = sa.Column(sa.String(255))
    destination_type = sa.Column(sa.String(255))
    guest_format = sa.Column(sa.String(255))
    device_type = sa.Column(sa.String(255))
    disk_bus = sa.Column(sa.String(255))
    boot_index = sa.Column(sa.Integer)
    delete_on_termination = sa.Column(
        sa.Boolean, nullable=False, default=False
    )
    image_id = sa.Column(sa.String(36))
    volume_size = sa.Column(sa.Integer)
    host = sa.Column(sa.String(255))
