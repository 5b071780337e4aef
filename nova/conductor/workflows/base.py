"""What every instance workflow step shares.

A step's ``execute`` and ``revert`` name only their domain inputs
(``instance_uuid``, ``destination``, ...). While one of them runs, a
:class:`FencedStep` holds what it acts with, as Ironic's
``task_manager.acquire`` hands a task its context and its lock:

``self.context``
    the caller's request context from the workflow store, *fenced*: every
    DB write made with it checks, in its own transaction, that the
    workflow was not adopted by another conductor (nova.db.fencing);
``self.workflow_id``, ``self.workflow_generation``
    the fencing coordinates the engine supplies; every compute RPC
    carries them so that a conductor that lost the workflow cannot act
    on a host.
"""

import functools
import inspect
import threading

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
from nova.db import workflows as workflows_db

LOG = logging.getLogger(__name__)


def request_context(context):
    """A RequestContext from the dict stored in the workflow."""
    if isinstance(context, nova_context.RequestContext):
        return context
    return nova_context.RequestContext.from_dict(context)


#: oslo.db errors a service can only report back as a RemoteError (they
#: are not in nova.rpc.ALLOWED_EXMODS) that mean its transaction did not
#: happen: the call succeeds when made again once the database is back.
_TRANSIENT_REMOTE_DB_ERRORS = frozenset(('DBConnectionError', 'DBDeadlock'))


def is_transient_rpc_error(exc):
    """Whether an RPC call failed for a reason that making it again
    cures: no reply in time, or the callee lost its database connection
    or was a deadlock victim mid-request (a database failover, its
    sessions killed).

    Without the second, a scheduler or a compute whose database session
    was cut during the call failed the whole build: its RemoteError is
    neither a disconnect of the conductor's own nor a host failure.
    """
    if isinstance(exc, messaging.MessagingTimeout):
        return True
    return (
        isinstance(exc, messaging.RemoteError)
        and exc.exc_type in _TRANSIENT_REMOTE_DB_ERRORS
    )


#: A lost database connection or a deadlock inside a step means the
#: transaction did not happen: run the (idempotent) step again, a few
#: times with a growing pause, before failing it. The server cuts the
#: transactions of a conductor stalled past half a lease (see
#: nova.db.api), and a database failover drops every connection.
#: The same for an RPC call whose reply never came (a broker restart
#: loses replies in flight) or whose callee lost its own database
#: connection (is_transient_rpc_error): the calls a step makes are
#: fenced and idempotent, so the step is simply run again.
_retry_db_errors = oslo_db_api.wrap_db_retry(
    max_retries=3,
    retry_interval=0.5,
    inc_retry_interval=True,
    retry_on_disconnect=True,
    retry_on_deadlock=True,
    exception_checker=is_transient_rpc_error,
)


class StepCancelled(Exception):
    """The engine gave up on this execution (its timeout passed, or the
    workflow is aborting) while the step was about to run it again."""


def _unless_cancelled(method):
    """``method``, refused once the engine cancelled the execution.

    _retry_db_errors runs a step again in the same thread, after a delay,
    when a call or a write failed; by then the engine may have timed the
    step out and reverted it (the RPC call of a spawn and its step time
    out together). Running it again then would act after the revert (a
    spawning task state on a server in ERROR; a spawn cast nobody waits
    for): invariant I6, no execution starts after a step timed out.
    """

    @functools.wraps(method)
    def attempt(self, *args, **kwargs):
        if self.cancelled():
            raise StepCancelled(
                'step %s: the engine gave up on it; not run again' % self.name
            )
        return method(self, *args, **kwargs)

    return attempt


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

    #: The step's name, given once here and used by its flow, its action
    #: events, the docs and the tests. Workflow rows persist it: renaming
    #: a step is a change of its flow (bump the factory's version).
    name = None

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name or self.name, **kwargs)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.idempotent:
            for name in ('execute', 'revert'):
                if name in cls.__dict__:
                    setattr(
                        cls,
                        name,
                        _retry_db_errors(
                            _unless_cancelled(cls.__dict__[name])
                        ),
                    )


#: What a FencedStep's execute and revert are given besides their domain
#: inputs: the caller's context (a store input) and the two arguments the
#: engine supplies to the steps that declare them.
_WORKFLOW_ARGUMENTS = ('context', 'workflow_id', 'workflow_generation')

#: The workflow a thread's step runs for: set by FencedStep around its
#: execute and revert, read through self.context and friends. Per thread,
#: like orc.Task.cancelled(): the engine may run the revert of a step
#: whose timed-out execute still runs in another thread.
_running = threading.local()


class _Fence:
    """What a running step acts with (see :class:`FencedStep`)."""

    __slots__ = ('context', 'workflow_id', 'workflow_generation')

    def __init__(self, context, workflow_id, workflow_generation):
        self.context = fencing.fenced(
            request_context(context), workflow_id, workflow_generation
        )
        self.workflow_id = workflow_id
        self.workflow_generation = workflow_generation


def _fenced_call(method):
    """``method`` run under the fence of the workflow it is called for.

    The wrapper's signature is the method's plus ``context``,
    ``workflow_id`` and ``workflow_generation`` (keyword-only): the
    engine reads a step's inputs from its signature, so it passes them.
    """
    signature = inspect.signature(method)
    named = sorted(set(_WORKFLOW_ARGUMENTS) & set(signature.parameters))
    if named:
        raise TypeError(
            '%s declares %s: a FencedStep gets them as self.%s'
            % (method.__qualname__, ', '.join(named), named[0])
        )
    params = list(signature.parameters.values())
    var_kw = [p for p in params if p.kind == p.VAR_KEYWORD]
    params = (
        [p for p in params if p.kind != p.VAR_KEYWORD]
        + [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY)
            for name in _WORKFLOW_ARGUMENTS
        ]
        + var_kw
    )

    @functools.wraps(method)
    def call(self, *args, context, workflow_id, workflow_generation, **kwargs):
        outer = getattr(_running, 'fence', None)
        _running.fence = _Fence(context, workflow_id, workflow_generation)
        try:
            return method(self, *args, **kwargs)
        finally:
            _running.fence = outer

    call.__signature__ = signature.replace(parameters=params)
    return call


class FencedStep(Step):
    """A step acting for the workflow's caller, fenced by its generation.

    ``execute`` and ``revert`` declare only their domain inputs; while
    they run, ``self.context``, ``self.workflow_id`` and
    ``self.workflow_generation`` are set (see the module docstring).
    Each call builds its context afresh from the store, so every write
    of every run is fenced by the generation of the engine running it,
    as when each step built it itself.
    """

    def __init_subclass__(cls, **kwargs):
        # Before Step wraps them for retries: a run retried in place
        # gets a fresh context, not one a failed transaction was using.
        for name in ('execute', 'revert'):
            if name in cls.__dict__:
                setattr(cls, name, _fenced_call(cls.__dict__[name]))
        super().__init_subclass__(**kwargs)

    @staticmethod
    def _fence():
        fence = getattr(_running, 'fence', None)
        if fence is None:
            raise RuntimeError(
                'a step has a context only while its execute or revert runs'
            )
        return fence

    @property
    def context(self):
        """The caller's request context, fenced by the workflow."""
        return self._fence().context

    @property
    def workflow_id(self):
        """The id of the workflow this step runs for."""
        return self._fence().workflow_id

    @property
    def workflow_generation(self):
        """The generation of the engine running this step."""
        return self._fence().workflow_generation


class InstanceTask(FencedStep):
    """A step on one instance; sets ``task_state`` when it starts."""

    #: The instance task_state shown while this step runs (None: unchanged).
    task_state = None

    def set_task_state(self, instance_uuid):
        if self.task_state is not None:
            instances_db.update(
                self.context, instance_uuid, {'task_state': self.task_state}
            )


class MarkErrorOnRevert(FencedStep):
    """Sentinel first step: on revert, the user sees ERROR and why.

    Whatever fails later, the revert pass ends here, so no failure path
    can forget to tell the user (Octavia's *ToErrorOnRevertTask). An
    abort is an error too, unless a delete of the instance asked for it
    (see :func:`finish_revert`). With ``keep_vm_state`` the server keeps
    its vm_state and only loses its task_state (an action that failed
    without harming the server).
    """

    name = 'mark_error_on_revert'

    def __init__(self, action_name, keep_vm_state=False, **kwargs):
        super().__init__(**kwargs)
        self.action_name = action_name
        self.keep_vm_state = keep_vm_state

    def execute(self, instance_uuid, action_id):
        # Nothing to do; declaring the arguments makes the engine hand
        # them to revert().
        pass

    def revert(self, instance_uuid, action_id, flow_failures, **kwargs):
        finish_revert(
            self.context,
            instance_uuid,
            action_id,
            self.action_name,
            self.workflow_id,
            flow_failures,
            keep_vm_state=self.keep_vm_state,
        )


#: The name of nova.conductor.workflows.delete_instance, which builds on
#: this module: the sentinel asks whether one runs.
DELETE_WORKFLOW = 'delete_instance'


#: The messages of an action whose workflow reverted: the server is in
#: error, or left to the delete that aborted the workflow.
ACTION_ERROR = 'Error'
ACTION_ABORTED = 'Aborted'


def finish_revert(
    context,
    instance_uuid,
    action_id,
    action_name,
    workflow_id,
    flow_failures,
    keep_vm_state=False,
):
    """The end of a reverted workflow on an instance, as the user sees it.

    ``keep_vm_state``: a failed action that left the server as it was
    (a stop the host refused, say) clears its task_state and records the
    fault, but leaves its vm_state, as stock nova's
    ``reverts_task_state`` does; else the server goes to ERROR.

    What the sentinel's revert does, and what the conductor does itself
    for a workflow aborted before its sentinel ran (the engine reverts
    only steps that ran). A failure leaves the instance ERROR with a
    fault. So does an abort, unless a delete asked for it: nova aborts a
    workflow only to delete its instance (the compute API writes the
    abort request with the delete workflow, whose stop_build step asks
    again), and that delete owns the instance and goes on. Any other
    abort is an operator's (``nova-manage workflow abort``): nothing
    will drive the instance any more, so it must not stay BUILDING.

    Run again, it does nothing: the engine records the revert done in a
    commit of its own, so a process that died after the revert's writes
    but before that commit runs it again when the workflow is resumed.
    The first run decided (its action finished with a revert's message);
    another would record the fault twice, or change its mind about who
    owns an abort.
    """
    if _revert_finished(context, action_id):
        LOG.info(
            'Instance %s: %s already reverted (action %s finished); '
            'nothing to do',
            instance_uuid,
            action_name,
            action_id,
        )
        return
    failure = _first_failure(flow_failures)
    if failure is not None and failure.check(
        orc.Aborted, exception.UnexpectedDeletingTaskStateError
    ):
        if aborted_by_delete(context, instance_uuid, workflow_id):
            LOG.info(
                'Instance %s: %s aborted for its delete',
                instance_uuid,
                action_name,
            )
            actions_db.action_finish(
                context, action_id, message=ACTION_ABORTED
            )
            return
        code, details = 500, None
        message = (
            'Server %s aborted by an operator (nova-manage workflow '
            'abort %s)' % (action_name, workflow_id)
        )
        LOG.warning('Instance %s: %s', instance_uuid, message)
    else:
        code, message, details = fault_from_failure(failure)
    _finish_in_error(
        context,
        instance_uuid,
        action_id,
        code,
        message,
        details,
        vm_state=None if keep_vm_state else vm_states.ERROR,
    )


def _revert_finished(context, action_id):
    """Whether a revert finished ``action_id`` (see finish_revert)."""
    action = actions_db.action_get(context, action_id)
    return (
        action is not None
        and action['finish_time'] is not None
        and action['message'] in (ACTION_ERROR, ACTION_ABORTED)
    )


@db_api.context_manager.writer
def _finish_in_error(
    context,
    instance_uuid,
    action_id,
    code,
    message,
    details,
    vm_state=vm_states.ERROR,
):
    """``vm_state`` (None: unchanged) with no task and its fault, and the
    action finished in error: one transaction, made once.

    In several, a crash between them left the fault written and the
    action open, and the revert run again wrote the fault a second time
    (found by nova/tests/integration/test_crash_points.py). The check
    that no earlier run did it is in the transaction too, after the
    fence's share lock on the workflow row.
    """
    fencing.check(context, 'finish the revert of action %s' % action_id)
    if _revert_finished(context, action_id):
        return
    try:
        set_error(context, instance_uuid, code, message, details, vm_state)
    except exception.InstanceNotFound:
        # Deleted meanwhile: nothing left to mark.
        LOG.info(
            'Instance %s gone before it could be set ERROR', instance_uuid
        )
    actions_db.action_finish(context, action_id, message=ACTION_ERROR)


def aborted_by_delete(context, instance_uuid, workflow_id):
    """Whether a delete of the instance owns the abort of ``workflow_id``:
    a delete_instance workflow of the instance other than it is still
    unfinished, or the instance is already deleted.

    The delete's workflow row commits with its abort requests (one
    transaction in the compute API), so it is there when the aborted
    workflow reverts. The aborted workflow's own row never counts:
    nothing in nova aborts a delete, so an aborted delete is an
    operator's doing, unless another delete of the server goes on.
    """
    rows = workflows_db.unfinished_workflows(
        context, 'instance', instance_uuid
    )
    if any(
        row['name'] == DELETE_WORKFLOW and row['id'] != workflow_id
        for row in rows
    ):
        return True
    try:
        instances_db.get(context, instance_uuid)
    except exception.InstanceNotFound:
        return True
    return False


@db_api.context_manager.writer
def set_error(
    context,
    instance_uuid,
    code,
    message,
    details=None,
    vm_state=vm_states.ERROR,
):
    """ERROR (or ``vm_state``; None: unchanged) with no task, and the
    fault saying why: one transaction, so nobody sees an ERROR server
    without its reason.
    """
    values = {'task_state': None}
    if vm_state is not None:
        values['vm_state'] = vm_state
    instances_db.update(context, instance_uuid, values)
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
            cls = getattr(exception, type_name[len(prefix) :], None)
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
