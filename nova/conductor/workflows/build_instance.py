"""build_instance: a boot as a workflow of small steps with reverts.

==========================  ==================================  =============
step                        does                                revert
==========================  ==================================  =============
mark_error_on_revert        nothing (sentinel)                  ERROR + fault
select_destinations         scheduler: host + alternates        (none)
host_attempts (retry)       next alternate, up to max_attempts  (none)
claim_resources             atomic capacity claim on the node   release claim
allocate_network (||)       fixed IP + MAC per network          release them
prepare_block_devices (||)  BDM rows + local disks on the host  remove them
spawn                       hypervisor spawn (idempotent)       destroy
mark_active                 vm_state=active, launched_at        (none)
==========================  ==================================  =============

The table lists the steps in the order the flow runs them (``(||)``: in
parallel); a test checks it against :func:`build_flow`.

claim, network, block devices and spawn form the host-scoped subflow
under :class:`AlternateHosts`: a host-specific failure reverts it and
retries on the next alternate; when none is left the build fails with
MaxRetriesExceeded ("Exceeded maximum number of retries").
"""

import math

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova import exception
from nova import orchestration as orc
from nova.compute import claims
from nova.compute import rpcapi as compute_rpcapi
from nova.compute import vm_states
from nova.conductor.workflows import base
from nova.conductor.workflows import compute_hosts
import nova.conf
from nova.db import actions as actions_db
from nova.db import block_device as bdm_db
from nova.db import instances as instances_db
from nova.network import api as network_api
from nova.scheduler import rpcapi as scheduler_rpcapi
from nova.virt import power_state

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

NAME = 'build_instance'
#: The instance action whose events are this workflow's steps.
ACTION = 'create'
FACTORY = 'nova.conductor.workflows.build_instance'
COMPUTE_BINARY = compute_hosts.COMPUTE_BINARY
VERSION = 1

#: Failures that are the host's fault: try the next alternate host. A
#: host that does not answer (its calls time out even after the step's
#: retries, or once, when its service is down) is one too.
HOST_FAILURES = (
    exception.ComputeResourcesUnavailable,
    exception.RescheduledException,
    exception.InstanceDeployFailure,
    exception.ComputeHostDown,
    messaging.MessagingTimeout,
)


def make_store(
    context,
    instance_uuid,
    action_id,
    flavor,
    image,
    requested_networks,
    availability_zone,
    max_attempts,
):
    """The inputs of one build, as persisted in the workflow row."""
    return {
        'context': context,
        'instance_uuid': instance_uuid,
        'action_id': action_id,
        'flavor': flavor,
        'image': image,
        'requested_networks': requested_networks,
        'request_spec': {
            'instance_uuid': instance_uuid,
            'project_id': context.get('project_id'),
            'flavor': {
                key: flavor.get(key)
                for key in (
                    'flavorid',
                    'name',
                    'memory_mb',
                    'vcpus',
                    'root_gb',
                    'ephemeral_gb',
                    'swap',
                )
            },
            'availability_zone': availability_zone,
            'ignore_hosts': [],
        },
        'max_attempts': max_attempts,
    }


def disk_gb(flavor):
    """Local disk a flavor needs, in GiB: root + ephemeral + swap, as
    the scheduler's DiskFilter counts it (swap is in MiB, rounded up).
    """
    return (
        (flavor.get('root_gb') or 0)
        + (flavor.get('ephemeral_gb') or 0)
        + math.ceil((flavor.get('swap') or 0) / 1024)
    )


class SelectDestinations(base.InstanceTask):
    """Ask the scheduler for a host and its alternates."""

    name = 'select_destinations'
    default_provides = 'destinations'
    task_state = vm_states.SCHEDULING

    def execute(self, instance_uuid, request_spec):
        self.set_task_state(instance_uuid)
        return scheduler_rpcapi.SchedulerAPI().select_destinations(
            self.context, request_spec
        )


class AlternateHosts(orc.Retry):
    """Walk the scheduler's hosts, retrying on host-specific failures.

    Provides ``destination`` (a host dict) to the host-scoped subflow. A
    failure that is not the host's fault (a bug, an abort) fails the
    whole build at once instead of trying elsewhere.
    """

    default_provides = 'destination'

    def execute(self, history, destinations, max_attempts):
        tried = len(history)
        if tried >= min(len(destinations), max_attempts):
            reasons = '; '.join(
                '%s: %s' % (host.get('host'), base.failure_message(failure))
                for host, failures in history
                for failure in failures.values()
                if failure is not None
            )
            raise exception.MaxRetriesExceeded(reason=reasons)
        return destinations[tried]

    def on_failure(self, history, destinations, max_attempts):
        failures = history.last_failures
        if all(
            f is None or f.check(*HOST_FAILURES) for f in failures.values()
        ):
            # Run execute() again: it picks the next alternate, or fails
            # with MaxRetriesExceeded when there is none left.
            return orc.retry.RETRY
        return orc.retry.REVERT


class ClaimResources(base.InstanceTask):
    """Claim the flavor's resources on the destination's node."""

    name = 'claim_resources'

    def execute(self, instance_uuid, destination, flavor):
        claims.claim(
            self.context,
            instance_uuid,
            destination['host'],
            destination['nodename'],
            flavor['vcpus'],
            flavor['memory_mb'],
            disk_gb(flavor),
            workflow_id=self.workflow_id,
        )
        instances_db.update(
            self.context,
            instance_uuid,
            {'host': destination['host'], 'node': destination['nodename']},
        )

    def revert(self, instance_uuid, destination, **kwargs):
        claims.release(self.context, instance_uuid, host=destination['host'])
        try:
            instances_db.update(
                self.context, instance_uuid, {'host': None, 'node': None}
            )
        except exception.InstanceNotFound:
            pass


class AllocateNetwork(base.InstanceTask):
    """Allocate a fixed IP and MAC on each requested network."""

    name = 'allocate_network'
    default_provides = 'network_info'
    task_state = vm_states.NETWORKING

    def execute(self, instance_uuid, requested_networks):
        self.set_task_state(instance_uuid)
        return network_api.allocate_for_instance(
            self.context,
            instance_uuid,
            requested_networks,
            workflow_id=self.workflow_id,
        )

    def revert(self, instance_uuid, **kwargs):
        network_api.deallocate_for_instance(self.context, instance_uuid)


class PrepareBlockDevices(base.InstanceTask):
    """Record the block device mappings and make the local disks."""

    name = 'prepare_block_devices'
    default_provides = 'block_device_info'
    task_state = vm_states.BLOCK_DEVICE_MAPPING

    def execute(self, instance_uuid, destination, flavor, image):
        self.set_task_state(instance_uuid)
        instance = instances_db.get(self.context, instance_uuid)
        bdms = bdm_db.create_defaults_for_instance(
            self.context, instance, flavor, image
        )
        host = destination['host']
        with compute_hosts.calling(self.context, host):
            return compute_rpcapi.ComputeAPI().prepare_block_devices(
                self.context,
                host,
                instance,
                bdms,
                self.workflow_id,
                self.workflow_generation,
            )

    def revert(self, instance_uuid, destination, **kwargs):
        instance = instances_db.get(
            self.context, instance_uuid, read_deleted=True
        )
        bdms = bdm_db.get_by_instance(self.context, instance_uuid)
        compute_hosts.cleanup_block_devices_unless_down(
            self.context,
            instance,
            destination['host'],
            bdms,
            self.workflow_id,
            self.workflow_generation,
        )
        bdm_db.destroy_by_instance(self.context, instance_uuid)


class Spawn(base.InstanceTask):
    """Boot the server on the host (idempotent by instance uuid: the
    driver checks whether the instance already runs).

    With ``[conductor] spawn_mode = report`` the step only casts the
    spawn and returns a Pending token: the workflow then waits with no
    thread until the host reports back, and ``timeout`` (spawn_timeout)
    catches a report that never comes.

    ``admin_password`` is a secret input: the engine of the conductor
    that claimed the build on the compute API's cast has it; after a
    resume elsewhere it is absent and the server boots without it.
    """

    name = 'spawn'
    task_state = vm_states.SPAWNING

    def execute(
        self,
        instance_uuid,
        destination,
        network_info,
        block_device_info,
        admin_password=None,
    ):
        self.set_task_state(instance_uuid)
        instance = instances_db.get(self.context, instance_uuid)
        compute = compute_rpcapi.ComputeAPI()
        if CONF.conductor.spawn_mode == 'report':
            token = uuidutils.generate_uuid()
            compute.spawn_and_report(
                self.context,
                destination['host'],
                instance,
                network_info,
                block_device_info,
                self.workflow_id,
                self.workflow_generation,
                self.name,
                token,
                admin_password=admin_password,
            )
            return orc.Pending(token)
        with compute_hosts.calling(self.context, destination['host']):
            return compute.spawn(
                self.context,
                destination['host'],
                instance,
                network_info,
                block_device_info,
                self.workflow_id,
                self.workflow_generation,
                admin_password=admin_password,
            )

    def revert(self, instance_uuid, destination, **kwargs):
        instance = instances_db.get(
            self.context, instance_uuid, read_deleted=True
        )
        compute_hosts.destroy_unless_down(
            self.context,
            instance,
            destination['host'],
            self.workflow_id,
            self.workflow_generation,
        )


class MarkActive(base.FencedStep):
    """The server is up: ACTIVE, RUNNING, launched now."""

    name = 'mark_active'

    def execute(self, instance_uuid, destination, action_id):
        instances_db.update(
            self.context,
            instance_uuid,
            {
                'vm_state': vm_states.ACTIVE,
                'task_state': None,
                'power_state': power_state.RUNNING,
                'launched_at': timeutils.utcnow(),
                'host': destination['host'],
                'node': destination['nodename'],
            },
        )
        actions_db.action_finish(self.context, action_id)


@orc.flow_factory(FACTORY, version=VERSION)
def build_flow():
    """The build_instance flow (inputs: :func:`make_store`)."""
    on_host = orc.LinearFlow(
        'on_host', retry=AlternateHosts(name='host_attempts')
    )
    on_host.add(
        ClaimResources(),
        orc.UnorderedFlow('devices').add(
            AllocateNetwork(), PrepareBlockDevices()
        ),
        Spawn(timeout=CONF.conductor.spawn_timeout),
    )
    return orc.LinearFlow(NAME).add(
        base.MarkErrorOnRevert(ACTION),
        SelectDestinations(),
        on_host,
        MarkActive(),
    )


#: Steps recorded as events of the instance's 'create' action.
EVENT_STEPS = tuple(
    step.name
    for step in (
        SelectDestinations,
        ClaimResources,
        AllocateNetwork,
        PrepareBlockDevices,
        Spawn,
        MarkActive,
    )
)
