"""nova.conductor.api.ComputeTaskAPI: the rows it writes, the casts it
sends.

Rows are read back from a migrated database and casts are received by a
stand-in conductor on the in-process transport, so these tests check
what a conductor will find, not which functions were called.
"""

import datetime
import json
import threading

import oslo_messaging as messaging
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova import context as nova_context
from nova import orchestration as orc
from nova import rpc
from nova import test
from nova.conductor import api as conductor_api
import nova.conf
from nova.db import actions as actions_db
from nova.db import api as db_api
from nova.db import instances as instances_db
from nova.db import workflows as workflows_db
from nova.tests import fixtures as nova_fixtures

CONF = nova.conf.CONF

FLAVOR = {
    'id': 1,
    'flavorid': '1',
    'name': 'm1.tiny',
    'memory_mb': 512,
    'vcpus': 1,
    'root_gb': 1,
    'ephemeral_gb': 0,
    'swap': 0,
    'extra_specs': {},
}
IMAGE = {
    'id': '70a599e0-31e7-49b7-b260-868f441e862b',
    'name': 'cirros',
    'min_disk': 0,
    'size': 0,
}
NETWORKS = [{'uuid': '3cb9bc59-5699-4588-a4b1-b87f96708bc6'}]

#: Seconds to wait for a cast to reach the stand-in conductor.
CAST_TIMEOUT = 10


class Boom(Exception):
    """The caller's transaction fails after the workflows were written."""


class RecordingConductor:
    """The conductor topic's endpoint, keeping what it was asked."""

    target = messaging.Target(version='1.2')

    def __init__(self):
        self.received = []
        self.arrived = threading.Event()

    def build_instances(self, context, workflow_ids, admin_password=None):
        call = ('build_instances', workflow_ids, context.request_id)
        if admin_password is not None:
            call += (admin_password,)
        self.received.append(call)
        self.arrived.set()

    def delete_instance(self, context, workflow_id):
        self.received.append(
            ('delete_instance', workflow_id, context.request_id)
        )
        self.arrived.set()


class Noop(orc.Task):
    def execute(self):
        pass


class ComputeTaskAPIBase(test.TestCase):
    """A migrated database of ``backend`` and the facade; no tests."""

    backend = 'sqlite'

    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database(backend=self.backend))
        self.flags(group='scheduler', max_attempts=4)
        self.context = nova_context.RequestContext(
            user_id='fake-user',
            project_id='fake-project',
            auth_token='fake-token',
        )
        self.api = conductor_api.ComputeTaskAPI()

    # -- helpers -----------------------------------------------------------
    def new_instance(self, context, action='create'):
        """An instance and its action, as the compute API writes them."""
        uuid = uuidutils.generate_uuid()
        instances_db.create(
            context,
            {
                'uuid': uuid,
                'project_id': context.project_id,
                'user_id': context.user_id,
                'vm_state': 'building',
                'task_state': 'scheduling',
                'flavor': FLAVOR,
            },
        )
        return uuid, actions_db.action_start(context, uuid, action)

    def create_builds(self, count=1, admin_password=None):
        """``count`` instances and their builds in one transaction."""

        @db_api.context_manager.writer
        def write(context):
            actions = dict(self.new_instance(context) for _ in range(count))
            return actions, self.api.create_build_workflows(
                context,
                actions,
                flavor=FLAVOR,
                image=IMAGE,
                requested_networks=NETWORKS,
                availability_zone='nova',
                admin_password=admin_password,
            )

        return write(self.context)

    def workflow(self, workflow_id):
        """The workflow row with its store decoded, and its task rows."""
        row, tasks = workflows_db.get_backend().load(workflow_id)
        row['store'] = json.loads(row['store'])
        return row, tasks

    def count(self, table):
        with self.db.engine.connect() as conn:
            return conn.execute(
                sa.text('SELECT COUNT(*) FROM %s' % table)
            ).scalar()

    def start_conductor(self):
        """A stand-in conductor on the conductor topic."""
        endpoint = RecordingConductor()
        server = rpc.get_server(
            messaging.Target(
                topic=CONF.conductor.topic, server='test-conductor'
            ),
            [endpoint],
        )
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        return endpoint

    def assertReceived(self, endpoint, expected):
        self.assertTrue(
            endpoint.arrived.wait(CAST_TIMEOUT),
            'no cast reached the conductor topic',
        )
        self.assertEqual([expected], endpoint.received)

    def create_delete(self, uuid):
        @db_api.context_manager.writer
        def write(context):
            action_id = actions_db.action_start(context, uuid, 'delete')
            return action_id, self.api.create_delete_workflow(
                context, uuid, action_id
            )

        return write(self.context)


class ComputeTaskAPITestCase(ComputeTaskAPIBase):
    # -- build_instance ----------------------------------------------------
    def test_build_workflow_row_and_inputs(self):
        actions, (workflow_id,) = self.create_builds()
        ((uuid, action_id),) = actions.items()
        row, tasks = self.workflow(workflow_id)
        self.assertEqual(
            (
                'build_instance',
                'PENDING',
                'instance',
                uuid,
                self.context.request_id,
                'fake-project',
                'fake-user',
                None,
            ),
            (
                row['name'],
                row['state'],
                row['target_type'],
                row['target_id'],
                row['request_id'],
                row['project_id'],
                row['user_id'],
                row['owner'],
            ),
        )
        store = row['store']
        self.assertEqual(
            (uuid, action_id, FLAVOR, IMAGE, NETWORKS, 4),
            (
                store['instance_uuid'],
                store['action_id'],
                store['flavor'],
                store['image'],
                store['requested_networks'],
                store['max_attempts'],
            ),
        )
        self.assertEqual('nova', store['request_spec']['availability_zone'])
        self.assertEqual(
            ('fake-user', 'fake-project'),
            (store['context']['user'], store['context']['project_id']),
        )
        self.assertTrue(tasks)
        self.assertEqual({'PENDING'}, {task['state'] for task in tasks})

    def test_build_workflows_follow_the_instances_in_order(self):
        actions, workflow_ids = self.create_builds(count=3)
        self.assertEqual(3, len(set(workflow_ids)))
        self.assertEqual(
            list(actions.items()),
            [
                (
                    self.workflow(wf)[0]['target_id'],
                    self.workflow(wf)[0]['store']['action_id'],
                )
                for wf in workflow_ids
            ],
        )

    def test_token_and_admin_password_are_never_persisted(self):
        _, (workflow_id,) = self.create_builds(admin_password='s3cr3t-pw')
        row, tasks = self.workflow(workflow_id)
        persisted = json.dumps([row, tasks], default=str)
        self.assertNotIn('s3cr3t-pw', persisted)
        self.assertNotIn('fake-token', persisted)
        self.assertNotIn('admin_password', row['store'])

    def test_build_instances_carries_the_password_on_the_cast_only(self):
        conductor = self.start_conductor()
        _, workflow_ids = self.create_builds(
            count=2, admin_password='s3cr3t-pw'
        )
        self.api.build_instances(
            self.context, workflow_ids, admin_password='s3cr3t-pw'
        )
        self.assertReceived(
            conductor,
            (
                'build_instances',
                workflow_ids,
                self.context.request_id,
                's3cr3t-pw',
            ),
        )

    def test_build_rows_commit_with_the_callers_transaction(self):
        @db_api.context_manager.writer
        def write_then_fail(context):
            actions = dict([self.new_instance(context)])
            self.api.create_build_workflows(
                context,
                actions,
                flavor=FLAVOR,
                image=IMAGE,
                requested_networks='auto',
                availability_zone=None,
            )
            raise Boom()

        self.assertRaises(Boom, write_then_fail, self.context)
        for table in (
            'instances',
            'instance_actions',
            'workflows',
            'workflow_tasks',
        ):
            self.assertEqual(0, self.count(table), table)

    def test_build_instances_casts_the_ids_to_the_conductor_topic(self):
        conductor = self.start_conductor()
        _, workflow_ids = self.create_builds(count=2)
        self.api.build_instances(self.context, workflow_ids)
        self.assertReceived(
            conductor,
            ('build_instances', workflow_ids, self.context.request_id),
        )

    # -- delete_instance ---------------------------------------------------
    def test_delete_workflow_row_and_inputs(self):
        ((uuid, _),) = self.create_builds()[0].items()
        action_id, workflow_id = self.create_delete(uuid)
        row, tasks = self.workflow(workflow_id)
        self.assertEqual(
            (
                'delete_instance',
                'PENDING',
                'instance',
                uuid,
                self.context.request_id,
            ),
            (
                row['name'],
                row['state'],
                row['target_type'],
                row['target_id'],
                row['request_id'],
            ),
        )
        self.assertEqual(
            (uuid, action_id),
            (row['store']['instance_uuid'], row['store']['action_id']),
        )
        self.assertNotIn('fake-token', json.dumps(row, default=str))
        self.assertTrue(tasks)

    def test_abort_for_delete_aborts_the_build_in_flight(self):
        actions, (build_id,) = self.create_builds()
        ((uuid, _),) = actions.items()
        self.assertIsNone(self.api.abort_for_delete(self.context, uuid))
        self.assertTrue(self.workflow(build_id)[0]['abort_requested'])

    def test_abort_for_delete_names_a_delete_in_flight(self):
        ((uuid, _),) = self.create_builds()[0].items()
        self.api.abort_for_delete(self.context, uuid)
        _, delete_id = self.create_delete(uuid)
        self.assertEqual(
            delete_id, self.api.abort_for_delete(self.context, uuid)
        )
        self.assertFalse(self.workflow(delete_id)[0]['abort_requested'])

    def test_abort_for_delete_of_an_idle_instance(self):
        @db_api.context_manager.writer
        def write(context):
            return self.new_instance(context)[0]

        self.assertIsNone(
            self.api.abort_for_delete(self.context, write(self.context))
        )

    def test_delete_instance_casts_the_id_to_the_conductor_topic(self):
        conductor = self.start_conductor()
        ((uuid, _),) = self.create_builds()[0].items()
        _, workflow_id = self.create_delete(uuid)
        self.api.delete_instance(self.context, workflow_id)
        self.assertReceived(
            conductor,
            ('delete_instance', workflow_id, self.context.request_id),
        )


class AbortInTheCallersTransaction:
    """A DELETE's abort requests commit with its delete workflow, on
    every database (mixed into one class per database)."""

    def test_abort_for_delete_rolls_back_with_the_callers_transaction(self):
        actions, (build_id,) = self.create_builds()
        ((uuid, _),) = actions.items()

        @db_api.context_manager.writer
        def abort_then_fail(context):
            self.assertIsNone(self.api.abort_for_delete(context, uuid))
            raise Boom()

        self.assertRaises(Boom, abort_then_fail, self.context)
        self.assertFalse(self.workflow(build_id)[0]['abort_requested'])

    def test_abort_for_delete_commits_with_the_delete_workflow(self):
        actions, (build_id,) = self.create_builds()
        ((uuid, _),) = actions.items()

        @db_api.context_manager.writer
        def delete(context):
            self.assertIsNone(self.api.abort_for_delete(context, uuid))
            action_id = actions_db.action_start(context, uuid, 'delete')
            return self.api.create_delete_workflow(context, uuid, action_id)

        delete_id = delete(self.context)
        self.assertTrue(self.workflow(build_id)[0]['abort_requested'])
        self.assertEqual('PENDING', self.workflow(delete_id)[0]['state'])
        # The next DELETE finds it and writes nothing.
        self.assertEqual(
            delete_id, self.api.abort_for_delete(self.context, uuid)
        )

    # -- nova's request_abort does what the library's does -----------------
    def workflow_in(self, situation):
        """A workflow in one of the situations an abort may find."""
        backend = workflows_db.get_backend()
        workflow_id = orc.Engine.create(
            orc.LinearFlow('f').add(Noop(name='noop')),
            backend=backend,
            resumable=False,
        )
        if situation == 'pending':
            return workflow_id
        generation, _ = backend.claim(workflow_id, 'conductor-a', 30)
        state = 'SUCCESS' if situation == 'finished' else 'RUNNING'
        backend.save(
            workflow_id,
            generation,
            workflow={'state': state},
            check_abort=False,
            # A Pending step: no owner, woken at its deadline.
            release=situation == 'waiting',
            release_until=datetime.datetime.utcnow()
            + datetime.timedelta(hours=1),
        )
        return workflow_id

    def outcome(self, workflow_id, before, answer):
        row = workflows_db.get_backend().get_workflow(workflow_id)
        adoptable = workflows_db.get_backend().find_adoptable(
            grace_seconds=3600
        )
        return {
            'answer': answer,
            'state': row['state'],
            'owner': row['owner'],
            'generation': row['generation'],
            'abort_requested': row['abort_requested'],
            'lease kept': row['lease_expires_at'] == before,
            'adoptable now': workflow_id in adoptable,
        }

    def test_request_abort_does_what_the_librarys_does(self):
        backend = workflows_db.get_backend()
        for situation in ('pending', 'running', 'waiting', 'finished'):
            theirs, ours = (self.workflow_in(situation) for _ in range(2))
            leases = {
                wid: backend.get_workflow(wid)['lease_expires_at']
                for wid in (theirs, ours)
            }
            expected = self.outcome(
                theirs, leases[theirs], orc.request_abort(theirs, backend)
            )

            @db_api.context_manager.writer
            def abort(context, wid=ours):
                return workflows_db.request_abort(context, wid)

            self.assertEqual(
                expected,
                self.outcome(ours, leases[ours], abort(self.context)),
                situation,
            )
            self.assertEqual(
                situation != 'finished', expected['abort_requested']
            )
            # Nobody would see the flag of a waiting workflow before its
            # deadline: it is adopted now instead.
            self.assertEqual(situation == 'waiting', expected['adoptable now'])


class AbortInTheCallersTransactionSQLite(
    AbortInTheCallersTransaction, ComputeTaskAPIBase
):
    backend = 'sqlite'


class AbortInTheCallersTransactionMySQL(
    AbortInTheCallersTransaction, ComputeTaskAPIBase
):
    backend = 'mysql'


class AbortInTheCallersTransactionPostgreSQL(
    AbortInTheCallersTransaction, ComputeTaskAPIBase
):
    backend = 'postgresql'
