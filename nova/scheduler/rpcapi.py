"""Client side of the scheduler RPC API.

API version history:

* 1.0 - select_destinations(request_spec)
"""

import oslo_messaging as messaging

from nova import rpc

RPC_TOPIC = 'scheduler'


class SchedulerAPI:
    """Calls nova-scheduler; any scheduler on the topic may answer."""

    VERSION_CAP = '1.0'

    def __init__(self):
        self._client = None

    @property
    def client(self):
        """The RPC client, created on first use (after rpc setup)."""
        if self._client is None:
            target = messaging.Target(topic=RPC_TOPIC, version='1.0')
            self._client = rpc.get_client(target, version_cap=self.VERSION_CAP)
        return self._client

    def select_destinations(self, ctxt, request_spec: dict) -> list:
        """Host dicts ``{'host', 'nodename', 'compute_node_id'}``.

        The selected host first, then alternates (distinct hosts, at
        most ``[scheduler] max_attempts`` entries).

        :raises nova.exception.NoValidHost: when no host passes.
        """
        version = '1.0'
        cctxt = self.client.prepare(version=version)
        return cctxt.call(
            ctxt, 'select_destinations', request_spec=request_spec
        )
