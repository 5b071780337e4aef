"""The compute API: where a REST request becomes rows and a workflow.

A create validates everything first, then writes the instance, its
'create' action and its build_instance workflow row in ONE transaction,
and only then casts to the conductor. The cast is a wake-up: if it is
lost, a conductor's sweeper adopts the PENDING workflow. A delete does
the same with delete_instance, writing in its transaction the abort
requests of any build in flight.

Workflows are started through :class:`nova.conductor.api.ComputeTaskAPI`:
this module knows which workflow a request needs and its inputs, never
the flows, their steps nor the RPC clients of the services they call.
"""

from oslo_db import api as oslo_db_api
from oslo_log import log as logging
from oslo_utils import uuidutils

from nova import exception
from nova.compute import checks
from nova.compute import power_actions
from nova.compute import vm_states
from nova.conductor import api as conductor_api
import nova.conf
from nova.db import actions as actions_db
from nova.db import api as db_api
from nova.db import flavors as flavors_db
from nova.db import images as images_db
from nova.db import instances as instances_db
from nova.db import key_pairs as key_pairs_db
from nova.network import api as network_api

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

# Flavor fields copied into the instance (nova's embedded flavor).
_FLAVOR_FIELDS = (
    'flavorid',
    'name',
    'memory_mb',
    'vcpus',
    'root_gb',
    'ephemeral_gb',
    'swap',
    'rxtx_factor',
    'vcpu_weight',
    'description',
)


class API:
    """Entry point of server requests from the REST API."""

    def __init__(self):
        self.compute_task_api = conductor_api.ComputeTaskAPI()

    # -- create ------------------------------------------------------------
    def create(
        self,
        context,
        flavor_id,
        image_ref,
        name,
        min_count=1,
        max_count=1,
        networks=None,
        availability_zone=None,
        metadata=None,
        key_name=None,
        user_data=None,
        admin_password=None,
        access_ip_v4=None,
        access_ip_v6=None,
        description=None,
        config_drive=None,
        return_reservation_id=False,
    ):
        """Create ``max_count`` servers (at least ``min_count`` in quota).

        :returns: (list of instance dicts, reservation id)
        """
        flavor = self._flavor(context, flavor_id)
        image = self._image(context, image_ref, flavor)
        requested_networks = self._requested_networks(context, networks)
        min_count, max_count = self._counts(min_count, max_count)
        if not name or not str(name).strip():
            raise exception.InvalidInput(reason='server name is empty')
        checks.metadata_quota(metadata)
        if key_name is not None:
            self._check_key_name(context, key_name)
        count = self._check_quota(context, flavor, min_count, max_count)
        reservation_id = 'r-' + uuidutils.generate_uuid()[:8]

        instances, workflow_ids = self._create_rows(
            context,
            flavor,
            image,
            name,
            count,
            reservation_id,
            requested_networks,
            availability_zone,
            metadata,
            key_name,
            user_data,
            admin_password,
            access_ip_v4,
            access_ip_v6,
            description,
            config_drive,
        )
        # The password is in no row: the cast carries it to the conductor.
        self.compute_task_api.build_instances(
            context, workflow_ids, admin_password=admin_password
        )
        return instances, reservation_id

    # Retried whole (it is the outermost transaction): MariaDB may pick
    # it as a deadlock victim against a conductor writing the same index
    # ranges (workflows by target); nothing outside the database happened
    # yet, and a retry writes new ids.
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
    @db_api.context_manager.writer
    def _create_rows(
        self,
        context,
        flavor,
        image,
        name,
        count,
        reservation_id,
        requested_networks,
        availability_zone,
        metadata,
        key_name,
        user_data,
        admin_password,
        access_ip_v4,
        access_ip_v6,
        description,
        config_drive,
    ):
        """Instances, actions and workflows of one request: one txn."""
        instances, actions = [], {}
        for index in range(count):
            uuid = uuidutils.generate_uuid()
            display_name = name if count == 1 else '%s-%d' % (name, index + 1)
            instance = instances_db.create(
                context,
                {
                    'uuid': uuid,
                    'display_name': display_name,
                    'display_description': description,
                    'hostname': _hostname(display_name),
                    'project_id': context.project_id,
                    'user_id': context.user_id,
                    'vm_state': vm_states.BUILDING,
                    'task_state': vm_states.SCHEDULING,
                    'availability_zone': availability_zone,
                    'instance_type_id': flavor['id'],
                    'flavor': flavor,
                    'image_ref': image['id'],
                    'memory_mb': flavor['memory_mb'],
                    'vcpus': flavor['vcpus'],
                    'root_gb': flavor['root_gb'],
                    'ephemeral_gb': flavor['ephemeral_gb'],
                    'key_name': key_name,
                    'user_data': user_data,
                    'config_drive': config_drive or '',
                    'access_ip_v4': access_ip_v4,
                    'access_ip_v6': access_ip_v6,
                    'reservation_id': reservation_id,
                    'launch_index': index,
                },
                metadata=metadata,
            )
            actions[uuid] = actions_db.action_start(context, uuid, 'create')
            instances.append(instance)
        workflow_ids = self.compute_task_api.create_build_workflows(
            context,
            actions,
            flavor=flavor,
            image=image,
            requested_networks=requested_networks,
            availability_zone=availability_zone,
            admin_password=admin_password,
        )
        return instances, workflow_ids

    @staticmethod
    def _check_key_name(context, key_name):
        """The caller's key pair must exist (400 otherwise, as nova)."""
        try:
            key_pairs_db.get(context, context.user_id, key_name)
        except exception.KeypairNotFound:
            raise exception.InvalidKeyName() from None

    def _flavor(self, context, flavor_id):
        flavor = flavors_db.get_by_flavor_id(context, str(flavor_id))
        if flavor.get('disabled'):
            raise exception.FlavorNotFound(flavor_id=flavor_id)
        embedded = {key: flavor.get(key) for key in _FLAVOR_FIELDS}
        embedded.update(id=flavor['id'], extra_specs={})
        return embedded

    def _image(self, context, image_ref, flavor):
        if not image_ref:
            raise exception.InvalidInput(reason='imageRef is required')
        image = images_db.get(context, image_ref)
        if image.get('status', 'ACTIVE').upper() != 'ACTIVE':
            raise exception.InvalidInput(
                reason='Image %s is not active.' % image_ref
            )
        if flavor['memory_mb'] < (image.get('min_ram') or 0):
            raise exception.InvalidInput(
                reason="Flavor's memory is too small for requested image."
            )
        if flavor['root_gb'] and flavor['root_gb'] < (
            image.get('min_disk') or 0
        ):
            raise exception.InvalidInput(
                reason="Flavor's disk is too small for requested image."
            )
        return {
            'id': image['id'],
            'name': image['name'],
            'min_disk': image.get('min_disk') or 0,
            'size': image.get('size') or 0,
        }

    def _requested_networks(self, context, networks):
        if networks in (None, 'auto'):
            return 'auto'
        if networks == 'none':
            return 'none'
        requested = []
        for network in networks:
            uuid = network.get('uuid')
            if not uuid:
                raise exception.InvalidInput(
                    reason='a network must have a uuid'
                )
            network_api.get_network(context, uuid)  # NetworkNotFound
            entry = {'uuid': uuid}
            if network.get('fixed_ip'):
                entry['fixed_ip'] = network['fixed_ip']
            requested.append(entry)
        return requested

    @staticmethod
    def _counts(min_count, max_count):
        min_count = int(min_count or 1)
        max_count = int(max_count or min_count)
        if min_count < 1 or max_count < min_count:
            raise exception.InvalidInput(
                reason='min_count must be >= 1 and <= max_count'
            )
        return min_count, max_count

    def _check_quota(self, context, flavor, min_count, max_count):
        """How many servers fit the project's quota (>= min_count).

        Counted from live rows, as nova's counting quotas; two racing
        requests can both pass, as in nova.
        """
        quota = CONF.quota
        used = instances_db.count_usage(context, context.project_id)
        per = (1, flavor['vcpus'], flavor['memory_mb'])
        limits = (quota.instances, quota.cores, quota.ram)
        names = ('instances', 'cores', 'ram')
        allowed = max_count
        for name, limit, in_use, each in zip(
            names, limits, used, per, strict=True
        ):
            if limit < 0 or each == 0:
                continue
            fits = max(0, (limit - in_use) // each)
            if fits < min_count:
                raise exception.TooManyInstances(
                    overs=name,
                    req=each * min_count,
                    used=in_use,
                    allowed=limit,
                )
            allowed = min(allowed, fits)
        return allowed

    # -- read and update ---------------------------------------------------
    def get(self, context, uuid):
        """The server ``uuid`` with its latest fault, if visible."""
        project_id = None if context.is_admin else context.project_id
        instance = instances_db.get(context, uuid, project_id=project_id)
        instance['fault'] = actions_db.fault_get_latest(context, [uuid]).get(
            uuid
        )
        return instance

    def get_all(
        self,
        context,
        search_opts=None,
        limit=None,
        marker=None,
        sort_keys=('created_at', 'id'),
        sort_dirs=('desc', 'desc'),
    ):
        """Servers visible to the caller matching ``search_opts``."""
        filters = dict(search_opts or {})
        all_tenants = filters.pop('all_tenants', False)
        if not (context.is_admin and all_tenants):
            filters['project_id'] = context.project_id
        elif 'project_id' in filters and filters['project_id'] is None:
            filters.pop('project_id')
        instances = instances_db.get_all(
            context,
            filters,
            limit=limit,
            marker=marker,
            sort_keys=sort_keys,
            sort_dirs=sort_dirs,
        )
        faults = actions_db.fault_get_latest(
            context,
            [i['uuid'] for i in instances if i['vm_state'] == vm_states.ERROR],
        )
        for instance in instances:
            instance['fault'] = faults.get(instance['uuid'])
        return instances

    def update(
        self,
        context,
        uuid,
        name=None,
        description=None,
        access_ip_v4=None,
        access_ip_v6=None,
    ):
        """Rename a server, change its description or access IPs."""
        self.get(context, uuid)
        values = {}
        if access_ip_v4 is not None:
            values['access_ip_v4'] = access_ip_v4
        if access_ip_v6 is not None:
            values['access_ip_v6'] = access_ip_v6
        if name is not None:
            values['display_name'] = name
            values['hostname'] = _hostname(name)
        if description is not None:
            values['display_description'] = description
        if values:
            instances_db.update(context, uuid, values)
        return self.get(context, uuid)

    # -- delete ------------------------------------------------------------
    def delete(self, context, uuid):
        """Delete a server: abort its build if any, run delete_instance."""
        instance = self.get(context, uuid)
        workflow_id = self._create_delete_rows(context, instance)
        if workflow_id is not None:
            self.compute_task_api.delete_instance(context, workflow_id)

    # Retried whole on a deadlock, as _create_rows is.
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
    @db_api.context_manager.writer
    def _create_delete_rows(self, context, instance):
        """Abort requests, task_state, action and delete workflow: one
        txn, so a build is never aborted without a delete to finish the
        server. None (nothing written) when a delete already runs."""
        uuid = instance['uuid']
        checks.instance_lock(context, self.get(context, uuid))
        running = self.compute_task_api.abort_for_delete(context, uuid)
        if running:
            # A delete is already running: deleting twice is a no-op.
            LOG.info(
                'Instance %s: delete already in progress (%s)', uuid, running
            )
            return None
        instances_db.update(context, uuid, {'task_state': vm_states.DELETING})
        action_id = actions_db.action_start(context, uuid, 'delete')
        return self.compute_task_api.create_delete_workflow(
            context, uuid, action_id
        )

    # -- power actions -----------------------------------------------------
    def power_action(self, context, uuid, power_action):
        """Stop, start, reboot (``reboot_soft``, ``reboot_hard``), pause,
        unpause, suspend or resume a server (``power_action``, a key of
        nova.compute.power_actions.ACTIONS).

        The state check, the task_state, the instance action and the
        workflow row are one transaction; then the cast wakes a
        conductor. The task_state is set only if the server has none,
        so of two actions racing, one is refused.

        :raises InstanceInvalidState: 409, the server's vm_state does
            not allow the action or another task runs.
        :raises InstanceIsLocked: 409, the server is locked and the
            caller is not an admin.
        :raises InstanceNotReady: 409, the server is on no host.
        """
        workflow_id = self._create_power_action_rows(
            context, uuid, power_actions.ACTIONS[power_action]
        )
        self.compute_task_api.run_workflow(context, workflow_id)

    # Retried whole on a deadlock, as _create_rows is.
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
    @db_api.context_manager.writer
    def _create_power_action_rows(self, context, uuid, spec):
        # Every check reads in the transaction that writes, so none acts
        # on a state another request has changed since.
        instance = self.get(context, uuid)
        checks.instance_lock(context, instance)
        checks.instance_state(instance, spec.action, spec.vm_states_allowed)
        if not instance.get('host'):
            # An ERROR server whose build never placed it (stock nova's
            # check_instance_host).
            raise exception.InstanceNotReady(instance_id=uuid)
        # The workflow row is the lock: a workflow whose last step
        # cleared the task_state but whose end a crash kept from being
        # recorded runs that step again when it is taken back.
        running = self.compute_task_api.unfinished_workflow(context, uuid)
        if running is not None:
            raise exception.InstanceInvalidState(
                method=spec.action,
                instance_uuid=uuid,
                attr='workflow',
                state=running,
            )
        try:
            instances_db.update(
                context,
                uuid,
                {'task_state': spec.task_state},
                expected_task_state=[None],
            )
        except exception.InstanceInvalidState as exc:
            # Another action took the server since it was read.
            raise exception.InstanceInvalidState(
                method=spec.action,
                instance_uuid=uuid,
                attr='task_state',
                state=exc.kwargs['state'],
            ) from None
        action_id = actions_db.action_start(context, uuid, spec.action)
        return self.compute_task_api.create_power_action_workflow(
            context, uuid, action_id, spec.key
        )

    # -- lock --------------------------------------------------------------
    @db_api.context_manager.writer
    def lock(self, context, uuid):
        """Lock a server: non-admins can then take no action on it nor
        delete it (409). Recorded as its owner's lock or an admin's,
        with a 'lock' instance action, as stock nova does; no workflow
        (nothing happens on a host)."""
        instance = self.get(context, uuid)
        is_owner = instance['project_id'] == context.project_id
        if instance['locked'] and is_owner:
            # Locked already; an owner's lock must not turn an admin's
            # into one the owner may lift.
            return
        instances_db.update(
            context,
            uuid,
            {'locked': True, 'locked_by': 'owner' if is_owner else 'admin'},
        )
        self._record_action(context, uuid, 'lock')

    def is_expected_locked_by(self, context, instance):
        """Whether the caller locked the server, or as the same side
        (its project, or admins): only then may it unlock it without
        the unlock_override policy."""
        expected = (
            'owner'
            if instance['project_id'] == context.project_id
            else 'admin'
        )
        return instance.get('locked_by') in (None, expected)

    @db_api.context_manager.writer
    def unlock(self, context, uuid, override_allowed):
        """Unlock a server. ``override_allowed(instance)`` is asked, in
        the transaction, when the other side locked it (see
        :meth:`is_expected_locked_by`); it raises if the caller may not
        override that lock."""
        instance = self.get(context, uuid)
        if not self.is_expected_locked_by(context, instance):
            override_allowed(instance)
        instances_db.update(
            context, uuid, {'locked': False, 'locked_by': None}
        )
        self._record_action(context, uuid, 'unlock')

    @staticmethod
    def _record_action(context, uuid, action):
        """A finished instance action for a request that runs no
        workflow (nothing to do on a host)."""
        action_id = actions_db.action_start(context, uuid, action)
        actions_db.action_finish(context, action_id)


def _hostname(display_name):
    """A DNS-safe hostname from a display name, as nova sanitizes it."""
    allowed = []
    for char in str(display_name).lower():
        allowed.append(char if char.isalnum() or char in '-.' else '-')
    return ''.join(allowed).strip('-.')[:63] or 'server'
