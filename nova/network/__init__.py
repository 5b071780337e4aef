"""Network: DB-backed fixed IP allocation (nova-network style)."""
