"""AvailabilityZoneFilter: only hosts of the requested zone."""

from nova.scheduler import filters


class AvailabilityZoneFilter(filters.BaseHostFilter):
    """Pass hosts whose service is in ``request_spec['availability_zone']``.

    A request without a zone can go to any host. The zone of a host is
    the ``availability_zone`` of its nova-compute service row.
    """

    def host_passes(self, host_state, request_spec):
        zone = request_spec.get('availability_zone')
        if not zone:
            return True
        return host_state.availability_zone == zone
