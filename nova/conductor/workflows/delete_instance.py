"""delete_instance: tear a server down, whatever state it is in.

========================  ========================================  ===========
step                      does                                      revert
========================  ========================================  ===========
mark_error_on_revert      nothing (sentinel)                        ERROR+fault
build_waits (retry)       stop_build again when its wait expired    (none)
stop_build                abort the instance's other workflows      (none)
                          and wait, with no thread, until they end
cleanup_attempts (retry)  the cleanup below, 3 attempts in all      (none)
destroy_on_host           hypervisor destroy on its hosts           (none)
release_network           free its fixed IPs                        (none)
release_claims            free its resource claims                  (none)
delete_block_devices      local disks and BDM rows                  (none)
soft_delete               instance deleted, action finished         (none)
========================  ========================================  ===========

The table lists the steps in the order the flow runs them; a test checks
it against :func:`delete_flow`. Every cleanup step is idempotent and the
cleanup subflow is retried; if it finally fails the instance goes to
ERROR (stock nova behaviour) and can be deleted again.
"""

from oslo_log import log as logging

from nova import orchestration as orc
from nova.compute import claims
from nova.conductor import rpcapi as conductor_rpcapi
from nova.conductor.workflows import base
from nova.conductor.workflows import compute_hosts
import nova.conf
from nova.db import actions as actions_db
from nova.db import block_device as bdm_db
from nova.db import instances as instances_db
from nova.db import workflows as workflows_db
from nova.network import api as network_api

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

NAME = base.DELETE_WORKFLOW
#: The instance action whose events are this workflow's steps.
ACTION = 'delete'
FACTORY = 'nova.conductor.workflows.delete_instance'
#: 2 since stop_build waits with no thread, under the build_waits retry.
VERSION = 2
CLEANUP_ATTEMPTS = 3
#: How many times stop_build waits for the build before deleting anyway.
BUILD_WAITS = 2
#: The completion token stop_build waits for. What its completion says,
#: "no other workflow of the instance is in flight", stays true once
#: said (nothing starts a workflow on an instance being deleted), so,
#: unlike a remote step's token, it need not differ between executions.
BUILDS_ENDED = 'builds-ended'


def make_store(context, instance_uuid, action_id):
    """The inputs of one delete, as persisted in the workflow row."""
    return {
        'context': context,
        'instance_uuid': instance_uuid,
        'action_id': action_id,
    }


def _unfinished(instance_uuid):
    """The unfinished workflows of an instance, the newest first."""
    # By target type and id: the columns of the workflows' target index.
    return [
        row
        for row in workflows_db.get_backend().list_workflows(
            target=('instance', instance_uuid)
        )
        if row['state'] not in orc.states.WORKFLOW_TERMINAL
    ]


class StopBuild(base.Step):
    """Abort any build of the instance and wait until it has stopped.

    The build's owner reverts at its next step boundary; if the owner
    died, a sweeper adopts the build within a lease plus a sweep, sees
    the abort flag and reverts. The step does not hold a thread while it
    waits: it returns a Pending token, and the conductor that ends the
    last of the instance's other workflows completes it
    (:func:`workflow_ended`). A wake-up that never comes (a lost cast, or
    a build that ended while this step was about to wait) is caught by
    the step's timeout, a lease plus a sweep: ``build_waits`` then runs
    the step again, which looks again. After BUILD_WAITS waits it stops
    waiting: cleanup is idempotent and so is the build's revert, so
    going on is safe, only slower to converge.
    """

    name = 'stop_build'

    def execute(self, instance_uuid, build_wait):
        builds = [
            row for row in _unfinished(instance_uuid) if row['name'] != NAME
        ]
        if not builds:
            return None
        backend = workflows_db.get_backend()
        for row in builds:
            if not row['abort_requested']:
                orc.request_abort(row['id'], backend)
        if build_wait > BUILD_WAITS:
            LOG.warning(
                'Instance %s: build %s still running; deleting anyway',
                instance_uuid,
                ', '.join(row['id'] for row in builds),
            )
            return None
        return orc.Pending(BUILDS_ENDED)


def workflow_ended(context, instance_uuid, workflow_name):
    """Wake the instance's delete when its last other workflow ended.

    The conductor that ran the workflow calls this once its end is
    durable (nova.conductor.events). The wake-up is a cast to the
    conductors, like a compute host's spawn report: whichever receives
    it continues the delete. A delete not waiting yet ignores it, and
    finds the build ended when its stop_build runs.
    """
    if workflow_name == NAME:
        return
    rows = _unfinished(instance_uuid)
    if any(row['name'] != NAME for row in rows):
        return  # the end of that one wakes the delete
    for row in rows:
        if row['state'] == orc.states.RUNNING:
            conductor_rpcapi.ConductorAPI().task_complete(
                context, row['id'], StopBuild.name, BUILDS_ENDED
            )


def _hosts(ctxt, instance):
    hosts = {
        claim['host']
        for claim in claims.get_claims(ctxt, instance_uuid=instance['uuid'])
    }
    if instance.get('host'):
        hosts.add(instance['host'])
    return sorted(hosts)


class DestroyOnHost(base.FencedStep):
    """Destroy the server on every host that may hold part of it; a
    down host destroys it itself when it starts again (compute_hosts)."""

    name = 'destroy_on_host'

    def execute(self, instance_uuid):
        instance = instances_db.get(
            self.context, instance_uuid, read_deleted=True
        )
        for host in _hosts(self.context, instance):
            compute_hosts.destroy_unless_down(
                self.context,
                instance,
                host,
                self.workflow_id,
                self.workflow_generation,
            )


class ReleaseNetwork(base.FencedStep):
    """Free the server's fixed IPs."""

    name = 'release_network'

    def execute(self, instance_uuid):
        network_api.deallocate_for_instance(self.context, instance_uuid)


class ReleaseClaims(base.FencedStep):
    """Free the server's resource claims on every node."""

    name = 'release_claims'

    def execute(self, instance_uuid):
        claims.release(self.context, instance_uuid)


class DeleteBlockDevices(base.FencedStep):
    """Remove local disks on the hosts and the BDM rows (a down host's
    disks go with its guest when it starts again)."""

    name = 'delete_block_devices'

    def execute(self, instance_uuid):
        bdms = bdm_db.get_by_instance(self.context, instance_uuid)
        if bdms:
            instance = instances_db.get(
                self.context, instance_uuid, read_deleted=True
            )
            for host in {
                bdm.get('host') or instance.get('host') for bdm in bdms
            } - {None}:
                compute_hosts.cleanup_block_devices_unless_down(
                    self.context,
                    instance,
                    host,
                    bdms,
                    self.workflow_id,
                    self.workflow_generation,
                )
        bdm_db.destroy_by_instance(self.context, instance_uuid)


class SoftDelete(base.FencedStep):
    """Mark the instance deleted and finish the action."""

    name = 'soft_delete'

    def execute(self, instance_uuid, action_id):
        instances_db.soft_delete(self.context, instance_uuid)
        actions_db.action_finish(self.context, action_id)


@orc.flow_factory(FACTORY, version=VERSION)
def delete_flow():
    """The delete_instance flow (inputs: :func:`make_store`)."""
    opts = CONF.orchestration
    waiting = orc.LinearFlow(
        'waiting_for_build',
        retry=orc.retry.Times(
            BUILD_WAITS + 1, name='build_waits', provides='build_wait'
        ),
    )
    waiting.add(StopBuild(timeout=opts.lease_seconds + opts.sweep_interval))
    cleanup = orc.LinearFlow(
        'cleanup',
        retry=orc.retry.Times(CLEANUP_ATTEMPTS, name='cleanup_attempts'),
    )
    cleanup.add(
        DestroyOnHost(),
        ReleaseNetwork(),
        ReleaseClaims(),
        DeleteBlockDevices(),
    )
    return orc.LinearFlow(NAME).add(
        base.MarkErrorOnRevert(ACTION), waiting, cleanup, SoftDelete()
    )


#: Steps recorded as events of the instance's 'delete' action.
EVENT_STEPS = tuple(
    step.name
    for step in (
        StopBuild,
        DestroyOnHost,
        ReleaseNetwork,
        ReleaseClaims,
        DeleteBlockDevices,
        SoftDelete,
    )
)
