"""Exceptions raised by nova.orchestration.

Every error names what went wrong (workflow id, task name, state, event)
so that an operator reading a log line knows what to look at.
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
    importable.

    ``factory`` and ``version`` name what was looked up,
    ``registered_versions`` what is registered under that name, and
    ``import_error`` the ImportError of the factory's module when it exists
    but failed to import (each None when unknown).
    """

    def __init__(
        self,
        message=None,
        *,
        factory=None,
        version=None,
        registered_versions=None,
        import_error=None,
    ):
        if message is None:
            message = (
                'flow factory %r version %s is not registered (registered '
                'versions: %s); import the module defining it'
                % (factory, version, list(registered_versions or ()) or 'none')
            )
        super().__init__(message)
        self.factory = factory
        self.version = version
        self.registered_versions = registered_versions
        self.import_error = import_error


class WorkflowNotFound(OrchestrationError):
    """No workflow row has this id."""

    def __init__(self, message=None, *, workflow_id=None):
        if message is None:
            message = 'workflow %s not found' % workflow_id
        super().__init__(message)
        self.workflow_id = workflow_id


class SchemaMissing(OrchestrationError):
    """The workflow tables do not exist in the database: create them first."""

    def __init__(self, message=None, *, table=None, url=None):
        if message is None:
            message = (
                'the workflow tables do not exist in %s%s; create them with '
                'SQLBackend.upgrade() (or your service\'s migrations, e.g. '
                'nova-manage db sync)'
                % (url, ' (no table %s)' % table if table else '')
            )
        super().__init__(message)
        #: The missing table the database named.
        self.table = table
        #: The database URL, password hidden.
        self.url = url


class TaskTimeout(OrchestrationError):
    """A task ran (or waited for a completion) longer than its timeout."""


class Aborted(OrchestrationError):
    """The workflow was reverted because an abort was requested."""


class OwnershipLost(OrchestrationError):
    """Another owner claimed the workflow: this engine must stop without side
    effects.

    ``generation`` is the stale one this engine held; ``current_generation``,
    ``owner`` and ``lease_expires_at`` describe the row now (each None when
    unknown).
    """

    def __init__(
        self,
        message=None,
        *,
        workflow_id=None,
        generation=None,
        current_generation=None,
        owner=None,
        lease_expires_at=None,
    ):
        if message is None:
            message = 'workflow %s: ownership lost' % workflow_id
            if generation is not None:
                message = 'workflow %s: generation %s is stale' % (
                    workflow_id,
                    generation,
                )
            now = [
                '%s %s' % (label, value)
                for label, value in (
                    ('now', current_generation),
                    ('owner', owner),
                    ('lease until', lease_expires_at),
                )
                if value is not None
            ]
            if now:
                message += ' (%s)' % ', '.join(now)
        super().__init__(message)
        self.workflow_id = workflow_id
        self.generation = generation
        self.current_generation = current_generation
        self.owner = owner
        self.lease_expires_at = lease_expires_at


class AbortRequested(OrchestrationError):
    """Internal: a fenced write found abort_requested set (nothing was
    committed)."""

    def __init__(self, message=None, *, workflow_id=None):
        if message is None:
            message = 'workflow %s: abort requested' % workflow_id
        super().__init__(message)
        self.workflow_id = workflow_id


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
