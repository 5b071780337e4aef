"""What the transitions of a workflow on an instance tell the rest of nova.

Each step of a workflow on an instance is one event of the instance's
action ('create', 'delete'): started when the step starts, finished
with 'Success' or 'Error' (and the traceback, for admins) when it ends.
When the workflow ends, a delete of the instance waiting for it is woken
(nova.conductor.workflows.delete_instance.workflow_ended). The engine
calls listeners after a transition is durable and ignores their errors,
so a listener can never break a workflow.

A process that dies right after the commit that ends a step never tells
its listener: the step is finished in the rows and is never run again,
so nothing would finish its event. The conductor that takes the
workflow back closes such events from the rows
(:func:`close_finished_events`) before it runs the workflow on.

The listener of a stale owner writes nothing. A conductor paused between
a commit and telling its listener (SIGSTOP, a long GC) may wake up after
another conductor adopted the workflow, ran the step again and finished
its event: told then that the step started, it would add a second event
for the step, which the end of the action then finishes too. So every
event write is fenced (nova.db.fencing) by the generation the
transition was written under, as the steps' own writes are.
"""

import copy
import json

from oslo_db import api as oslo_db_api
from oslo_log import log as logging

from nova import exception
from nova import orchestration as orc
from nova.conductor.workflows import base
from nova.conductor.workflows import delete_instance
import nova.conf
from nova.db import actions as actions_db
from nova.db import fencing

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

EVENT_PREFIX = 'conductor_'

#: The engine tells a listener of a transition once and ignores its
#: errors, so a write that failed on a dropped connection or a deadlock
#: (a database failover, the conductor's sessions killed) would be lost
#: for good: a step's event never started or left unfinished, a waiting
#: delete woken only by its timeout. Such a write is made again, a few
#: times (see InstanceWorkflowListener._tell).
_retry_db_errors = oslo_db_api.wrap_db_retry(
    max_retries=3,
    retry_interval=0.25,
    inc_retry_interval=True,
    retry_on_disconnect=True,
    retry_on_deadlock=True,
)


#: The result of the event of a step whose execution is over, by the
#: state of the step's row. A step reverted or being reverted without a
#: finished event had failed, or was aborted while it ran.
_RESULT_OF_FINISHED = {
    orc.states.SUCCESS: 'Success',
    orc.states.FAILURE: 'Error',
    orc.states.REVERTING: 'Error',
    orc.states.REVERTED: 'Error',
    orc.states.REVERT_FAILURE: 'Error',
}


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
        try:
            self._tell(event, tries=[])
        except exception.StaleWorkflowGeneration as exc:
            LOG.info(
                'Action %s: the %s of step %s is not recorded: %s',
                self.action_id,
                event.state,
                event.name,
                exc,
            )

    def _fenced_context(self, workflow_id, generation):
        """The context to write with for an owner at ``generation`` (a
        copy: the listener may tell events of several generations)."""
        if generation is None:
            return self.context
        return fencing.fenced(copy.copy(self.context), workflow_id, generation)

    @_retry_db_errors
    def _tell(self, event, tries):
        """Write what ``event`` means; ``tries`` counts the calls.

        Each write is safe to make again: starting an event reuses the
        step's open row, a delete's wake-up is cast after the only reads
        that may fail, and a finish tried again only finishes an open
        row: if a connection dropped during the COMMIT of the first try,
        that may have committed, and adding a finished row then would
        record the step twice.
        """
        tries.append(event)
        again = len(tries) > 1
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
        context = self._fenced_context(event.workflow_id, event.generation)
        if event.state == orc.states.RUNNING:
            actions_db.event_start(
                context, self.action_id, name, host=CONF.host
            )
        elif event.state == orc.states.SUCCESS:
            actions_db.event_finish(
                context, self.action_id, name, 'Success', open_only=again
            )
        elif event.state == orc.states.FAILURE:
            traceback = event.failure.traceback if event.failure else None
            actions_db.event_finish(
                context,
                self.action_id,
                name,
                'Error',
                traceback=traceback,
                open_only=again,
            )

    @_retry_db_errors
    def close_finished(self, tasks, workflow_id=None, generation=None):
        """Finish the events of the steps that ``tasks`` (the workflow's
        task rows) show finished; -> how many it finished or added.
        Fenced by ``generation`` of ``workflow_id`` when given (the
        claim of the conductor closing them).

        A step's open event is finished with the row's end time; a
        finished step with no event at all (its start was never told
        either) gets a finished one. A step with only finished events
        is left alone, so this is idempotent, and safe to make again
        after a write whose commit's answer was lost (each call reads
        the events first).
        """
        finished = [
            task
            for task in tasks
            if task['name'] in self.step_names
            and task['state'] in _RESULT_OF_FINISHED
        ]
        if not finished:
            return 0
        context = self._fenced_context(workflow_id, generation)
        recorded = {}
        for event in actions_db.events_get(self.context, self.action_id):
            recorded.setdefault(event['event'], []).append(event)
        closed = 0
        for task in finished:
            name = EVENT_PREFIX + task['name']
            events = recorded.get(name, [])
            if events and all(e['finish_time'] is not None for e in events):
                continue
            result = _RESULT_OF_FINISHED[task['state']]
            LOG.info(
                'Action %s: closing the event %s left %s by a conductor '
                'that stopped (step %s)',
                self.action_id,
                name,
                'open' if events else 'unrecorded',
                task['state'],
            )
            actions_db.event_finish(
                context,
                self.action_id,
                name,
                result,
                traceback=_traceback(task) if result == 'Error' else None,
                start_time=task['started_at'],
                finish_time=task['finished_at'] or task['revert_started_at'],
            )
            closed += 1
        return closed


def _traceback(task):
    """The traceback of a task row's failure, or None."""
    if not task['failure']:
        return None
    return orc.Failure.from_dict(json.loads(task['failure'])).traceback


def close_finished_events(backend, workflow_id, listeners, generation=None):
    """Close the action events that the dead owner of ``workflow_id``
    left open (see :meth:`InstanceWorkflowListener.close_finished`).

    Call it when a conductor has claimed a workflow, before running it,
    with the ``generation`` of its claim: the engine's rows are then
    this conductor's to read, and no listener of the workflow writes
    meanwhile. ``listeners`` are the workflow's (those
    :func:`recorder_for` gives). Errors are logged, never raised:
    closing the events must not keep the workflow from running.
    """
    recorders = [
        listener
        for listener in listeners
        if isinstance(listener, InstanceWorkflowListener)
    ]
    if not recorders:
        return
    try:
        _row, tasks = backend.load(workflow_id)
        for recorder in recorders:
            recorder.close_finished(tasks, workflow_id, generation)
    except exception.StaleWorkflowGeneration as exc:
        LOG.info(
            'Workflow %s: adopted away before its events were closed: %s',
            workflow_id,
            exc,
        )
    except Exception:
        LOG.exception(
            'Workflow %s: the action events of its finished steps could '
            'not be closed (they stay open; the workflow runs on)',
            workflow_id,
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
