"""A malformed message on the conductor topic never breaks the service.

Casts with unknown methods, missing, extra or ill-typed arguments, ids
of workflows that do not exist, and an oversized payload are sent to the
conductors the way any client on the bus could; each is logged and
dropped. Afterwards the same conductors still build and delete a server,
and nothing was written for the garbage.
"""

import logging

import fixtures
import oslo_messaging as messaging

from nova import rpc
import nova.conf
from nova.tests.functional import base

CONF = nova.conf.CONF

GARBAGE = (
    ('no_such_method', {}),
    ('build_instances', {}),
    ('build_instances', {'workflow_ids': None}),
    ('build_instances', {'workflow_ids': 'not-a-list'}),
    ('build_instances', {'workflow_ids': [None, 5, {'a': 1}, ['x']]}),
    ('build_instances', {'workflow_ids': ['no-such-workflow']}),
    ('build_instances', {'workflow_ids': [], 'unexpected': 1}),
    ('delete_instance', {'workflow_id': None}),
    ('delete_instance', {'workflow_id': 'no-such-workflow'}),
    ('resume_workflows', {'workflow_ids': 12}),
    ('task_complete', {}),
    (
        'task_complete',
        {
            'workflow_id': 'no-such-workflow',
            'task_name': 'spawn',
            'token': 't',
            'result': None,
            'failure': None,
        },
    ),
    (
        'task_complete',
        {
            'workflow_id': ['x'],
            'task_name': {'y': 1},
            'token': None,
            'result': {'z': [1, 2]},
            'failure': 'not a failure',
        },
    ),
    ('build_instances', {'workflow_ids': ['x' * 64] * 20000}),
)


class MalformedMessagesTest(base.FunctionalTestCase):
    conductors = 2

    def _client(self, serializer=True):
        target = messaging.Target(topic=CONF.conductor.topic)
        if serializer:
            return rpc.get_client(target)
        # A foreign client: whatever it sends as a context goes as is.
        return messaging.get_rpc_client(rpc.init(), target)

    def _counts(self):
        return {
            table: self.query('SELECT COUNT(*) AS n FROM %s' % table)[0]['n']
            for table in ('workflows', 'workflow_tasks', 'instances')
        }

    def test_garbage_is_dropped_and_service_goes_on(self):
        logs = self.useFixture(
            fixtures.FakeLogger(name='nova.conductor', level=logging.INFO)
        )
        before = self._counts()
        client = self._client()
        for method, kwargs in GARBAGE:
            client.cast(self.context, method, **kwargs)
        # Contexts that are not ones.
        foreign = self._client(serializer=False)
        for ctxt in ({'garbage': True}, {}, {'roles': 'admin'}):
            foreign.cast(ctxt, 'build_instances', workflow_ids=[])
        # Then real work on the same conductors.
        uuid = self.boot(name='after-garbage')['uuid']
        self.wait_for(uuid, 'active')
        self.assertEqual(1, self.boots_of(uuid))
        # Ill-typed ids are dropped whole: a string is not taken for a
        # list of one-character ids.
        self.assertIn('Dropping a malformed build_instances cast', logs.output)
        self.assertNotIn('Workflow n not found', logs.output)
        self.assertIn('Dropping a malformed task_complete cast', logs.output)
        self.assertIn('Dropping a malformed delete_instance cast', logs.output)
        after = self._counts()
        self.assertEqual(before['instances'] + 1, after['instances'])
        self.assertEqual(before['workflows'] + 1, after['workflows'])
        self.api.delete(self.context, uuid)
        self.wait_for(uuid, gone=True)
        self.assert_nothing_leaked(uuid)
        self.assert_audit_clean()

    def test_bad_reports_and_host_starts_are_answered_and_write_nothing(self):
        logs = self.useFixture(
            fixtures.FakeLogger(name='nova.conductor', level=logging.INFO)
        )
        before = self._counts()
        client = self._client().prepare(version='1.4')
        # A report is a call: its answer says the host may forget it.
        for kwargs in (
            {'workflow_id': None, 'task_name': 'spawn', 'token': 't'},
            {'workflow_id': ['x'], 'task_name': {'y': 1}, 'token': 5},
            {
                'workflow_id': 'no-such-workflow',
                'task_name': 'spawn',
                'token': 't',
            },
        ):
            self.assertEqual(
                'stale',
                client.call(self.context, 'report_completion', **kwargs),
            )
        for host in (None, ['host1'], 'no-such-host'):
            client.cast(self.context, 'compute_host_started', host=host)
        uuid = self.boot(name='after-garbage')['uuid']
        self.wait_for(uuid, 'active')
        self.assertIn(
            'Dropping a malformed report_completion call', logs.output
        )
        self.assertIn(
            'Dropping a malformed compute_host_started cast', logs.output
        )
        after = self._counts()
        self.assertEqual(before['instances'] + 1, after['instances'])
        self.assertEqual(before['workflows'] + 1, after['workflows'])
