"""The power actions of a server, as the compute API checks them and
the conductor's workflows run them (nova.conductor.workflows.
power_actions): the vm_states each allows, the task_state it shows, the
vm_state it leaves. As stock nova's ``check_instance_state`` decorators
of ``nova.compute.api``: a server with a task_state takes no action.
"""

from nova.compute import vm_states


class PowerAction:
    """One power action: the states it allows and leaves, its names (of
    the instance action and of the workflow) and the host action."""

    def __init__(
        self,
        key,
        action,
        task_state,
        vm_states_allowed,
        vm_state_after,
        started_task_state=None,
        error_on_failure=False,
    ):
        #: The host's name of it (ComputeManager.power_action), and the
        #: workflow's input.
        self.key = key
        #: The instance action, as stock nova names it.
        self.action = action
        #: The workflow (nova.conductor.workflows.power_actions).
        self.workflow = '%s_instance' % action
        #: Set by the API with the action; its step may move it on.
        self.task_state = task_state
        self.started_task_state = started_task_state
        self.vm_states_allowed = tuple(vm_states_allowed)
        self.vm_state_after = vm_state_after
        #: A failure leaves the vm_state (else ERROR): see the workflow.
        self.keep_vm_state = not error_on_failure

    def __repr__(self):
        return '<PowerAction %s>' % self.key


_HARD_REBOOTABLE = (
    vm_states.ACTIVE,
    vm_states.STOPPED,
    vm_states.PAUSED,
    vm_states.SUSPENDED,
    vm_states.ERROR,
)

#: The power actions by their host name (the store's ``power_action``).
ACTIONS = {
    spec.key: spec
    for spec in (
        PowerAction(
            'stop',
            'stop',
            vm_states.POWERING_OFF,
            (vm_states.ACTIVE, vm_states.ERROR),
            vm_states.STOPPED,
        ),
        PowerAction(
            'start',
            'start',
            vm_states.POWERING_ON,
            (vm_states.STOPPED,),
            vm_states.ACTIVE,
        ),
        PowerAction(
            'reboot_soft',
            'reboot',
            vm_states.REBOOTING,
            (vm_states.ACTIVE,),
            vm_states.ACTIVE,
            started_task_state=vm_states.REBOOT_STARTED,
            error_on_failure=True,
        ),
        PowerAction(
            'reboot_hard',
            'reboot',
            vm_states.REBOOTING_HARD,
            _HARD_REBOOTABLE,
            vm_states.ACTIVE,
            started_task_state=vm_states.REBOOT_STARTED_HARD,
            error_on_failure=True,
        ),
        PowerAction(
            'pause',
            'pause',
            vm_states.PAUSING,
            (vm_states.ACTIVE,),
            vm_states.PAUSED,
        ),
        PowerAction(
            'unpause',
            'unpause',
            vm_states.UNPAUSING,
            (vm_states.PAUSED,),
            vm_states.ACTIVE,
        ),
        PowerAction(
            'suspend',
            'suspend',
            vm_states.SUSPENDING,
            (vm_states.ACTIVE,),
            vm_states.SUSPENDED,
        ),
        PowerAction(
            'resume',
            'resume',
            vm_states.RESUMING,
            (vm_states.SUSPENDED,),
            vm_states.ACTIVE,
        ),
    )
}
