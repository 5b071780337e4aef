"""Deterministic simulation of the workflow engine (FoundationDB-style).

Runs workflows single-threaded on a fake clock, with every backend call,
step start and end, pool choice and completion delivery a numbered yield
point where a schedule injects a fault or an event; checks the invariants
I1-I9 after every explored schedule. See
doc/source/orchestration/simulation.rst.
"""
