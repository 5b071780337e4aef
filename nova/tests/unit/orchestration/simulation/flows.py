"""The flows the simulation explores, and the steps they are made of.

A flow is declared once as a small tree of ``Step`` specs; from it come the
orchestration flow (registered with ``orc.flow_factory`` so that any engine
can resume it), the set of steps, and the order between them as the flow
patterns define it (which the revert-order invariant checks against; it is
derived here from the patterns, not from the engine's compiler, so that a
compiler bug shows up too).

Every step reports to the ledger of the world that is running: at the start
and at the end of each execute and revert, with the workflow_generation the
engine passed, which the checks compare with the rows.
"""

import contextlib

from nova import orchestration as orc

PREFIX = 'nova.tests.unit.orchestration.simulation.flows.'
_worlds = []


@contextlib.contextmanager
def bound(world):
    """Make ``world`` the one the simulated steps report to."""
    _worlds.append(world)
    try:
        yield world
    finally:
        _worlds.pop()


class StepFailed(Exception):
    """A simulated step failed, as its spec says it does."""


class RevertFailed(Exception):
    """A simulated revert failed, as its spec says it does."""


class RemoteFailed(Exception):
    """The remote work of a Pending step failed (a completion failure)."""


class Step:
    """What one simulated step does.

    :param idempotent: may run twice (re-executed when found RUNNING).
    :param fails: execute always raises StepFailed.
    :param fail_when: (symbol, value): execute raises while the input
        ``symbol`` (e.g. a retry controller's attempt) equals ``value``.
    :param revert_fails: revert always raises RevertFailed.
    :param pending: execute starts remote work and returns orc.Pending.
    :param timeout: the step's timeout in seconds (None: none).
    :param requires: inputs (symbols provided by other steps or retries).
    :param provides: the symbol the result is stored under.
    """

    def __init__(
        self,
        name,
        idempotent=False,
        fails=False,
        fail_when=None,
        revert_fails=False,
        pending=False,
        timeout=None,
        requires=(),
        provides=None,
    ):
        self.name = name
        self.idempotent = idempotent
        self.fails = fails
        self.fail_when = fail_when
        self.revert_fails = revert_fails
        self.pending = pending
        self.timeout = timeout
        requires = list(requires)
        if fail_when and fail_when[0] not in requires:
            requires.append(fail_when[0])
        self.requires = tuple(requires)
        self.provides = provides


class SimTask(orc.Task):
    """A task doing what its Step says, recording it in the ledger."""

    def __init__(self, step):
        super().__init__(
            name=step.name,
            provides=step.provides,
            requires=list(step.requires) or None,
            timeout=step.timeout,
            idempotent=step.idempotent,
        )
        self.step = step

    def execute(self, workflow_id, workflow_generation, **inputs):
        world = _worlds[-1]
        step = self.step
        world.task_start(
            'exec', self.name, workflow_generation, timeout=step.timeout
        )
        symbol, value = step.fail_when or (None, None)
        if step.fails or (symbol is not None and inputs.get(symbol) == value):
            world.task_end('exec', self.name, workflow_generation, 'fail')
            raise StepFailed('%s failed (simulated)' % self.name)
        if step.pending:
            token = world.issue_token(
                self.name, workflow_generation, step.timeout
            )
            world.task_end(
                'exec', self.name, workflow_generation, 'pending:' + token
            )
            return orc.Pending(token)
        world.task_end('exec', self.name, workflow_generation, 'ok')
        return {'by': self.name}

    def revert(self, result, flow_failures, workflow_generation, **kwargs):
        world = _worlds[-1]
        reasons = tuple(sorted(f.exc_type for f in flow_failures.values()))
        world.task_start('revert', self.name, workflow_generation, reasons)
        if self.step.revert_fails:
            world.task_end('revert', self.name, workflow_generation, 'fail')
            raise RevertFailed('revert of %s failed (simulated)' % self.name)
        world.task_end('revert', self.name, workflow_generation, 'ok')


class Node:
    """A pattern in a flow tree: linear, unordered or graph."""

    def __init__(self, kind, name, items, retry=None, links=()):
        self.kind = kind
        self.name = name
        self.items = items
        self.retry = retry  # a callable building a fresh orc.Retry
        self.links = links  # (before, after) step names, graph only


def linear(name, *items, retry=None):
    return Node('linear', name, items, retry)


def unordered(name, *items, retry=None):
    return Node('unordered', name, items, retry)


def graph(name, *items, links=()):
    return Node('graph', name, items, links=links)


def _steps_of(item):
    if isinstance(item, Step):
        return [item]
    return [s for child in item.items for s in _steps_of(child)]


def _build(item):
    if isinstance(item, Step):
        return SimTask(item)
    cls = {
        'linear': orc.LinearFlow,
        'unordered': orc.UnorderedFlow,
        'graph': orc.GraphFlow,
    }[item.kind]
    flow = cls(item.name, retry=item.retry() if item.retry else None)
    children = [_build(child) for child in item.items]
    flow.add(*children)
    by_name = {c.name: c for c in children}
    for before, after in item.links:
        flow.link(by_name[before], by_name[after])
    return flow


def _order(item, succ):
    """Add 'runs after' edges of ``item`` to succ; -> its step names."""
    if isinstance(item, Step):
        succ.setdefault(item.name, set())
        return {item.name}
    groups = [_order(child, succ) for child in item.items]
    pairs = []
    if item.kind == 'linear':
        pairs = [
            (i, j)
            for i in range(len(groups))
            for j in range(i + 1, len(groups))
        ]
    elif item.kind == 'graph':
        provides = [{s.provides for s in _steps_of(c)} for c in item.items]
        requires = [
            {r for s in _steps_of(c) for r in s.requires} for c in item.items
        ]
        names = [getattr(c, 'name', None) for c in item.items]
        links = set(item.links)
        pairs = [
            (i, j)
            for i in range(len(groups))
            for j in range(len(groups))
            if i != j
            and (provides[i] & requires[j] or (names[i], names[j]) in links)
        ]
    for i, j in pairs:
        for a in groups[i]:
            succ[a].update(groups[j])
    return set().union(*groups) if groups else set()


def _closure(succ):
    out = {}
    for start in succ:
        seen, todo = set(), list(succ[start])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(succ[n])
        out[start] = frozenset(seen)
    return out


class FlowSpec:
    """One flow to explore: its tree, its engine policy, what it has."""

    def __init__(self, name, tree, max_adoptions=2, doc=''):
        self.name = name
        self.tree = tree
        self.max_adoptions = max_adoptions
        self.doc = doc
        self.factory = PREFIX + name
        self.steps = {s.name: s for s in _steps_of(tree)}
        succ = {}
        _order(tree, succ)
        #: step name -> the steps that run after it (transitively).
        self.successors = _closure(succ)
        self.has_pending = any(s.pending for s in self.steps.values())
        timeouts = [s.timeout for s in self.steps.values() if s.timeout]
        self.has_timeouts = bool(timeouts)
        self.max_timeout = max(timeouts, default=0)
        orc.flow_factory(self.factory)(self.build)

    def build(self):
        return _build(self.tree)

    def __repr__(self):
        return '<FlowSpec %s>' % self.name


def _times(attempts):
    return lambda: orc.retry.Times(attempts, provides='attempt')


def _for_each(values):
    return lambda: orc.retry.ForEach(values, provides='host')


FLOWS = {
    f.name: f
    for f in (
        FlowSpec(
            'linear',
            linear(
                'linear',
                Step('alpha'),
                Step('beta', idempotent=True),
                Step('gamma'),
            ),
            doc='three steps, the middle one idempotent',
        ),
        FlowSpec(
            'failing',
            linear(
                'failing',
                Step('alpha'),
                Step('beta', idempotent=True),
                Step('gamma', fails=True),
            ),
            doc='the last step fails: reverted backwards',
        ),
        FlowSpec(
            'revert_fails',
            linear(
                'revert_fails',
                Step('alpha'),
                Step('beta', revert_fails=True),
                Step('gamma', fails=True),
            ),
            doc='the last step fails and the revert of beta fails: FAILED',
        ),
        FlowSpec(
            'unordered',
            linear(
                'unordered',
                Step('alpha', idempotent=True),
                unordered(
                    'u',
                    Step('beta', idempotent=True),
                    Step('gamma'),
                    Step('delta', idempotent=True),
                ),
                Step('omega', fails=True),
            ),
            doc='three parallel steps between two; the last one fails',
        ),
        FlowSpec(
            'graph',
            graph(
                'graph',
                Step('alpha', provides='x'),
                Step('beta', requires=('x',), provides='y', idempotent=True),
                Step('gamma', requires=('x',), provides='z'),
                Step('delta', requires=('y', 'z'), fails=True),
            ),
            doc='a diamond ordered by data; its sink fails',
        ),
        FlowSpec(
            'graph_revert_fails',
            graph(
                'graph_revert_fails',
                Step('alpha', provides='x'),
                Step('beta', requires=('x',), provides='y', revert_fails=True),
                Step('gamma', requires=('x',), provides='z', idempotent=True),
                Step('delta', requires=('y', 'z'), fails=True),
            ),
            doc='the diamond again; one branch fails to revert, so its '
            'predecessor must never be reverted',
        ),
        FlowSpec(
            'retry',
            linear(
                'retry',
                Step('prepare', idempotent=True),
                linear(
                    'sub',
                    Step('reserve', idempotent=True),
                    Step('spawn', idempotent=True, fail_when=('attempt', 1)),
                    retry=_times(2),
                ),
            ),
            doc='a Times(2) scope whose first attempt fails',
        ),
        FlowSpec(
            'nested_retry',
            linear(
                'nested_retry',
                Step('prepare'),
                linear(
                    'outer',
                    linear(
                        'inner',
                        Step(
                            'place', idempotent=True, fail_when=('host', 'h1')
                        ),
                        retry=_for_each(['h1', 'h2']),
                    ),
                    Step('boot', fail_when=('attempt', 1)),
                    retry=_times(2),
                ),
            ),
            doc='ForEach inside Times: both retry, then succeed',
        ),
        FlowSpec(
            'pending',
            linear(
                'pending',
                Step('reserve'),
                Step('spawn', pending=True, provides='server'),
                Step('activate', requires=('server',)),
            ),
            doc='a Pending step with no timeout',
        ),
        FlowSpec(
            'pending_timeout',
            linear(
                'pending_timeout',
                Step('reserve', idempotent=True),
                unordered(
                    'u',
                    Step('spawn', pending=True, timeout=60, provides='server'),
                    Step('network', idempotent=True),
                ),
                Step('activate', requires=('server',)),
            ),
            doc='a Pending step with a timeout beside a parallel step',
        ),
        FlowSpec(
            'pending_revert',
            linear(
                'pending_revert',
                Step('reserve'),
                unordered(
                    'u',
                    Step('spawn', pending=True, timeout=60),
                    Step('network', fails=True),
                ),
            ),
            doc='a Pending step reverted while it waits: its sibling fails',
        ),
        FlowSpec(
            'pending_retry',
            linear(
                'pending_retry',
                Step('reserve', idempotent=True),
                linear(
                    'sub',
                    Step('spawn', pending=True, timeout=60, idempotent=True),
                    retry=_times(2),
                ),
                Step('activate'),
            ),
            doc='a Pending step in a Times(2) scope: a failed completion '
            'runs it again under a new token',
        ),
        FlowSpec(
            'timeout',
            linear(
                'timeout',
                Step('alpha'),
                Step('slow', idempotent=True, timeout=5),
                Step('gamma'),
            ),
            doc='a step with a timeout (runs in the work pool)',
        ),
        FlowSpec(
            'poison',
            linear('poison', Step('alpha', idempotent=True), Step('beta')),
            max_adoptions=1,
            doc='max_adoptions 1: the second unclean takeover poisons it',
        ),
    )
}
