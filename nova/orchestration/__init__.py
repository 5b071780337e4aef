"""nova.orchestration: workflows of tasks with revert, retry, persistence,
resume after a crash, and fenced ownership for many conductors.

A general library: it imports nothing else from nova. See
``doc/source/orchestration`` and design section 4.
"""

from nova.orchestration import persistence
from nova.orchestration import retry
from nova.orchestration import states
from nova.orchestration.describe import describe_workflow
from nova.orchestration.engine import Engine
from nova.orchestration.engine import EnginePolicy
from nova.orchestration.engine import Event
from nova.orchestration.exceptions import Aborted
from nova.orchestration.exceptions import FlowChanged
from nova.orchestration.exceptions import InvalidFlow
from nova.orchestration.exceptions import InvalidTransition
from nova.orchestration.exceptions import MissingRequirement
from nova.orchestration.exceptions import NotSerializable
from nova.orchestration.exceptions import OrchestrationError
from nova.orchestration.exceptions import OwnershipLost
from nova.orchestration.exceptions import ResultTooLarge
from nova.orchestration.exceptions import SchemaMissing
from nova.orchestration.exceptions import TaskTimeout
from nova.orchestration.exceptions import UnknownFactory
from nova.orchestration.exceptions import WorkflowFailed
from nova.orchestration.exceptions import WorkflowNotFound
from nova.orchestration.factory import flow_factory
from nova.orchestration.failure import Failure
from nova.orchestration.failure import WrappedFailure
from nova.orchestration.flow import GraphFlow
from nova.orchestration.flow import LinearFlow
from nova.orchestration.flow import UnorderedFlow
from nova.orchestration.retry import Retry
from nova.orchestration.task import Pending
from nova.orchestration.task import Task


def request_abort(workflow_id, backend, connection=None):
    """Ask the owner of ``workflow_id`` to revert it at its next task boundary.

    Returns False when the workflow already finished. WorkflowNotFound if
    absent. With ``connection`` the request is part of the caller's
    transaction (see ``Backend.request_abort``).
    """
    return backend.request_abort(workflow_id, connection=connection)


__all__ = [
    'Aborted',
    'Engine',
    'EnginePolicy',
    'Event',
    'Failure',
    'FlowChanged',
    'GraphFlow',
    'InvalidFlow',
    'InvalidTransition',
    'LinearFlow',
    'MissingRequirement',
    'NotSerializable',
    'OrchestrationError',
    'OwnershipLost',
    'Pending',
    'ResultTooLarge',
    'Retry',
    'SchemaMissing',
    'Task',
    'TaskTimeout',
    'UnknownFactory',
    'UnorderedFlow',
    'WorkflowFailed',
    'WorkflowNotFound',
    'WrappedFailure',
    'describe_workflow',
    'flow_factory',
    'persistence',
    'request_abort',
    'retry',
    'states',
]
