"""ComputeFilter: only hosts whose nova-compute is up and enabled."""

from oslo_log import log as logging

import nova.conf
from nova.db import services as services_db
from nova.scheduler import filters

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class ComputeFilter(filters.BaseHostFilter):
    """Pass hosts whose nova-compute service is up and not disabled.

    A node without a service row (the service was deleted, or never
    registered) cannot receive RPC, so it never passes.
    """

    def host_passes(self, host_state, request_spec):
        service = host_state.service
        if service is None:
            LOG.debug('%s has no nova-compute service', host_state)
            return False
        if service.get('disabled'):
            LOG.debug(
                '%s is disabled: %s',
                host_state,
                service.get('disabled_reason'),
            )
            return False
        if not services_db.is_up(service):
            LOG.debug(
                '%s has not reported for more than %ss',
                host_state,
                CONF.service_down_time,
            )
            return False
        return True
