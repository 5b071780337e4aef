"""Capacity filters: RAM, vCPUs and disk, with allocation ratios.

Each compares what the request needs with what is left of the node's
capacity times the node's allocation ratio (the limit the conductor's
claim enforces atomically on the node row), after the usage of
selections not claimed yet.
"""

from nova.scheduler import filters
from nova.scheduler.request import ResourceRequest


class RamFilter(filters.BaseHostFilter):
    """Pass hosts with enough RAM left under ram_allocation_ratio."""

    def host_passes(self, host_state, request_spec):
        requested = ResourceRequest.from_spec(request_spec).memory_mb
        limit = (
            host_state.total_usable_ram_mb * host_state.ram_allocation_ratio
        )
        used = host_state.total_usable_ram_mb - host_state.free_ram_mb
        return limit - used >= requested


class CoreFilter(filters.BaseHostFilter):
    """Pass hosts with enough vCPUs left under cpu_allocation_ratio."""

    def host_passes(self, host_state, request_spec):
        requested = ResourceRequest.from_spec(request_spec).vcpus
        limit = host_state.vcpus_total * host_state.cpu_allocation_ratio
        return limit - host_state.vcpus_used >= requested


class DiskFilter(filters.BaseHostFilter):
    """Pass hosts with enough disk left under disk_allocation_ratio.

    Root, ephemeral and swap disks all count, in MiB, as in nova: swap
    is local disk too.
    """

    def host_passes(self, host_state, request_spec):
        requested = ResourceRequest.from_spec(request_spec).disk_mb
        total_mb = 1024 * host_state.total_usable_disk_gb
        limit = total_mb * host_state.disk_allocation_ratio
        used = total_mb - host_state.free_disk_mb
        return limit - used >= requested
