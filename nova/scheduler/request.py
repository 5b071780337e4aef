"""What one instance of a request_spec asks of a compute node."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class ResourceRequest:
    """vCPUs, RAM (MiB) and disk (MiB) that one instance needs.

    Disk is counted in MiB, as nova's DiskFilter does, because swap is
    sized in MiB while root and ephemeral disks are sized in GiB.
    """

    vcpus: int
    memory_mb: int
    disk_mb: int

    @classmethod
    def from_spec(cls, request_spec: dict) -> 'ResourceRequest':
        """The resources of ``request_spec['flavor']``."""
        flavor = request_spec.get('flavor') or {}
        disk_mb = 1024 * (
            int(flavor.get('root_gb') or 0)
            + int(flavor.get('ephemeral_gb') or 0)
        ) + int(flavor.get('swap') or 0)
        return cls(
            vcpus=int(flavor.get('vcpus') or 0),
            memory_mb=int(flavor.get('memory_mb') or 0),
            disk_mb=disk_mb,
        )
