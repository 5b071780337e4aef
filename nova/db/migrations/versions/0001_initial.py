"""Initial nova schema.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None

MediumText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql')


def _timestamps():
    return [
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
    ]


def _soft_delete():
    return [
        sa.Column('deleted_at', sa.DateTime),
        sa.Column('deleted', sa.Integer),
    ]


def upgrade():
    op.create_table(
        'flavors',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('flavorid', sa.String(255), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('root_gb', sa.Integer, nullable=False),
        sa.Column('ephemeral_gb', sa.Integer, nullable=False),
        sa.Column('swap', sa.Integer, nullable=False),
        sa.Column('rxtx_factor', sa.Float, nullable=False),
        sa.Column('vcpu_weight', sa.Integer),
        sa.Column('is_public', sa.Boolean, nullable=False),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('description', sa.Text),
        sa.UniqueConstraint('flavorid', name='uniq_flavors0flavorid'),
        sa.UniqueConstraint('name', name='uniq_flavors0name'),
    )
    op.create_table(
        'images',
        *_timestamps(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('size', sa.BigInteger, nullable=False),
        sa.Column('min_disk', sa.Integer, nullable=False),
        sa.Column('min_ram', sa.Integer, nullable=False),
        sa.Column('disk_format', sa.String(30), nullable=False),
        sa.Column('container_format', sa.String(30), nullable=False),
        sa.Column('properties', sa.Text, nullable=False),
    )
    op.create_table(
        'instances',
        *_timestamps(),
        *_soft_delete(),
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('display_name', sa.String(255)),
        sa.Column('display_description', sa.Text),
        sa.Column('hostname', sa.String(255)),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('vm_state', sa.String(255)),
        sa.Column('task_state', sa.String(255)),
        sa.Column('power_state', sa.Integer, nullable=False),
        sa.Column('host', sa.String(255)),
        sa.Column('node', sa.String(255)),
        sa.Column('availability_zone', sa.String(255)),
        sa.Column('instance_type_id', sa.Integer),
        sa.Column('flavor', MediumText),
        sa.Column('image_ref', sa.String(255)),
        sa.Column('memory_mb', sa.Integer),
        sa.Column('vcpus', sa.Integer),
        sa.Column('root_gb', sa.Integer),
        sa.Column('ephemeral_gb', sa.Integer),
        sa.Column('key_name', sa.String(255)),
        sa.Column('user_data', MediumText),
        sa.Column('config_drive', sa.String(255)),
        sa.Column('access_ip_v4', sa.String(39)),
        sa.Column('access_ip_v6', sa.String(39)),
        sa.Column('reservation_id', sa.String(255)),
        sa.Column('launch_index', sa.Integer),
        sa.Column('locked', sa.Boolean, nullable=False),
        sa.Column('progress', sa.Integer),
        sa.Column('launched_at', sa.DateTime),
        sa.Column('terminated_at', sa.DateTime),
        sa.UniqueConstraint('uuid', name='uniq_instances0uuid'),
    )
    op.create_index(
        'instances_project_id_deleted_idx',
        'instances',
        ['project_id', 'deleted'],
    )
    op.create_index(
        'instances_host_deleted_idx', 'instances', ['host', 'deleted']
    )
    op.create_index('instances_updated_at_idx', 'instances', ['updated_at'])

    op.create_table(
        'instance_metadata',
        *_timestamps(),
        *_soft_delete(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('key', sa.String(255), nullable=False),
        sa.Column('value', sa.String(255)),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
    )
    op.create_index(
        'instance_metadata_instance_uuid_idx',
        'instance_metadata',
        ['instance_uuid'],
    )

    op.create_table(
        'instance_faults',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('code', sa.Integer, nullable=False),
        sa.Column('message', sa.String(255)),
        sa.Column('details', MediumText),
        sa.Column('host', sa.String(255)),
    )
    op.create_index(
        'instance_faults_instance_uuid_idx',
        'instance_faults',
        ['instance_uuid'],
    )

    op.create_table(
        'instance_actions',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('action', sa.String(255), nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('request_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('start_time', sa.DateTime),
        sa.Column('finish_time', sa.DateTime),
        sa.Column('message', sa.String(255)),
    )
    op.create_index(
        'instance_actions_instance_uuid_idx',
        'instance_actions',
        ['instance_uuid'],
    )
    op.create_index(
        'instance_actions_request_id_idx', 'instance_actions', ['request_id']
    )

    op.create_table(
        'instance_actions_events',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('event', sa.String(255), nullable=False),
        sa.Column(
            'action_id',
            sa.Integer,
            sa.ForeignKey('instance_actions.id', ondelete='CASCADE'),
            nullable=False,
        ),
        sa.Column('start_time', sa.DateTime),
        sa.Column('finish_time', sa.DateTime),
        sa.Column('result', sa.String(255)),
        sa.Column('traceback', MediumText),
        sa.Column('host', sa.String(255)),
        sa.Column('details', sa.Text),
    )
    op.create_index(
        'instance_actions_events_action_id_idx',
        'instance_actions_events',
        ['action_id'],
    )

    op.create_table(
        'services',
        *_timestamps(),
        *_soft_delete(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255)),
        sa.Column('report_count', sa.Integer, nullable=False),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('disabled_reason', sa.String(255)),
        sa.Column('forced_down', sa.Boolean, nullable=False),
        sa.Column('last_seen_up', sa.DateTime),
        sa.Column('version', sa.Integer, nullable=False),
        sa.Column('availability_zone', sa.String(255)),
        sa.UniqueConstraint(
            'host',
            'binary',
            'deleted',
            name='uniq_services0host0binary0deleted',
        ),
    )

    op.create_table(
        'compute_nodes',
        *_timestamps(),
        *_soft_delete(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('hypervisor_hostname', sa.String(255), nullable=False),
        sa.Column('hypervisor_type', sa.String(255), nullable=False),
        sa.Column('hypervisor_version', sa.Integer, nullable=False),
        sa.Column('host_ip', sa.String(39)),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('local_gb', sa.Integer, nullable=False),
        sa.Column('vcpus_used', sa.Integer, nullable=False),
        sa.Column('memory_mb_used', sa.Integer, nullable=False),
        sa.Column('local_gb_used', sa.Integer, nullable=False),
        sa.Column('running_vms', sa.Integer, nullable=False),
        sa.Column('cpu_allocation_ratio', sa.Float, nullable=False),
        sa.Column('ram_allocation_ratio', sa.Float, nullable=False),
        sa.Column('disk_allocation_ratio', sa.Float, nullable=False),
        sa.UniqueConstraint(
            'host',
            'hypervisor_hostname',
            'deleted',
            name='uniq_compute_nodes0host0node0deleted',
        ),
        sa.UniqueConstraint('uuid', name='uniq_compute_nodes0uuid'),
    )

    op.create_table(
        'resource_claims',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column(
            'compute_node_id',
            sa.Integer,
            sa.ForeignKey('compute_nodes.id'),
            nullable=False,
        ),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('disk_gb', sa.Integer, nullable=False),
        sa.Column('workflow_id', sa.String(36)),
        sa.UniqueConstraint(
            'instance_uuid',
            'compute_node_id',
            name='uniq_resource_claims0instance0node',
        ),
    )

    op.create_table(
        'networks',
        *_timestamps(),
        *_soft_delete(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('label', sa.String(255), nullable=False),
        sa.Column('cidr', sa.String(43), nullable=False),
        sa.Column('netmask', sa.String(39)),
        sa.Column('gateway', sa.String(39)),
        sa.Column('broadcast', sa.String(39)),
        sa.Column('dns1', sa.String(39)),
        sa.Column('project_id', sa.String(255)),
        sa.UniqueConstraint('uuid', name='uniq_networks0uuid'),
    )

    op.create_table(
        'fixed_ips',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column(
            'network_id',
            sa.Integer,
            sa.ForeignKey('networks.id'),
            nullable=False,
        ),
        sa.Column('address', sa.String(39), nullable=False),
        sa.Column('mac_address', sa.String(17)),
        sa.Column('instance_uuid', sa.String(36)),
        sa.Column('allocated', sa.Boolean, nullable=False),
        sa.Column('reserved', sa.Boolean, nullable=False),
        sa.Column('workflow_id', sa.String(36)),
        sa.UniqueConstraint(
            'network_id', 'address', name='uniq_fixed_ips0network0address'
        ),
    )
    op.create_index(
        'fixed_ips_instance_uuid_idx', 'fixed_ips', ['instance_uuid']
    )
    op.create_index(
        'fixed_ips_network_id_allocated_idx',
        'fixed_ips',
        ['network_id', 'allocated'],
    )

    op.create_table(
        'block_device_mappings',
        *_timestamps(),
        *_soft_delete(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('device_name', sa.String(255)),
        sa.Column('source_type', sa.String(255)),
        sa.Column('destination_type', sa.String(255)),
        sa.Column('guest_format', sa.String(255)),
        sa.Column('device_type', sa.String(255)),
        sa.Column('disk_bus', sa.String(255)),
        sa.Column('boot_index', sa.Integer),
        sa.Column('delete_on_termination', sa.Boolean, nullable=False),
        sa.Column('image_id', sa.String(36)),
        sa.Column('volume_size', sa.Integer),
        sa.Column('host', sa.String(255)),
        sa.UniqueConstraint('uuid', name='uniq_block_device_mappings0uuid'),
    )
    op.create_index(
        'block_device_mappings_instance_uuid_idx',
        'block_device_mappings',
        ['instance_uuid'],
    )
