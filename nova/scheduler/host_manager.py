"""The scheduler's view of the compute nodes: one HostState per node.

Every request reads capacity and usage afresh from the compute_nodes
table (the database is the truth; claims change it atomically), joined
with the nova-compute service of the node's host for liveness and the
availability zone.

Between a selection and the conductor's claim on the selected node the
database does not show the instance's usage yet, so concurrent requests
would all pick the same best host. The host manager therefore remembers
the resources it handed out (``record_selection``) and subtracts them
from the fresh view until the claim is written or the build moved on.
"""

import threading

import sqlalchemy as sa

from nova.compute import vm_states
import nova.conf
from nova.db import api as db_api
from nova.db import compute_nodes as compute_nodes_db
from nova.db import models
from nova.db import services as services_db
from nova.scheduler.request import ResourceRequest

CONF = nova.conf.CONF

COMPUTE_BINARY = 'nova-compute'

_instances = models.Instance.__table__
_claims = models.ResourceClaim.__table__


class HostState:
    """Capacity, usage and service of one compute node.

    The filters and weighers read it; ``consume_from_request`` lowers
    the free resources in memory only, never in the database.
    """

    def __init__(self, node: dict, service: dict | None):
        self.host = node['host']
        self.nodename = node['hypervisor_hostname']
        self.compute_node_id = node['id']
        self.vcpus_total = node['vcpus']
        self.vcpus_used = node['vcpus_used']
        self.total_usable_ram_mb = node['memory_mb']
        self.free_ram_mb = node['memory_mb'] - node['memory_mb_used']
        self.total_usable_disk_gb = node['local_gb']
        self.free_disk_mb = 1024 * (node['local_gb'] - node['local_gb_used'])
        self.num_instances = node['running_vms']
        # A ratio of 0 (or none) on the row means "the configured default",
        # as nova's compute nodes report it.
        self.cpu_allocation_ratio = (
            node.get('cpu_allocation_ratio') or CONF.cpu_allocation_ratio
        )
        self.ram_allocation_ratio = (
            node.get('ram_allocation_ratio') or CONF.ram_allocation_ratio
        )
        self.disk_allocation_ratio = (
            node.get('disk_allocation_ratio') or CONF.disk_allocation_ratio
        )
        self.service = service
        self.availability_zone = (service or {}).get('availability_zone')

    def __repr__(self):
        return (
            '<HostState %s/%s ram:%sMiB free disk:%sMiB free '
            'vcpus:%s/%s used>'
            % (
                self.host,
                self.nodename,
                self.free_ram_mb,
                self.free_disk_mb,
                self.vcpus_used,
                self.vcpus_total,
            )
        )

    def consume_from_request(self, resources: ResourceRequest) -> None:
        """Account for one instance of ``resources`` placed here."""
        self.vcpus_used += resources.vcpus
        self.free_ram_mb -= resources.memory_mb
        self.free_disk_mb -= resources.disk_mb
        self.num_instances += 1

    def to_destination(self) -> dict:
        """The host dict select_destinations returns for this node."""
        return {
            'host': self.host,
            'nodename': self.nodename,
            'compute_node_id': self.compute_node_id,
        }


@db_api.context_manager.reader
def _unclaimed_builds(context, instance_uuids):
    """Those of ``instance_uuids`` still waiting for their claim.

    A selection stops counting once the instance has a claim row (the
    node's usage now includes it), left the scheduling step (the claim
    failed, or the build moved on or ended) or was deleted.
    """
    claimed = sa.exists().where(_claims.c.instance_uuid == _instances.c.uuid)
    rows = context.session.connection().execute(
        sa.select(_instances.c.uuid).where(
            _instances.c.uuid.in_(instance_uuids),
            _instances.c.deleted == 0,
            _instances.c.vm_state == vm_states.BUILDING,
            _instances.c.task_state == vm_states.SCHEDULING,
            ~claimed,
        )
    )
    return {row.uuid for row in rows}


class HostManager:
    """Builds the HostStates of a request and remembers selections."""

    def __init__(self):
        self._lock = threading.Lock()
        # instance uuid -> (compute node id, ResourceRequest)
        self._pending = {}

    def get_all_host_states(self, context) -> list:
        """HostStates of every live compute node, pending builds applied."""
        services = {
            service['host']: service
            for service in services_db.get_all(context, binary=COMPUTE_BINARY)
        }
        states = [
            HostState(node, services.get(node['host']))
            for node in compute_nodes_db.get_all(context)
        ]
        by_node = {state.compute_node_id: state for state in states}
        # Read after the nodes: a claim landing in between is then missed
        # by this request at worst (the claim itself still refuses to
        # over-commit), never counted twice into a false NoValidHost.
        for node_id, resources in self._pending_selections(context):
            if node_id in by_node:
                by_node[node_id].consume_from_request(resources)
        return states

    def _pending_selections(self, context):
        with self._lock:
            uuids = list(self._pending)
        if not uuids:
            return []
        waiting = _unclaimed_builds(context, uuids)
        with self._lock:
            for uuid in uuids:
                if uuid not in waiting:
                    self._pending.pop(uuid, None)
            return list(self._pending.values())

    def record_selection(
        self,
        instance_uuid: str | None,
        host_state: HostState,
        resources: ResourceRequest,
    ) -> None:
        """Consume ``resources`` on ``host_state`` until they are claimed.

        A second selection of the same instance (a rebuild of the plan
        after a conductor restart) replaces the first.
        """
        host_state.consume_from_request(resources)
        if instance_uuid:
            with self._lock:
                self._pending[instance_uuid] = (
                    host_state.compute_node_id,
                    resources,
                )
