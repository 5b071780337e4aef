"""The declared transition tables: every legal and illegal pair."""

import testtools

from nova import orchestration as orc
from nova.orchestration import states


class StatesTest(testtools.TestCase):
    def _walk(self, kind, all_states, events, table, fn):
        for s in all_states:
            for e in events:
                if (s, e) in table:
                    self.assertEqual(table[(s, e)], fn(s, e))
                else:
                    err = self.assertRaises(orc.InvalidTransition, fn, s, e)
                    self.assertEqual(
                        (kind, s, e), (err.kind, err.state, err.event)
                    )
                    self.assertIn(s, str(err))
                    self.assertIn(e, str(err))

    def test_workflow_table(self):
        self._walk(
            'workflow',
            states.WORKFLOW_STATES,
            states.WORKFLOW_EVENTS,
            states.WORKFLOW_TRANSITIONS,
            states.workflow_transition,
        )

    def test_task_table(self):
        self._walk(
            'task',
            states.TASK_STATES,
            states.TASK_EVENTS,
            states.TASK_TRANSITIONS,
            states.task_transition,
        )

    def test_tables_only_use_declared_states(self):
        for (s, _), t in states.WORKFLOW_TRANSITIONS.items():
            self.assertIn(s, states.WORKFLOW_STATES)
            self.assertIn(t, states.WORKFLOW_STATES)
        for (s, _), t in states.TASK_TRANSITIONS.items():
            self.assertIn(s, states.TASK_STATES)
            self.assertIn(t, states.TASK_STATES)

    def test_terminal_states_have_no_exit(self):
        for s in states.WORKFLOW_TERMINAL:
            self.assertFalse(
                [e for (st, e) in states.WORKFLOW_TRANSITIONS if st == s]
            )

    def test_printable(self):
        text = states.format_tables()
        self.assertIn('REVERT_FAILURE', text)
        self.assertIn('ABORTING', text)
        self.assertIn('revert_fail', text)

    def test_error_names_task(self):
        err = self.assertRaises(
            orc.InvalidTransition,
            states.task_transition,
            states.PENDING,
            'succeed',
            'spawn',
        )
        self.assertIn("'spawn'", str(err))
