"""Task (the unit of work with execute/revert), its argument mapping, and
Pending."""

import inspect
import threading

from nova.orchestration.exceptions import InvalidFlow

_local = threading.local()


def _current_cancel_event():
    return getattr(_local, 'cancel', None)


def _set_cancel_event(event):
    _local.cancel = event


class Pending:
    """Returned by ``execute`` to say "the work goes on elsewhere".

    The engine persists the step RUNNING with ``token`` and frees its thread;
    the step finishes when ``Engine.complete(workflow_id, name, token, ...)``
    is called (design 4.5).
    """

    __slots__ = ('token',)

    def __init__(self, token):
        if not isinstance(token, str) or not token:
            raise ValueError('Pending token must be a non-empty string')
        self.token = token

    def __repr__(self):
        return 'Pending(%r)' % self.token


def _normalize_provides(provides):
    """-> list of (symbol, extractor); extractor None (whole), int or key."""
    if provides is None:
        return []
    if isinstance(provides, str):
        return [(provides, None)]
    if isinstance(provides, (tuple, list)):
        return [(s, i) for i, s in enumerate(provides)]
    if isinstance(provides, dict):
        return [(s, ('key', k)) for s, k in provides.items()]
    if isinstance(provides, (set, frozenset)):
        return [(s, ('key', s)) for s in sorted(provides)]
    raise TypeError(
        'provides must be a str, tuple, list, set or dict, not %r'
        % (provides,)
    )


_signatures = {}


def _inspect(fn):
    """-> (ordered required names, ordered optional names, accepts
    **kwargs)."""
    # inspect.signature costs ~10 us: cache per function (flows of
    # thousands of tasks of a few classes are built in microseconds).
    key = getattr(fn, '__func__', None)
    if key is not None:
        cached = _signatures.get(key)
        if cached is not None:
            return list(cached[0]), list(cached[1]), cached[2]
    required, optional, var_kw = [], [], False
    for p in inspect.signature(fn).parameters.values():
        if p.kind == p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            (required if p.default is p.empty else optional).append(p.name)
    if key is not None:
        _signatures[key] = (tuple(required), tuple(optional), var_kw)
    return required, optional, var_kw


#: Arguments the engine supplies to any task or retry that declares them:
#: ``workflow_id`` and ``workflow_generation`` (the fencing generation the
#: running engine holds). A step passes them along to remote services so
#: that those can refuse work from an owner that lost the workflow.
ENGINE_ARGUMENTS = frozenset(('workflow_id', 'workflow_generation'))


class Atom:
    """What tasks and retry controllers share: a name and argument mapping."""

    default_provides = None
    #: True when running ``execute`` twice has the effect of running it once.
    #: A non-idempotent task found RUNNING after a crash is failed, not re-run.
    idempotent = False
    #: Seconds ``execute`` may take (None: no limit).
    timeout = None

    def __init__(
        self,
        name=None,
        provides=None,
        requires=None,
        rebind=None,
        inject=None,
        timeout=None,
        idempotent=None,
    ):
        self.name = name or type(self).__qualname__
        if provides is None:
            provides = self.default_provides
        self.provides = _normalize_provides(provides)
        if timeout is not None:
            self.timeout = timeout
        if idempotent is not None:
            self.idempotent = idempotent
        self.inject = dict(inject or {})
        self._build_arguments(requires, rebind)

    def _execute_fn(self):
        return self.execute

    def _build_arguments(self, requires, rebind):
        skip = self._engine_supplied | ENGINE_ARGUMENTS
        required, optional, var_kw = _inspect(self._execute_fn())
        #: Engine-supplied arguments execute() declares (see ENGINE_ARGUMENTS).
        self._engine_args = tuple(
            n for n in required + optional if n in ENGINE_ARGUMENTS
        )
        required = [n for n in required if n not in skip]
        optional = [n for n in optional if n not in skip]
        for extra in requires or ():
            if extra not in required and extra not in optional:
                if not var_kw:
                    raise InvalidFlow(
                        '%s: requires %r but execute() takes no '
                        '**kwargs' % (self.name, extra)
                    )
                required.append(extra)
        params = required + optional
        if isinstance(rebind, (list, tuple)):
            if len(rebind) > len(params):
                raise InvalidFlow(
                    '%s: rebind list longer than the arguments' % self.name
                )
            rebind = dict(zip(params, rebind, strict=False))
        rebind = dict(rebind or {})
        for p in rebind:
            if p not in params and not var_kw:
                raise InvalidFlow(
                    '%s: rebind of unknown argument %r' % (self.name, p)
                )
            if p not in params:
                required.append(p)
        #: (argument name, symbol looked up, required?)
        self.arguments = tuple(
            [(p, rebind.get(p, p), True) for p in required]
            + [(p, rebind.get(p, p), False) for p in optional]
        )
        rreq, ropt, rvar = _inspect(self.revert)
        self._revert_params = None if rvar else frozenset(rreq + ropt)
        on_failure = getattr(self, 'on_failure', None)
        if on_failure is not None:
            freq, fopt, fvar = _inspect(on_failure)
            self._on_failure_params = None if fvar else frozenset(freq + fopt)

    _engine_supplied = frozenset()

    @property
    def requires(self):
        """Symbols this atom needs (after rebind), required ones first."""
        return tuple(s for _, s, req in self.arguments if req)

    @property
    def optional(self):
        """Symbols used when available."""
        return tuple(s for _, s, req in self.arguments if not req)

    @property
    def provides_names(self):
        """Symbols this atom's result is stored under."""
        return tuple(s for s, _ in self.provides)

    def cancelled(self):
        """True once the engine gave up on this execution (timeout, abort).

        Long-running ``execute`` code should poll it and return early.
        """
        ev = _current_cancel_event()
        return ev is not None and ev.is_set()

    def revert(self, **kwargs):
        """Undo ``execute``; must be idempotent. Default: nothing to undo."""

    def __repr__(self):
        return '<%s %s>' % (type(self).__name__, self.name)


class Task(Atom):
    """A step: ``execute(**requires) -> result`` and ``revert(**kwargs)``.

    * requires: inferred from ``execute``'s signature (no default: required,
      with a default: optional, used when some earlier step or the store
      has it). ``rebind`` maps argument names to other symbols; ``inject``
      gives constants.
    * provides / class attribute ``default_provides``: a name (the whole
      result), a tuple/list (the result unpacked by position) or a dict
      ``{symbol: key}`` (taken from a dict result).
    * revert receives the same arguments plus ``result`` (the result, or the
      Failure when execute failed) and ``flow_failures`` (task name ->
      Failure); arguments it does not accept are not passed unless it takes
      ``**kwargs``. revert is at-least-once and must be idempotent.
    * ``execute`` may return :class:`Pending` for remote work (design 4.5).
    """

    def execute(self, **kwargs):
        """Do the work; the return value is the task's result."""
        raise NotImplementedError(
            '%s must implement execute()' % type(self).__name__
        )
