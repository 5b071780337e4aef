"""describe_workflow: a workflow's steps as a tree, for operators.

``nova-manage workflow show`` prints it, as text, JSON or Graphviz.
"""

import json
import logging

from nova.orchestration import factory as factory_mod
from nova.orchestration.engine._engine import SECRET_KEY
from nova.orchestration.flow import Flow
from nova.orchestration.flow import GraphFlow
from nova.orchestration.flow import UnorderedFlow

LOG = logging.getLogger(__name__)

_STEP_FIELDS = (
    'position',
    'state',
    'attempt',
    'started_at',
    'finished_at',
    'revert_started_at',
    'revert_finished_at',
    'failure',
)


def _pattern(flow):
    if isinstance(flow, GraphFlow):
        return 'graph'
    if isinstance(flow, UnorderedFlow):
        return 'unordered'
    return 'linear'


def _step(name, rows):
    row = rows.get(name) or {}
    node = {'kind': 'task', 'name': name}
    for field in _STEP_FIELDS:
        node[field] = row.get(field)
    return node


def _walk(flow, rows):
    return {
        'kind': 'flow',
        'name': flow.name,
        'pattern': _pattern(flow),
        'retry': _step(flow.retry.name, rows) if flow.retry else None,
        'children': [
            _walk(c, rows) if isinstance(c, Flow) else _step(c.name, rows)
            for c in flow.children
        ],
    }


def describe_workflow(workflow_id, backend):
    """The tree of a workflow's steps with their persisted state.

    Flow nodes: ``{'kind': 'flow', 'name', 'pattern' ('linear', 'unordered'
    or 'graph'), 'retry' (a step node or None), 'children'}``. Step nodes:
    ``{'kind': 'task', 'name', 'position', 'state', 'attempt', 'started_at',
    'finished_at', 'revert_started_at', 'revert_finished_at', 'failure'}``
    (failure as stored: JSON text). The structure comes from the workflow's
    factory; when it cannot be rebuilt (factory gone, flow changed) the steps
    are listed flat, in position order. Raises WorkflowNotFound.
    """
    row, tasks = backend.load(workflow_id)
    rows = {t['name']: t for t in tasks}
    try:
        if not row['factory']:
            raise LookupError('no factory')
        info = factory_mod.lookup(row['factory'], row['factory_version'])
        store = json.loads(row['store'] or '{}')
        store.pop(SECRET_KEY, None)
        flow = factory_mod.build_flow(info, store)
        if isinstance(flow, Flow):
            tree = _walk(flow, rows)
            names = set()
            stack = [tree]
            while stack:
                node = stack.pop()
                if node['kind'] == 'task':
                    names.add(node['name'])
                else:
                    if node['retry']:
                        names.add(node['retry']['name'])
                    stack.extend(node['children'])
            if names == set(rows):
                return tree
    except Exception:
        LOG.debug(
            'workflow %s: flow not rebuilt, listing steps flat',
            workflow_id,
            exc_info=True,
        )
    return {
        'kind': 'flow',
        'name': row['name'],
        'pattern': 'linear',
        'retry': None,
        'children': [_step(t['name'], rows) for t in tasks],
    }
