"""delete_instance: tear a server down, whatever state it is in.

====================  ==========================================  ==========
step                  does                                        revert
====================  ==========================================  ==========
mark_error_on_revert  nothing (sentinel)                          ERROR+fault
stop_build            abort a build in flight; wait until it has  (none)
                      reverted, so nothing is created after us
destroy_on_host       hypervisor destroy on the instance's host   (none)
release_network       free its fixed IPs                          (none)
release_claims        free its resource claims                    (none)
delete_block_devices  local disks and BDM rows                    (none)
soft_delete           instance deleted, action finished           (none)
====================  ==========================================  ==========

Every cleanup step is idempotent and the cleanup subflow is retried; if
it finally fails the instance goes to ERROR (stock nova behaviour) and
can be deleted again.
"""

import time

from oslo_log import log as logging

from nova import orchestration as orc
from nova.compute import claims
from nova.compute import rpcapi as compute_rpcapi
from nova.conductor.workflows import base
import nova.conf
from nova.db import actions as actions_db
from nova.db import block_device as bdm_db
from nova.db import instances as instances_db
from nova.db import workflows as workflows_db
from nova.network import api as network_api

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

NAME = 'delete_instance'
FACTORY = 'nova.conductor.workflows.delete_instance'
VERSION = 1
CLEANUP_ATTEMPTS = 3
#: Seconds between two looks at a build that is being aborted.
_BUILD_POLL_INTERVAL = 0.2


def make_store(context, instance_uuid, action_id):
    """The inputs of one delete, as persisted in the workflow row."""
    return {'context': context, 'instance_uuid': instance_uuid,
            'action_id': action_id}


class StopBuild(base.Step):
    """Abort any build of the instance and wait until it has stopped.

    The build's owner reverts at its next step boundary. If the owner
    died, a sweeper adopts the build within a lease plus a sweep, sees
    the abort flag and reverts; so the wait is bounded by that.
    """

    def execute(self, instance_uuid, workflow_id):
        backend = workflows_db.get_backend()
        opts = CONF.orchestration
        deadline = time.monotonic() + 2 * (opts.lease_seconds +
                                           opts.sweep_interval)
        while True:
            builds = [row for row in workflows_db.active_workflows(
                instance_uuid) if row['id'] != workflow_id and
                row['name'] != NAME]
            if not builds:
                return
            for row in builds:
                if not row.get('abort_requested'):
                    orc.request_abort(row['id'], backend)
            if time.monotonic() > deadline:
                # Cleanup is idempotent and so is the build's revert:
                # going on is safe, only slower to converge.
                LOG.warning('Instance %s: build %s still running; deleting '
                            'anyway', instance_uuid,
                            ', '.join(r['id'] for r in builds))
                return
            time.sleep(_BUILD_POLL_INTERVAL)


def _hosts(ctxt, instance):
    hosts = {claim['host'] for claim in claims.get_claims(
        ctxt, instance_uuid=instance['uuid'])}
    if instance.get('host'):
        hosts.add(instance['host'])
    return sorted(hosts)


class DestroyOnHost(base.Step):
    """Destroy the server on every host that may hold part of it."""

    def execute(self, context, instance_uuid, workflow_id,
                workflow_generation):
        ctxt = base.step_context(context, workflow_id, workflow_generation)
        instance = instances_db.get(ctxt, instance_uuid, read_deleted=True)
        for host in _hosts(ctxt, instance):
            compute_rpcapi.ComputeAPI().destroy(
                ctxt, host, instance, workflow_id, workflow_generation)


class ReleaseNetwork(base.Step):
    """Free the server's fixed IPs."""

    def execute(self, context, instance_uuid, workflow_id,
                workflow_generation):
        network_api.deallocate_for_instance(
            base.step_context(context, workflow_id, workflow_generation),
            instance_uuid)


class ReleaseClaims(base.Step):
    """Free the server's resource claims on every node."""

    def execute(self, context, instance_uuid, workflow_id,
                workflow_generation):
        claims.release(
            base.step_context(context, workflow_id, workflow_generation),
            instance_uuid)


class DeleteBlockDevices(base.Step):
    """Remove local disks on the hosts and the BDM rows."""

    def execute(self, context, instance_uuid, workflow_id,
                workflow_generation):
        ctxt = base.step_context(context, workflow_id, workflow_generation)
        bdms = bdm_db.get_by_instance(ctxt, instance_uuid)
        if bdms:
            instance = instances_db.get(ctxt, instance_uuid,
                                        read_deleted=True)
            for host in {bdm.get('host') or instance.get('host')
                         for bdm in bdms} - {None}:
                compute_rpcapi.ComputeAPI().cleanup_block_devices(
                    ctxt, host, instance, bdms, workflow_id,
                    workflow_generation)
        bdm_db.destroy_by_instance(ctxt, instance_uuid)


class SoftDelete(base.Step):
    """Mark the instance deleted and finish the action."""

    def execute(self, context, instance_uuid, action_id, workflow_id,
                workflow_generation):
        ctxt = base.step_context(context, workflow_id, workflow_generation)
        instances_db.soft_delete(ctxt, instance_uuid)
        actions_db.action_finish(ctxt, action_id)


@orc.flow_factory(FACTORY, version=VERSION)
def delete_flow():
    """The delete_instance flow (inputs: :func:`make_store`)."""
    cleanup = orc.LinearFlow('cleanup', retry=orc.retry.Times(
        CLEANUP_ATTEMPTS, name='cleanup_attempts'))
    cleanup.add(DestroyOnHost(name='destroy_on_host'),
                ReleaseNetwork(name='release_network'),
                ReleaseClaims(name='release_claims'),
                DeleteBlockDevices(name='delete_block_devices'))
    return orc.LinearFlow(NAME).add(
        base.MarkErrorOnRevert('delete', name='mark_error_on_revert'),
        StopBuild(name='stop_build'),
        cleanup,
        SoftDelete(name='soft_delete'))




#: Steps recorded as events of the instance's 'delete' action.
EVENT_STEPS = ('stop_build', 'destroy_on_host', 'release_network',
               'release_claims', 'delete_block_devices', 'soft_delete')
