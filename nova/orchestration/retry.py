"""Retry controllers: decide what a failure inside their subflow leads to.

A retry controller is attached to a (sub)flow (``LinearFlow('x', retry=...)``).
It runs before the subflow; its ``execute(history, ...)`` result is provided to
the subflow under its ``provides`` name (e.g. the next alternate host). When a
task of the subflow fails, ``on_failure(history, ...)`` returns:

* ``RETRY``: revert the subflow, run ``execute`` again, then the subflow again;
* ``REVERT``: revert the subflow and fail upward (the enclosing controller, if
  any, decides next; at the top the whole workflow reverts);
* ``REVERT_ALL``: revert the whole workflow whatever the enclosing controllers
say.

History survives persistence: values must be JSON-encodable.
"""

from nova.orchestration.task import Atom

RETRY = 'RETRY'
REVERT = 'REVERT'
REVERT_ALL = 'REVERT_ALL'
DECISIONS = (RETRY, REVERT, REVERT_ALL)


class History:
    """The attempts of one retry controller: (value, {task name: Failure})
    each."""

    __slots__ = ('attempts',)

    def __init__(self, attempts=None):
        self.attempts = list(attempts or [])

    def __len__(self):
        return len(self.attempts)

    def __iter__(self):
        return iter(self.attempts)

    @property
    def values(self):
        """The values returned by ``execute``, oldest first."""
        return [v for v, _ in self.attempts]

    @property
    def last_failures(self):
        """{task name: Failure} of the latest attempt."""
        return dict(self.attempts[-1][1]) if self.attempts else {}

    def to_json(self):
        return [
            {'value': v, 'failures': {n: f.to_dict() for n, f in fs.items()}}
            for v, fs in self.attempts
        ]

    @classmethod
    def from_json(cls, data):
        from nova.orchestration.failure import Failure

        return cls(
            [
                (
                    a['value'],
                    {
                        n: Failure.from_dict(f)
                        for n, f in a['failures'].items()
                    },
                )
                for a in data or ()
            ]
        )


class Retry(Atom):
    """Base class of retry controllers; subclass and override the methods.

    ``execute(history, **requires)`` returns the value given to the subflow;
    ``on_failure(history, **requires)`` returns RETRY, REVERT or REVERT_ALL;
    ``revert(history, **requires)`` undoes ``execute`` (default: nothing).
    ``history`` is supplied by the engine; other arguments are inferred from
    ``execute``'s signature like a task's.
    """

    _engine_supplied = frozenset(['history'])
    # Retry controllers have no side effect of their own by default.
    idempotent = True

    def execute(self, history, **kwargs):
        """The value provided to the subflow for the next attempt."""
        return len(history) + 1

    def on_failure(self, history, **kwargs):
        """RETRY, REVERT or REVERT_ALL after a failure in the subflow."""
        return REVERT

    def revert(self, history, **kwargs):
        """Undo ``execute``; default nothing."""


class Times(Retry):
    """Run the subflow up to ``attempts`` times; provides the attempt number
    (1-based)."""

    def __init__(
        self,
        attempts=1,
        name=None,
        provides=None,
        requires=None,
        rebind=None,
        revert_all=False,
    ):
        super().__init__(
            name=name, provides=provides, requires=requires, rebind=rebind
        )
        self.attempts = int(attempts)
        self.revert_all = revert_all

    def execute(self, history, **kwargs):
        return len(history) + 1

    def on_failure(self, history, **kwargs):
        if len(history) < self.attempts:
            return RETRY
        return REVERT_ALL if self.revert_all else REVERT


class ForEach(Retry):
    """Try the subflow with each value in turn (provided under
    ``provides``)."""

    def __init__(
        self,
        values,
        name=None,
        provides=None,
        requires=None,
        rebind=None,
        revert_all=False,
    ):
        super().__init__(
            name=name, provides=provides, requires=requires, rebind=rebind
        )
        self.values = list(values)
        self.revert_all = revert_all

    def _values(self, kwargs):
        return self.values

    def execute(self, history, **kwargs):
        values = self._values(kwargs)
        if len(history) >= len(values):
            raise IndexError('%s: no value left to try' % self.name)
        return values[len(history)]

    def on_failure(self, history, **kwargs):
        if len(history) < len(self._values(kwargs)):
            return RETRY
        return REVERT_ALL if self.revert_all else REVERT


class ParameterizedForEach(ForEach):
    """ForEach over a list taken from the store or an earlier task.

    ``ParameterizedForEach(rebind=['alternates'], provides='host')`` tries each
    element of the ``alternates`` symbol.
    """

    def __init__(
        self,
        name=None,
        provides=None,
        requires=None,
        rebind=None,
        revert_all=False,
    ):
        super().__init__(
            (),
            name=name,
            provides=provides,
            requires=requires,
            rebind=rebind,
            revert_all=revert_all,
        )

    def _values(self, kwargs):
        return list(kwargs['values'] or ())

    def execute(self, history, values):
        return super().execute(history, values=values)

    def on_failure(self, history, values):
        return super().on_failure(history, values=values)
