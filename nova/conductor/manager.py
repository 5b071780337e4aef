"""The conductor: the RPC endpoint that runs workflows.

Any number of conductors share the topic ``conductor``; a cast wakes
whichever receives it, and the workflow row decides who runs it (the
claim). Periodics renew leases and sweep for orphaned workflows; the
first sweep also takes back at once what this host's previous, provably
dead, incarnation of the conductor held (nova.conductor.incarnation).
"""

from futurist import periodics
from oslo_log import log as logging
import oslo_messaging as messaging

from nova import context
from nova import rpc
from nova.conductor import down_hosts
from nova.conductor import rpcapi
from nova.conductor import runner
import nova.conf

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def _workflow_ids(method, workflow_ids):
    """The ids of a cast, or [] (logged once) when the message is not
    what nova's clients send: any client on the bus can cast, and a
    malformed message must be dropped, not half-processed (a string
    would be taken for a list of one-character ids)."""
    if isinstance(workflow_ids, list) and all(
        isinstance(w, str) and w for w in workflow_ids
    ):
        return workflow_ids
    LOG.error(
        'Dropping a malformed %s cast: workflow_ids must be a list of '
        'ids, got %.200r',
        method,
        workflow_ids,
    )
    return []


class ConductorManager:
    """RPC endpoint of nova-conductor (see nova.conductor.rpcapi)."""

    target = messaging.Target(version='1.4')

    def __init__(self, host=None):
        self.host = host or CONF.host
        self.runner = runner.WorkflowRunner(runner.new_owner_name(self.host))
        self._recovered = False

    @property
    def owner(self):
        return self.runner.owner

    def build_instances(self, context, workflow_ids, admin_password=None):
        # The password is given to the engines as a secret: kept in
        # memory, never written nor logged. Only the conductor that
        # claims a build on this cast has it; one that adopts it later
        # (a resume) runs it without, as the design allows.
        secrets = (
            {'admin_password': admin_password} if admin_password else None
        )
        for workflow_id in _workflow_ids('build_instances', workflow_ids):
            self.runner.submit(workflow_id, secrets=secrets)

    def delete_instance(self, context, workflow_id):
        for valid_id in _workflow_ids('delete_instance', [workflow_id]):
            self.runner.submit(valid_id)

    def resume_workflows(self, context, workflow_ids):
        for workflow_id in _workflow_ids('resume_workflows', workflow_ids):
            self.runner.submit(workflow_id)

    @staticmethod
    def _valid_completion(message, workflow_id, task_name, token):
        if all(
            isinstance(value, str) and value
            for value in (workflow_id, task_name, token)
        ):
            return True
        LOG.error(
            'Dropping a malformed %s: workflow_id, task_name and token '
            'must be strings, got %.100r, %.100r, %.100r',
            message,
            workflow_id,
            task_name,
            token,
        )
        return False

    def task_complete(
        self, context, workflow_id, task_name, token, result=None, failure=None
    ):
        if not self._valid_completion(
            'task_complete cast', workflow_id, task_name, token
        ):
            return
        self.runner.complete(
            workflow_id, task_name, token, result=result, failure=failure
        )

    def report_completion(
        self, context, workflow_id, task_name, token, result=None, failure=None
    ):
        """Record a remote step's completion, then acknowledge it (1.3).

        A call: the answer tells the host whether it may forget the
        report. ``'taken'`` once the completion is committed (the
        workflow continues in this conductor's pool), ``'stale'`` when it
        will never be wanted, ``'busy'`` when it could not be recorded in
        half the RPC timeout (the host reports again). A malformed report
        is ``'stale'``: reporting it again would not make it valid.
        """
        if not self._valid_completion(
            'report_completion call', workflow_id, task_name, token
        ):
            return runner.COMPLETION_STALE
        return self.runner.record_completion(
            workflow_id,
            task_name,
            token,
            rpc.response_timeout() / 2,
            result=result,
            failure=failure,
        )

    def compute_host_started(self, context, host):
        if not isinstance(host, str) or not host:
            LOG.error(
                'Dropping a malformed compute_host_started cast: host must '
                'be a string, got %.100r',
                host,
            )
            return
        down_hosts.redo_spawns_of_restarted_host(
            context.elevated(), self.runner, host
        )

    def periodic_tasks(self):
        opts = CONF.orchestration

        @periodics.periodic(opts.heartbeat_interval, run_immediately=False)
        def heartbeat():
            self.runner.heartbeat()

        @periodics.periodic(opts.sweep_interval, run_immediately=True)
        def sweep():
            if self._recovered:
                self.runner.sweep()
                self._fail_spawns_on_down_hosts()
                return
            # Until it succeeds once (the database may be down at start),
            # each sweep first frees what a dead incarnation held.
            self.runner.recover()
            self._recovered = True

        return [heartbeat, sweep]

    def _fail_spawns_on_down_hosts(self):
        try:
            down_hosts.fail_spawns_on_down_hosts(
                context.get_admin_context(), self.runner
            )
        except Exception:
            # The database may be down: look again at the next sweep.
            LOG.exception('Looking for spawns on down hosts failed')

    def cleanup_host(self):
        """Graceful stop: hand workflows back, wake another conductor.

        Runs after this service stopped consuming RPC, so the wake-up
        cast reaches a peer; if none is running, a sweeper adopts the
        handed-back workflows whenever a conductor starts.
        """
        handed_back = self.runner.stop()
        if handed_back:
            LOG.info(
                'Conductor %s handed back %d workflow(s)',
                self.owner,
                len(handed_back),
            )
            try:
                rpcapi.ConductorAPI().resume_workflows(
                    context.get_admin_context(), handed_back
                )
            except Exception:
                LOG.warning(
                    'Could not wake another conductor; sweepers will adopt %s',
                    ', '.join(handed_back),
                    exc_info=True,
                )
