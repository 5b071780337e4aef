"""RAMWeigher: prefer hosts with the most free RAM (or least, to stack)."""

import nova.conf
from nova.scheduler import weights

CONF = nova.conf.CONF


class RAMWeigher(weights.BaseHostWeigher):
    """Weigh hosts by free RAM times ``ram_weight_multiplier``.

    A positive multiplier spreads instances over hosts; a negative one
    stacks them on the fullest host that still passes the filters.
    """

    def weight_multiplier(self):
        return CONF.filter_scheduler.ram_weight_multiplier

    def raw_weight(self, host_state):
        return host_state.free_ram_mb
