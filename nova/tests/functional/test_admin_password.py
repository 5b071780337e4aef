"""The admin password of a create reaches the hypervisor, and nothing
else: no workflow row, no step row, no log line.

It is a secret input of the build: the compute API's cast carries it to
the conductor that claims the build, whose engine keeps it in memory. A
conductor that resumes the build elsewhere never had it, and the server
boots without it (as when no password is requested).
"""

import logging
import threading

import fixtures

from nova.conductor.workflows import build_instance
from nova.tests.functional import base
from nova.virt import fake

PASSWORD = 'pw-4vJ9rQ-never-written'


class CapturedLogs(fixtures.Fixture):
    """Every log record of every logger, at DEBUG, formatted with its
    arguments and traceback, while the fixture is up."""

    def _setUp(self):
        self.lines = []
        self._lock = threading.Lock()
        handler = logging.Handler(level=logging.DEBUG)
        formatter = logging.Formatter('%(name)s %(levelname)s %(message)s')
        handler.emit = self._emit
        handler.setFormatter(formatter)
        # Before the handler is attached: another thread may log at once.
        self._handler = handler
        root = logging.getLogger()
        root.addHandler(handler)
        self.addCleanup(root.removeHandler, handler)
        loggers = [root] + [
            logger
            for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]
        for logger in loggers:
            self.addCleanup(logger.setLevel, logger.level)
            self.addCleanup(setattr, logger, 'disabled', logger.disabled)
            logger.setLevel(logging.DEBUG)
            logger.disabled = False

    def _emit(self, record):
        line = self._handler.format(record)
        with self._lock:
            self.lines.append(line)


class DriverPasswords(fixtures.Fixture):
    """What the fake hypervisor was asked to inject, per spawn call."""

    def _setUp(self):
        self.calls = []
        original = fake.FakeDriver.spawn

        def spawn(driver, instance, *args, admin_password=None, **kwargs):
            self.calls.append((instance['uuid'], admin_password))
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


class AdminPasswordTestCase(base.FunctionalTestCase):
    def setUp(self):
        super().setUp()
        self.passwords = self.useFixture(DriverPasswords())

    def assert_password_nowhere(self, logs=None):
        for table in ('workflows', 'workflow_tasks'):
            for row in self.query('SELECT * FROM %s' % table):
                self.assertNotIn(PASSWORD, repr(row), table)
        if logs is not None:
            self.assertTrue(logs.lines)
            self.assertEqual(
                [], [line for line in logs.lines if PASSWORD in line]
            )


class TestFirstRun(AdminPasswordTestCase):
    def test_the_hypervisor_gets_it_and_nothing_else_does(self):
        logs = self.useFixture(CapturedLogs())
        server = self.boot(admin_password=PASSWORD)
        self.wait_for(server['uuid'], 'active')
        self.wait_for_workflows(server['uuid'])
        self.assertEqual([(server['uuid'], PASSWORD)], self.passwords.calls)
        self.assert_password_nowhere(logs)

    def test_every_server_of_a_request_gets_it(self):
        servers = self.boot(admin_password=PASSWORD, min_count=2, max_count=2)
        for server in servers:
            self.wait_for(server['uuid'], 'active')
        self.assertEqual(
            sorted((server['uuid'], PASSWORD) for server in servers),
            sorted(self.passwords.calls),
        )

    def test_no_password_requested(self):
        server = self.boot()
        self.wait_for(server['uuid'], 'active')
        self.assertEqual([(server['uuid'], None)], self.passwords.calls)


class TestFirstRunCallMode(TestFirstRun):
    """The spawn step waits for the host on an RPC call."""

    def configure(self):
        self.flags(group='conductor', spawn_mode='call')


class TestResumeElsewhere(AdminPasswordTestCase):
    """The conductor that claimed the build stops before the spawn; the
    other one adopts the build and spawns it without the password."""

    conductors = 2

    def setUp(self):
        super().setUp()
        self.entered = threading.Event()
        self.go = threading.Event()
        original = build_instance.AllocateNetwork.execute

        def execute(task, *args, **kwargs):
            self.entered.set()
            self.assertTrue(self.go.wait(base.WAIT_TIMEOUT))
            return original(task, *args, **kwargs)

        self.useFixture(
            fixtures.MonkeyPatch(
                'nova.conductor.workflows.build_instance.'
                'AllocateNetwork.execute',
                execute,
            )
        )

    def test_the_server_boots_without_it(self):
        logs = self.useFixture(CapturedLogs())
        server = self.boot(admin_password=PASSWORD)
        self.assertTrue(self.entered.wait(base.WAIT_TIMEOUT))
        (first,) = [c for c in self.stack.conductors if c.runner.active()]
        # A graceful stop: the running step ends, then the build is
        # handed back and the other conductor's sweeper adopts it.
        first.runner.stop(wait=False)
        self.go.set()
        self.wait_for(server['uuid'], 'active')
        self.wait_for_workflows(server['uuid'])
        self.assertEqual([(server['uuid'], None)], self.passwords.calls)
        self.assert_password_nowhere(logs)
