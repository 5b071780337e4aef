"""A migrated database with compute hosts written as real rows."""

import datetime

from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova import context as nova_context
from nova import test
from nova.db import instances as instances_db
from nova.db import models
from nova.db import services as services_db
from nova.tests import fixtures as nova_fixtures

_nodes = models.ComputeNode.__table__
_services = models.Service.__table__
_claims = models.ResourceClaim.__table__

FLAVOR = {
    'flavorid': '1',
    'name': 'm1.test',
    'memory_mb': 512,
    'vcpus': 1,
    'root_gb': 1,
    'ephemeral_gb': 0,
    'swap': 0,
}


def request_spec(instance_uuid=None, flavor=None, **kw):
    """A request_spec as the conductor sends it."""
    spec = {
        'instance_uuid': instance_uuid or uuidutils.generate_uuid(),
        'project_id': 'project',
        'flavor': dict(FLAVOR, **(flavor or {})),
        'availability_zone': None,
        'ignore_hosts': [],
    }
    spec.update(kw)
    return spec


class SchedulerTestCase(test.TestCase):
    """Gives each test a database and helpers writing hosts into it."""

    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database())
        self.context = nova_context.get_admin_context()

    def add_host(
        self,
        host,
        nodename=None,
        vcpus=4,
        memory_mb=4096,
        local_gb=40,
        vcpus_used=0,
        memory_mb_used=0,
        local_gb_used=0,
        cpu_ratio=1.0,
        ram_ratio=1.0,
        disk_ratio=1.0,
        zone='nova',
        disabled=False,
        down=False,
        service=True,
    ):
        """Write a compute node (and its nova-compute service); its id."""
        if service:
            row = services_db.register(
                self.context,
                host,
                'nova-compute',
                'compute',
                availability_zone=zone,
            )
            values = {'disabled': disabled}
            if down:
                values['last_seen_up'] = (
                    timeutils.utcnow() - datetime.timedelta(hours=1)
                )
            with self.db.engine.begin() as conn:
                conn.execute(
                    _services.update()
                    .where(_services.c.id == row['id'])
                    .values(**values)
                )
        with self.db.engine.begin() as conn:
            result = conn.execute(
                _nodes.insert().values(
                    uuid=uuidutils.generate_uuid(),
                    host=host,
                    hypervisor_hostname=nodename or host,
                    hypervisor_type='fake',
                    hypervisor_version=1,
                    vcpus=vcpus,
                    memory_mb=memory_mb,
                    local_gb=local_gb,
                    vcpus_used=vcpus_used,
                    memory_mb_used=memory_mb_used,
                    local_gb_used=local_gb_used,
                    running_vms=0,
                    cpu_allocation_ratio=cpu_ratio,
                    ram_allocation_ratio=ram_ratio,
                    disk_allocation_ratio=disk_ratio,
                    deleted=0,
                    created_at=timeutils.utcnow(),
                )
            )
            return result.inserted_primary_key[0]

    def add_building_instance(self, task_state='scheduling'):
        """An instance row in the state of a build being scheduled."""
        uuid = uuidutils.generate_uuid()
        instances_db.create(
            self.context,
            {
                'uuid': uuid,
                'project_id': 'project',
                'user_id': 'user',
                'vm_state': 'building',
                'task_state': task_state,
                'flavor': FLAVOR,
            },
        )
        return uuid

    def add_claim(self, instance_uuid, node_id, host):
        """A claim row as the conductor's claim step writes it."""
        with self.db.engine.begin() as conn:
            conn.execute(
                _claims.insert().values(
                    instance_uuid=instance_uuid,
                    compute_node_id=node_id,
                    host=host,
                    vcpus=1,
                    memory_mb=512,
                    disk_gb=1,
                    created_at=timeutils.utcnow(),
                )
            )

    def set_task_state(self, instance_uuid, task_state):
        """Move a build on, as the conductor's next step does."""
        instances_db.update(
            self.context, instance_uuid, {'task_state': task_state}
        )

    def delete_node(self, node_id):
        """Soft-delete a compute node row."""
        with self.db.engine.begin() as conn:
            conn.execute(
                _nodes.update()
                .where(_nodes.c.id == node_id)
                .values(deleted=node_id)
            )
