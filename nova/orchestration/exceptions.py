"""Exceptions raised by nova.orchestration.

Every error names what went wrong (workflow id, task name, state, event) so
that
an operator reading a log line knows what to look at.
"""


class OrchestrationError(Exception):
    """Base class of every error raised by nova.orchestration."""


class InvalidFlow(OrchestrationError):
    """The flow is malformed: a cycle, a duplicate name, a bad link."""


class MissingRequirement(OrchestrationError):
    """A task requires a value that neither the store nor any earlier task
    provides."""


class NotSerializable(OrchestrationError):
    """A task result, failure or store value cannot be encoded as JSON."""

    def __init__(self, message, task=None):
        super().__init__(message)
        self.task = task


class ResultTooLarge(OrchestrationError):
    """An encoded task result or store is larger than the configured size
    cap."""

    def __init__(self, message, task=None):
        super().__init__(message)
        self.task = task


class InvalidTransition(OrchestrationError):
    """A state change that the declared transition table does not allow."""

    def __init__(self, kind, state, event, name=None):
        who = '%s %r' % (kind, name) if name else kind
        super().__init__(
            '%s: event %r is not allowed in state %s' % (who, event, state)
        )
        self.kind = kind
        self.state = state
        self.event = event
        self.name = name


class FlowChanged(OrchestrationError):
    """Resume refused: the factory now builds a flow whose steps differ from
    the rows."""


class UnknownFactory(OrchestrationError):
    """The flow factory named by a workflow row is not registered nor
    importable."""


class WorkflowNotFound(OrchestrationError):
    """No workflow row has this id."""


class TaskTimeout(OrchestrationError):
    """A task ran (or waited for a completion) longer than its timeout."""


class Aborted(OrchestrationError):
    """The workflow was reverted because an abort was requested."""


class OwnershipLost(OrchestrationError):
    """Another owner claimed the workflow: this engine must stop without side
    effects."""


class WorkflowFailed(OrchestrationError):
    """The workflow did not succeed; carries its Failure(s) by task name.

    ``state`` is REVERTED when every revert completed, FAILED when a revert
    itself failed (an operator must look at it).
    """

    def __init__(self, workflow_id, state, failures):
        self.workflow_id = workflow_id
        self.state = state
        self.failures = dict(failures)
        parts = [
            '%s: %s' % (name, f.brief()) for name, f in self.failures.items()
        ]
        super().__init__(
            'workflow %s ended %s: %s'
            % (workflow_id, state, '; '.join(parts) or 'no failure')
        )

    @property
    def failure(self):
        """The first Failure (the usual single-failure case), or None."""
        for f in self.failures.values():
            return f
        return None
