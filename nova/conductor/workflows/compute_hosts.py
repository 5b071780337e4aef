"""Calls from workflow steps to compute hosts, and what a down host means.

A step that calls a compute host (make local disks, spawn in call mode,
destroy) waits out the RPC timeout when the host's process died. The
steps' in-place retries (nova.conductor.workflows.base) make such a call
again on a timeout, since a broker restart loses replies in flight: to a
dead host that only multiplies the wait (four timeouts, a minute each by
default, per attempt). So a call to a host whose nova-compute service is
down (no report for ``[DEFAULT] service_down_time``, or forced down)
either is not made, or, when it times out, raises ComputeHostDown, which
is not retried:

* in a build's execute it is a host failure: the build reverts its
  attempt there and tries the next alternate host
  (build_instance.HOST_FAILURES);
* in a revert or a delete, what the host holds of the instance (a
  guest, local disks) is left to the host: when it starts again, and
  every ``[compute] orphan_reap_interval``, it destroys each guest that
  no resource claim holds (ComputeManager.reap_orphans), and the revert
  or the delete releases the claim. Stock nova's delete of a server on
  a down host is "local" the same way, leaving the guest to the host's
  periodic cleanup.
"""

import contextlib
import functools

from oslo_log import log as logging
import oslo_messaging as messaging

from nova import exception
from nova.compute import rpcapi as compute_rpcapi
from nova.db import services as services_db

LOG = logging.getLogger(__name__)

COMPUTE_BINARY = 'nova-compute'


def is_down(context, host):
    """Whether ``host``'s nova-compute service is registered and down."""
    return bool(services_db.down_hosts(context, COMPUTE_BINARY, {host}))


@contextlib.contextmanager
def calling(context, host):
    """Around a call to ``host``: a timeout while the host is down
    raises ComputeHostDown instead."""
    try:
        yield
    except messaging.MessagingTimeout as exc:
        if is_down(context, host):
            raise exception.ComputeHostDown(host=host) from exc
        raise


def unless_down(context, instance_uuid, host, call, what):
    """``call()``, a clean-up of ``instance_uuid`` on ``host``, unless the
    host is down before or during it: then the host does it itself when
    it starts again (see the module's doc). ``what`` names the clean-up
    for the log.

    :returns: True if the call was made, False if left to the host.
    """
    if not is_down(context, host):
        try:
            with calling(context, host):
                call()
            return True
        except exception.ComputeHostDown:
            pass
    LOG.warning(
        'Instance %s: compute host %s is down; it will %s itself when it '
        'starts again (its guests that no claim holds are destroyed)',
        instance_uuid,
        host,
        what,
    )
    return False


def destroy_unless_down(context, instance, host, workflow_id, generation):
    """Destroy ``instance``'s guest on ``host`` (fenced by the caller's
    workflow), unless the host is down: see :func:`unless_down`."""
    return unless_down(
        context,
        instance['uuid'],
        host,
        functools.partial(
            compute_rpcapi.ComputeAPI().destroy,
            context,
            host,
            instance,
            workflow_id,
            generation,
        ),
        'destroy the guest',
    )


def cleanup_block_devices_unless_down(
    context, instance, host, bdms, workflow_id, generation
):
    """Remove ``instance``'s local disks (``bdms``) from ``host``, unless
    the host is down: see :func:`unless_down`."""
    return unless_down(
        context,
        instance['uuid'],
        host,
        functools.partial(
            compute_rpcapi.ComputeAPI().cleanup_block_devices,
            context,
            host,
            instance,
            bdms,
            workflow_id,
            generation,
        ),
        'remove the local disks',
    )
