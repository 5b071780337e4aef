"""Registry of flow factories, so that any process can rebuild a workflow's
flow.

A workflow row records the factory name and version; ``Engine.resume`` looks
the factory up here (importing the module of a dotted name when needed) and
calls it with the store values its signature asks for.
"""

import functools
import importlib
import inspect

from nova.orchestration.exceptions import MissingRequirement
from nova.orchestration.exceptions import UnknownFactory

_registry = {}


class FactoryInfo:
    """What a workflow row records about the factory that built its flow."""

    __slots__ = ('name', 'version', 'fn')

    def __init__(self, name, version, fn):
        self.name = name
        self.version = version
        self.fn = fn


def flow_factory(name, version=1):
    """Decorator registering a callable that returns a flow.

    ``name`` is a dotted name whose module part is importable (e.g.
    ``'nova.conductor.workflows.build_instance'`` or
    ``'nova.conductor.workflows.build_instance.build_flow'``); the factory's
    arguments are taken from the workflow store by name. Bump ``version``
    whenever the steps change so resume of older rows fails clearly
    (FlowChanged) or can be served by keeping the old factory registered.
    """

    def decorate(fn):
        info = FactoryInfo(name, int(version), fn)
        _registry[(name, int(version))] = info

        @functools.wraps(fn)
        def build(*args, **kwargs):
            flow = fn(*args, **kwargs)
            flow._factory = info
            return flow

        build.factory_info = info
        info.fn = fn
        return build

    return decorate


def lookup(name, version=None):
    """The FactoryInfo for (name, version), importing its module if needed.

    ``version`` None means the highest registered version.
    """
    if not any(n == name for n, _ in _registry):
        _import_module_of(name, version)
    if version is None:
        versions = [v for n, v in _registry if n == name]
        version = max(versions) if versions else 1
    try:
        return _registry[(name, int(version))]
    except KeyError:
        raise UnknownFactory(
            factory=name,
            version=version,
            registered_versions=sorted(v for n, v in _registry if n == name),
        ) from None


def _import_module_of(name, version):
    """Import the modules along the dotted ``name``, as far as they exist.

    The rest of the name is not a module (``pkg.mod.build_flow`` names a
    function of ``pkg.mod``). A module that exists but fails to import (it
    imports a missing dependency, say) raises UnknownFactory with that
    error: "not registered" would send the reader looking in the wrong place.
    Parents first, so that the error names the module that failed.
    """
    parts = name.split('.')
    for i in range(1, len(parts) + 1):
        module = '.'.join(parts[:i])
        try:
            importlib.import_module(module)
        except ImportError as exc:
            if isinstance(exc, ModuleNotFoundError) and exc.name == module:
                return
            raise UnknownFactory(
                'flow factory %r%s: its module %r failed to import: %s: %s'
                % (
                    name,
                    '' if version is None else ' version %s' % version,
                    module,
                    type(exc).__name__,
                    exc,
                ),
                factory=name,
                version=version,
                import_error=exc,
            ) from exc


def build_flow(info, store):
    """Call the factory with the store values named by its parameters."""
    kwargs = {}
    for p in inspect.signature(info.fn).parameters.values():
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        if p.name in store:
            kwargs[p.name] = store[p.name]
        elif p.default is p.empty:
            raise MissingRequirement(
                'flow factory %s needs %r from the store' % (info.name, p.name)
            )
    flow = info.fn(**kwargs)
    flow._factory = info
    return flow
