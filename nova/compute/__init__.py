"""Compute: the API entry point, per-host managers and their RPC API."""
