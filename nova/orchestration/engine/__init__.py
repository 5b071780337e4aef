"""The engine: Engine and EnginePolicy (public), its composed parts
(private), and Heartbeat."""

from nova.orchestration.engine._engine import Engine
from nova.orchestration.engine._engine import default_owner
from nova.orchestration.engine._heartbeat import Heartbeat
from nova.orchestration.engine._journal import Event
from nova.orchestration.engine._policy import EnginePolicy
from nova.orchestration.engine._policy import SystemClock
from nova.orchestration.engine._pool import FuturistPool

__all__ = [
    'Engine',
    'EnginePolicy',
    'Event',
    'FuturistPool',
    'Heartbeat',
    'SystemClock',
    'default_owner',
]
