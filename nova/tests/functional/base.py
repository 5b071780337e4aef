"""Base of functional tests: the whole nova stack in one process.

Each test gets a migrated SQLite database, its own state_path, the
in-process transport and fresh services (conductor, scheduler, fake
computes), with short intervals so that periodics act within a test.
"""

import json
import os
import time

import sqlalchemy as sa
import webob

from nova import context as nova_context
from nova import embedded
from nova import policy
from nova import rpc
from nova import test
from nova.api.openstack import common
from nova.api.openstack import wsgi_app
from nova.compute import api as compute_api
import nova.conf
from nova.tests import fixtures as nova_fixtures

CONF = nova.conf.CONF

#: Seconds a test waits for a state before failing.
WAIT_TIMEOUT = 30


class FunctionalTestCase(test.TestCase):
    """Start the stack; ``self.api`` is a nova.compute.api.API."""

    compute_hosts = ('host1',)
    conductors = 1
    #: Resources of each fake compute node.
    node_vcpus = 8
    node_memory_mb = 16384
    node_local_gb = 200

    def setUp(self):
        super().setUp()
        self.flags(
            transport_url=rpc.IN_PROCESS_URL,
            report_interval=1,
            cpu_allocation_ratio=1.0,
            ram_allocation_ratio=1.0,
            disk_allocation_ratio=1.0,
        )
        self.flags(
            group='orchestration',
            lease_seconds=10,
            heartbeat_interval=1,
            sweep_interval=1,
            sweep_grace_seconds=5,
        )
        self.flags(
            group='fake_driver',
            vcpus=self.node_vcpus,
            memory_mb=self.node_memory_mb,
            local_gb=self.node_local_gb,
        )
        self.flags(group='all', compute_hosts=list(self.compute_hosts))
        self.configure()
        self.db = self.useFixture(nova_fixtures.Database())
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.stack = embedded.EmbeddedNova(conductors=self.conductors).start()
        self.addCleanup(self.stack.stop)
        self.api = compute_api.API()
        self.context = nova_context.RequestContext(
            user_id='fake-user', project_id='fake-project'
        )
        self.admin = nova_context.get_admin_context()

    def configure(self):
        """Override to set more options before the services start."""

    # -- helpers -----------------------------------------------------------
    def boot(self, name='server', **kwargs):
        kwargs.setdefault('flavor_id', '1')
        kwargs.setdefault('image_ref', '70a599e0-31e7-49b7-b260-868f441e862b')
        instances, _ = self.api.create(self.context, name=name, **kwargs)
        return instances if kwargs.get('max_count', 1) > 1 else instances[0]

    def wait_for(self, uuid, vm_state=None, gone=False, timeout=WAIT_TIMEOUT):
        """Wait until the instance reaches ``vm_state`` with no task, or
        is deleted (``gone``: and its workflows have ended, since the
        delete's last step deletes it a commit before the workflow's
        end); return its last row."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.instance_row(uuid)
            if gone and row['deleted']:
                self.wait_for_workflows(
                    uuid, timeout=max(deadline - time.monotonic(), 1)
                )
                return row
            if (
                not gone
                and row['vm_state'] == vm_state
                and row['task_state'] is None
            ):
                return row
            if time.monotonic() > deadline:
                self.fail(
                    'instance %s is %s/%s after %ss, wanted %s; '
                    'faults: %s'
                    % (
                        uuid,
                        row['vm_state'],
                        row['task_state'],
                        timeout,
                        'deleted' if gone else vm_state,
                        self.faults(uuid),
                    )
                )
            time.sleep(0.05)

    def wait_for_workflows(self, uuid, timeout=WAIT_TIMEOUT):
        """Wait until every workflow of the instance has finished."""
        deadline = time.monotonic() + timeout
        while any(
            w['state'] not in ('SUCCESS', 'REVERTED', 'FAILED')
            for w in self.workflows_of(uuid)
        ):
            if time.monotonic() > deadline:
                self.fail(
                    'workflows of %s unfinished: %s'
                    % (uuid, self.workflows_of(uuid))
                )
            time.sleep(0.05)

    def query(self, sql, **params):
        with self.db.engine.connect() as conn:
            return [
                dict(row._mapping)
                for row in conn.execute(sa.text(sql), params)
            ]

    def instance_row(self, uuid):
        return self.query('SELECT * FROM instances WHERE uuid = :u', u=uuid)[0]

    def instance_dir(self, uuid):
        return os.path.join(self.state_path, 'instances', uuid)

    def boots_of(self, uuid):
        """How many times the fake hypervisor booted the instance."""
        path = os.path.join(self.instance_dir(uuid), 'console.log')
        if not os.path.exists(path):
            return 0
        with open(path) as f:
            return len(f.read().splitlines())

    def assert_nothing_leaked(self, uuid):
        """No claim, IP, BDM or instance directory left for ``uuid``."""
        self.assertEqual(
            [],
            self.query(
                'SELECT id FROM resource_claims WHERE instance_uuid = :u',
                u=uuid,
            ),
        )
        self.assertEqual(
            [],
            self.query(
                'SELECT address FROM fixed_ips WHERE instance_uuid = :u',
                u=uuid,
            ),
        )
        self.assertEqual(
            [],
            self.query(
                'SELECT id FROM block_device_mappings WHERE instance_uuid = :u'
                ' AND deleted = 0',
                u=uuid,
            ),
        )
        self.assertFalse(
            os.path.exists(self.instance_dir(uuid)),
            'instance directory of %s left behind' % uuid,
        )

    def assert_usage_matches_claims(self):
        """Each node's *_used columns equal the sum of its claims."""
        for node in self.query('SELECT * FROM compute_nodes'):
            claims = self.query(
                'SELECT COALESCE(SUM(vcpus), 0) AS v, '
                'COALESCE(SUM(memory_mb), 0) AS m, '
                'COALESCE(SUM(disk_gb), 0) AS d FROM resource_claims '
                'WHERE compute_node_id = :n',
                n=node['id'],
            )[0]
            self.assertEqual(
                (claims['v'], claims['m'], claims['d']),
                (
                    node['vcpus_used'],
                    node['memory_mb_used'],
                    node['local_gb_used'],
                ),
                'usage of %s' % node['host'],
            )

    def assert_audit_clean(self):
        """nova-manage workflow audit would find nothing."""
        from nova.conductor import audit

        self.assertEqual([], [str(f) for f in audit.audit(self.admin)])

    def finished_action_events(self, uuid, action='create', count=None):
        """The action's events once all are finished (and ``count`` of
        them exist): the last one is written just after the instance
        changes state, as in nova.
        """
        deadline = time.monotonic() + WAIT_TIMEOUT
        while True:
            events = self.action_events(uuid, action)
            if all(e['result'] for e in events) and (
                count is None or len(events) >= count
            ):
                return events
            if time.monotonic() > deadline:
                self.fail('events of %s not finished: %s' % (uuid, events))
            time.sleep(0.02)

    def action_events(self, uuid, action='create'):
        return self.query(
            'SELECT e.event, e.result, e.traceback FROM '
            'instance_actions_events e JOIN instance_actions a ON '
            'a.id = e.action_id WHERE a.instance_uuid = :u AND '
            'a.action = :a ORDER BY e.id',
            u=uuid,
            a=action,
        )

    def faults(self, uuid):
        return self.query(
            'SELECT code, message FROM instance_faults WHERE '
            'instance_uuid = :u ORDER BY id',
            u=uuid,
        )

    def workflows_of(self, uuid):
        return self.query(
            'SELECT id, name, state FROM workflows WHERE '
            'target_id = :u ORDER BY created_at',
            u=uuid,
        )


class RestApiTestCase(FunctionalTestCase):
    """The stack behind the REST API (noauth2): :meth:`call` sends a
    request as ``user:project`` and returns the webob response."""

    api_version = '2.51'

    def setUp(self):
        super().setUp()
        CONF([], project='nova', default_config_files=[])
        self.flags(group='api', auth_strategy='noauth2')
        policy.reset()
        self.addCleanup(policy.reset)
        common.set_compute_api(self.api)
        self.addCleanup(common.set_compute_api, None)
        self.app = wsgi_app.load_app()

    def call(self, method, path, body=None, user='alice', project='alpha'):
        req = webob.Request.blank('/v2.1' + path, method=method)
        req.headers['X-Auth-Token'] = '%s:%s' % (user, project)
        req.headers['OpenStack-API-Version'] = 'compute %s' % self.api_version
        if body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = 'application/json'
        return req.get_response(self.app)
