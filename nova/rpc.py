"""oslo.messaging plumbing shared by every nova service.

``[DEFAULT] transport_url`` picks the broker: ``rabbit://...`` for a real
deployment (oslo.messaging's default), ``fake://`` (in-process) for
nova-all, which sets that default before parsing its configuration.
The request context travels with every message, so the receiver logs
under the caller's request id and acts with the caller's rights.
"""

import threading

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_serialization import jsonutils

from nova import context as nova_context
import nova.conf

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# The in-process transport of nova-all and the functional tests.
IN_PROCESS_URL = 'fake://'

# Exceptions of these modules raised by a remote manager are re-raised
# as themselves on the caller's side (NoValidHost, ...).
ALLOWED_EXMODS = ['nova.exception']

_lock = threading.Lock()
_transport = None


class JsonPayloadSerializer(messaging.NoOpSerializer):
    """Turn payloads into JSON primitives (datetimes, sets, ...)."""

    @staticmethod
    def serialize_entity(context, entity):
        return jsonutils.to_primitive(entity, convert_instances=True)


class RequestContextSerializer(messaging.Serializer):
    """Carry :class:`nova.context.RequestContext` across RPC."""

    def __init__(self, base=None):
        self._base = base or JsonPayloadSerializer()

    def serialize_entity(self, context, entity):
        return self._base.serialize_entity(context, entity)

    def deserialize_entity(self, context, entity):
        return self._base.deserialize_entity(context, entity)

    def serialize_context(self, context):
        return context.to_dict()

    def deserialize_context(self, context):
        return nova_context.RequestContext.from_dict(context)


def init(conf=CONF):
    """Create the process-wide transport (idempotent)."""
    global _transport
    with _lock:
        if _transport is None:
            url = conf.transport_url
            _transport = messaging.get_rpc_transport(
                conf, url=url, allowed_remote_exmods=ALLOWED_EXMODS
            )
            LOG.debug('RPC transport %s', url.split('@')[-1])
    return _transport


def cleanup():
    """Close the transport (service shutdown, tests)."""
    global _transport
    with _lock:
        if _transport is not None:
            _transport.cleanup()
            _transport = None


#: oslo.messaging's default ``rpc_response_timeout``, in seconds.
_RPC_TIMEOUT_DEFAULT = 60


def response_timeout():
    """Seconds an RPC call waits for its answer: the deployment's
    ``rpc_response_timeout`` (registered by oslo.messaging once a
    transport exists; its default before)."""
    return getattr(CONF, 'rpc_response_timeout', _RPC_TIMEOUT_DEFAULT)


def get_client(target, version_cap=None, timeout=None):
    """An RPC client of ``target`` on the process transport."""
    return messaging.get_rpc_client(
        init(),
        target,
        version_cap=version_cap,
        timeout=timeout,
        serializer=RequestContextSerializer(),
    )


def get_server(target, endpoints):
    """An RPC server of ``endpoints`` on threads (never eventlet)."""
    return messaging.get_rpc_server(
        init(),
        target,
        endpoints,
        executor='threading',
        serializer=RequestContextSerializer(),
    )
