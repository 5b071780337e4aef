"""What every instance workflow step shares.

Steps receive the caller's context as a dict from the workflow store and
their fencing coordinates (``workflow_id``, ``workflow_generation``) from
the engine; every compute RPC carries the latter so that a conductor
that lost the workflow cannot act on a host.
"""

from oslo_db import api as oslo_db_api
from oslo_log import log as logging
import oslo_messaging as messaging

from nova import context as nova_context
from nova import exception
from nova import orchestration as orc
from nova.compute import vm_states
from nova.db import actions as actions_db
from nova.db import api as db_api
from nova.db import fencing
from nova.db import instances as instances_db

LOG = logging.getLogger(__name__)


def request_context(context):
    """A RequestContext from the dict stored in the workflow."""
    if isinstance(context, nova_context.RequestContext):
        return context
    return nova_context.RequestContext.from_dict(context)


def step_context(context, workflow_id, workflow_generation):
    """The context a step acts with: the caller's, fenced.

    Every DB write made with it checks, in its own transaction, that the
    workflow was not adopted by another conductor (nova.db.fencing).
    """
    return fencing.fenced(request_context(context), workflow_id,
                          workflow_generation)


#: A lost database connection or a deadlock inside a step means the
#: transaction did not happen: run the (idempotent) step again, a few
#: times with a growing pause, before failing it. The server cuts the
#: transactions of a conductor stalled past half a lease (see
#: nova.db.api), and a database failover drops every connection.
#: The same for an RPC call whose reply never came (a broker restart
#: loses replies in flight): the calls a step makes are fenced and
#: idempotent, so the step is simply run again.
_retry_db_errors = oslo_db_api.wrap_db_retry(
    max_retries=3, retry_interval=0.5, inc_retry_interval=True,
    retry_on_disconnect=True, retry_on_deadlock=True,
    exception_checker=lambda exc: isinstance(exc,
                                             messaging.MessagingTimeout))


class Step(orc.Task):
    """A nova workflow step.

    Every nova step is written to be run again after a crash: reads, or
    writes that find what an earlier run created (claims unique per
    instance and node, one fixed IP per instance and network, BDMs per
    instance, a spawn of a running instance is a no-op). So a step found
    RUNNING after its conductor died is re-executed, not failed, and a
    step interrupted by a database disconnect or deadlock is run again in
    place. A step that cannot be must set ``idempotent = False``.
    """

    idempotent = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.idempotent:
            for name in ('execute', 'revert'):
                if name in cls.__dict__:
                    setattr(cls, name, _retry_db_errors(cls.__dict__[name]))


class InstanceTask(Step):
    """A step on one instance; sets ``task_state`` when it starts."""

    #: The instance task_state shown while this step runs (None: unchanged).
    task_state = None

    def set_task_state(self, ctxt, instance_uuid):
        if self.task_state is not None:
            instances_db.update(ctxt, instance_uuid,
                                {'task_state': self.task_state})


class MarkErrorOnRevert(Step):
    """Sentinel first step: on revert, the user sees ERROR and why.

    Whatever fails later, the revert pass ends here, so no failure path
    can forget to tell the user (Octavia's *ToErrorOnRevertTask). An
    abort (the server is being deleted) is not an error: the delete
    workflow owns the instance then.
    """

    def __init__(self, action_name, **kwargs):
        super().__init__(**kwargs)
        self.action_name = action_name

    def execute(self, context, instance_uuid, action_id):
        # Nothing to do; declaring the arguments makes the engine hand
        # them to revert().
        pass

    def revert(self, context, instance_uuid, action_id, flow_failures,
               workflow_id, workflow_generation, **kwargs):
        ctxt = step_context(context, workflow_id, workflow_generation)
        failure = _first_failure(flow_failures)
        if failure is not None and failure.check(orc.Aborted):
            LOG.info('Instance %s: %s aborted', instance_uuid,
                     self.action_name)
            actions_db.action_finish(ctxt, action_id, message='Aborted')
            return
        code, message, details = fault_from_failure(failure)
        try:
            set_error(ctxt, instance_uuid, code, message, details)
        except exception.InstanceNotFound:
            # Deleted meanwhile: nothing left to mark.
            LOG.info('Instance %s gone before it could be set ERROR',
                     instance_uuid)
        actions_db.action_finish(ctxt, action_id, message='Error')


@db_api.context_manager.writer
def set_error(context, instance_uuid, code, message, details=None):
    """ERROR with no task, and the fault saying why: one transaction, so
    nobody sees an ERROR server without its reason.
    """
    instances_db.update(context, instance_uuid, {
        'vm_state': vm_states.ERROR, 'task_state': None})
    actions_db.fault_create(context, instance_uuid, code, message, details)


def _first_failure(flow_failures):
    """The failure that started the revert, from the engine's map."""
    if not flow_failures:
        return None
    for failure in flow_failures.values():
        if failure is not None:
            return failure
    return None


def fault_from_failure(failure):
    """(code, message, details) of an instance fault, as nova records.

    A nova exception keeps its code (NoValidHost: 500 as in nova) and
    message, also after a resume when only its type name survives;
    anything else is a 500 with the exception's text. ``details`` is the
    traceback, shown to admins only.
    """
    if failure is None:
        return 500, 'Unknown error', None
    code = 500
    prefix = exception.__name__ + '.'
    for type_name in failure.exc_type_names:
        if type_name.startswith(prefix):
            cls = getattr(exception, type_name[len(prefix):], None)
            code = getattr(cls, 'code', 500)
            break
    return code, failure_message(failure), failure.traceback


def failure_message(failure):
    """The exception's own message, without the remote traceback that
    oslo.messaging appends to exceptions re-raised from another service.
    """
    args = failure.exc_args or ()
    if args and isinstance(args[0], str) and args[0]:
        return args[0]
    return (failure.message or failure.exc_type).split('\n')[0]
