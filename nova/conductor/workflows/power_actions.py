"""The power actions of a server, one workflow each: stop, start, reboot
(soft and hard), pause, unpause, suspend, resume.

====================  ===========================================  ==========
step                  does                                         revert
====================  ===========================================  ==========
mark_error_on_revert  nothing (sentinel)                           see below
power_action          the reboot's ``*_started`` task_state; the   (none)
                      action on the server's host (compute RPC
                      ``power_action``, fenced, in the instance's
                      turn there); -> the guest's power state
record_power_state    vm_state and power_state after the action,   (none)
                      task_state None, action finished
====================  ===========================================  ==========

The compute API checks the server's state, sets the action's
task_state (``powering-off``, ``rebooting``, ...) and writes the
instance action and this workflow's row in one transaction, as stock
nova's ``check_instance_state`` and ``expected_task_state`` do: a server
with a task_state takes no other action (409), so one workflow acts on
a server at a time. A DELETE aborts it, as it aborts a build.

Each host action but the reboot is idempotent (stopping a stopped guest
changes nothing), so a step run again after a crash is safe; a reboot
run again reboots the guest once more, as a user's second reboot would.
The API starts no action while another workflow of the server is
unfinished, and the steps write the server only while its task is
theirs: a DELETE that came meanwhile wins. When an action
fails (the host refuses it, or is down) the revert ends at the
sentinel: the server keeps its vm_state, loses the task_state and gets
a fault, and the action's events say Error, as stock nova's
``reverts_task_state`` and ``wrap_instance_fault`` leave it; a failed
reboot leaves the server in ERROR, as stock nova's reboot_instance
does.
"""

import types

from oslo_log import log as logging

from nova import exception
from nova import orchestration as orc
from nova.compute import power_actions
from nova.compute import rpcapi as compute_rpcapi
from nova.compute import vm_states
from nova.conductor.workflows import base
from nova.conductor.workflows import compute_hosts
from nova.db import actions as actions_db
from nova.db import instances as instances_db
from nova.virt import power_state

LOG = logging.getLogger(__name__)

FACTORY = 'nova.conductor.workflows.power_actions'
VERSION = 1


#: The steps recorded as events of the server's action.
EVENT_STEPS = ('power_action', 'record_power_state')

#: What the conductor's runner reads of each workflow (as of the
#: build_instance and delete_instance modules), by workflow name: the
#: two reboots share one.
WORKFLOWS = {
    spec.workflow: types.SimpleNamespace(
        NAME=spec.workflow,
        ACTION=spec.action,
        EVENT_STEPS=EVENT_STEPS,
        keep_vm_state=spec.keep_vm_state,
    )
    for spec in power_actions.ACTIONS.values()
}


def make_store(context, instance_uuid, action_id, power_action):
    """The inputs of a power action's workflow."""
    if power_action not in power_actions.ACTIONS:
        raise ValueError('unknown power action %r' % (power_action,))
    return {
        'context': context,
        'instance_uuid': instance_uuid,
        'action_id': action_id,
        'power_action': power_action,
    }


def _update(context, instance_uuid, spec, values):
    """Write ``values`` only while the server's task is this action's:
    its task_state, the reboot's ``*_started`` one, or None (the step
    run again after a crash that followed its own write; the API starts
    no other action while this workflow is unfinished). A DELETE that
    came meanwhile set ``deleting``: the write is then refused
    (UnexpectedDeletingTaskStateError) and the workflow reverts, leaving
    the server to the delete, as stock nova's ``instance.save(
    expected_task_state=...)`` does."""
    expected = [spec.task_state, spec.started_task_state, None]
    try:
        instances_db.update(
            context, instance_uuid, values, expected_task_state=expected
        )
    except exception.InstanceInvalidState as exc:
        actual = exc.kwargs.get('state')
        error = (
            exception.UnexpectedDeletingTaskStateError
            if actual == vm_states.DELETING
            else exception.UnexpectedTaskStateError
        )
        raise error(expected=expected, actual=actual) from None


class PowerActionOnHost(base.FencedStep):
    """The action on the server's host; -> the guest's power state."""

    name = 'power_action'

    def execute(self, instance_uuid, power_action):
        spec = power_actions.ACTIONS[power_action]
        if spec.started_task_state:
            _update(
                self.context,
                instance_uuid,
                spec,
                {'task_state': spec.started_task_state},
            )
        instance = instances_db.get(self.context, instance_uuid)
        host = instance.get('host')
        if not host:
            raise exception.InstanceNotReady(instance_id=instance_uuid)
        with compute_hosts.calling(self.context, host):
            info = compute_rpcapi.ComputeAPI().power_action(
                self.context,
                host,
                instance,
                spec.key,
                self.workflow_id,
                self.workflow_generation,
            )
        return info['power_state']


class RecordPowerState(base.FencedStep):
    """The server as the action left it; the action finished."""

    name = 'record_power_state'

    def execute(self, instance_uuid, power_action, action_id, power):
        spec = power_actions.ACTIONS[power_action]
        _update(
            self.context,
            instance_uuid,
            spec,
            {
                'vm_state': spec.vm_state_after,
                'task_state': None,
                'power_state': power,
            },
        )
        actions_db.action_finish(self.context, action_id)
        LOG.info(
            'Instance %s: %s done (power state %s)',
            instance_uuid,
            spec.action,
            power_state.STATE_MAP.get(power, power),
        )


@orc.flow_factory(FACTORY, version=VERSION)
def power_flow(power_action):
    """The flow of one power action (inputs: :func:`make_store`)."""
    spec = power_actions.ACTIONS[power_action]
    return orc.LinearFlow(spec.workflow).add(
        base.MarkErrorOnRevert(spec.action, keep_vm_state=spec.keep_vm_state),
        PowerActionOnHost(provides='power'),
        RecordPowerState(),
    )
