"""Compile a flow tree once into a flat graph of nodes.

Each node gets a position (depth-first order, recorded in the rows and
compared on resume), predecessor/successor lists, its innermost retry scope and
its argument bindings resolved at compile time, so that the engine never
searches for a value or rescans the graph while running.

Visibility of provided values follows the structure: in a LinearFlow a child
sees what earlier children provide; in an UnorderedFlow siblings see nothing of
each other; in a GraphFlow a child sees what its ancestors provide. Values
provided by tasks win over store values of the same name.
"""

import collections

from nova.orchestration.exceptions import InvalidFlow
from nova.orchestration.exceptions import MissingRequirement
from nova.orchestration.flow import Flow
from nova.orchestration.flow import GraphFlow
from nova.orchestration.flow import LinearFlow
from nova.orchestration.flow import UnorderedFlow
from nova.orchestration.retry import Retry
from nova.orchestration.task import Atom

# Binding kinds.
CONST, STORE, RESULT = 0, 1, 2


class Node:
    """One task or retry controller in the compiled graph."""

    __slots__ = (
        'index',
        'name',
        'atom',
        'is_retry',
        'preds',
        'succs',
        'scope',
        'members',
        'bindings',
        'provides',
    )

    def __init__(self, index, atom, scope):
        self.index = index
        self.name = atom.name
        self.atom = atom
        self.is_retry = isinstance(atom, Retry)
        self.preds = []
        self.succs = []
        self.scope = scope  # index of the innermost retry node, or None
        self.members = range(0)  # retry nodes: indices of their subflow
        #: (argument, kind, a, b, required): CONST value; STORE key;
        #: RESULT node index + extractor.
        self.bindings = []
        self.provides = atom.provides

    def __repr__(self):
        return '<Node %d %s>' % (self.index, self.name)


class Compiled:
    """The compiled graph: ``nodes`` in position order and ``by_name``."""

    def __init__(self, nodes):
        self.nodes = nodes
        self.by_name = {n.name: n for n in nodes}


def _flow_symbols(item):
    """(symbols required from outside, symbols provided) of a child."""
    if isinstance(item, Atom):
        return set(item.requires), set(item.provides_names)
    req, prov = set(), set()
    for atom in item.iter_atoms():
        req.update(atom.requires)
        prov.update(atom.provides_names)
    return req - prov, prov


class _Compiler:
    def __init__(self, store_keys):
        self.store_keys = store_keys
        self.nodes = []
        self.names = set()

    def edge(self, a, b):
        self.nodes[a].succs.append(b)
        self.nodes[b].preds.append(a)

    def atom(self, atom, visible, scope):
        if atom.name in self.names:
            raise InvalidFlow(
                'duplicate step name %r: names must be unique in '
                'a workflow (pass name=...)' % atom.name
            )
        self.names.add(atom.name)
        node = Node(len(self.nodes), atom, scope)
        self.nodes.append(node)
        for arg, symbol, required in atom.arguments:
            if symbol in atom.inject:
                node.bindings.append(
                    (arg, CONST, atom.inject[symbol], None, required)
                )
                continue
            src = visible.get(symbol)
            if src is not None:
                node.bindings.append((arg, RESULT, src[0], src[1], required))
            elif symbol in self.store_keys:
                node.bindings.append((arg, STORE, symbol, None, required))
            elif required:
                raise MissingRequirement(
                    'step %r requires %r (argument %r) but neither the '
                    'store nor any step that runs before it provides it'
                    % (atom.name, symbol, arg)
                )
        return node

    def item(self, item, visible, scope):
        """-> (sources, sinks, provided {symbol: (node index, extractor)})."""
        if isinstance(item, Atom):
            node = self.atom(item, visible, scope)
            i = node.index
            return [i], [i], {s: (i, ext) for s, ext in item.provides}
        if not isinstance(item, Flow):
            raise InvalidFlow('not a task or flow: %r' % (item,))
        if item.retry is None:
            return self.body(item, visible, scope)
        rnode = self.atom(item.retry, visible, scope)
        r = rnode.index
        rprov = {s: (r, ext) for s, ext in item.retry.provides}
        sources, sinks, provided = self.body(
            item, collections.ChainMap(rprov, visible), r
        )
        rnode.members = range(r + 1, len(self.nodes))
        for s in sources:
            self.edge(r, s)
        out = dict(rprov)
        out.update(provided)
        return [r], (sinks or [r]), out

    def body(self, flow, visible, scope):
        if isinstance(flow, GraphFlow):
            return self.graph(flow, visible, scope)
        if isinstance(flow, UnorderedFlow):
            sources, sinks, provided = [], [], {}
            for child in flow.children:
                so, si, pr = self.item(child, visible, scope)
                sources += so
                sinks += si
                provided.update(pr)
            return sources, sinks, provided
        if not isinstance(flow, LinearFlow):
            raise InvalidFlow('unknown flow pattern %r' % (flow,))
        local = {}
        view = collections.ChainMap(local, visible)
        sources, prev = [], []
        for child in flow.children:
            so, si, pr = self.item(child, view, scope)
            if not so:
                continue
            if not sources:
                sources = so
            for a in prev:
                for b in so:
                    self.edge(a, b)
            prev = si
            local.update(pr)
        return sources, prev, local

    def graph(self, flow, visible, scope):
        children = flow.children
        n = len(children)
        idx = {id(c): i for i, c in enumerate(children)}
        syms = [_flow_symbols(c) for c in children]
        providers = collections.defaultdict(list)
        for i, (_, prov) in enumerate(syms):
            for s in prov:
                providers[s].append(i)
        preds = [set() for _ in range(n)]
        for a, b in flow.links:
            preds[idx[id(b)]].add(idx[id(a)])
        for i, (req, _) in enumerate(syms):
            for s in req:
                ps = [p for p in providers.get(s, ()) if p != i]
                if len(ps) > 1:
                    raise InvalidFlow(
                        '%s: %r is provided by several children (%s); '
                        'rename one with provides='
                        % (
                            flow.name,
                            s,
                            ', '.join(_label(children[p]) for p in ps),
                        )
                    )
                preds[i].update(ps)
        # Kahn's algorithm; stable (insertion order) so positions are
        # deterministic.
        indeg = [len(p) for p in preds]
        succs = [[] for _ in range(n)]
        for i, ps in enumerate(preds):
            for p in sorted(ps):
                succs[p].append(i)
        order = []
        ready = collections.deque(i for i in range(n) if indeg[i] == 0)
        while ready:
            i = ready.popleft()
            order.append(i)
            for j in succs[i]:
                indeg[j] -= 1
                if indeg[j] == 0:
                    ready.append(j)
        if len(order) != n:
            stuck = [_label(children[i]) for i in range(n) if indeg[i] > 0]
            raise InvalidFlow(
                '%s: dependency cycle between %s'
                % (flow.name, ', '.join(stuck))
            )
        anc = [None] * n
        compiled = [None] * n
        provided = {}
        for i in order:
            a = set()
            for p in preds[i]:
                a |= anc[p]
                a.add(p)
            anc[i] = a
            view = {}
            for p in sorted(a):
                view.update(compiled[p][2])
            compiled[i] = self.item(
                children[i], collections.ChainMap(view, visible), scope
            )
            provided.update(compiled[i][2])
        sources, sinks = [], []
        for i in order:
            so, si, _ = compiled[i]
            for p in preds[i]:
                for a in compiled[p][1]:
                    for b in so:
                        self.edge(a, b)
            if not preds[i]:
                sources += so
            if not succs[i]:
                sinks += si
        return sources, sinks, provided


def _label(item):
    return getattr(item, 'name', repr(item))


def compile_flow(flow, store_keys):
    """Compile ``flow`` (or a single task) against the given store keys.

    Raises InvalidFlow (duplicates, cycles) or MissingRequirement.
    """
    if isinstance(flow, Atom):
        flow = LinearFlow(flow.name).add(flow)
    c = _Compiler(frozenset(store_keys))
    c.item(flow, {}, None)
    return Compiled(c.nodes)
