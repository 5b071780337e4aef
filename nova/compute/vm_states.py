"""Server states (vm_state) and task states, as in nova.

Power states are the hypervisor's: :mod:`nova.virt.power_state`.
"""

BUILDING = 'building'
ACTIVE = 'active'
STOPPED = 'stopped'
ERROR = 'error'
DELETED = 'deleted'

# task_state values of the steps of build_instance and delete_instance.
SCHEDULING = 'scheduling'
NETWORKING = 'networking'
BLOCK_DEVICE_MAPPING = 'block_device_mapping'
SPAWNING = 'spawning'
DELETING = 'deleting'
