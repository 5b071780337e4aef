"""Virt drivers: the hypervisor interface and the fake hypervisor."""
