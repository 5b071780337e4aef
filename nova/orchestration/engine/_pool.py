"""Where steps run: the process-wide executors and the work-pool interface.

One long-lived executor per kind, created lazily: an engine never creates
(and so never shuts down) its own, which is what costs TaskFlow about 1 s
per run. The engine talks to a *work pool*, two methods wide, so that a
simulation can decide which step runs when.
"""

import threading

import futurist
import futurist.waiters

from nova.orchestration.failure import Failure
from nova.orchestration.task import _current_cancel_event
from nova.orchestration.task import _set_cancel_event

DEFAULT_MAX_WORKERS = 64

_lock = threading.Lock()
_shared = {}


def shared_executor(kind='threads', max_workers=None):
    """The shared futurist executor of ``kind`` ('threads' or 'eventlet')."""
    with _lock:
        ex = _shared.get(kind)
        if ex is None:
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


class FuturistPool:
    """The work pool over a futurist (or concurrent.futures) executor.

    A work pool has two methods: ``submit(call)`` runs ``call()`` (which
    never raises) some time later and returns a future with ``done()``,
    ``result()`` and ``cancel()``; ``wait_any(futures, timeout)`` returns
    the set of those done, waiting up to ``timeout`` seconds (None: until
    one is) for the first.
    """

    def __init__(self, executor):
        self.executor = executor

    def submit(self, call):
        return self.executor.submit(call)

    @staticmethod
    def wait_any(futures, timeout):
        done, _ = futurist.waiters.wait_for_any(list(futures), timeout)
        return done


def work_pool(executor, max_workers=None):
    """The work pool for an EnginePolicy's ``executor``."""
    if isinstance(executor, str):
        return FuturistPool(shared_executor(executor, max_workers))
    if callable(getattr(executor, 'wait_any', None)):
        return executor
    return FuturistPool(executor)


class StepCall:
    """One execute or revert as a zero-argument callable for a work pool.

    ``cancel`` is the flag the step polls through ``Task.cancelled()``;
    once set before the call starts, the call does not run the step at all
    (invariant I6: a step that timed out never starts executing), even
    when the pool could not cancel the queued future.
    """

    __slots__ = ('fn', 'kwargs', 'cancel')

    def __init__(self, fn, kwargs, cancel=None):
        self.fn = fn
        self.kwargs = kwargs
        self.cancel = cancel

    def __call__(self):
        """-> (True, result) or (False, Failure); never raises."""
        cancel = self.cancel
        if cancel is not None and cancel.is_set():
            return False, None
        return run_step(self.fn, self.kwargs, cancel)


def run_step(fn, kwargs, cancel=None):
    """``fn(**kwargs)`` -> (True, result) or (False, Failure); never
    raises. ``cancel`` is what ``Task.cancelled()`` reads meanwhile."""
    outer = _current_cancel_event()
    _set_cancel_event(cancel)
    try:
        return True, fn(**kwargs)
    except Exception:
        return False, Failure()
    finally:
        # Restore, not clear: a step may run an engine of its own.
        _set_cancel_event(outer)
