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
        parts = name.split('.')
        for i in range(len(parts), 0, -1):
            try:
                importlib.import_module('.'.join(parts[:i]))
                break
            except ImportError:
                continue
    if version is None:
        versions = [v for n, v in _registry if n == name]
        version = max(versions) if versions else 1
    try:
        return _registry[(name, int(version))]
    except KeyError:
        known = sorted(v for n, v in _registry if n == name)
        raise UnknownFactory(
            'flow factory %r version %s is not registered '
            '(registered versions: %s); import the module '
            'defining it' % (name, version, known or 'none')
        ) from None


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
