"""Flow patterns: LinearFlow, UnorderedFlow, GraphFlow. They nest arbitrarily.

A flow only describes structure; ``Engine`` compiles it once into a graph of
tasks (see ``_compiler``).
"""

from nova.orchestration.exceptions import InvalidFlow
from nova.orchestration.retry import Retry
from nova.orchestration.task import Atom


class Flow:
    """Base of the patterns: a name, children and an optional retry
    controller."""

    def __init__(self, name, retry=None):
        if retry is not None and not isinstance(retry, Retry):
            raise TypeError(
                'retry must be a nova.orchestration.Retry, not %r' % (retry,)
            )
        self.name = name
        self.retry = retry
        self.children = []

    def add(self, *items):
        """Append tasks or flows; returns the flow (so calls chain)."""
        for item in items:
            if not isinstance(item, (Atom, Flow)) or isinstance(item, Retry):
                raise InvalidFlow(
                    '%s: cannot add %r (a Task or a Flow is '
                    'expected; a Retry goes in retry=)' % (self.name, item)
                )
            self.children.append(item)
        return self

    def __len__(self):
        return len(self.children)

    def iter_atoms(self):
        """Every task and retry controller in the flow, depth first."""
        if self.retry is not None:
            yield self.retry
        for c in self.children:
            if isinstance(c, Flow):
                yield from c.iter_atoms()
            else:
                yield c

    def __repr__(self):
        return '<%s %s (%d)>' % (
            type(self).__name__,
            self.name,
            len(self.children),
        )


class LinearFlow(Flow):
    """Children run one after another, in the order added."""


class UnorderedFlow(Flow):
    """Children have no order between them and may run in parallel.

    A child cannot consume what a sibling provides (there is no order): such a
    requirement must come from outside the flow.
    """


class GraphFlow(Flow):
    """Children ordered by data (a child requiring what another provides runs
    after it) and by explicit ``link(a, b)``; independent children run in
    parallel. A cycle raises InvalidFlow when the Engine is built."""

    def __init__(self, name, retry=None):
        super().__init__(name, retry)
        self.links = []

    def link(self, before, after):
        """Make ``after`` run after ``before`` (both children of this flow)."""
        for item in (before, after):
            if not any(item is c for c in self.children):
                raise InvalidFlow(
                    '%s: link(%r, %r): both must be added to the '
                    'flow first' % (self.name, before, after)
                )
        self.links.append((before, after))
        return self
