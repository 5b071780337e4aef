"""nova.compute.api: validation writes nothing; quotas; visibility."""

from oslo_db import exception as db_exc

from nova import context as nova_context
from nova import exception
from nova.tests.functional import base

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'


class TestCreateValidation(base.FunctionalTestCase):
    def assert_nothing_written(self):
        for table in (
            'instances',
            'instance_actions',
            'workflows',
            'workflow_tasks',
        ):
            self.assertEqual(
                0,
                self.query('SELECT COUNT(*) AS n FROM %s' % table)[0]['n'],
                table,
            )

    def test_unknown_flavor(self):
        self.assertRaises(
            exception.FlavorNotFound,
            self.api.create,
            self.context,
            '999',
            IMAGE,
            'x',
        )
        self.assert_nothing_written()

    def test_unknown_image(self):
        self.assertRaises(
            exception.ImageNotFound,
            self.api.create,
            self.context,
            '1',
            '00000000-0000-0000-0000-000000000000',
            'x',
        )
        self.assert_nothing_written()

    def test_unknown_network(self):
        self.assertRaises(
            exception.NetworkNotFound,
            self.api.create,
            self.context,
            '1',
            IMAGE,
            'x',
            networks=[{'uuid': '00000000-0000-0000-0000-000000000000'}],
        )
        self.assert_nothing_written()

    def test_empty_name(self):
        self.assertRaises(
            exception.InvalidInput,
            self.api.create,
            self.context,
            '1',
            IMAGE,
            '  ',
        )
        self.assert_nothing_written()

    def test_bad_counts(self):
        self.assertRaises(
            exception.InvalidInput,
            self.api.create,
            self.context,
            '1',
            IMAGE,
            'x',
            min_count=3,
            max_count=2,
        )
        self.assert_nothing_written()

    def test_quota_exceeded_is_403_and_writes_nothing(self):
        self.flags(group='quota', instances=2)
        error = self.assertRaises(
            exception.TooManyInstances,
            self.api.create,
            self.context,
            '1',
            IMAGE,
            'x',
            min_count=3,
            max_count=3,
        )
        self.assertEqual(403, error.code)
        self.assert_nothing_written()

    def test_max_count_is_trimmed_to_quota(self):
        self.flags(group='quota', instances=2)
        instances, reservation = self.api.create(
            self.context, '1', IMAGE, 'x', min_count=1, max_count=5
        )
        self.assertEqual(2, len(instances))
        self.assertEqual(
            ['x-1', 'x-2'], sorted(i['display_name'] for i in instances)
        )
        self.assertTrue(reservation.startswith('r-'))

    def test_secret_password_never_persisted(self):
        server = self.api.create(
            self.context, '1', IMAGE, 'x', admin_password='s3cr3t-pw'
        )[0][0]
        self.wait_for(server['uuid'], 'active')
        rows = self.query('SELECT store FROM workflows')
        self.assertNotIn('s3cr3t-pw', rows[0]['store'])
        tasks = self.query('SELECT result FROM workflow_tasks')
        self.assertFalse(
            any('s3cr3t-pw' in (t['result'] or '') for t in tasks)
        )


class TestVisibility(base.FunctionalTestCase):
    def test_other_project_cannot_see_or_delete(self):
        server = self.boot()
        other = nova_context.RequestContext(user_id='u2', project_id='p2')
        self.assertRaises(
            exception.InstanceNotFound, self.api.get, other, server['uuid']
        )
        self.assertRaises(
            exception.InstanceNotFound, self.api.delete, other, server['uuid']
        )
        self.assertEqual([], self.api.get_all(other))
        self.assertEqual(
            [server['uuid']],
            [i['uuid'] for i in self.api.get_all(self.context)],
        )
        admin_view = self.api.get_all(
            self.admin, search_opts={'all_tenants': True}
        )
        self.assertEqual([server['uuid']], [i['uuid'] for i in admin_view])

    def test_update_renames(self):
        server = self.boot(name='before')
        updated = self.api.update(
            self.context, server['uuid'], name='after me'
        )
        self.assertEqual('after me', updated['display_name'])
        self.assertEqual('after-me', updated['hostname'])


class TestDeadlockRetry(base.FunctionalTestCase):
    """MariaDB may choose a DELETE's or a boot's transaction as the
    victim of a deadlock with a conductor (seen in
    test_conductor_failover): the compute API retries it whole."""

    def test_delete_retried_after_a_deadlock(self):
        uuid = self.boot(name='deadlocked')['uuid']
        self.wait_for(uuid, 'active')
        real = self.api.compute_task_api.create_delete_workflow
        calls = []

        def deadlock_once(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise db_exc.DBDeadlock()
            return real(*args, **kwargs)

        self.patch(
            self.api.compute_task_api, 'create_delete_workflow', deadlock_once
        )
        self.api.delete(self.context, uuid)
        self.wait_for(uuid, gone=True)
        self.assertEqual(2, len(calls))
        # The first attempt rolled back whole: one delete action, one
        # delete workflow.
        self.assertEqual(
            [('delete_instance', 'SUCCESS')],
            [
                (w['name'], w['state'])
                for w in self.workflows_of(uuid)
                if w['name'] == 'delete_instance'
            ],
        )
        actions = self.query(
            "SELECT COUNT(*) AS n FROM instance_actions WHERE "
            "instance_uuid = :u AND action = 'delete'",
            u=uuid,
        )
        self.assertEqual(1, actions[0]['n'])
