"""nova's handle on the workflow tables of nova.orchestration.

One :class:`nova.orchestration.persistence.Backend` per process, over the
same SQLAlchemy engine as the rest of nova, so that nova-api can write an
instance and its workflow row in one transaction.
"""

import threading

from nova import orchestration as orc
import nova.conf
from nova.db import api as db_api

CONF = nova.conf.CONF

_lock = threading.Lock()
_backend = None
_backend_engine = None


def get_backend():
    """The process-wide workflow backend on nova's database engine."""
    global _backend, _backend_engine
    engine = db_api.context_manager.writer.get_engine()
    with _lock:
        # Tests point the engine facade at a new database per test; follow.
        if _backend is None or _backend_engine is not engine:
            _backend = orc.persistence.backend_from_engine(
                engine, result_size_limit=CONF.orchestration.result_size_limit
            )
            _backend_engine = engine
        return _backend


def engine_policy():
    """The EnginePolicy of [orchestration]."""
    opts = CONF.orchestration
    return orc.EnginePolicy(
        lease_seconds=opts.lease_seconds,
        max_adoptions=opts.max_adoptions,
        result_size_limit=opts.result_size_limit,
        executor=opts.executor,
        max_workers=opts.max_workers,
    )


def active_workflows(target_id, name=None):
    """Unfinished workflows of a target (e.g. an instance uuid)."""
    rows = get_backend().list_workflows(target=target_id)
    return [
        row
        for row in rows
        if row['state'] not in orc.states.WORKFLOW_TERMINAL
        and (name is None or row['name'] == name)
    ]
