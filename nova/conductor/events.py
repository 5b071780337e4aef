"""Instance action events from workflow transitions.

Each step of a workflow on an instance is one event of the instance's
action ('create', 'delete'): started when the step starts, finished
with 'Success' or 'Error' (and the traceback, for admins) when it ends.
The engine calls listeners after a transition is durable and ignores
their errors, so an event write can never break a workflow.
"""

from oslo_log import log as logging

from nova import orchestration as orc
from nova.conductor.workflows import base
import nova.conf
from nova.db import actions as actions_db

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

EVENT_PREFIX = 'conductor_'


class InstanceActionRecorder:
    """A workflow listener writing the events of one instance action."""

    def __init__(self, context, action_id, step_names):
        self.context = base.request_context(context)
        self.action_id = action_id
        self.step_names = frozenset(step_names)

    def __call__(self, event):
        if event.kind != 'task' or event.name not in self.step_names:
            return
        name = EVENT_PREFIX + event.name
        if event.state == orc.states.RUNNING:
            actions_db.event_start(self.context, self.action_id, name,
                                   host=CONF.host)
        elif event.state == orc.states.SUCCESS:
            actions_db.event_finish(self.context, self.action_id, name,
                                    'Success')
        elif event.state == orc.states.FAILURE:
            traceback = event.failure.traceback if event.failure else None
            actions_db.event_finish(self.context, self.action_id, name,
                                    'Error', traceback=traceback)


def recorder_for(store, step_names):
    """The recorder of a workflow whose store names its action, or None."""
    if not store.get('action_id') or not store.get('context'):
        return None
    return InstanceActionRecorder(store['context'], store['action_id'],
                                  step_names)
