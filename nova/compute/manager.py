"""nova-compute's RPC endpoint: the per-host steps of a workflow.

The conductor calls these methods on topic ``compute`` with server
``<host>``; each one drives the host's virt driver. Calls that carry a
``(workflow_id, generation)`` are fenced: if the workflow was adopted by
another conductor since the caller claimed it (its generation is now
higher), or is gone, the call is refused with StaleWorkflowGeneration
before touching the hypervisor, so a conductor that was paused and lost
its lease cannot act a second time beside the new owner.

The manager also reports the host's capacity into ``compute_nodes`` at
start and every ``[compute] resource_report_interval`` seconds.
"""

import collections
import threading

from futurist import periodics
from oslo_concurrency import lockutils
from oslo_log import log as logging
import oslo_messaging as messaging

from nova import context as nova_context
from nova import exception
from nova import orchestration as orc
from nova.conductor import rpcapi as conductor_rpcapi
import nova.conf
from nova.db import api as db_api
from nova.db import block_device as block_device_db
from nova.db import compute_nodes
from nova.db import fencing

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


@db_api.context_manager.writer
def _check_fence(context, operation):
    """nova.db.fencing.check in a transaction of its own, on the primary.

    Its share lock ends with this short transaction: the hypervisor
    operation that follows cannot be part of it. What the check gives
    is that a call from a conductor adopted away is refused before it
    acts.
    """
    fencing.check(context, operation)


#: How many destroyed (instance, workflow, generation) to remember.
_TOMBSTONES = 10000


class ComputeManager:
    """Per-host endpoint of the compute RPC API (version 1.1)."""

    target = messaging.Target(version='1.1')

    def __init__(self, host, driver):
        self.host = host
        self.driver = driver
        # (instance uuid, workflow id, generation) destroyed here: a spawn
        # cast of that same workflow generation arriving afterwards (its
        # step was reverted before the cast was consumed) must not boot.
        self._tombstones = collections.OrderedDict()
        self._tombstones_lock = threading.Lock()

    def __repr__(self):
        return '<ComputeManager %s>' % self.host

    # -- service hooks (nova.service.Service) --------------------------

    def init_host(self):
        """Prepare the driver and report capacity before serving RPC, so
        the scheduler can place builds on this host at once."""
        self.driver.init_host()
        self.report_capacity(nova_context.get_admin_context())

    def pre_stop(self):
        """Interrupt long driver operations so the stop does not wait.

        The service calls this before it waits for the RPC calls in
        flight: the driver's cleanup_host makes those end now (a spawn
        interrupted so fails, and its workflow tries another host).
        It is the driver's only cleanup: once the calls have ended there
        is nothing left to release, so this manager has no cleanup_host.
        """
        self.driver.cleanup_host()

    def periodic_tasks(self):
        """The capacity report, every resource_report_interval seconds."""

        @periodics.periodic(
            CONF.compute.resource_report_interval, run_immediately=False
        )
        def report_capacity():
            try:
                self.report_capacity(nova_context.get_admin_context())
            except Exception:
                # A DB outage must not stop the periodic: report next time.
                LOG.exception('Capacity report of %s failed', self.host)

        return [report_capacity]

    def report_capacity(self, context):
        """Write the driver's capacity into the host's compute node."""
        resources = self.driver.get_available_resource()
        node = compute_nodes.update_capacity(context, self.host, resources)
        LOG.debug(
            'Compute node %s reported: %s vCPU, %s MB, %s GB',
            node['hypervisor_hostname'],
            node['vcpus'],
            node['memory_mb'],
            node['local_gb'],
        )
        return node

    # -- fencing -------------------------------------------------------

    def _check_generation(self, context, workflow_id, generation, operation):
        """Refuse a call from a conductor that no longer owns its workflow.

        Not fenced when workflow_id or generation is None (operations not
        driven by a workflow).

        :raises StaleWorkflowGeneration: the workflow was adopted by
            another conductor since the caller claimed it, or is gone.
        """
        if workflow_id is None or generation is None:
            return
        # A copy: the caller's context must not stay fenced for what it
        # does next.
        fenced = fencing.fenced(
            nova_context.RequestContext.from_dict(context.to_dict()),
            workflow_id,
            generation,
        )
        try:
            _check_fence(fenced, operation)
        except exception.StaleWorkflowGeneration as exc:
            LOG.warning('Refusing %s on %s: %s', operation, self.host, exc)
            raise

    # -- RPC methods ---------------------------------------------------

    def spawn(
        self,
        context,
        instance,
        network_info,
        block_device_info,
        workflow_id=None,
        generation=None,
        admin_password=None,
    ):
        """Boot the instance (idempotent by uuid); return its info dict.

        :raises InstanceDeployFailure: the driver failed (any unexpected
            driver error is reported as this, so callers can revert).
        """
        self._check_generation(context, workflow_id, generation, 'spawn')
        try:
            return self.driver.spawn(
                instance,
                network_info=network_info,
                block_device_info=block_device_info,
                admin_password=admin_password,
            )
        except exception.NovaException:
            raise
        except Exception as exc:
            LOG.exception(
                'Spawn of %s on %s failed', instance['uuid'], self.host
            )
            raise exception.InstanceDeployFailure(
                reason='%s: %s' % (type(exc).__name__, exc)
            ) from exc

    def spawn_and_report(
        self,
        context,
        instance,
        network_info,
        block_device_info,
        workflow_id,
        generation,
        task_name,
        token,
        admin_password=None,
    ):
        """Spawn, then report the outcome to the conductors (a cast).

        The conductor's step waits with no thread for this report; the
        step's timeout catches a report that never comes.
        """
        result = failure = None
        key = (instance['uuid'], workflow_id, generation)
        try:
            # The check and the spawn are one critical section against a
            # destroy of the same instance, or a destroy could slip in
            # between them and find nothing to remove yet.
            with self._instance_lock(instance['uuid']):
                with self._tombstones_lock:
                    reverted = key in self._tombstones
                if reverted:
                    raise exception.InstanceDeployFailure(
                        reason='the build step was reverted before its '
                        'spawn reached %s' % self.host
                    )
                result = self.spawn(
                    context,
                    instance,
                    network_info,
                    block_device_info,
                    workflow_id=workflow_id,
                    generation=generation,
                    admin_password=admin_password,
                )
        except Exception as exc:
            failure = orc.Failure.from_exception(exc).to_dict()
        conductor_rpcapi.ConductorAPI().task_complete(
            context,
            workflow_id,
            task_name,
            token,
            result=result,
            failure=failure,
        )

    def destroy(self, context, instance, workflow_id=None, generation=None):
        """Remove the instance from this host (idempotent)."""
        self._check_generation(context, workflow_id, generation, 'destroy')
        with self._instance_lock(instance['uuid']):
            if workflow_id is not None:
                with self._tombstones_lock:
                    self._tombstones[
                        (instance['uuid'], workflow_id, generation)
                    ] = True
                    while len(self._tombstones) > _TOMBSTONES:
                        self._tombstones.popitem(last=False)
            self.driver.destroy(instance)

    def _instance_lock(self, instance_uuid):
        """An in-process lock of one instance on this host."""
        return lockutils.lock('compute-%s-%s' % (self.host, instance_uuid))

    def prepare_block_devices(
        self,
        context,
        instance,
        block_device_mappings,
        workflow_id=None,
        generation=None,
    ):
        """Create the local disks; return the block_device_info for spawn."""
        self._check_generation(
            context, workflow_id, generation, 'prepare_block_devices'
        )
        info = self.driver.prepare_block_devices(
            instance, block_device_mappings
        )
        block_device_db.set_host(context, instance['uuid'], self.host)
        return info

    def cleanup_block_devices(
        self,
        context,
        instance,
        block_device_mappings,
        workflow_id=None,
        generation=None,
    ):
        """Remove the local disks prepare_block_devices made (idempotent)."""
        self._check_generation(
            context, workflow_id, generation, 'cleanup_block_devices'
        )
        self.driver.cleanup_block_devices(instance, block_device_mappings)

    def power_on(self, context, instance, workflow_id=None, generation=None):
        """Start the instance; return its info dict."""
        self._check_generation(context, workflow_id, generation, 'power_on')
        return self.driver.power_on(instance)

    def power_off(self, context, instance, workflow_id=None, generation=None):
        """Stop the instance; return its info dict."""
        self._check_generation(context, workflow_id, generation, 'power_off')
        return self.driver.power_off(instance)

    def get_info(self, context, instance_uuid):
        """``{'uuid', 'power_state', 'host', 'node'}`` of an instance here.

        :raises InstanceNotFound: the instance is not on this host.
        """
        return self.driver.get_info(instance_uuid)
