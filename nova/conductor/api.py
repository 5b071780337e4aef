"""nova-api's door into the conductor: :class:`ComputeTaskAPI`.

As stock nova's ``nova.conductor.api.ComputeTaskAPI``, this is the only
conductor module the compute API uses. The compute API says *which*
workflow to start and with *what* inputs (an instance, its action, the
flavor and image of the request); this module turns that into
nova.orchestration workflow rows (flow factory, store, secrets) and
sends the casts that wake a conductor. So nova-api never imports a flow,
its steps, nor the scheduler and compute RPC clients only the steps use.

Each operation writes, then casts, because the database is the truth
and RPC only a wake-up: ``create_*`` writes the workflow row in the caller's
transaction, so it commits or rolls back with the caller's instance and
action rows; once that transaction is committed, the matching cast
(:meth:`ComputeTaskAPI.build_instances`,
:meth:`ComputeTaskAPI.delete_instance`) wakes a conductor. A lost cast
loses nothing: conductors sweep for unowned PENDING workflows.
"""

from nova import context as nova_context
from nova import orchestration as orc
from nova.compute import power_actions
from nova.conductor import rpcapi as conductor_rpcapi
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance
from nova.conductor.workflows import power_actions as power_workflows
import nova.conf
from nova.db import api as db_api
from nova.db import workflows as workflows_db

CONF = nova.conf.CONF


def _workflow_context(context: nova_context.RequestContext) -> dict:
    """The caller's context as stored in a workflow row: no token.

    Workflows outlive tokens and their rows are readable by operators,
    so the token is never persisted.
    """
    values = context.to_dict()
    values.pop('auth_token', None)
    return values


class ComputeTaskAPI:
    """Start the conductor's workflows of server requests.

    One pair of methods per operation: ``create_<workflow>`` writes the
    rows (joining the caller's transaction when there is one, as every
    nested enginefacade writer does) and returns the workflow ids; the
    cast named after the conductor's RPC method wakes a conductor for
    them and must be sent only after that transaction committed. Server
    actions (reboot, resize, ...) are to be added the same way, one
    workflow each.
    """

    def __init__(self):
        self.conductor_rpcapi = conductor_rpcapi.ConductorAPI()

    # -- build -------------------------------------------------------------
    @db_api.context_manager.writer
    def create_build_workflows(
        self,
        context: nova_context.RequestContext,
        actions: dict[str, int],
        flavor: dict,
        image: dict,
        requested_networks: str | list[dict],
        availability_zone: str | None,
        admin_password: str | None = None,
    ) -> list[str]:
        """Write one build_instance workflow per new instance.

        :param actions: ``{instance_uuid: action_id}``, the 'create'
            action of each instance, in the order of the request.
        :param flavor: the flavor embedded in the instances.
        :param image: the image as the compute API checked it.
        :param requested_networks: 'auto', 'none' or a list of
            ``{'uuid': ..., 'fixed_ip': ...}``.
        :param admin_password: marked secret, so never written to the
            workflow row (nor kept: ``Engine.create`` keeps no secret).
            Give it again to :meth:`build_instances`, which carries it in
            memory to the conductor that runs the build.
        :returns: the workflow ids, in the order of ``actions``.
        """
        backend = workflows_db.get_backend()
        connection = context.session.connection()
        secret = ('admin_password',) if admin_password else ()
        workflow_ids = []
        for instance_uuid, action_id in actions.items():
            store = build_instance.make_store(
                context=_workflow_context(context),
                instance_uuid=instance_uuid,
                action_id=action_id,
                flavor=flavor,
                image=image,
                requested_networks=requested_networks,
                availability_zone=availability_zone,
                max_attempts=CONF.scheduler.max_attempts,
            )
            if admin_password:
                store['admin_password'] = admin_password
            workflow_ids.append(
                orc.Engine.create(
                    build_instance.FACTORY,
                    store=store,
                    backend=backend,
                    connection=connection,
                    secret=secret,
                    name=build_instance.NAME,
                    target=('instance', instance_uuid),
                    request_id=context.request_id,
                    project_id=context.project_id,
                    user_id=context.user_id,
                )
            )
        return workflow_ids

    def build_instances(
        self,
        context: nova_context.RequestContext,
        workflow_ids: list[str],
        admin_password: str | None = None,
    ) -> None:
        """Wake a conductor for committed build_instance workflows.

        :param admin_password: the request's admin password, which the
            rows do not hold. It travels on the cast only, and the
            conductor that claims a build on that cast gives it to the
            engine as a secret, so the spawn step injects it. A conductor
            that adopts the build otherwise (a lost cast, a resume after
            a crash or a graceful stop) never had it: the server then
            boots without it, as when no password is requested.
        """
        self.conductor_rpcapi.build_instances(
            context, workflow_ids, admin_password=admin_password
        )

    # -- delete ------------------------------------------------------------
    @db_api.context_manager.writer
    def abort_for_delete(
        self, context: nova_context.RequestContext, instance_uuid: str
    ) -> str | None:
        """Ask the instance's workflows in flight to abort before a delete.

        Each one reverts at its next step boundary; the delete_instance
        workflow then waits for that (its stop_build step), so nothing
        is created after the delete. The requests are written in the
        caller's transaction, which must also write the delete workflow
        (:meth:`create_delete_workflow`): an aborted build whose delete
        was never written would leave the server building with nothing
        to finish it.

        :returns: the id of a delete_instance workflow already in flight
            for the instance (the caller then starts none and writes
            nothing: deleting twice is a no-op), else None.
        """
        rows = workflows_db.unfinished_workflows(
            context, 'instance', instance_uuid
        )
        for row in rows:
            if row['name'] == delete_instance.NAME:
                return row['id']
        for row in rows:
            workflows_db.request_abort(context, row['id'])
        return None

    @db_api.context_manager.writer
    def create_delete_workflow(
        self,
        context: nova_context.RequestContext,
        instance_uuid: str,
        action_id: int,
    ) -> str:
        """Write the delete_instance workflow of an instance; return its id.

        Call it in the transaction of :meth:`abort_for_delete`.

        :param action_id: the instance's 'delete' action.
        """
        return orc.Engine.create(
            delete_instance.FACTORY,
            store=delete_instance.make_store(
                context=_workflow_context(context),
                instance_uuid=instance_uuid,
                action_id=action_id,
            ),
            backend=workflows_db.get_backend(),
            connection=context.session.connection(),
            name=delete_instance.NAME,
            target=('instance', instance_uuid),
            request_id=context.request_id,
            project_id=context.project_id,
            user_id=context.user_id,
        )

    def delete_instance(
        self, context: nova_context.RequestContext, workflow_id: str
    ) -> None:
        """Wake a conductor for a committed delete_instance workflow."""
        self.conductor_rpcapi.delete_instance(context, workflow_id)

    # -- server actions ----------------------------------------------------
    @db_api.context_manager.writer
    def create_power_action_workflow(
        self,
        context: nova_context.RequestContext,
        instance_uuid: str,
        action_id: int,
        power_action: str,
    ) -> str:
        """Write the workflow of a power action on an instance (stop,
        start, reboot_soft, reboot_hard, pause, unpause, suspend,
        resume: nova.conductor.workflows.power_actions); return its id.

        :param action_id: the instance's action ('stop', 'reboot', ...).
        """
        spec = power_actions.ACTIONS[power_action]
        return orc.Engine.create(
            power_workflows.FACTORY,
            store=power_workflows.make_store(
                context=_workflow_context(context),
                instance_uuid=instance_uuid,
                action_id=action_id,
                power_action=power_action,
            ),
            backend=workflows_db.get_backend(),
            connection=context.session.connection(),
            name=spec.workflow,
            target=('instance', instance_uuid),
            request_id=context.request_id,
            project_id=context.project_id,
            user_id=context.user_id,
        )

    def unfinished_workflow(
        self, context: nova_context.RequestContext, instance_uuid: str
    ) -> str | None:
        """The name of a workflow still running on the instance, if any
        (read in the caller's transaction)."""
        rows = workflows_db.unfinished_workflows(
            context, 'instance', instance_uuid
        )
        return rows[0]['name'] if rows else None

    def run_workflow(
        self, context: nova_context.RequestContext, workflow_id: str
    ) -> None:
        """Wake a conductor for a committed server action workflow."""
        self.conductor_rpcapi.resume_workflows(context, [workflow_id])
