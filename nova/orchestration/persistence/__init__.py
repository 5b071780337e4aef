"""Persistence backends: memory and SQL (SQLite, MySQL/MariaDB, PostgreSQL)."""

from nova.orchestration.persistence.base import DEFAULT_RESULT_SIZE_LIMIT
from nova.orchestration.persistence.base import Backend
from nova.orchestration.persistence.memory import MemoryBackend


def backend_from_url(url, **opts):
    """A backend for 'memory://', 'sqlite://', 'sqlite:///path',
    'mysql+pymysql://...' or 'postgresql://...'. ``opts`` go to the backend
    (e.g. result_size_limit, pool options for SQL)."""
    if url in ('memory://', 'memory:'):
        return MemoryBackend(**opts)
    from nova.orchestration.persistence.sql import SQLBackend

    return SQLBackend.from_url(url, **opts)


def backend_from_engine(engine, **opts):
    """An SQLBackend over an existing SQLAlchemy Engine (e.g. nova's)."""
    from nova.orchestration.persistence.sql import SQLBackend

    return SQLBackend(engine, **opts)


__all__ = [
    'Backend',
    'DEFAULT_RESULT_SIZE_LIMIT',
    'MemoryBackend',
    'backend_from_engine',
    'backend_from_url',
]
