"""Failure: an exception captured as a value that survives JSON and RPC."""

import json
import sys
import traceback

from nova.orchestration.exceptions import OrchestrationError


def _type_name(cls):
    mod = cls.__module__
    if mod in ('builtins', '__builtin__'):
        return cls.__qualname__
    return '%s.%s' % (mod, cls.__qualname__)


class WrappedFailure(OrchestrationError):
    """Re-raised for a Failure whose original exception is no longer in
    memory."""

    def __init__(self, failure):
        super().__init__('%s: %s' % (failure.exc_type, failure.message))
        self.failure = failure


class Failure:
    """An exception as a value: type (with module), message, traceback, args.

    Build one with ``Failure()`` inside an ``except`` block or
    ``Failure.from_exception(exc)``. ``to_dict()``/``from_dict()`` give a JSON
    friendly form; ``reraise()`` raises the original exception while it is in
    memory and a :class:`WrappedFailure` after a round trip.
    """

    __slots__ = (
        'exc_type',
        'exc_type_names',
        'message',
        'traceback',
        'exc_args',
        'exception',
    )

    def __init__(
        self,
        exc_info=None,
        *,
        exc_type=None,
        exc_type_names=None,
        message=None,
        traceback_text=None,
        exc_args=None,
    ):
        if exc_type is not None:
            self.exc_type = exc_type
            self.exc_type_names = tuple(exc_type_names or (exc_type,))
            self.message = message or ''
            self.traceback = traceback_text or ''
            self.exc_args = exc_args
            self.exception = None
            return
        if exc_info is None:
            exc_info = sys.exc_info()
        etype, value, tb = exc_info
        if value is None:
            raise ValueError('Failure() needs an exception being handled')
        self._from_exc(value, tb)

    def _from_exc(self, value, tb):
        cls = type(value)
        self.exc_type = _type_name(cls)
        self.exc_type_names = tuple(
            _type_name(c) for c in cls.__mro__ if issubclass(c, BaseException)
        )
        self.message = str(value)
        if tb is None:
            tb = value.__traceback__
        self.traceback = ''.join(traceback.format_exception(cls, value, tb))
        args = getattr(value, 'args', ())
        try:
            json.dumps(args)
            self.exc_args = list(args)
        except (TypeError, ValueError):
            self.exc_args = None
        self.exception = value

    @classmethod
    def from_exception(cls, exc):
        """A Failure for an exception object (raised or not)."""
        self = cls.__new__(cls)
        self._from_exc(exc, exc.__traceback__)
        return self

    def check(self, *exc_types):
        """The first of ``exc_types`` (classes or dotted names) this failure
        is, else None."""
        for t in exc_types:
            name = t if isinstance(t, str) else _type_name(t)
            if name in self.exc_type_names:
                return t
        return None

    def reraise(self):
        """Raise the original exception if still in memory, else
        WrappedFailure."""
        if self.exception is not None:
            raise self.exception
        raise WrappedFailure(self)

    def brief(self):
        """'Type: message' in one line."""
        return '%s: %s' % (self.exc_type, self.message)

    def to_dict(self):
        """A JSON-friendly dict; ``Failure.from_dict`` reverses it."""
        return {
            'exc_type': self.exc_type,
            'exc_type_names': list(self.exc_type_names),
            'message': self.message,
            'traceback': self.traceback,
            'exc_args': self.exc_args,
        }

    @classmethod
    def from_dict(cls, data):
        """Rebuild a Failure from ``to_dict()`` output."""
        return cls(
            exc_type=data['exc_type'],
            exc_type_names=data.get('exc_type_names'),
            message=data.get('message'),
            traceback_text=data.get('traceback'),
            exc_args=data.get('exc_args'),
        )

    def __eq__(self, other):
        if not isinstance(other, Failure):
            return NotImplemented
        return (
            self.exc_type_names == other.exc_type_names
            and self.message == other.message
        )

    def __hash__(self):
        return hash((self.exc_type_names, self.message))

    def __repr__(self):
        return '<Failure %s>' % self.brief()
