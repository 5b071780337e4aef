"""Flow compilation and validation before any side effect."""

import testtools

from nova import orchestration as orc
from nova.orchestration import _compiler


class Need(orc.Task):
    def execute(self, a, b=2):
        return a + b


class Give(orc.Task):
    def __init__(self, name, provides):
        super().__init__(name=name, provides=provides)

    def execute(self):
        return 1


def names(compiled):
    return [n.name for n in compiled.nodes]


class ArgumentsTest(testtools.TestCase):
    def test_requires_inferred(self):
        t = Need()
        self.assertEqual(('a',), t.requires)
        self.assertEqual(('b',), t.optional)
        self.assertEqual('Need', t.name)

    def test_rebind_dict_and_list(self):
        self.assertEqual(('x',), Need(rebind={'a': 'x'}).requires)
        self.assertEqual(('x',), Need(rebind=['x', 'y']).requires)
        self.assertEqual(('y',), Need(rebind=['x', 'y']).optional)

    def test_rebind_unknown_argument(self):
        self.assertRaises(orc.InvalidFlow, Need, rebind={'zz': 'x'})

    def test_provides_forms(self):
        self.assertEqual(('r',), Give('g', 'r').provides_names)
        self.assertEqual(('x', 'y'), Give('g', ('x', 'y')).provides_names)
        self.assertEqual(('x',), Give('g', {'x': 'k'}).provides_names)

    def test_retry_not_addable_as_child(self):
        self.assertRaises(
            orc.InvalidFlow, orc.LinearFlow('f').add, orc.retry.Times(2)
        )


class CompileTest(testtools.TestCase):
    def test_missing_requirement(self):
        flow = orc.LinearFlow('f').add(Need())
        err = self.assertRaises(orc.MissingRequirement, orc.Engine, flow)
        self.assertIn("'Need'", str(err))
        self.assertIn("'a'", str(err))

    def test_missing_requirement_writes_nothing(self):
        backend = orc.persistence.backend_from_url('memory://')
        self.assertRaises(
            orc.MissingRequirement,
            orc.Engine,
            orc.LinearFlow('f').add(Need()),
            backend=backend,
        )
        self.assertEqual([], backend.list_workflows())

    def test_later_provider_not_visible(self):
        flow = orc.LinearFlow('f').add(Need(), Give('g', 'a'))
        self.assertRaises(orc.MissingRequirement, orc.Engine, flow)

    def test_unordered_sibling_not_visible(self):
        flow = orc.UnorderedFlow('f').add(Give('g', 'a'), Need())
        self.assertRaises(orc.MissingRequirement, orc.Engine, flow)

    def test_inject_and_store(self):
        c = _compiler.compile_flow(
            orc.LinearFlow('f').add(Need(inject={'a': 1})), ()
        )
        self.assertEqual(_compiler.CONST, c.nodes[0].bindings[0][1])
        c = _compiler.compile_flow(orc.LinearFlow('f').add(Need()), ['a', 'b'])
        self.assertEqual(
            [_compiler.STORE, _compiler.STORE],
            [b[1] for b in c.nodes[0].bindings],
        )

    def test_provider_wins_over_store(self):
        c = _compiler.compile_flow(
            orc.LinearFlow('f').add(Give('g', 'a'), Need()), ['a']
        )
        self.assertEqual(_compiler.RESULT, c.nodes[1].bindings[0][1])

    def test_duplicate_names(self):
        flow = orc.LinearFlow('f').add(
            Give('g', 'x'), orc.UnorderedFlow('u').add(Give('g', 'y'))
        )
        err = self.assertRaises(orc.InvalidFlow, orc.Engine, flow)
        self.assertIn("'g'", str(err))

    def test_graph_orders_by_data(self):
        flow = orc.GraphFlow('g').add(Need(), Give('p', 'a'))
        c = _compiler.compile_flow(flow, ())
        self.assertEqual(['p', 'Need'], names(c))
        self.assertEqual([0], c.nodes[1].preds)

    def test_graph_cycle(self):
        class A(orc.Task):
            default_provides = 'a'

            def execute(self, b):
                pass

        class B(orc.Task):
            default_provides = 'b'

            def execute(self, a):
                pass

        err = self.assertRaises(
            orc.InvalidFlow, orc.Engine, orc.GraphFlow('g').add(A(), B())
        )
        self.assertIn('cycle', str(err))

    def test_graph_link_cycle(self):
        a, b = Give('a', 'x'), Give('b', 'y')
        flow = orc.GraphFlow('g').add(a, b).link(a, b).link(b, a)
        self.assertRaises(orc.InvalidFlow, orc.Engine, flow)

    def test_link_requires_children(self):
        self.assertRaises(
            orc.InvalidFlow,
            orc.GraphFlow('g').link,
            Give('a', 'x'),
            Give('b', 'y'),
        )

    def test_graph_ambiguous_provider(self):
        flow = orc.GraphFlow('g').add(Give('p1', 'a'), Give('p2', 'a'), Need())
        self.assertRaises(orc.InvalidFlow, orc.Engine, flow)

    def test_nested_edges_and_scopes(self):
        r = orc.retry.Times(2, name='r')
        inner = orc.LinearFlow('in', retry=r).add(
            Give('b', 'x'), Give('c', 'y')
        )
        flow = orc.LinearFlow('f').add(Give('a', 'w'), inner, Give('d', 'z'))
        c = _compiler.compile_flow(flow, ())
        self.assertEqual(['a', 'r', 'b', 'c', 'd'], names(c))
        by = c.by_name
        self.assertEqual([by['r'].index], by['b'].preds)
        self.assertEqual([by['c'].index], by['d'].preds)
        self.assertEqual(by['r'].index, by['b'].scope)
        self.assertIsNone(by['d'].scope)
        self.assertEqual([2, 3], list(by['r'].members))

    def test_unordered_in_linear_joins(self):
        flow = orc.LinearFlow('f').add(
            Give('a', 'w'),
            orc.UnorderedFlow('u').add(Give('b', 'x'), Give('c', 'y')),
            Give('d', 'z'),
        )
        c = _compiler.compile_flow(flow, ())
        self.assertEqual([1, 2], sorted(c.by_name['d'].preds))
        self.assertEqual([1, 2], sorted(c.by_name['a'].succs))

    def test_single_task_as_flow(self):
        self.assertEqual(
            ['g'], names(_compiler.compile_flow(Give('g', 'x'), ()))
        )

    def test_unregistered_factory_needs_resumable(self):
        from nova.tests.unit.orchestration import base

        backend = base.make_backend(self, 'sqlite')
        err = self.assertRaises(
            orc.UnknownFactory,
            orc.Engine,
            orc.LinearFlow('f').add(Give('g', 'x')),
            backend=backend,
        )
        self.assertIn('flow_factory', str(err))
        self.assertRaises(
            orc.UnknownFactory, orc.Engine, 'no.such.factory', backend=backend
        )
        self.assertEqual([], backend.list_workflows())

    def test_store_not_serializable(self):
        err = self.assertRaises(
            orc.NotSerializable,
            orc.Engine,
            orc.LinearFlow('f').add(Need()),
            store={'a': object()},
        )
        self.assertIn('store', str(err))
