"""Client side of the compute RPC API (topic ``compute``, server = host).

Every method is a call: the conductor's step needs the outcome (or the
exception, re-raised here as the same nova.exception class) before it
records the step as done or reverts it.

API version history:

* 1.0 - spawn, destroy, prepare_block_devices, cleanup_block_devices,
  power_on, power_off, get_info; workflow calls carry (workflow_id,
  generation) for fencing.
* 1.1 - spawn_and_report: a cast; the host reports the outcome to the
  conductors (report_completion), so no conductor thread waits on it.
* 1.2 - power_action(instance, action): stop, start, reboot (soft and
  hard), pause, unpause, suspend, resume.
"""

import oslo_messaging as messaging

from nova import rpc
import nova.conf

CONF = nova.conf.CONF

TOPIC = 'compute'


class ComputeAPI:
    """RPC calls to the nova-compute service of one host."""

    VERSION = '1.2'
    # Highest version every nova-compute of the deployment understands;
    # raise it only once all hosts run code with the new version.
    VERSION_CAP = '1.2'

    def __init__(self):
        self._client = None

    @property
    def client(self):
        # Created on first use so that building the API object needs no
        # transport (nova-api imports it before RPC is set up).
        if self._client is None:
            self._client = rpc.get_client(
                messaging.Target(topic=TOPIC, version=self.VERSION),
                version_cap=self.VERSION_CAP,
            )
        return self._client

    def can_send_version(self, version):
        """Whether every host accepts ``version`` of a method."""
        return self.client.can_send_version(version)

    def _prepare(self, host, version='1.0'):
        return self.client.prepare(server=host, version=version)

    def spawn(
        self,
        ctxt,
        host,
        instance,
        network_info,
        block_device_info,
        workflow_id,
        generation,
        admin_password=None,
    ):
        """Boot ``instance`` on ``host``; return its info dict."""
        return self.client.prepare(
            server=host, timeout=CONF.conductor.spawn_timeout
        ).call(
            ctxt,
            'spawn',
            instance=instance,
            network_info=network_info,
            block_device_info=block_device_info,
            workflow_id=workflow_id,
            generation=generation,
            admin_password=admin_password,
        )

    def spawn_and_report(
        self,
        ctxt,
        host,
        instance,
        network_info,
        block_device_info,
        workflow_id,
        generation,
        task_name,
        token,
        admin_password=None,
    ):
        """Boot ``instance`` on ``host`` without waiting for it.

        When the spawn ends the host reports ``(workflow_id, task_name,
        token, result | failure)`` to the conductors until one has
        committed it (nova.compute.completions).
        """
        self._prepare(host, version='1.1').cast(
            ctxt,
            'spawn_and_report',
            instance=instance,
            network_info=network_info,
            block_device_info=block_device_info,
            workflow_id=workflow_id,
            generation=generation,
            task_name=task_name,
            token=token,
            admin_password=admin_password,
        )

    def destroy(self, ctxt, host, instance, workflow_id, generation):
        """Remove ``instance`` from ``host`` (idempotent)."""
        return self._prepare(host).call(
            ctxt,
            'destroy',
            instance=instance,
            workflow_id=workflow_id,
            generation=generation,
        )

    def prepare_block_devices(
        self,
        ctxt,
        host,
        instance,
        block_device_mappings,
        workflow_id,
        generation,
    ):
        """Create the local disks on ``host``; return block_device_info."""
        return self._prepare(host).call(
            ctxt,
            'prepare_block_devices',
            instance=instance,
            block_device_mappings=block_device_mappings,
            workflow_id=workflow_id,
            generation=generation,
        )

    def cleanup_block_devices(
        self,
        ctxt,
        host,
        instance,
        block_device_mappings,
        workflow_id,
        generation,
    ):
        """Remove the local disks from ``host`` (idempotent)."""
        return self._prepare(host).call(
            ctxt,
            'cleanup_block_devices',
            instance=instance,
            block_device_mappings=block_device_mappings,
            workflow_id=workflow_id,
            generation=generation,
        )

    def power_on(
        self, ctxt, host, instance, workflow_id=None, generation=None
    ):
        """Start ``instance``; return its info dict."""
        return self._prepare(host).call(
            ctxt,
            'power_on',
            instance=instance,
            workflow_id=workflow_id,
            generation=generation,
        )

    def power_off(
        self, ctxt, host, instance, workflow_id=None, generation=None
    ):
        """Stop ``instance``; return its info dict."""
        return self._prepare(host).call(
            ctxt,
            'power_off',
            instance=instance,
            workflow_id=workflow_id,
            generation=generation,
        )

    def power_action(
        self, ctxt, host, instance, action, workflow_id, generation
    ):
        """Run the power ``action`` on ``instance`` (1.2); return its
        info dict."""
        return self._prepare(host, version='1.2').call(
            ctxt,
            'power_action',
            instance=instance,
            action=action,
            workflow_id=workflow_id,
            generation=generation,
        )

    def get_info(self, ctxt, host, instance_uuid):
        """Power state of ``instance_uuid`` on ``host``."""
        return self._prepare(host).call(
            ctxt, 'get_info', instance_uuid=instance_uuid
        )
