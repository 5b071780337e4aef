"""The chaos soak's invariant checker, on canned records and rows.

The soak itself (nova/tests/integration/chaos.py) needs RabbitMQ and a
database server and runs for minutes, so it is not part of CI; the
judgement it makes at the end is pure and tested here.
"""

import testtools

from nova.tests.integration import chaos

A = 'aaaaaaaa-0000-0000-0000-000000000001'
B = 'bbbbbbbb-0000-0000-0000-000000000002'
C = 'cccccccc-0000-0000-0000-000000000003'


def _record(uuid, outcome, console=None, **extra):
    record = {
        'uuid': uuid,
        'accepted': True,
        'outcome': outcome,
        'delete_accepted': True,
        'gone': True,
        'console_lines': console,
    }
    record.update(extra)
    return record


def _db(**overrides):
    db = {
        'instances': {
            A: {'vm_state': 'deleted', 'task_state': None, 'deleted': True},
            B: {'vm_state': 'deleted', 'task_state': None, 'deleted': True},
        },
        'stuck_before_cleanup': [],
        'unfinished_workflows': [],
        'successful_builds': {A: 1},
        'spawned': {A: 1},
        'held': {'claims': [], 'fixed_ips': [], 'bdms': [], 'directories': []},
        'node_usage': [],
        'audit': {'returncode': 0, 'findings': []},
    }
    db.update(overrides)
    return db


CLEAN = [_record(A, 'ACTIVE', console=1), _record(B, 'ERROR')]


class CheckInvariantsTest(testtools.TestCase):
    def failed(self, records, db):
        results, leaks = chaos.check_invariants(records, db)
        return {k: v for k, v in results.items() if v}, leaks

    def test_clean_run_passes(self):
        results, leaks = chaos.check_invariants(CLEAN, _db())
        self.assertEqual(
            [
                'every_boot_accounted',
                'every_delete_removed',
                'booted_at_most_once',
                'no_unfinished_workflow',
                'nothing_stuck',
                'audit_clean',
                'no_leaked_resource',
            ],
            list(results),
        )
        self.assertEqual({}, {k: v for k, v in results.items() if v})
        self.assertEqual(0, leaks)

    def test_unaccepted_boot_is_not_judged(self):
        records = CLEAN + [
            {'uuid': None, 'accepted': False, 'outcome': 'boot_not_accepted'}
        ]
        self.assertEqual(({}, 0), self.failed(records, _db()))

    def test_boot_that_never_settled(self):
        records = [_record(A, 'TIMEOUT(BUILD)', console=None)]
        failed, _ = self.failed(records, _db())
        self.assertEqual(['every_boot_accounted'], list(failed))
        self.assertIn('TIMEOUT(BUILD)', failed['every_boot_accounted'][0])

    def test_server_not_deleted(self):
        instances = dict(_db()['instances'])
        instances[B] = {
            'vm_state': 'error',
            'task_state': None,
            'deleted': False,
        }
        failed, _ = self.failed(CLEAN, _db(instances=instances))
        self.assertEqual(
            {'every_boot_accounted', 'every_delete_removed', 'nothing_stuck'},
            set(failed),
        )

    def test_delete_that_timed_out(self):
        records = [
            _record(A, 'ACTIVE', console=1, delete_timed_out=True),
            _record(B, 'ERROR'),
        ]
        failed, _ = self.failed(records, _db())
        self.assertEqual(['every_delete_removed'], list(failed))

    def test_two_console_lines_while_active(self):
        records = [_record(A, 'ACTIVE', console=2), _record(B, 'ERROR')]
        failed, _ = self.failed(records, _db())
        self.assertEqual(['booted_at_most_once'], list(failed))

    def test_spawned_twice_for_one_build(self):
        failed, _ = self.failed(CLEAN, _db(spawned={A: 2}))
        self.assertEqual(
            ['%s: spawned 2 times for 1 successful build(s)' % A],
            failed['booted_at_most_once'],
        )

    def test_one_spawn_of_a_failed_build_is_allowed(self):
        # Spawned, then the build failed and was reverted (destroyed).
        self.assertEqual(
            ({}, 0), self.failed(CLEAN, _db(spawned={A: 1, B: 1}))
        )

    def test_unfinished_workflow_and_stuck_instance(self):
        failed, _ = self.failed(
            CLEAN,
            _db(
                unfinished_workflows=[
                    ('w1', 'build_instance', 'RUNNING', 'c')
                ],
                stuck_before_cleanup=[C],
            ),
        )
        self.assertEqual(
            {'no_unfinished_workflow', 'nothing_stuck'}, set(failed)
        )

    def test_task_state_left_on_an_error_server(self):
        records = [
            _record(A, 'ACTIVE', console=1),
            _record(B, 'ERROR', stuck_task='ERROR/spawning'),
        ]
        failed, _ = self.failed(records, _db())
        self.assertEqual(
            ['%s: stayed ERROR/spawning with no workflow to finish it' % B],
            failed['nothing_stuck'],
        )

    def test_leaks_are_counted(self):
        failed, leaks = self.failed(
            CLEAN,
            _db(
                held={
                    'claims': [A],
                    'fixed_ips': [],
                    'bdms': [B],
                    'directories': [],
                },
                node_usage=[('cpu1', 1, 512, 1)],
                audit={
                    'returncode': 3,
                    'findings': [
                        {'kind': 'leaked_claim', 'message': 'claim 1'},
                        {'kind': 'stuck_instance', 'message': 'i'},
                    ],
                },
            ),
        )
        self.assertEqual({'audit_clean', 'no_leaked_resource'}, set(failed))
        # 2 held rows + node usage + 1 leaked_* finding of the audit.
        self.assertEqual(4, leaks)

    def test_audit_failing_without_findings(self):
        failed, _ = self.failed(
            CLEAN, _db(audit={'returncode': 1, 'findings': []})
        )
        self.assertEqual(['audit exited 1'], failed['audit_clean'])


class ParseArgsTest(testtools.TestCase):
    def test_defaults_and_seed(self):
        args = chaos.parse_args([])
        self.assertEqual('mysql', args.db)
        self.assertEqual(4, args.concurrency)
        self.assertIsInstance(args.seed, int)
        args = chaos.parse_args(['--db', 'postgresql', '--seed', '7'])
        self.assertEqual(('postgresql', 7), (args.db, args.seed))
