"""The process-wide shared executors and the job wrapper run in them.

One long-lived pool per kind, created lazily: an engine never creates (and so
never shuts down) its own pool, which is what costs TaskFlow about 1 s per run.
"""

import threading

from nova.orchestration.failure import Failure
from nova.orchestration.task import _set_cancel_event

DEFAULT_MAX_WORKERS = 64

_lock = threading.Lock()
_shared = {}


def shared_executor(kind='threads', max_workers=None):
    """The shared futurist executor of ``kind`` ('threads' or 'eventlet')."""
    with _lock:
        ex = _shared.get(kind)
        if ex is None:
            import futurist

            workers = max_workers or DEFAULT_MAX_WORKERS
            if kind == 'threads':
                ex = futurist.ThreadPoolExecutor(max_workers=workers)
            elif kind == 'eventlet':
                # Imports eventlet: only when asked for.
                ex = futurist.GreenThreadPoolExecutor(max_workers=workers)
            else:
                raise ValueError(
                    "executor must be 'threads', 'eventlet' or an "
                    "executor object, not %r" % (kind,)
                )
            _shared[kind] = ex
        return ex


def call(fn, kwargs, cancel_event):
    """Run ``fn(**kwargs)``; -> (True, result) or (False, Failure). Never
    raises."""
    _set_cancel_event(cancel_event)
    try:
        return True, fn(**kwargs)
    except Exception:
        return False, Failure()
    finally:
        _set_cancel_event(None)
