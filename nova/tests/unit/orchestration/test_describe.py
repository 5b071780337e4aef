"""describe_workflow: the step tree operators see."""

import uuid

from nova import orchestration as orc
from nova.orchestration import states
from nova.tests.unit.orchestration import base

PREFIX = 'nova.tests.unit.orchestration.test_describe.'


@orc.flow_factory(PREFIX + 'tree')
def tree():
    return orc.LinearFlow('tree').add(
        base.Step('a'),
        orc.UnorderedFlow('u', retry=orc.retry.Times(2, name='r')).add(
            base.Step('b'), base.Step('c')
        ),
    )


class DescribeTest(base.BackendTestCase):
    def test_tree_with_states(self):
        e = orc.Engine(PREFIX + 'tree', backend=self.backend, resumable=True)
        e.run()
        t = orc.describe_workflow(e.workflow_id, self.backend)
        self.assertEqual(
            ('flow', 'tree', 'linear'), (t['kind'], t['name'], t['pattern'])
        )
        self.assertIsNone(t['retry'])
        a, u = t['children']
        self.assertEqual(
            ('task', 'a', states.SUCCESS, 1),
            (a['kind'], a['name'], a['state'], a['attempt']),
        )
        self.assertEqual('unordered', u['pattern'])
        self.assertEqual('r', u['retry']['name'])
        self.assertEqual(['b', 'c'], [c['name'] for c in u['children']])
        self.assertIsNotNone(u['children'][0]['finished_at'])

    def test_flat_when_factory_gone(self):
        wf = {
            'id': str(uuid.uuid4()),
            'name': 'old',
            'factory': 'gone.f',
            'factory_version': 1,
            'state': states.PENDING,
            'store': '{}',
        }
        self.backend.create_workflow(wf, [('x', 0), ('y', 1)])
        t = orc.describe_workflow(wf['id'], self.backend)
        self.assertEqual(['x', 'y'], [c['name'] for c in t['children']])
        self.assertEqual(states.PENDING, t['children'][0]['state'])

    def test_missing(self):
        self.assertRaises(
            orc.WorkflowNotFound, orc.describe_workflow, 'nope', self.backend
        )


class DescribeTestSQLite(DescribeTest):
    backend_kind = 'sqlite'
