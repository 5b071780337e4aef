"""The metadata of a server: its user's key/value items.

As stock nova's ``update_instance_metadata`` and
``delete_instance_metadata``: a change is a database write, made only
while the server is ACTIVE, PAUSED, SUSPENDED or STOPPED with no task,
not locked (for non-admins), and within ``[quota] metadata_items``. No
workflow runs: nothing happens on a host (the fake hypervisor, like
libvirt, keeps no copy of the metadata).
"""

from nova import exception
from nova.compute import checks
from nova.compute import vm_states
from nova.db import api as db_api
from nova.db import instances as instances_db

#: The vm_states in which a server's metadata may change.
_CHANGEABLE = (
    vm_states.ACTIVE,
    vm_states.PAUSED,
    vm_states.SUSPENDED,
    vm_states.STOPPED,
)


class ServerMetadataAPI:
    """Read and change the metadata of the caller's servers."""

    def __init__(self, compute):
        #: The nova.compute.api.API that reads the caller's servers.
        self.compute = compute

    def get(self, context, uuid):
        """The server (visible to the caller) and its metadata."""
        instance = self.compute.get(context, uuid)
        return instance, instance['metadata']

    @db_api.context_manager.writer
    def update(self, context, uuid, metadata, replace=False):
        """Set items (all of them with ``replace``); return all items.

        The checks read in the transaction that writes.
        """
        instance = self.compute.get(context, uuid)
        self._check_changeable(context, instance, 'update metadata')
        merged = dict(metadata if replace else instance['metadata'])
        merged.update(metadata)
        checks.metadata_quota(merged)
        return instances_db.metadata_update(
            context, uuid, metadata, replace=replace
        )

    @db_api.context_manager.writer
    def delete(self, context, uuid, key):
        """Delete the item ``key`` (MetadataItemNotFound if none)."""
        instance = self.compute.get(context, uuid)
        if key not in instance['metadata']:
            raise exception.MetadataItemNotFound()
        self._check_changeable(context, instance, 'delete metadata')
        instances_db.metadata_delete(context, uuid, key)

    @staticmethod
    def _check_changeable(context, instance, action):
        checks.instance_lock(context, instance)
        checks.instance_state(instance, action, _CHANGEABLE)
