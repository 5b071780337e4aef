"""Action events after a crash: none is left unfinished.

Found by nova/tests/integration/test_crash_points.py: the listener
(nova.conductor.events) writes a step's event after the engine's
commit, so a process that died right after the commit ending a step
left that event with no finish time and no result for ever (the
finished step never runs again). A conductor that takes the workflow
back closes such events from the task rows
(events.close_finished_events); the end of the action closes the last
step's, whose commit also ends the workflow (actions_db.action_finish).

Each test runs a real engine on the nova database whose process "dies"
(:class:`ProcessDied`, which the engine does not catch, as a ``kill
-9``) right after a commit, before its listener is told; another owner
then takes the workflow back as a conductor does: claim, close the
events, run.
"""

import fixtures
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova import context as nova_context
from nova import orchestration as orc
from nova import test
from nova.compute import vm_states
from nova.conductor import events
from nova.conductor.workflows import build_instance
from nova.db import actions as actions_db
from nova.db import instances as instances_db
from nova.db import workflows as workflows_db
from nova.tests import fixtures as nova_fixtures

FACTORY = 'nova.tests.unit.conductor.test_events_after_crash'


class Step(orc.Task):
    """A step that does nothing (idempotent: run again on resume)."""

    idempotent = True

    def execute(self):
        return self.name


class FailingStep(Step):
    def execute(self):
        raise ValueError('no room on host1')


@orc.flow_factory(FACTORY, version=1)
def make_flow():
    return orc.LinearFlow('build').add(
        Step(name='select_destinations'),
        Step(name='claim_resources'),
        Step(name='mark_active'),
    )


class MarkActive(Step):
    """Ends the build's action, as build_instance.MarkActive does."""

    def execute(self, action_id):
        actions_db.action_finish(nova_context.get_admin_context(), action_id)


#: Called by DiesAfterFinishing after its step's writes committed.
AFTER_FINISHING = []


class DiesAfterFinishing(MarkActive):
    """MarkActive whose process dies right after its writes commit,
    before the engine records the step done."""

    def execute(self, action_id):
        super().execute(action_id)
        if AFTER_FINISHING:
            AFTER_FINISHING.pop()()


@orc.flow_factory(FACTORY + '.finishing', version=1)
def make_finishing_flow():
    return orc.LinearFlow('build').add(
        Step(name='select_destinations'),
        DiesAfterFinishing(name='mark_active'),
    )


@orc.flow_factory(FACTORY + '.failing', version=1)
def make_failing_flow():
    return orc.LinearFlow('build').add(
        Step(name='select_destinations'), FailingStep(name='spawn')
    )


class ProcessDied(BaseException):
    """The conductor's process ended right after a commit."""


class DiesAfter:
    """A conductor's listener that dies right after the commit of the
    transition ``dies_at`` (step, state), before being told of it, and is
    never told of those in ``untold`` (an earlier crash)."""

    def __init__(self, listener, dies_at, untold=()):
        self.listener = listener
        self.dies_at = dies_at
        self.untold = set(untold)
        #: The event it was about to be told when it died.
        self.untold_event = None

    def __call__(self, event):
        if (event.name, event.state) == self.dies_at:
            self.untold_event = event
            raise ProcessDied()
        if (event.name, event.state) not in self.untold:
            self.listener(event)


class CloseFinishedEventsTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database())
        self.backend = workflows_db.get_backend()
        self.ctxt = nova_context.get_admin_context()
        self.uuid = uuidutils.generate_uuid()
        instances_db.create(
            self.ctxt,
            {
                'uuid': self.uuid,
                'project_id': 'p1',
                'user_id': 'u1',
                'vm_state': vm_states.BUILDING,
            },
        )
        self.action_id = actions_db.action_start(
            self.ctxt, self.uuid, 'create'
        )
        self.listener = events.InstanceWorkflowListener(
            self.ctxt.to_dict(), self.action_id, build_instance.EVENT_STEPS
        )

    def run_until_death(self, factory, dies_at, untold=()):
        """Run a new workflow of ``factory`` until its process dies
        right after the commit of ``dies_at``; -> its id."""
        workflow_id = orc.Engine.create(
            factory, store={'action_id': self.action_id}, backend=self.backend
        )
        self.dying = DiesAfter(self.listener, dies_at, untold)
        engine = orc.Engine.load(
            workflow_id,
            self.backend,
            owner='conductor-a',
            listeners=[self.dying],
        )
        self.assertRaises(ProcessDied, engine.run)
        return workflow_id

    def take_back(self, workflow_id, close=True):
        """Take the workflow back as a conductor does, and run it."""
        # Proven dead: what conductor-a held is free for adoption.
        self.assertEqual(1, self.backend.free_owned_by('conductor-a'))
        engine = orc.Engine.load(
            workflow_id,
            self.backend,
            owner='conductor-b',
            listeners=[self.listener],
        )
        if close:
            events.close_finished_events(
                self.backend, workflow_id, [self.listener]
            )
        try:
            engine.run()
        except orc.WorkflowFailed:
            pass
        return engine

    def recorded(self):
        """(event, result, start_time, finish_time) of each event."""
        return [
            (e['event'], e['result'], e['start_time'], e['finish_time'])
            for e in actions_db.events_get(self.ctxt, self.action_id)
        ]

    def results(self):
        return [(event, result) for event, result, _, _ in self.recorded()]

    def task(self, workflow_id, name):
        _row, tasks = self.backend.load(workflow_id)
        return next(t for t in tasks if t['name'] == name)

    def test_a_step_left_open_by_a_crash_is_closed_when_taken_back(self):
        workflow_id = self.run_until_death(
            FACTORY, ('claim_resources', orc.states.SUCCESS)
        )
        self.assertEqual(
            [
                ('conductor_select_destinations', 'Success'),
                ('conductor_claim_resources', None),
            ],
            self.results(),
        )
        self.assertEqual(orc.states.SUCCESS, self.take_back(workflow_id).state)
        self.assertEqual(
            [
                ('conductor_select_destinations', 'Success'),
                ('conductor_claim_resources', 'Success'),
                ('conductor_mark_active', 'Success'),
            ],
            self.results(),
        )
        # Finished when the step did, not when it was noticed.
        claim = self.task(workflow_id, 'claim_resources')
        self.assertEqual(claim['finished_at'], self.recorded()[1][3])

    def test_a_paused_owner_telling_a_closed_step_late_adds_nothing(self):
        # Found by test_paused_conductor_is_fenced: the owner paused
        # between the step's commit and telling its listener; the
        # adopter closed the event; the owner woke up and told it again.
        workflow_id = self.run_until_death(
            FACTORY, ('claim_resources', orc.states.SUCCESS)
        )
        self.take_back(workflow_id)
        before = self.results()
        actions_db.event_finish(
            self.ctxt, self.action_id, 'conductor_claim_resources', 'Success'
        )
        self.assertEqual(before, self.results())

    def test_a_paused_owner_telling_a_start_late_adds_nothing(self):
        # Found by test_paused_conductor_is_fenced on MariaDB: the owner
        # paused between the commit of a step's start and telling its
        # listener; the adopter ran the step again and finished its
        # event; the owner woke up and told the start: a second event,
        # which the end of the action then finished with 'Success'.
        workflow_id = self.run_until_death(
            FACTORY, ('claim_resources', orc.states.RUNNING)
        )
        self.take_back(workflow_id)
        before = self.results()
        self.assertEqual(
            [
                ('conductor_select_destinations', 'Success'),
                ('conductor_claim_resources', 'Success'),
                ('conductor_mark_active', 'Success'),
            ],
            before,
        )
        logs = self.useFixture(fixtures.FakeLogger())
        self.listener(self.dying.untold_event)
        self.assertEqual(before, self.results())
        self.assertIn('is not recorded', logs.output)
        # Nor does a finish it tells late.
        self.listener(
            self.dying.untold_event._replace(state=orc.states.FAILURE)
        )
        self.assertEqual(before, self.results())

    def test_closing_under_a_stale_claim_writes_nothing(self):
        workflow_id = self.run_until_death(
            FACTORY, ('claim_resources', orc.states.SUCCESS)
        )
        stale = self.backend.get_workflow(workflow_id)['generation']
        self.take_back(workflow_id, close=False)
        logs = self.useFixture(fixtures.FakeLogger())
        events.close_finished_events(
            self.backend, workflow_id, [self.listener], stale
        )
        self.assertIn('adopted away', logs.output)
        self.assertIn(('conductor_claim_resources', None), self.results())

    def test_a_finished_step_whose_start_was_never_told_gets_one_event(self):
        workflow_id = self.run_until_death(
            FACTORY,
            ('claim_resources', orc.states.SUCCESS),
            untold=[('claim_resources', orc.states.RUNNING)],
        )
        self.take_back(workflow_id)
        self.assertEqual(
            [
                ('conductor_select_destinations', 'Success'),
                ('conductor_claim_resources', 'Success'),
                ('conductor_mark_active', 'Success'),
            ],
            self.results(),
        )
        claim = self.task(workflow_id, 'claim_resources')
        self.assertEqual(
            (claim['started_at'], claim['finished_at']),
            self.recorded()[1][2:],
        )

    def test_a_failed_step_is_closed_in_error_with_its_traceback(self):
        workflow_id = self.run_until_death(
            FACTORY + '.failing', ('spawn', orc.states.FAILURE)
        )
        engine = self.take_back(workflow_id)
        self.assertEqual(orc.states.REVERTED, engine.state)
        self.assertEqual(
            [
                ('conductor_select_destinations', 'Success'),
                ('conductor_spawn', 'Error'),
            ],
            self.results(),
        )
        with self.db.engine.connect() as conn:
            traceback = conn.execute(
                sa.text(
                    'SELECT traceback FROM instance_actions_events '
                    "WHERE event = 'conductor_spawn'"
                )
            ).scalar()
        self.assertIn('no room on host1', traceback)

    def test_closing_again_changes_nothing(self):
        workflow_id = self.run_until_death(
            FACTORY, ('mark_active', orc.states.SUCCESS)
        )
        _row, tasks = self.backend.load(workflow_id)
        self.assertEqual(1, self.listener.close_finished(tasks))
        closed = self.recorded()
        self.assertEqual(0, self.listener.close_finished(tasks))
        self.assertEqual(closed, self.recorded())
        self.assertEqual(
            ['Success'] * 3, [result for _, result in self.results()]
        )

    def test_an_error_is_logged_not_raised(self):
        # The workflow must run on even if its events cannot be closed.
        class Unreachable:
            def load(self, workflow_id):
                raise RuntimeError('database gone')

        workflow_id = self.run_until_death(
            FACTORY, ('claim_resources', orc.states.SUCCESS)
        )
        logs = self.useFixture(fixtures.FakeLogger())
        events.close_finished_events(
            Unreachable(), workflow_id, [self.listener]
        )
        self.assertIn('could not be closed', logs.output)
        self.assertIn(('conductor_claim_resources', None), self.results())

    def test_the_last_step_is_finished_with_the_action(self):
        # The engine's commit that ends the last step ends the workflow
        # too: nobody takes the workflow back after that crash.
        workflow_id = self.run_until_death(
            FACTORY + '.finishing', ('mark_active', orc.states.SUCCESS)
        )
        self.assertEqual(
            orc.states.SUCCESS, self.backend.get_workflow(workflow_id)['state']
        )
        self.assertEqual(
            [
                ('conductor_select_destinations', 'Success'),
                ('conductor_mark_active', 'Success'),
            ],
            self.results(),
        )

    def test_a_step_run_again_after_finishing_the_action_has_one_event(self):
        def die():
            raise ProcessDied()

        AFTER_FINISHING.append(die)
        self.addCleanup(AFTER_FINISHING.clear)
        workflow_id = self.run_until_death(FACTORY + '.finishing', None)
        self.assertEqual(orc.states.SUCCESS, self.take_back(workflow_id).state)
        self.assertEqual(
            [
                ('conductor_select_destinations', 'Success'),
                ('conductor_mark_active', 'Success'),
            ],
            self.results(),
        )
