"""A server's user_data, the caller's token and the admin password reach
where they must, and nothing else: no log line (at DEBUG, as a service
formats it), no row of any table (workflows.store and the steps' results
and failures included; user_data only in its own instances column), no
``nova-manage workflow show`` output. Instance faults and action events
are rows too, swept after a failed build. (The project emits no
notifications.)

user_data is the instance's, as in nova: the API keeps it in the
instance row, which the spawn step reads and sends to the host; no
workflow input carries it. The token authenticates one request: the
workflows it starts outlive it, so their rows keep the caller's context
without it.

Each secret is a marker that appears nowhere by chance, and each test
first checks that the secret reached its legitimate place, so that no
test passes for want of a secret.
"""

import base64
import io
import json
import logging
import threading

import fixtures
from oslo_log import formatters
import sqlalchemy as sa
import webob
import webob.dec
import webob.exc

from nova import context as nova_context
from nova import policy
from nova.api.openstack import common
from nova.api.openstack import wsgi_app
from nova.cmd import manage_workflow
import nova.conf
from nova.tests.functional import base
from nova.virt import fake

CONF = nova.conf.CONF
IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'

#: What cloud-init would read; the marker is what must never leak.
USER_DATA_MARKER = 'ud-SECRET-4f1c9e7a-never-logged'
USER_DATA_TEXT = '#cloud-config\nhostname: %s\n' % USER_DATA_MARKER
#: user_data as the API takes it and the instance row keeps it.
USER_DATA = base64.b64encode(USER_DATA_TEXT.encode()).decode()
TOKEN = 'tok-SECRET-8b2d51c3-never-logged'
ADMIN_PASS = 'pw-SECRET-0e6a93d2-never-logged'

#: Never anywhere but in the places each test checks first.
SECRETS = (USER_DATA, USER_DATA_MARKER, TOKEN, ADMIN_PASS)


class ServiceLogs(fixtures.Fixture):
    """Every log record at DEBUG while the fixture is up, formatted as a
    service writes it: oslo.log's context formatter, so the context's
    fields and tracebacks count too.

    SQLAlchemy's loggers stay at WARNING, as ``default_log_levels`` keeps
    them with ``debug = True``: below that they trace every row read, by
    design, which only ``[database] connection_debug`` asks for.
    """

    def _setUp(self):
        self.lines = []
        self._lock = threading.Lock()
        formatter = formatters.ContextFormatter(project='nova', config=CONF)
        handler = logging.Handler(level=logging.DEBUG)
        handler.setFormatter(formatter)
        handler.emit = self._emit
        self._format = handler.format
        for logger in [logging.getLogger('sqlalchemy'), logging.root] + [
            logger
            for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]:
            self.addCleanup(logger.setLevel, logger.level)
            self.addCleanup(setattr, logger, 'disabled', logger.disabled)
            logger.disabled = False
            if logger.name.split('.')[0] == 'sqlalchemy':
                logger.setLevel(logging.WARNING)
            else:
                logger.setLevel(logging.DEBUG)
        logging.root.addHandler(handler)
        self.addCleanup(logging.root.removeHandler, handler)

    def _emit(self, record):
        line = self._format(record)
        with self._lock:
            self.lines.append(line)


class DriverSpawns(fixtures.Fixture):
    """What the fake hypervisor was given, per spawn call: the instance
    and the admin password."""

    def _setUp(self):
        self.calls = []
        original = fake.FakeDriver.spawn

        def spawn(driver, instance, *args, admin_password=None, **kwargs):
            self.calls.append((dict(instance), admin_password))
            return original(
                driver,
                instance,
                *args,
                admin_password=admin_password,
                **kwargs,
            )

        self.useFixture(
            fixtures.MonkeyPatch('nova.virt.fake.FakeDriver.spawn', spawn)
        )


class SecretsTestCase(base.FunctionalTestCase):
    """Sweeps every place a secret must not reach."""

    def setUp(self):
        super().setUp()
        self.spawns = self.useFixture(DriverSpawns())
        self.logs = self.useFixture(ServiceLogs())

    def nova_manage_show(self, workflow_id, **options):
        """``nova-manage workflow show ID [--json]``: its output."""
        out = io.StringIO()
        with fixtures.MonkeyPatch('sys.stdout', out):
            code = manage_workflow.WorkflowCommands().show(
                workflow_id, **options
            )
        self.assertEqual(0, code)
        return out.getvalue()

    def rows_of_every_table(self):
        """``{table: [repr of a row]}``, instances without user_data."""
        rows = {}
        for table in sa.inspect(self.db.engine).get_table_names():
            rows[table] = [
                repr({k: v for k, v in row.items() if k != 'user_data'})
                if table == 'instances'
                else repr(row)
                for row in self.query('SELECT * FROM %s' % table)
            ]
        return rows

    def assert_nowhere(self, uuid, extra_secrets=()):
        """No secret in a log line, a row, nor workflow show output."""
        self.assertTrue(self.logs.lines)
        workflows = self.workflows_of(uuid)
        self.assertTrue(workflows)
        places = {
            'log': self.logs.lines,
            'workflow show': [
                self.nova_manage_show(w['id'], **options)
                for w in workflows
                for options in ({}, {'json': True})
            ],
            **self.rows_of_every_table(),
        }
        # The sweep itself sees what it must (so it is no empty check).
        self.assertIn('spawn', '\n'.join(places['workflow show']))
        self.assertTrue(places['workflows'])
        self.assertTrue(places['workflow_tasks'])
        leaks = [
            (where, secret, text)
            for where, texts in places.items()
            for text in texts
            for secret in SECRETS + tuple(extra_secrets)
            if secret in text
        ]
        self.assertEqual([], leaks)

    def assert_spawned_with_user_data(self, uuid, admin_password=None):
        """The legitimate places: the instance row and the hypervisor."""
        self.assertEqual(USER_DATA, self.instance_row(uuid)['user_data'])
        self.assertTrue(self.spawns.calls)
        for instance, password in self.spawns.calls:
            self.assertEqual(uuid, instance['uuid'])
            self.assertEqual(USER_DATA, instance['user_data'])
            self.assertEqual(admin_password, password)


class TestUserData(SecretsTestCase):
    """user_data through the compute API, with a token in the context;
    the spawn step waits for the host on an RPC call."""

    def configure(self):
        self.flags(group='conductor', spawn_mode='call')

    def setUp(self):
        super().setUp()
        self.context = nova_context.RequestContext(
            user_id='fake-user', project_id='fake-project', auth_token=TOKEN
        )

    def test_active_server(self):
        server = self.boot(user_data=USER_DATA)
        self.wait_for(server['uuid'], 'active')
        self.wait_for_workflows(server['uuid'])
        self.assert_spawned_with_user_data(server['uuid'])
        self.assert_nowhere(server['uuid'])

    def test_failed_build(self):
        self.flags(group='fake_driver', spawn_failure_hosts=['host1'])
        server = self.boot(user_data=USER_DATA)
        self.wait_for(server['uuid'], 'error')
        self.wait_for_workflows(server['uuid'])
        self.assert_spawned_with_user_data(server['uuid'])
        (fault,) = self.query(
            'SELECT message, details FROM instance_faults '
            'WHERE instance_uuid = :u',
            u=server['uuid'],
        )
        self.assertIn('fake spawn failure injected', fault['message'])
        self.assertIn('Traceback', fault['details'])
        self.assert_nowhere(server['uuid'])

    def test_deleted_server(self):
        server = self.boot(user_data=USER_DATA)
        self.wait_for(server['uuid'], 'active')
        self.assert_spawned_with_user_data(server['uuid'])
        self.api.delete(self.context, server['uuid'])
        self.wait_for(server['uuid'], gone=True)
        self.wait_for_workflows(server['uuid'])
        self.assertEqual(
            ['build_instance', 'delete_instance'],
            [w['name'] for w in self.workflows_of(server['uuid'])],
        )
        self.assert_nowhere(server['uuid'])


class TestUserDataReportMode(TestUserData):
    """The spawn step casts to the host, which reports back its outcome
    (a result or a failure) in a cast to the conductors."""

    def configure(self):
        self.flags(group='conductor', spawn_mode='report')


class TrustedToken:
    """Stands for keystonemiddleware's auth_token in the keystone
    pipeline: it takes TOKEN as valid and sets the identity headers that
    auth_token sets for a valid token (an admin of project alpha)."""

    def __init__(self, application):
        self.application = application

    @classmethod
    def factory(cls, global_config, **local_config):
        """paste.filter_factory, as keystonemiddleware's."""
        return cls

    @webob.dec.wsgify
    def __call__(self, req):
        if req.headers.get('X-Auth-Token') != TOKEN:
            return webob.exc.HTTPUnauthorized()
        req.headers['X-Identity-Status'] = 'Confirmed'
        req.headers['X-User-Id'] = 'alice'
        req.headers['X-Project-Id'] = 'alpha'
        req.headers['X-Roles'] = 'member,reader,admin'
        return self.application


class TestThroughTheRestApi(SecretsTestCase):
    """Requests through the keystone pipeline: X-Auth-Token in the
    headers, user_data (base64) and adminPass in the body."""

    def setUp(self):
        super().setUp()
        CONF([], project='nova', default_config_files=[])
        self.flags(group='api', auth_strategy='keystone')
        policy.reset()
        self.addCleanup(policy.reset)
        common.set_compute_api(self.api)
        self.addCleanup(common.set_compute_api, None)
        self.useFixture(
            fixtures.MonkeyPatch(
                'keystonemiddleware.auth_token.filter_factory',
                TrustedToken.factory,
            )
        )
        self.app = wsgi_app.load_app()
        # The token does enter nova: the compute API's context has it.
        self.tokens = []
        create = self.api.create

        def recording_create(context, **kwargs):
            self.tokens.append(context.auth_token)
            return create(context, **kwargs)

        self.api.create = recording_create

    def call(self, method, path, body=None, version='2.3'):
        req = webob.Request.blank('/v2.1' + path, method=method)
        req.headers['X-Auth-Token'] = TOKEN
        req.headers['OpenStack-API-Version'] = 'compute %s' % version
        if body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = 'application/json'
        return req.get_response(self.app)

    def create(self, **server):
        server = dict(
            {'name': 'secretive', 'imageRef': IMAGE, 'flavorRef': '1'},
            **server,
        )
        return self.call('POST', '/servers', {'server': server})

    def test_create_show_delete(self):
        response = self.create(user_data=USER_DATA, adminPass=ADMIN_PASS)
        self.assertEqual(202, response.status_int, response.body)
        self.assertEqual(ADMIN_PASS, response.json['server']['adminPass'])
        uuid = response.json['server']['id']
        self.assertEqual([TOKEN], self.tokens)
        self.wait_for(uuid, 'active')
        self.assert_spawned_with_user_data(uuid, admin_password=ADMIN_PASS)
        response = self.call('GET', '/servers/%s' % uuid)
        self.assertEqual(200, response.status_int, response.body)
        self.assertEqual(
            USER_DATA, response.json['server']['OS-EXT-SRV-ATTR:user_data']
        )
        response = self.call('DELETE', '/servers/%s' % uuid)
        self.assertEqual(204, response.status_int, response.body)
        self.wait_for(uuid, gone=True)
        self.wait_for_workflows(uuid)
        self.assert_nowhere(uuid)

    def test_generated_admin_password(self):
        response = self.create(user_data=USER_DATA)
        self.assertEqual(202, response.status_int, response.body)
        generated = response.json['server']['adminPass']
        uuid = response.json['server']['id']
        self.wait_for(uuid, 'active')
        self.wait_for_workflows(uuid)
        self.assert_spawned_with_user_data(uuid, admin_password=generated)
        self.assert_nowhere(uuid, extra_secrets=[generated])

    def test_database_error_on_create(self):
        """The insert of the instance fails (a full disk, a deadlock past
        the retries, ...): the error is logged, without the values of
        the statement's parameters, which hold user_data."""
        with self.db.engine.begin() as conn:
            conn.exec_driver_sql(
                'CREATE TRIGGER fail_instance_inserts BEFORE INSERT ON '
                "instances BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        response = self.create(user_data=USER_DATA, adminPass=ADMIN_PASS)
        self.assertEqual(500, response.status_int, response.body)
        self.assertEqual([TOKEN], self.tokens)
        self.assertTrue(
            [
                line
                for line in self.logs.lines
                if ' ERROR ' in line and 'INSERT INTO instances' in line
            ]
        )
        self.assertEqual(
            [],
            [
                line
                for line in self.logs.lines + [response.text]
                for secret in SECRETS
                if secret in line
            ],
        )

    def test_refused_user_data(self):
        """A refused create echoes the user's own data to the user (as
        nova's 400 does) and logs none of it."""
        not_base64 = USER_DATA_MARKER + '!'
        # One character over the schema's maxLength of 65535.
        too_long = base64.b64encode(USER_DATA_TEXT.encode() * 1400).decode()
        too_long = too_long[:65536]
        for user_data in (not_base64, too_long):
            response = self.create(user_data=user_data, adminPass=ADMIN_PASS)
            self.assertEqual(400, response.status_int, response.body)
            self.assertIn('user_data', response.json['badRequest']['message'])
        self.assertEqual([], self.tokens)
        self.assertTrue(self.logs.lines)
        self.assertEqual(
            [],
            [
                line
                for line in self.logs.lines
                for secret in (*SECRETS, not_base64, too_long)
                if secret in line
            ],
        )
