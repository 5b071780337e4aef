"""The mutations of mutations.py still apply to the engine's source.

Running them takes minutes (``tox -e mutations``); this only makes sure
that each snippet a mutation replaces is still there, exactly once, so
that a refactoring cannot quietly turn a mutation into a no-op.
"""

import os

import testtools

from nova.tests.unit.orchestration.simulation import mutations


class MutationsApply(testtools.TestCase):
    def test_every_snippet_occurs_once(self):
        for mutation in mutations.MUTATIONS:
            with open(os.path.join(mutations.root(), mutation.path)) as f:
                text = f.read()
            self.assertEqual(
                1,
                text.count(mutation.old),
                '%s: its snippet is not in %s exactly once'
                % (mutation.id, mutation.path),
            )
            self.assertNotEqual(mutation.old, mutation.new, mutation.id)

    def test_ids_are_unique(self):
        self.assertEqual(len(mutations.MUTATIONS), len(mutations.BY_ID))
