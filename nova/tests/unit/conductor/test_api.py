"""nova.conductor.api.ComputeTaskAPI: the rows it writes, the casts it
sends.

Rows are read back from a migrated database and casts are received by a
stand-in conductor on the in-process transport, so these tests check
what a conductor will find, not which functions were called.
"""

import json
import threading

import oslo_messaging as messaging
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova import context as nova_context
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

    target = messaging.Target(version='1.1')

    def __init__(self):
        self.received = []
        self.arrived = threading.Event()

    def build_instances(self, context, workflow_ids):
        self.received.append(
            ('build_instances', workflow_ids, context.request_id)
        )
        self.arrived.set()

    def delete_instance(self, context, workflow_id):
        self.received.append(
            ('delete_instance', workflow_id, context.request_id)
        )
        self.arrived.set()


class ComputeTaskAPITestCase(test.TestCase):
    def setUp(self):
        super().setUp()
        self.db = self.useFixture(nova_fixtures.Database())
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
    def create_delete(self, uuid):
        @db_api.context_manager.writer
        def write(context):
            action_id = actions_db.action_start(context, uuid, 'delete')
            return action_id, self.api.create_delete_workflow(
                context, uuid, action_id
            )

        return write(self.context)

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
