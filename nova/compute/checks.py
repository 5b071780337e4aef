"""The checks of nova.compute.api's requests on a server, as stock
nova's ``check_instance_state`` and ``check_instance_lock`` decorators
and its metadata quota: each raises the API's error, before anything is
written."""

from nova import exception
import nova.conf

CONF = nova.conf.CONF


def instance_state(instance, action, vm_states_allowed):
    """Raise InstanceInvalidState (409) unless the server is in one of
    ``vm_states_allowed`` with no task, as stock nova's
    ``check_instance_state`` does (its message names the action)."""
    if instance['vm_state'] not in vm_states_allowed:
        raise exception.InstanceInvalidState(
            method=action,
            instance_uuid=instance['uuid'],
            attr='vm_state',
            state=instance['vm_state'],
        )
    if instance['task_state'] is not None:
        raise exception.InstanceInvalidState(
            method=action,
            instance_uuid=instance['uuid'],
            attr='task_state',
            state=instance['task_state'],
        )


def instance_lock(context, instance):
    """Raise InstanceIsLocked (409) when a non-admin acts on a locked
    server, as stock nova's ``check_instance_lock`` does."""
    if instance.get('locked') and not context.is_admin:
        raise exception.InstanceIsLocked(instance_uuid=instance['uuid'])


def metadata_quota(metadata):
    """Raise MetadataLimitExceeded (403) for more items than
    ``[quota] metadata_items`` allows."""
    allowed = CONF.quota.metadata_items
    if allowed >= 0 and len(metadata or {}) > allowed:
        raise exception.MetadataLimitExceeded(allowed=allowed)
