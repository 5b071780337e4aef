"""What the transitions of a workflow on an instance tell the rest of nova.

Each step of a workflow on an instance is one event of the instance's
action ('create', 'delete'): started when the step starts, finished
with 'Success' or 'Error' (and the traceback, for admins) when it ends.
When the workflow ends, a delete of the instance waiting for it is woken
(nova.conductor.workflows.delete_instance.workflow_ended). The engine
calls listeners after a transition is durable and ignores their errors,
so a listener can never break a workflow.
"""

from oslo_log import log as logging

from nova import orchestration as orc
from nova.conductor.workflows import base
from nova.conductor.workflows import delete_instance
import nova.conf
from nova.db import actions as actions_db

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

EVENT_PREFIX = 'conductor_'


class InstanceWorkflowListener:
    """The listener of a workflow on an instance: writes the events of
    the instance's action and, when the workflow ends, wakes the
    instance's delete if it waits for that."""

    def __init__(self, context, action_id, step_names, instance_uuid=None):
        self.context = base.request_context(context)
        self.action_id = action_id
        self.step_names = frozenset(step_names)
        self.instance_uuid = instance_uuid

    def __call__(self, event):
        if event.kind == 'workflow':
            if (
                self.instance_uuid
                and event.state in orc.states.WORKFLOW_TERMINAL
            ):
                delete_instance.workflow_ended(
                    self.context, self.instance_uuid, event.name
                )
            return
        if event.kind != 'task' or event.name not in self.step_names:
            return
        name = EVENT_PREFIX + event.name
        if event.state == orc.states.RUNNING:
            actions_db.event_start(
                self.context, self.action_id, name, host=CONF.host
            )
        elif event.state == orc.states.SUCCESS:
            actions_db.event_finish(
                self.context, self.action_id, name, 'Success'
            )
        elif event.state == orc.states.FAILURE:
            traceback = event.failure.traceback if event.failure else None
            actions_db.event_finish(
                self.context,
                self.action_id,
                name,
                'Error',
                traceback=traceback,
            )


def recorder_for(store, step_names):
    """The listener of a workflow whose store names its action, or None."""
    if not store.get('action_id') or not store.get('context'):
        return None
    return InstanceWorkflowListener(
        store['context'],
        store['action_id'],
        step_names,
        instance_uuid=store.get('instance_uuid'),
    )
