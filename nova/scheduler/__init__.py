"""nova-scheduler: picks a compute host (plus alternates) for a build.

The scheduler only reads: compute node capacity and usage, service
liveness and availability zones. It never claims; the conductor claims
atomically on the chosen node and walks the alternates when that fails.
"""
