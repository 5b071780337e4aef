"""The engine: Engine (public), its run loop (private), and Heartbeat."""

from nova.orchestration.engine._engine import Engine
from nova.orchestration.engine._engine import default_owner
from nova.orchestration.engine._heartbeat import Heartbeat
from nova.orchestration.engine._runtime import Event

__all__ = ['Engine', 'Event', 'Heartbeat', 'default_owner']
