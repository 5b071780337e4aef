"""The step table of each workflow module's docstring matches its flow.

The table is what a reviewer reads first; the test keeps it true: the
steps in the order the flow runs them, retry controllers marked
``(retry)``, steps run in parallel marked ``(||)``, and a revert column
that says ``(none)`` exactly for the steps that have no revert.
"""

import os
import re

import testtools

from nova import orchestration as orc
from nova.conductor.workflows import build_instance
from nova.conductor.workflows import delete_instance
from nova.conductor.workflows import power_actions

#: The revert column of a step that has no revert.
NO_REVERT = '(none)'


def table_rows(docstring):
    """``(step, marks, has a revert)`` per row of the docstring's first
    simple table; continuation lines (empty first column) are skipped."""
    lines = docstring.splitlines()
    borders = [i for i, line in enumerate(lines) if line.startswith('===')]
    top, header, bottom = borders[:3]
    columns = [m.start() for m in re.finditer('=+', lines[top])]
    rows = []
    for line in lines[header + 1 : bottom]:
        first = line[: columns[1]].split()
        if first:
            rows.append(
                (
                    first[0],
                    tuple(first[1:]),
                    line[columns[2] :].strip() != NO_REVERT,
                )
            )
    return rows


def table_text(docstring):
    """The docstring's first simple table, borders included."""
    lines = docstring.splitlines()
    borders = [i for i, line in enumerate(lines) if line.startswith('===')]
    return '\n'.join(lines[borders[0] : borders[2] + 1])


ARCHITECTURE = os.path.join(
    os.path.dirname(__file__), *['..'] * 4, 'doc', 'source', 'architecture.rst'
)


def _atoms(flow, parallel=False):
    """``(atom, runs in parallel with siblings)`` in the flow's order."""
    if flow.retry is not None:
        yield flow.retry, False
    inside = parallel or isinstance(flow, orc.UnorderedFlow)
    for child in flow.children:
        if isinstance(
            child, (orc.LinearFlow, orc.UnorderedFlow, orc.GraphFlow)
        ):
            yield from _atoms(child, inside)
        else:
            yield child, inside


def has_revert(atom):
    """Whether the atom's class overrides the library's do-nothing
    revert."""
    return type(atom).revert not in (orc.Task.revert, orc.Retry.revert)


def flow_rows(flow):
    """What the table should say of ``flow``: see :func:`table_rows`."""
    rows = []
    for atom, parallel in _atoms(flow):
        marks = ()
        if isinstance(atom, orc.Retry):
            marks += ('(retry)',)
        if parallel:
            marks += ('(||)',)
        rows.append((atom.name, marks, has_revert(atom)))
    return rows


class WorkflowTableTest(testtools.TestCase):
    def assertTableMatches(self, module, flow):
        self.assertEqual(flow_rows(flow), table_rows(module.__doc__))

    def test_build_instance(self):
        self.assertTableMatches(build_instance, build_instance.build_flow())

    def test_delete_instance(self):
        self.assertTableMatches(delete_instance, delete_instance.delete_flow())

    def test_power_actions(self):
        # One table for the flows of every power action.
        for key in ('stop', 'reboot_hard', 'resume'):
            self.assertTableMatches(
                power_actions, power_actions.power_flow(key)
            )


class CheckerTest(testtools.TestCase):
    """The checker itself: it reads what a table says."""

    TABLE = '''Title.

    =========  =======  =======
    step       does     revert
    =========  =======  =======
    a          x        undo a
    r (retry)  y        (none)
    b (||)     z        (none)
               more z
    =========  =======  =======
    '''

    def test_rows_marks_and_reverts(self):
        doc = '\n'.join(
            line[4:] if line.startswith('    ') else line
            for line in self.TABLE.splitlines()
        )
        self.assertEqual(
            [
                ('a', (), True),
                ('r', ('(retry)',), False),
                ('b', ('(||)',), False),
            ],
            table_rows(doc),
        )

    def test_a_wrong_revert_column_is_seen(self):
        class Undo(orc.Task):
            def execute(self):
                pass

            def revert(self, **kwargs):
                pass

        class Plain(orc.Task):
            def execute(self):
                pass

        flow = orc.LinearFlow('f', retry=orc.retry.Times(2, name='r')).add(
            Undo(name='a'), orc.UnorderedFlow('u').add(Plain(name='b'))
        )
        self.assertEqual(
            [
                ('r', ('(retry)',), False),
                ('a', (), True),
                ('b', ('(||)',), False),
            ],
            flow_rows(flow),
        )

    def test_architecture_page_shows_the_same_tables(self):
        with open(ARCHITECTURE) as f:
            page = f.read()
        for module in (build_instance, delete_instance, power_actions):
            self.assertIn(
                table_text(module.__doc__),
                page,
                'doc/source/architecture.rst does not show the '
                'table of %s' % module.__name__,
            )
