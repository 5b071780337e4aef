"""Workflows the conductor runs: one module per API operation."""
