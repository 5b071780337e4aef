"""Server states (vm_state), task states and power states, as in nova."""

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

# power_state values (nova.compute.power_state).
NOSTATE = 0
RUNNING = 1
SHUTDOWN = 4
