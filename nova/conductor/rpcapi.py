"""Client side of the conductor RPC API (topic ``conductor``).

API version history:

* 1.0 - build_instances(workflow_ids), delete_instance(workflow_id),
  resume_workflows(workflow_ids)
* 1.1 - task_complete(workflow_id, task_name, token, result, failure)
* 1.2 - build_instances(workflow_ids, admin_password)
* 1.3 - report_completion(workflow_id, task_name, token, result, failure):
  task_complete as a call, answered once the completion is committed
* 1.4 - compute_host_started(host)
"""

import oslo_messaging as messaging

from nova import rpc
import nova.conf

CONF = nova.conf.CONF


class ConductorAPI:
    """Casts that wake a conductor up for a workflow, and the report of a
    remote step's completion.

    The workflow rows are already committed when the casts are sent, so
    a lost cast delays the work (until a sweeper adopts it) but loses
    nothing. A completion exists only on the host that reports it until
    a conductor has committed it: it is a call, acknowledged then. A
    secret input (the admin password of a build) is in no row: it
    travels on the cast only, which oslo.messaging does not log.
    """

    #: The newest version; each message is sent at the oldest version
    #: that has it, so conductors not yet upgraded still take it.
    VERSION = '1.4'

    def __init__(self):
        target = messaging.Target(
            topic=CONF.conductor.topic, version=self.VERSION
        )
        self.client = rpc.get_client(target)

    def build_instances(self, context, workflow_ids, admin_password=None):
        """Wake a conductor for builds; ``admin_password`` (1.2) is given
        to the engines it runs them with, as a secret."""
        if not admin_password:
            self.client.prepare(version='1.0').cast(
                context, 'build_instances', workflow_ids=list(workflow_ids)
            )
            return
        self.client.prepare(version='1.2').cast(
            context,
            'build_instances',
            workflow_ids=list(workflow_ids),
            admin_password=admin_password,
        )

    def delete_instance(self, context, workflow_id):
        self.client.prepare(version='1.0').cast(
            context, 'delete_instance', workflow_id=workflow_id
        )

    def resume_workflows(self, context, workflow_ids):
        """Wake a conductor for workflows handed back or freed."""
        self.client.prepare(version='1.0').cast(
            context, 'resume_workflows', workflow_ids=list(workflow_ids)
        )

    def task_complete(
        self, context, workflow_id, task_name, token, result=None, failure=None
    ):
        """Report the end of a step that a remote service ran (1.1).

        ``failure`` is a nova.orchestration Failure as a dict. Whichever
        conductor receives it records it and continues the workflow.
        """
        self.client.prepare(version='1.1').cast(
            context,
            'task_complete',
            workflow_id=workflow_id,
            task_name=task_name,
            token=token,
            result=result,
            failure=failure,
        )

    def report_completion(
        self,
        context,
        workflow_id,
        task_name,
        token,
        result=None,
        failure=None,
        timeout=None,
    ):
        """Report the end of a remote step and wait for the answer (1.3).

        :returns: ``'taken'`` (committed), ``'stale'`` (never wanted) or
            ``'busy'`` (not recorded: report it again).
        :raises MessagingTimeout: no conductor answered in ``timeout``
            (the broker or the conductor may have died): report it again.
        """
        return self.client.prepare(version='1.3', timeout=timeout).call(
            context,
            'report_completion',
            workflow_id=workflow_id,
            task_name=task_name,
            token=token,
            result=result,
            failure=failure,
        )

    def compute_host_started(self, context, host):
        """A compute host started (1.4): the spawns its previous process
        had taken are lost; a conductor runs them again."""
        self.client.prepare(version='1.4').cast(
            context, 'compute_host_started', host=host
        )
