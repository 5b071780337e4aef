"""nova-manage workflow: every command, exit codes, JSON and text.

The workflows are made by running real flows through nova.orchestration
on the nova database, not by inserting rows.
"""

import io
import json
import os

import fixtures
from oslo_utils import uuidutils

from nova import context as nova_context
from nova import orchestration as orc
from nova import test
from nova.cmd import manage
from nova.cmd import manage_workflow
from nova.compute import vm_states
from nova.conductor import api as conductor_api
from nova.conductor import runner
from nova.db import actions as actions_db
from nova.db import api as db_api
from nova.db import instances as instances_db
from nova.db import workflows as workflows_db
from nova.tests import fixtures as nova_fixtures

FACTORY = 'nova.tests.unit.cmd.test_manage_workflow'


class Boom(Exception):
    """A planted failure."""


class Step(orc.Task):
    def execute(self, mode):
        if mode == 'fail':
            raise Boom('step failed on purpose')
        if mode == 'wait':
            return orc.Pending('token-1')
        return 'ok'


class BadRevert(orc.Task):
    def execute(self):
        return 'done'

    def revert(self, **kwargs):
        raise Boom('revert failed on purpose')


class _First(orc.Task):
    def execute(self):
        return 1


class _Second(orc.Task):
    def execute(self):
        return 2


class _Fail(orc.Task):
    def execute(self):
        raise Boom('after a step whose revert fails')


@orc.flow_factory(FACTORY, version=1)
def make_flow(mode):
    """first -> (second) -> last; 'badrevert' makes first's revert fail."""
    first = (
        BadRevert(name='first')
        if mode == 'badrevert'
        else _First(name='first')
    )
    last = _Fail(name='last') if mode == 'badrevert' else Step(name='last')
    return orc.LinearFlow('demo').add(
        first, orc.UnorderedFlow('middle').add(_Second(name='second')), last
    )


class WorkflowCommandsTestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database())
        self.backend = workflows_db.get_backend()
        self.ids = {}
        self.ids['PENDING'] = orc.Engine.create(
            FACTORY,
            store={'mode': 'ok'},
            backend=self.backend,
            target=('demo', 'i-pending'),
        )
        self.ids['SUCCESS'] = self._run('ok', 'i-success')
        self.ids['REVERTED'] = self._run('fail', 'i-reverted')
        self.ids['RUNNING'] = self._run('wait', 'i-running')
        self.ids['FAILED'] = self._run('badrevert', 'i-failed')
        self.stdout = self.useFixture(
            fixtures.MonkeyPatch('sys.stdout', io.StringIO())
        ).new_value
        self.stderr = self.useFixture(
            fixtures.MonkeyPatch('sys.stderr', io.StringIO())
        ).new_value
        path = os.path.join(self.state_path, 'nova.conf')
        with open(path, 'w') as f:
            f.write('[database]\nconnection = %s\n' % self.db.url)
        self.config_file = path

    def _run(self, mode, target):
        engine = orc.Engine(
            FACTORY,
            store={'mode': mode},
            backend=self.backend,
            target=('demo', target),
            owner='conductor-a',
        )
        try:
            engine.run()
        except orc.WorkflowFailed:
            pass
        return engine.workflow_id

    def manage(self, *argv):
        self.stdout.seek(0)
        self.stdout.truncate()
        return manage.main(
            ['nova-manage', '--config-file', self.config_file, 'workflow']
            + list(argv)
        )

    def output(self):
        return self.stdout.getvalue()


class TestList(WorkflowCommandsTestCase):
    def test_every_state_is_listed(self):
        self.assertEqual(0, self.manage('list', '--json'))
        rows = json.loads(self.output())
        self.assertEqual(
            sorted(self.ids.values()), sorted(r['id'] for r in rows)
        )
        self.assertEqual(set(self.ids), {r['state'] for r in rows})

    def test_filters(self):
        self.assertEqual(
            0, self.manage('list', '--state', 'reverted', '--json')
        )
        self.assertEqual(
            [self.ids['REVERTED']],
            [r['id'] for r in json.loads(self.output())],
        )
        self.assertEqual(
            0, self.manage('list', '--target', 'i-running', '--json')
        )
        self.assertEqual(
            [self.ids['RUNNING']], [r['id'] for r in json.loads(self.output())]
        )
        self.assertEqual(0, self.manage('list', '--limit', '2', '--json'))
        self.assertEqual(2, len(json.loads(self.output())))
        self.assertEqual(
            0, self.manage('list', '--older-than', '1d', '--json')
        )
        self.assertEqual([], json.loads(self.output()))

    def test_owner_filter_and_lease(self):
        self.assertEqual(
            0, self.manage('list', '--owner', 'conductor-a', '--json')
        )
        rows = json.loads(self.output())
        # Only the waiting workflow still has an owner? It released it:
        # a Pending step frees its thread and its lease.
        for row in rows:
            self.assertEqual('conductor-a', row['owner'])

    def test_table(self):
        self.assertEqual(0, self.manage('list'))
        for workflow_id in self.ids.values():
            self.assertIn(workflow_id, self.output())
        self.assertIn('| id ', self.output())

    def test_bad_input(self):
        self.assertEqual(127, self.manage('list', '--state', 'SLEEPING'))
        self.assertIn('invalid state', self.stderr.getvalue())
        self.assertEqual(127, self.manage('list', '--older-than', '3 days'))
        self.assertEqual(127, self.manage('list', '--limit', '0'))


class TestShow(WorkflowCommandsTestCase):
    def test_text_tree_with_failure_and_traceback(self):
        self.assertEqual(0, self.manage('show', self.ids['REVERTED']))
        out = self.output()
        self.assertIn('state:      REVERTED', out)
        self.assertIn('middle [unordered flow]', out)
        self.assertIn('last', out)
        self.assertIn('step failed on purpose', out)
        self.assertIn('Traceback', out)

    def test_json(self):
        self.assertEqual(0, self.manage('show', self.ids['FAILED'], '--json'))
        data = json.loads(self.output())
        self.assertEqual('FAILED', data['state'])
        states = {t['name']: t['state'] for t in data['tasks']}
        self.assertEqual('REVERT_FAILURE', states['first'])
        self.assertEqual('demo', data['tree']['name'])
        self.assertEqual(
            ['first', 'middle', 'last'],
            [c['name'] for c in data['tree']['children']],
        )

    def test_dot(self):
        self.assertEqual(0, self.manage('show', self.ids['SUCCESS'], '--dot'))
        out = self.output()
        self.assertTrue(out.startswith('digraph'))
        self.assertIn('"first" -> "second"', out)
        self.assertIn('palegreen', out)

    def test_unknown_and_malformed_ids(self):
        self.assertEqual(1, self.manage('show', uuidutils.generate_uuid()))
        self.assertIn('not found', self.stderr.getvalue())
        self.assertEqual(127, self.manage('show', 'not-a-uuid'))
        self.assertEqual(
            127, self.manage('show', self.ids['SUCCESS'], '--json', '--dot')
        )


class TestSteer(WorkflowCommandsTestCase):
    def test_resume_frees_a_running_workflow(self):
        before = self.backend.get_workflow(self.ids['RUNNING'])
        self.assertEqual(0, self.manage('resume', self.ids['RUNNING']))
        after = self.backend.get_workflow(self.ids['RUNNING'])
        self.assertIsNone(after['owner'])
        self.assertGreater(after['generation'], before['generation'])
        self.assertIn(
            self.ids['RUNNING'], self.backend.find_adoptable(grace_seconds=0)
        )

    def test_resume_and_abort_refuse_finished(self):
        for command in ('resume', 'abort'):
            self.assertEqual(
                manage_workflow.EXIT_REFUSED,
                self.manage(command, self.ids['SUCCESS']),
            )
            self.assertIn('already finished', self.stderr.getvalue())

    def test_abort_sets_the_flag(self):
        self.assertEqual(0, self.manage('abort', self.ids['PENDING']))
        self.assertTrue(
            self.backend.get_workflow(self.ids['PENDING'])['abort_requested']
        )
        # The next engine that runs it reverts instead of running.
        engine = orc.Engine.load(self.ids['PENDING'], self.backend)
        self.assertRaises(orc.WorkflowFailed, engine.run)
        self.assertEqual('REVERTED', engine.state)

    def test_unknown_id_is_not_found(self):
        for command in ('resume', 'abort'):
            self.assertEqual(
                1, self.manage(command, uuidutils.generate_uuid())
            )

    def test_an_aborted_build_leaves_its_server_in_error(self):
        # A build no conductor ran yet (its cast was lost, say): its
        # steps never ran, its sentinel neither; the conductor that
        # adopts it reverts it and ends the server itself.
        uuid = uuidutils.generate_uuid()
        context = nova_context.RequestContext(user_id='u1', project_id='p1')

        @db_api.context_manager.writer
        def create(context):
            instances_db.create(
                context,
                {
                    'uuid': uuid,
                    'project_id': 'p1',
                    'user_id': 'u1',
                    'vm_state': vm_states.BUILDING,
                    'task_state': vm_states.SCHEDULING,
                },
            )
            action_id = actions_db.action_start(context, uuid, 'create')
            return conductor_api.ComputeTaskAPI().create_build_workflows(
                context,
                {uuid: action_id},
                flavor={'flavorid': '1', 'vcpus': 1, 'memory_mb': 512},
                image={'id': 'image-1'},
                requested_networks='none',
                availability_zone=None,
            )

        (build_id,) = create(context)
        self.assertEqual(0, self.manage('abort', build_id))
        conductor = runner.WorkflowRunner('conductor-b')
        self.addCleanup(conductor.stop)
        conductor._run_workflow(build_id)
        self.assertEqual(
            'REVERTED', self.backend.get_workflow(build_id)['state']
        )
        admin = nova_context.get_admin_context()
        instance = instances_db.get(admin, uuid)
        self.assertEqual(
            (vm_states.ERROR, None),
            (instance['vm_state'], instance['task_state']),
        )
        self.assertEqual(
            'Server create aborted by an operator (nova-manage workflow '
            'abort %s)' % build_id,
            actions_db.fault_get_latest(admin, [uuid])[uuid]['message'],
        )


class TestPurgeAndStats(WorkflowCommandsTestCase):
    def test_purge_dry_run_then_real(self):
        self.assertEqual(1, self.manage('purge', '--before', '1d'))
        self.assertEqual(
            0, self.manage('purge', '--before', '0s', '--dry-run')
        )
        self.assertIn('Would purge 3', self.output())
        self.assertEqual(
            0, self.manage('purge', '--before', '0s', '--batch-size', '1')
        )
        self.assertIn('Purged 3', self.output())
        remaining = {r['id'] for r in self.backend.list_workflows()}
        self.assertEqual({self.ids['PENDING'], self.ids['RUNNING']}, remaining)
        self.assertEqual(127, self.manage('purge', '--before', 'yesterday'))

    def test_stats(self):
        self.assertEqual(0, self.manage('stats', '--json'))
        stats = json.loads(self.output())
        self.assertEqual(
            {
                'PENDING': 1,
                'RUNNING': 1,
                'SUCCESS': 1,
                'REVERTED': 1,
                'FAILED': 1,
            },
            stats['by_state'],
        )
        # Unfinished: the never-run PENDING one and the one waiting on a
        # Pending step, which released its owner.
        self.assertEqual({'null': 2}, stats['by_owner'])
        self.assertEqual(self.ids['PENDING'], stats['oldest_running']['id'])
        self.assertEqual(0, self.manage('stats'))
        self.assertIn('REVERTED   1', self.output())
        self.assertIn(
            'Oldest unfinished: %s' % self.ids['PENDING'], self.output()
        )


class TestAudit(WorkflowCommandsTestCase):
    def test_clean_database_exits_0(self):
        self.assertEqual(0, self.manage('audit'))
        self.assertIn('No inconsistency found', self.output())

    def test_inconsistency_exits_3(self):
        import sqlalchemy as sa

        with self.db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE fixed_ips SET instance_uuid = 'gone', allocated = "
                    ":t WHERE address = '10.0.0.9'"
                ),
                {'t': True},
            )
        self.assertEqual(3, self.manage('audit', '--json'))
        findings = json.loads(self.output())
        self.assertEqual(['leaked_fixed_ip'], [f['kind'] for f in findings])


class TestDatabaseDown(test.TestCase):
    def test_unreachable_database_is_exit_2(self):
        path = os.path.join(self.state_path, 'nova.conf')
        with open(path, 'w') as f:
            f.write(
                '[database]\nconnection = '
                'mysql+pymysql://root@127.0.0.1:9/nova\n'
            )
        self.useFixture(fixtures.MonkeyPatch('nova.db.api._configured', False))
        from nova.db import api as db_api

        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.db.api.context_manager',
                db_api.context_manager.make_new_manager(),
            )
        )
        stderr = self.useFixture(
            fixtures.MonkeyPatch('sys.stderr', io.StringIO())
        ).new_value
        self.assertEqual(
            2,
            manage.main(
                ['nova-manage', '--config-file', path, 'workflow', 'stats']
            ),
        )
        self.assertIn('cannot use database', stderr.getvalue())
