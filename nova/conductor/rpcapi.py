"""Client side of the conductor RPC API (topic ``conductor``).

API version history:

* 1.0 - build_instances(workflow_ids), delete_instance(workflow_id),
  resume_workflows(workflow_ids)
* 1.1 - task_complete(workflow_id, task_name, token, result, failure)
* 1.2 - build_instances(workflow_ids, admin_password)
"""

import oslo_messaging as messaging

from nova import rpc
import nova.conf

CONF = nova.conf.CONF


class ConductorAPI:
    """Casts that wake a conductor up for a workflow.

    The workflow rows are already committed when these are sent, so a
    lost cast delays the work (until a sweeper adopts it) but loses
    nothing. A secret input (the admin password of a build) is in no
    row: it travels on the cast only, which oslo.messaging does not log.
    """

    VERSION = '1.2'

    def __init__(self):
        target = messaging.Target(
            topic=CONF.conductor.topic, version=self.VERSION
        )
        self.client = rpc.get_client(target)

    def build_instances(self, context, workflow_ids, admin_password=None):
        """Wake a conductor for builds; ``admin_password`` (1.2) is given
        to the engines it runs them with, as a secret."""
        if not admin_password:
            self.client.prepare().cast(
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
        self.client.prepare().cast(
            context, 'delete_instance', workflow_id=workflow_id
        )

    def resume_workflows(self, context, workflow_ids):
        """Wake a conductor for workflows handed back or freed."""
        self.client.prepare().cast(
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
