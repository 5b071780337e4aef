"""Nova's exceptions: a message format and the HTTP code the API maps
each to, as in stock nova. Raise with keyword arguments for the format.
"""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class NovaException(Exception):
    """Base of nova's exceptions; ``msg_fmt % kwargs`` is the message."""

    msg_fmt = 'An unknown exception occurred.'
    code = 500
    safe = False

    def __init__(self, message=None, **kwargs):
        self.kwargs = dict(kwargs, code=kwargs.get('code', self.code))
        if not message:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                LOG.exception(
                    'Bad arguments %s for %s', kwargs, type(self).__name__
                )
                message = self.msg_fmt
        self.message = message
        super().__init__(message)

    def format_message(self):
        return self.args[0]


class Invalid(NovaException):
    """Bad input: 400."""

    msg_fmt = 'Bad Request - Invalid Parameters'
    code = 400


class InvalidInput(Invalid):
    """Input that fails a semantic check."""

    msg_fmt = 'Invalid input received: %(reason)s'


class MalformedRequestBody(Invalid):
    """A request body that names no single action."""

    msg_fmt = 'Malformed message body: %(reason)s'


class InvalidKeyName(Invalid):
    """A server's key_name that is none of the caller's key pairs."""

    msg_fmt = 'Invalid key_name provided.'


class InvalidKeypair(Invalid):
    """A key pair's name or public key nova cannot take."""

    msg_fmt = 'Keypair data is invalid: %(reason)s'


class ValidationError(Invalid):
    """A request body or query that fails its JSON schema."""

    msg_fmt = '%(detail)s'


class InvalidUUID(Invalid):
    """A malformed UUID."""

    msg_fmt = 'Expected a uuid but received %(uuid)s.'


class InvalidRequest(Invalid):
    """A request that cannot be served as asked."""

    msg_fmt = 'The request is invalid.'


class InvalidSortKey(Invalid):
    """An unknown sort key."""

    msg_fmt = 'Sort key supplied is invalid: %(key)s'


class MarkerNotFound(NovaException):
    """Pagination marker of no item: 400 as in nova."""

    msg_fmt = 'Marker %(marker)s could not be found.'
    code = 400


class NotFound(NovaException):
    """Missing resource: 404."""

    msg_fmt = 'Resource could not be found.'
    code = 404


class KeypairNotFound(NotFound):
    """No such key pair of the user."""

    msg_fmt = 'Keypair %(name)s not found for user %(user_id)s'


class MetadataItemNotFound(NotFound):
    """No such metadata key on the server."""

    msg_fmt = 'Metadata item was not found'


class InstanceNotFound(NotFound):
    """No such server (or not visible to the caller)."""

    msg_fmt = 'Instance %(instance_id)s could not be found.'


class FlavorNotFound(NotFound):
    """No such flavor."""

    msg_fmt = 'Flavor %(flavor_id)s could not be found.'


class ImageNotFound(NotFound):
    """No such image in the catalog."""

    msg_fmt = 'Image %(image_id)s could not be found.'


class NetworkNotFound(NotFound):
    """No such network."""

    msg_fmt = 'Network %(network_id)s could not be found.'


class ComputeHostNotFound(NotFound):
    """No compute node on that host."""

    msg_fmt = 'Compute host %(host)s could not be found.'


class ServiceNotFound(NotFound):
    """No such service."""

    msg_fmt = 'Service %(service_id)s could not be found.'


class InstanceActionNotFound(NotFound):
    """No action of that request id on the server."""

    msg_fmt = (
        'Action for request_id %(request_id)s on instance'
        ' %(instance_uuid)s not found'
    )


class WorkflowNotFound(NotFound):
    """No workflow with that id."""

    msg_fmt = 'Workflow %(workflow_id)s could not be found.'


class Forbidden(NovaException):
    """Not allowed: 403."""

    msg_fmt = 'Forbidden'
    code = 403


class KeypairLimitExceeded(Forbidden):
    """More key pairs than ``[quota] key_pairs``."""

    msg_fmt = 'Quota exceeded, too many key pairs.'


class MetadataLimitExceeded(Forbidden):
    """More metadata items than ``[quota] metadata_items``."""

    msg_fmt = 'Maximum number of metadata items exceeds %(allowed)d'


class PolicyNotAuthorized(Forbidden):
    """Policy denies the action."""

    msg_fmt = "Policy doesn't allow %(action)s to be performed."


class OverQuota(Forbidden):
    """A project limit would be exceeded (403 as nova's create)."""

    msg_fmt = 'Quota exceeded for resources: %(overs)s'


class TooManyInstances(OverQuota):
    """Server create beyond the project's quota."""

    msg_fmt = (
        'Quota exceeded for %(overs)s: Requested %(req)s, but'
        ' already used %(used)s of %(allowed)s %(overs)s'
    )


class Conflict(NovaException):
    """State conflict: 409."""

    msg_fmt = 'Conflict'
    code = 409


class InstanceInvalidState(Conflict):
    """The server's state does not allow the request."""

    msg_fmt = (
        'Cannot \'%(method)s\' instance %(instance_uuid)s while it'
        ' is in %(attr)s %(state)s'
    )


class NoValidHost(NovaException):
    """The scheduler found no host for the request."""

    msg_fmt = 'No valid host was found. %(reason)s'


class MaxRetriesExceeded(NoValidHost):
    """Every alternate host failed."""

    msg_fmt = 'Exceeded maximum number of retries. %(reason)s'


class ComputeResourcesUnavailable(NovaException):
    """A claim does not fit on the compute node (host-specific)."""

    msg_fmt = 'Insufficient compute resources: %(reason)s.'


class RescheduledException(NovaException):
    """A host-specific build failure: try the next alternate."""

    msg_fmt = (
        'Build of instance %(instance_uuid)s was re-scheduled: %(reason)s'
    )


class UnexpectedTaskStateError(Conflict):
    """A workflow's write found the server in another task than its
    own (another request took it meanwhile)."""

    msg_fmt = (
        'Unexpected task state: expecting %(expected)s but the actual '
        'state is %(actual)s'
    )


class UnexpectedDeletingTaskStateError(UnexpectedTaskStateError):
    """... and that request is a DELETE: the delete owns the server."""


class KeyPairExists(Conflict):
    """The user has a key pair of that name already."""

    msg_fmt = "Key pair '%(key_name)s' already exists."


class InstanceNotReady(Conflict):
    """The server is on no host (yet): nothing there to act on."""

    msg_fmt = 'Instance %(instance_id)s is not ready'


class InstanceIsLocked(Conflict):
    """A non-admin acted on a locked server."""

    msg_fmt = 'Instance %(instance_uuid)s is locked'


class InstanceNotRunning(Invalid):
    """A guest that must run for the operation does not."""

    msg_fmt = 'Instance %(instance_id)s is not running.'


class InstanceInvalidPowerState(Invalid):
    """The guest's power state does not allow the operation."""

    msg_fmt = 'Instance %(instance_id)s is in power state %(state)s.'


class ComputeHostDown(NovaException):
    """A compute host did not answer and its service is down: a host
    failure, not worth calling it again (see
    nova.conductor.workflows.compute_hosts)."""

    msg_fmt = 'Compute host %(host)s is down: its nova-compute does not report'


class FixedIpNotAvailable(NovaException):
    """The network has no free address."""

    msg_fmt = 'No fixed IP addresses available for network %(network)s'


class StaleWorkflowGeneration(NovaException):
    """A compute operation from a conductor that lost its workflow.

    Compute hosts refuse it so that a paused conductor, adopted away,
    cannot act a second time.
    """

    msg_fmt = (
        'Workflow %(workflow_id)s generation %(generation)s is'
        ' stale (current %(current)s); refusing %(operation)s'
    )


class InstanceDeployFailure(NovaException):
    """The hypervisor failed to spawn the server."""

    msg_fmt = 'Failed to deploy instance: %(reason)s'
