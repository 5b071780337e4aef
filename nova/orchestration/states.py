"""Workflow and task states, and their transitions declared as data.

The tables below are the single truth: the engine moves a workflow or a task
only through :func:`workflow_transition` / :func:`task_transition`, so an
illegal move is a bug that raises :class:`InvalidTransition` instead of
silently corrupting persisted state. ``print(states.format_tables())`` shows
them.
"""

from nova.orchestration.exceptions import InvalidTransition

# Workflow states.
PENDING = 'PENDING'
RUNNING = 'RUNNING'
SUCCESS = 'SUCCESS'
REVERTING = 'REVERTING'
REVERTED = 'REVERTED'
FAILED = 'FAILED'
ABORTING = 'ABORTING'

# Task states (PENDING, RUNNING, SUCCESS, REVERTING, REVERTED shared).
FAILURE = 'FAILURE'
REVERT_FAILURE = 'REVERT_FAILURE'

WORKFLOW_STATES = (
    PENDING,
    RUNNING,
    SUCCESS,
    REVERTING,
    REVERTED,
    FAILED,
    ABORTING,
)
TASK_STATES = (
    PENDING,
    RUNNING,
    SUCCESS,
    FAILURE,
    REVERTING,
    REVERTED,
    REVERT_FAILURE,
)

#: Workflow states in which nothing more happens without an operator.
WORKFLOW_TERMINAL = frozenset((SUCCESS, REVERTED, FAILED))

# (state, event) -> new state.
WORKFLOW_TRANSITIONS = {
    (PENDING, 'start'): RUNNING,
    (PENDING, 'abort'): ABORTING,
    # max_adoptions exceeded, or an operator gives up: needs a human.
    (PENDING, 'poison'): FAILED,
    (RUNNING, 'start'): RUNNING,  # resumed by a new owner
    (RUNNING, 'succeed'): SUCCESS,
    (RUNNING, 'fail'): REVERTING,
    (RUNNING, 'abort'): ABORTING,
    (RUNNING, 'poison'): FAILED,
    (REVERTING, 'start'): REVERTING,  # a resumed revert
    (REVERTING, 'abort'): REVERTING,  # already reverting: nothing to add
    (REVERTING, 'reverted'): REVERTED,
    (REVERTING, 'revert_fail'): FAILED,
    (REVERTING, 'poison'): FAILED,
    (ABORTING, 'start'): ABORTING,
    (ABORTING, 'abort'): ABORTING,
    (ABORTING, 'fail'): ABORTING,
    (ABORTING, 'reverted'): REVERTED,
    (ABORTING, 'revert_fail'): FAILED,
    (ABORTING, 'poison'): FAILED,
}

TASK_TRANSITIONS = {
    (PENDING, 'start'): RUNNING,
    (RUNNING, 'start'): RUNNING,  # idempotent task re-executed on resume
    (RUNNING, 'succeed'): SUCCESS,
    (RUNNING, 'fail'): FAILURE,
    (RUNNING, 'revert'): REVERTING,  # a pending (remote) step being reverted
    (SUCCESS, 'revert'): REVERTING,
    (SUCCESS, 'retry'): RUNNING,  # a retry controller runs again
    (FAILURE, 'revert'): REVERTING,
    (REVERTING, 'revert'): REVERTING,  # a resumed revert
    (REVERTING, 'reverted'): REVERTED,
    (REVERTING, 'revert_fail'): REVERT_FAILURE,
    (REVERTED, 'reset'): PENDING,  # the enclosing retry runs the subflow again
    (REVERT_FAILURE, 'revert'): REVERTING,  # an operator-driven re-revert
}

WORKFLOW_EVENTS = tuple(sorted({e for _, e in WORKFLOW_TRANSITIONS}))
TASK_EVENTS = tuple(sorted({e for _, e in TASK_TRANSITIONS}))


def workflow_transition(state, event, name=None):
    """Return the workflow state after ``event``; raise InvalidTransition."""
    try:
        return WORKFLOW_TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition('workflow', state, event, name) from None


def task_transition(state, event, name=None):
    """Return the task state after ``event``; raise InvalidTransition."""
    try:
        return TASK_TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition('task', state, event, name) from None


def _format(title, states, events, table):
    width = max(len(s) for s in states) + 2
    # A column fits its event name and every target state under it.
    cols = [
        max([len(e)] + [len(table.get((s, e), '-')) for s in states]) + 2
        for e in events
    ]
    lines = [
        title,
        ''.ljust(width)
        + ''.join(e.ljust(c) for e, c in zip(events, cols, strict=True)),
    ]
    for s in states:
        cells = [
            table.get((s, e), '-').ljust(c)
            for e, c in zip(events, cols, strict=True)
        ]
        lines.append(s.ljust(width) + ''.join(cells))
    return '\n'.join(line.rstrip() for line in lines)


def format_tables():
    """Both transition tables as text (rows: state, columns: event)."""
    return '\n\n'.join(
        [
            _format(
                'workflow',
                WORKFLOW_STATES,
                WORKFLOW_EVENTS,
                WORKFLOW_TRANSITIONS,
            ),
            _format('task', TASK_STATES, TASK_EVENTS, TASK_TRANSITIONS),
        ]
    )
