"""EnginePolicy: every option of an engine in one validated object, and
the clock it reads time from."""

import datetime
import time

from nova.orchestration.persistence.base import DEFAULT_LEASE_SECONDS

#: The executor kinds an engine can be given by name.
EXECUTOR_KINDS = ('threads', 'eventlet')


class SystemClock:
    """The host's clocks. A simulation passes its own object with the same
    three methods, and then the engine reads no other time."""

    @staticmethod
    def monotonic():
        """Seconds from an arbitrary origin, never going back (timeouts)."""
        return time.monotonic()

    @staticmethod
    def utcnow(
        _epoch=datetime.datetime(1970, 1, 1),
        _delta=datetime.timedelta,
        _time=time.time,
    ):
        """Naive UTC now (what every timestamp column stores).

        Epoch plus seconds: a third cheaper than now(utc).replace(...),
        and an engine reads it twice per step.
        """
        return _epoch + _delta(seconds=_time())

    @staticmethod
    def sleep(seconds):
        """Wait (the backoff between two tries of a failed write)."""
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def _seconds(name, value, allow_none=False, positive=True):
    if value is None and allow_none:
        return None
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            'EnginePolicy %s must be seconds (a number) or a timedelta, '
            'not %r' % (name, value)
        )
    if value < 0 or (positive and value == 0):
        raise ValueError(
            'EnginePolicy %s must be %s seconds, not %r'
            % (name, 'more than 0' if positive else 'at least 0', value)
        )
    return float(value)


def _count(name, value, minimum, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            'EnginePolicy %s must be an integer, not %r' % (name, value)
        )
    if value < minimum:
        raise ValueError(
            'EnginePolicy %s must be at least %d, not %r'
            % (name, minimum, value)
        )
    return value


class EnginePolicy:
    """How an engine runs: leases, limits, executor, clock, write retries.

    Durations are seconds (int or float) or ``datetime.timedelta``; every
    value is checked here, so a typo or a nonsense value fails when the
    policy is built, not in the middle of a workflow. Immutable; share
    one per service.

    :param lease_seconds: how long a claim holds a workflow without a
        write or a heartbeat renewing it (design 4.4).
    :param max_adoptions: a workflow adopted more often than this is set
        FAILED (poison) instead of cycling between owners; None: no limit.
    :param result_size_limit: bytes of one encoded task result; None: the
        backend's default.
    :param executor: 'threads', 'eventlet', a futurist executor, or a work
        pool (an object with ``submit(call)`` and ``wait_any(futures,
        timeout)``, see ``nova.orchestration.engine.FuturistPool``).
    :param max_workers: size of the shared pool created for an executor
        given by name.
    :param clock: where the engine reads time (``monotonic``, ``utcnow``,
        ``sleep``); the host's clocks by default.
    :param save_attempts: tries of a fenced write that failed for a
        database reason (not fencing, not an abort) before the engine
        gives the workflow up.
    :param save_retry_delay: seconds before the second try; the n-th
        retry waits n times as long.
    """

    __slots__ = (
        'lease_seconds',
        'max_adoptions',
        'result_size_limit',
        'executor',
        'max_workers',
        'clock',
        'save_attempts',
        'save_retry_delay',
    )

    def __init__(
        self,
        lease_seconds=DEFAULT_LEASE_SECONDS,
        max_adoptions=None,
        result_size_limit=None,
        executor='threads',
        max_workers=None,
        clock=None,
        save_attempts=3,
        save_retry_delay=0.2,
    ):
        if isinstance(executor, str) and executor not in EXECUTOR_KINDS:
            raise ValueError(
                'EnginePolicy executor must be one of %s, an executor or a '
                'work pool, not %r' % (', '.join(EXECUTOR_KINDS), executor)
            )
        if executor is None:
            executor = 'threads'
        if clock is None:
            clock = SYSTEM_CLOCK
        for method in ('monotonic', 'utcnow', 'sleep'):
            if not callable(getattr(clock, method, None)):
                raise TypeError(
                    'EnginePolicy clock %r has no %s()' % (clock, method)
                )
        values = {
            'lease_seconds': _seconds('lease_seconds', lease_seconds),
            'max_adoptions': _count('max_adoptions', max_adoptions, 0),
            'result_size_limit': _count(
                'result_size_limit', result_size_limit, 64
            ),
            'executor': executor,
            'max_workers': _count('max_workers', max_workers, 1),
            'clock': clock,
            'save_attempts': _count(
                'save_attempts', save_attempts, 1, allow_none=False
            ),
            'save_retry_delay': _seconds(
                'save_retry_delay', save_retry_delay, positive=False
            ),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError('EnginePolicy is immutable')

    def replace(self, **changes):
        """A copy with ``changes`` applied (and validated)."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return EnginePolicy(**values)

    def __repr__(self):
        return 'EnginePolicy(%s)' % ', '.join(
            '%s=%r' % (n, getattr(self, n)) for n in self.__slots__
        )


DEFAULT_POLICY = EnginePolicy()
