"""nova-compute's RPC endpoint: the per-host steps of a workflow.

The conductor calls these methods on topic ``compute`` with server
``<host>``; each one drives the host's virt driver. Calls that carry a
``(workflow_id, generation)`` are fenced: if the workflow was adopted by
another conductor since the caller claimed it (its generation is now
higher), or is gone, the call is refused with StaleWorkflowGeneration
before touching the hypervisor, so a conductor that was paused and lost
its lease cannot act a second time beside the new owner.

Operations on one instance act one at a time, and a destroy wins over
the spawns of that instance: :class:`ComputeManager` states the
invariant.

The manager also reports the host's capacity into ``compute_nodes`` at
start and every ``[compute] resource_report_interval`` seconds.
"""

import contextlib
import functools

import futurist
from futurist import periodics
from oslo_db import api as oslo_db_api
from oslo_log import log as logging
import oslo_messaging as messaging

from nova import context as nova_context
from nova import exception
from nova import orchestration as orc
from nova import rpc
from nova.compute import claims
from nova.compute import completions
from nova.compute import instance_queue
from nova.conductor import rpcapi as conductor_rpcapi
import nova.conf
from nova.db import api as db_api
from nova.db import block_device as block_device_db
from nova.db import compute_nodes
from nova.db import fencing

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


@oslo_db_api.wrap_db_retry(
    max_retries=3,
    retry_interval=0.25,
    inc_retry_interval=True,
    retry_on_disconnect=True,
    retry_on_deadlock=True,
)
@db_api.context_manager.reader
def _check_fence(context, operation):
    """nova.db.fencing.check as a plain read in a transaction of its own,
    tried again when the database connection drops (a read: safe).

    The hypervisor operation that follows cannot be part of a database
    transaction, so a share lock would end before it anyway: what the
    check gives is that a call from a conductor adopted away is refused
    before it acts (the per-instance queue and tombstones close the rest).
    """
    fencing.check(context, operation, share_lock=False)


def _destroy_wait():
    """Seconds a destroy waits for its turn: half the caller's RPC
    timeout, so the destroy answers before the call times out."""
    return rpc.response_timeout() / 2


#: The power actions of power_action: (driver method, its arguments).
#: Each but the reboots is idempotent, as a step run again after a crash
#: needs; a reboot run again reboots once more.
POWER_ACTIONS = {
    'stop': ('power_off', {}),
    'start': ('power_on', {}),
    'reboot_soft': ('reboot', {'reboot_type': 'SOFT'}),
    'reboot_hard': ('reboot', {'reboot_type': 'HARD'}),
    'pause': ('pause', {}),
    'unpause': ('unpause', {}),
    'suspend': ('suspend', {}),
    'resume': ('resume', {}),
}


class ComputeManager:
    """Per-host endpoint of the compute RPC API (version 1.2).

    Every operation on one instance of this host (spawn, destroy,
    prepare_block_devices, cleanup_block_devices, power_on, power_off,
    power_action)
    takes its place in the instance's queue when it arrives and acts in its
    turn, alone, in arrival order; the fencing check is made in that turn,
    just before the act (a destroy's on arrival, so that a stale destroy
    supersedes nothing). On top of that, a destroy wins over spawns. The
    invariant:

        Once ``destroy(instance, W, g)`` has returned, no guest of the
        instance remains or appears on this host from a spawn of workflow
        ``W`` at generation ``g`` or older, nor from any spawn that arrived
        before the destroy, whatever the order in which the calls arrive and
        however long the spawns take.

    (A spawn that arrives afterwards from a newer generation of ``W``, its
    new owner redoing the step, or from another workflow, boots as usual.)
    It holds because:

    * A destroy records a tombstone ``(instance, W) -> g`` when it arrives.
      A spawn (or prepare_block_devices) of ``W`` at generation ``g`` or
      older that arrives later is refused before it acts: a spawn cast
      consumed after its step was reverted, or a stale owner's spawn whose
      generation check was a plain read that a new owner's revert
      overtook. cleanup_block_devices records one as well, so stale local
      disks are not made again after their revert.
    * A destroy supersedes every spawn queued ahead of it. One that has not
      begun is refused in its turn. One inside ``driver.spawn`` is
      interrupted (the driver gives up as soon as it can) and, when the
      driver returns, destroys whatever was built and fails, still in its
      turn, so nothing else sees that guest.
    * The destroy acts in its own turn, after those spawns, so its
      ``driver.destroy`` removes anything they left.

    A destroy waits for its turn at most half the RPC timeout, so that the
    revert calling it does not time out behind a spawn whose driver ignores
    the interrupt. It then returns and leaves its ``driver.destroy`` to the
    thread that ends the turn before it. With such a driver the invariant
    holds once the operations ahead have ended; in between a superseded
    spawn may build a guest, which it destroys before it answers (it never
    reports it as spawned). The tombstones are bounded (the oldest are
    forgotten); the queues exist only while an instance has operations.
    """

    target = messaging.Target(version='1.2')

    def __init__(self, host, driver):
        self.host = host
        self.driver = driver
        # Each instance's operations, one at a time in arrival order, and
        # the tombstones of removals.
        self._ops = instance_queue.InstanceQueues(host)
        self._reporter = completions.CompletionReporter(host)
        # Spawns cast to this host (spawn_and_report) run here, never on
        # the RPC threads.
        self._builds = futurist.ThreadPoolExecutor(
            max_workers=CONF.compute.max_concurrent_builds
        )

    def __repr__(self):
        return '<ComputeManager %s>' % self.host

    # -- service hooks (nova.service.Service) --------------------------

    def init_host(self):
        """Before serving RPC: prepare the driver, report capacity (so the
        scheduler can place builds here at once), destroy the guests no
        claim holds any more, and tell the conductors that the spawns
        the previous process of this host had taken are lost (they run
        them again, see nova.conductor.down_hosts)."""
        self.driver.init_host()
        context = nova_context.get_admin_context()
        self.report_capacity(context)
        try:
            self.reap_orphans(context)
        except Exception:
            # The database may be down: the periodic reaps them later.
            LOG.exception('Reaping the orphans of %s failed', self.host)
        conductor_rpcapi.ConductorAPI().compute_host_started(
            context, self.host
        )

    def reap_orphans(self, context):
        """Destroy the guests of this host that no resource claim holds.

        A build claims its host before it spawns there, and a build's
        revert or a delete destroys the guest before it releases the
        claim, so a guest without a claim is left over: its host was
        down when the build's attempt here was reverted (the revert
        could not reach it), or a spawn that a restart made this host
        forget the revert of. Each is checked again in the instance's
        turn, so a build claiming the host meanwhile keeps its guest.

        :returns: the uuids of the guests destroyed.
        """
        reaped = []
        for uuid in self.driver.list_instances():
            instance = {'uuid': uuid}
            with self._turn(context, instance, 'reap', None, None):
                if uuid not in self.driver.list_instances():
                    continue  # destroyed meanwhile (a delete, say)
                if claims.get_claims(
                    context, instance_uuid=uuid, host=self.host
                ):
                    continue
                self.driver.destroy(instance)
            LOG.warning(
                'Destroyed instance %s on %s: no resource claim holds it',
                uuid,
                self.host,
            )
            reaped.append(uuid)
        return reaped

    def pre_stop(self):
        """Interrupt long driver operations so the stop does not wait.

        The service calls this before it waits for the RPC calls in
        flight: the driver's cleanup_host makes those end now (a spawn
        interrupted so fails, and its workflow tries another host).
        It is the driver's only cleanup: once the calls have ended there
        is nothing left to release, so this manager has no cleanup_host.
        """
        self._reporter.stop()
        self.driver.cleanup_host()
        # The spawns queued here fail at once now (the driver is
        # stopping); the conductors spawn them again when the host starts.
        self._builds.shutdown(wait=True)

    def periodic_tasks(self):
        """The capacity report and the reaping of orphans, each every
        its own ``[compute]`` interval."""
        return [
            self._periodic(
                CONF.compute.resource_report_interval,
                self.report_capacity,
                'Capacity report',
            ),
            self._periodic(
                CONF.compute.orphan_reap_interval,
                self.reap_orphans,
                'Reaping the orphans',
            ),
        ]

    def _periodic(self, interval, task, what):
        @periodics.periodic(interval, run_immediately=False)
        def periodic():
            try:
                task(nova_context.get_admin_context())
            except Exception:
                # A DB outage must not stop the periodic: next time.
                LOG.exception('%s of %s failed', what, self.host)

        return periodic

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

    # -- one operation at a time per instance --------------------------

    @contextlib.contextmanager
    def _in_turn(self, context, instance_uuid, operation, queue):
        """Wait for the operation's turn, check its fence, act, hand over.

        :yields: the Operation.
        """

        def check_fence(op):
            self._check_generation(
                context, op.workflow_id, op.generation, op.name
            )

        with self._ops.turn(instance_uuid, operation, queue, check_fence):
            yield operation

    @contextlib.contextmanager
    def _turn(self, context, instance, name, workflow_id, generation):
        """Act on the instance alone, in arrival order, and fenced: arrive
        now, then act in the turn (the fencing check is made there, just
        before the act).

        :yields: the Operation.
        """
        uuid = instance['uuid']
        operation, queue = self._ops.arrive(
            uuid, name, workflow_id, generation
        )
        with self._in_turn(context, uuid, operation, queue):
            yield operation

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

        Acts in the instance's turn. A destroy that arrives before the
        spawn has answered wins: the spawn is interrupted, destroys
        whatever it built and fails.

        :raises InstanceDeployFailure: the driver failed (any unexpected
            driver error is reported as this, so callers can revert), or
            a destroy superseded the spawn.
        """
        arrived = self._ops.arrive(
            instance['uuid'], 'spawn', workflow_id, generation
        )
        return self._spawn_arrived(
            context,
            instance,
            arrived,
            network_info,
            block_device_info,
            admin_password,
        )

    def _spawn_arrived(
        self,
        context,
        instance,
        arrived,
        network_info,
        block_device_info,
        admin_password,
    ):
        """The spawn of an operation that took its place in the queue."""
        uuid = instance['uuid']
        with self._in_turn(context, uuid, *arrived) as operation:
            if operation.superseded.is_set():
                raise exception.InstanceDeployFailure(
                    reason='instance %s was destroyed on %s before its '
                    'spawn began' % (uuid, self.host)
                )
            error = info = None
            try:
                info = self.driver.spawn(
                    instance,
                    network_info=network_info,
                    block_device_info=block_device_info,
                    admin_password=admin_password,
                    interrupt=operation.superseded,
                )
            except Exception as exc:
                error = exc
            if operation.superseded.is_set():
                # Still our turn: nothing else has seen this guest.
                self.driver.destroy(instance)
                LOG.info(
                    'Spawn of %s on %s superseded by a destroy; destroyed '
                    'what it built',
                    uuid,
                    self.host,
                )
                raise exception.InstanceDeployFailure(
                    reason='instance %s was destroyed on %s while it was '
                    'spawning' % (uuid, self.host)
                ) from error
        if error is None:
            return info
        if isinstance(error, exception.NovaException):
            raise error
        LOG.error('Spawn of %s on %s failed', uuid, self.host, exc_info=error)
        raise exception.InstanceDeployFailure(
            reason='%s: %s' % (type(error).__name__, error)
        ) from error

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
        """Spawn, then report the outcome to the conductors until one
        acknowledges it (nova.compute.completions).

        A cast: the spawn takes its place in the instance's queue now, in
        arrival order, then runs on a pool of ``[compute]
        max_concurrent_builds`` threads, so long spawns never hold the
        threads that serve this host's RPC calls (with them, 64 spawns of
        one host starved its other calls and failed builds). The
        conductor's step waits with no thread for the report; a report
        that never comes (the host died) is handled by the conductors
        (nova.conductor.down_hosts). The spawn is :meth:`spawn`'s, so
        both modes race destroys the same way.

        A host that is stopping spawns nothing more (the conductors
        spawn again when it starts). Returns nothing: oslo.messaging
        serializes what an endpoint returns, even for a cast.
        """
        try:
            arrived = self._ops.arrive(
                instance['uuid'], 'spawn', workflow_id, generation
            )
        except Exception as exc:
            arrived = exc
        try:
            self._builds.submit(
                self._spawn_and_report,
                context,
                instance,
                arrived,
                network_info,
                block_device_info,
                (workflow_id, task_name, token),
                admin_password,
            )
        except RuntimeError:
            if not isinstance(arrived, Exception):
                self._ops.leave(instance['uuid'], *arrived)
            LOG.warning(
                'Not spawning %s on %s: the host is stopping',
                instance['uuid'],
                self.host,
            )

    def _spawn_and_report(
        self,
        context,
        instance,
        arrived,
        network_info,
        block_device_info,
        report_to,
        admin_password,
    ):
        result = failure = None
        try:
            if isinstance(arrived, Exception):
                raise arrived
            result = self._spawn_arrived(
                context,
                instance,
                arrived,
                network_info,
                block_device_info,
                admin_password,
            )
        except Exception as exc:
            LOG.warning(
                'Spawn of %s on %s failed; reporting it: %s',
                instance['uuid'],
                self.host,
                exc,
            )
            failure = orc.Failure.from_exception(exc).to_dict()
        workflow_id, task_name, token = report_to
        self._reporter.report(
            context, workflow_id, task_name, token, result, failure
        )

    def destroy(self, context, instance, workflow_id=None, generation=None):
        """Remove the instance from this host (idempotent).

        The fencing check comes first, so that a stale caller supersedes
        nothing. Then, on arrival, the destroy records its tombstone and
        supersedes (interrupts) every spawn queued ahead of it, and waits
        for its turn at most :func:`_destroy_wait` seconds; past that it
        answers and leaves the driver's destroy to run in its turn.
        """
        self._check_generation(context, workflow_id, generation, 'destroy')
        uuid = instance['uuid']
        queue = self._ops.arrive_to_destroy(
            uuid,
            workflow_id,
            generation,
            _destroy_wait(),
            functools.partial(self.driver.destroy, instance),
        )
        if queue is None:
            return  # its driver.destroy runs in its turn
        try:
            self.driver.destroy(instance)
        finally:
            self._ops.hand_over(uuid, queue)

    def prepare_block_devices(
        self,
        context,
        instance,
        block_device_mappings,
        workflow_id=None,
        generation=None,
    ):
        """Create the local disks; return the block_device_info for spawn.

        :raises InstanceDeployFailure: its workflow already cleaned them
            up or destroyed the instance here at this generation or a
            newer one (a call that outlived its step).
        """
        with self._turn(
            context, instance, 'prepare_block_devices', workflow_id, generation
        ):
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
        with self._turn(
            context, instance, 'cleanup_block_devices', workflow_id, generation
        ):
            self.driver.cleanup_block_devices(instance, block_device_mappings)

    def power_on(self, context, instance, workflow_id=None, generation=None):
        """Start the instance; return its info dict."""
        with self._turn(
            context, instance, 'power_on', workflow_id, generation
        ):
            return self.driver.power_on(instance)

    def power_off(self, context, instance, workflow_id=None, generation=None):
        """Stop the instance; return its info dict."""
        with self._turn(
            context, instance, 'power_off', workflow_id, generation
        ):
            return self.driver.power_off(instance)

    def power_action(
        self, context, instance, action, workflow_id=None, generation=None
    ):
        """Run the power ``action`` (one of :data:`POWER_ACTIONS`) on the
        instance in its turn; return its info dict (API 1.2).

        :raises Invalid: an unknown action.
        :raises InstanceInvalidPowerState: the guest's power state does
            not allow it (pause a guest that is not running, say).
        """
        if action not in POWER_ACTIONS:
            raise exception.Invalid('unknown power action %r' % (action,))
        method, kwargs = POWER_ACTIONS[action]
        with self._turn(context, instance, action, workflow_id, generation):
            return getattr(self.driver, method)(instance, **kwargs)

    def get_info(self, context, instance_uuid):
        """``{'uuid', 'power_state', 'host', 'node'}`` of an instance here.

        :raises InstanceNotFound: the instance is not on this host.
        """
        return self.driver.get_info(instance_uuid)
