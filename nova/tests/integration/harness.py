"""Run nova's services as separate processes on RabbitMQ and a real DB.

The integration tests and the conductor benchmarks start nova-conductor,
nova-scheduler and nova-compute exactly as an operator would (the
console scripts with ``--config-file``), on a fresh MariaDB or PostgreSQL
database and a private RabbitMQ virtual host, then kill, pause and
resume them with signals.

Isolation, so that tests may run in parallel with each other and with
the rest of the suite: every :class:`Deployment` has its own database
(:class:`nova.tests.db_fixture.OpportunisticDB`), its own RabbitMQ
virtual host (queue names such as ``conductor`` and ``scheduler`` are
per vhost, which a control_exchange alone would not separate), its own
``state_path`` and host names carrying a per-deployment suffix.

Every wait is bounded; every process is started in its own process
group and killed (SIGCONT then SIGKILL on the group) at cleanup, even
when the test fails or is interrupted.

``NOVA_IT_KEEP_LOGS=DIR`` copies every service log to ``DIR/<tag>/``
when the deployment is cleaned up, and ``NOVA_IT_DEBUG=1`` makes the
services log at debug level (diagnosing a failed run).

When RabbitMQ is not reachable on 127.0.0.1:5672, or ``rabbitmqctl`` is
missing (it makes the virtual hosts), the tests skip with the reason,
unless ``NOVA_TEST_REQUIRE_RABBIT=1`` (set by CI) makes that a failure.
Missing database servers follow :mod:`nova.tests.db_fixture`
(``NOVA_TEST_REQUIRE_DBS``).
"""

import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import fixtures
import sqlalchemy as sa
import testtools

from nova.tests import db_fixture

RABBIT_HOST = os.environ.get('NOVA_TEST_RABBIT_HOST', '127.0.0.1')
RABBIT_PORT = int(os.environ.get('NOVA_TEST_RABBIT_PORT', '5672'))
RABBIT_USER = os.environ.get('NOVA_TEST_RABBIT_USER', 'guest')
RABBIT_PASSWORD = os.environ.get('NOVA_TEST_RABBIT_PASSWORD', 'guest')

#: Console scripts live beside the interpreter running the tests.
BIN_DIR = os.path.dirname(os.path.abspath(sys.executable))

#: Seconds a service gets to show up in the services table.
SERVICE_START_TIMEOUT = 30

#: Start nova-computes one after the other instead of all at once. Two
#: first capacity reports at once used to deadlock on MariaDB (InnoDB gap
#: locks on the compute_nodes unique key) and kill nova-compute at
#: startup; nova.db.compute_nodes.update_capacity now retries on
#: deadlock, so the tests start computes at once, which exercises that.
STAGGER_COMPUTES = False

#: Shared/exclusive lock between integration tests: a test that
#: restarts the whole broker takes it exclusively, every other
#: integration test shares it, so a broker restart never lands in the
#: middle of another test.
BROKER_LOCK_PATH = os.path.join(
    tempfile.gettempdir(), 'nova-integration-broker.lock'
)

# Lines a conductor logs when a fenced write found its workflow adopted.
OWNERSHIP_LOST_RE = re.compile(
    r'OwnershipLost|ownership lost|adopted by another conductor'
)


_TRACE = os.environ.get('NOVA_IT_TRACE', '') not in ('', '0')
_DEBUG = os.environ.get('NOVA_IT_DEBUG', '') not in ('', '0')
_T0 = time.monotonic()


def trace(message, *args):
    """With NOVA_IT_TRACE=1, a timestamped line on the real stderr
    (debugging slow or stuck runs; the test runner captures the rest)."""
    if _TRACE:
        sys.__stderr__.write(
            '[it %7.2f] %s\n' % (time.monotonic() - _T0, message % args)
        )
        sys.__stderr__.flush()


def rabbit_required():
    """True when a missing RabbitMQ must fail the run (CI)."""
    return os.environ.get('NOVA_TEST_REQUIRE_RABBIT', '') not in ('', '0')


def skip_or_fail(reason, required):
    """Skip the current test, or fail it when the service is required."""
    if required:
        raise AssertionError(
            reason + ' (required by the environment, so this fails)'
        )
    raise testtools.TestCase.skipException(reason)


def rabbit_reachable(timeout=2.0):
    """Whether something accepts TCP connections on the broker port."""
    try:
        with socket.create_connection(
            (RABBIT_HOST, RABBIT_PORT), timeout=timeout
        ):
            return True
    except OSError:
        return False


def rabbitmqctl_path():
    return shutil.which('rabbitmqctl') or next(
        (
            p
            for p in (
                '/usr/sbin/rabbitmqctl',
                '/usr/lib/rabbitmq/bin/rabbitmqctl',
            )
            if os.path.exists(p)
        ),
        None,
    )


def rabbitmqctl(*args, timeout=60, check=True):
    """Run ``rabbitmqctl ARGS``; return the completed process."""
    ctl = rabbitmqctl_path()
    if ctl is None:
        raise FileNotFoundError('rabbitmqctl not found')
    result = subprocess.run(
        [ctl, *args], capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            'rabbitmqctl %s failed (%d): %s'
            % (
                ' '.join(args),
                result.returncode,
                (result.stderr or result.stdout).strip()[-500:],
            )
        )
    return result


def wait_until(predicate, timeout, interval=0.2, message=None):
    """Poll ``predicate`` until it returns a true value; return it.

    :raises AssertionError: after ``timeout`` seconds, with ``message``
        (a string or a callable giving one, for a diagnosis).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(
                'timed out after %.1f s waiting: %s'
                % (timeout, text or predicate)
            )
        time.sleep(interval)


class BrokerLock:
    """Shared (every integration test) or exclusive (broker restart).

    Writer-preferring: an exclusive waiter first takes the *intent*
    lock, which new shared holders must pass through, so a stream of
    tests on the other stestr worker cannot starve the restart test.
    """

    def __init__(self, exclusive=False, timeout=300):
        self.exclusive = exclusive
        self.timeout = timeout
        self._files = []

    @staticmethod
    def _flock(f, mode, deadline):
        while True:
            try:
                fcntl.flock(f, mode | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.1)

    def acquire(self):
        deadline = time.monotonic() + self.timeout
        intent = open(BROKER_LOCK_PATH + '.intent', 'a+')
        main = open(BROKER_LOCK_PATH, 'a+')
        self._files = [main, intent]
        if self.exclusive:
            ok = self._flock(intent, fcntl.LOCK_EX, deadline) and self._flock(
                main, fcntl.LOCK_EX, deadline
            )
        else:
            ok = self._flock(intent, fcntl.LOCK_SH, deadline)
            if ok:
                ok = self._flock(main, fcntl.LOCK_SH, deadline)
                fcntl.flock(intent, fcntl.LOCK_UN)
        if not ok:
            self.release()
        return ok

    def release(self):
        for f in self._files:
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
        self._files = []


class RabbitVhost(fixtures.Fixture):
    """A private RabbitMQ virtual host; ``.url`` is its transport_url."""

    def _setUp(self):
        if not rabbit_reachable():
            skip_or_fail(
                'RabbitMQ not reachable at %s:%d' % (RABBIT_HOST, RABBIT_PORT),
                rabbit_required(),
            )
        if rabbitmqctl_path() is None:
            skip_or_fail(
                'rabbitmqctl not found: it is needed to make a '
                'private virtual host per test',
                rabbit_required(),
            )
        self.name = 'nova_it_%s' % uuid.uuid4().hex[:12]
        try:
            rabbitmqctl('add_vhost', self.name)
            self.addCleanup(self._delete)
            rabbitmqctl(
                'set_permissions',
                '-p',
                self.name,
                RABBIT_USER,
                '.*',
                '.*',
                '.*',
            )
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            skip_or_fail(
                'cannot make a RabbitMQ virtual host: %s' % exc,
                rabbit_required(),
            )
        self.url = 'rabbit://%s:%s@%s:%d/%s' % (
            RABBIT_USER,
            RABBIT_PASSWORD,
            RABBIT_HOST,
            RABBIT_PORT,
            self.name,
        )

    def _delete(self):
        try:
            rabbitmqctl('delete_vhost', self.name, check=False)
        except (subprocess.TimeoutExpired, OSError):
            pass


class ServiceProcess:
    """One nova service process, in its own process group."""

    def __init__(self, binary, host, argv, log_path, env):
        self.binary = binary
        self.host = host
        self.log_path = log_path
        self._log = open(log_path, 'ab')
        self.popen = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        self.pid = self.popen.pid
        self.stopped = False

    def __repr__(self):
        return '<%s %s pid %d>' % (self.binary, self.host, self.pid)

    @property
    def alive(self):
        return self.popen.poll() is None

    def signal(self, signum):
        """Send ``signum`` to the service (its whole process group)."""
        if not self.alive:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)
        if signum == signal.SIGSTOP:
            self.stopped = True
        elif signum == signal.SIGCONT:
            self.stopped = False

    def kill(self):
        """SIGKILL: a crash, with no chance to hand anything back."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        self.wait(10)

    def pause(self):
        self.signal(signal.SIGSTOP)

    def resume(self):
        self.signal(signal.SIGCONT)

    def terminate(self, timeout=30):
        """SIGTERM and wait for a graceful exit; return the exit code."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def cleanup(self):
        """Kill the process group whatever its state; close the log."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGCONT)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)
        # Children that left the group are not ours to chase; a forked
        # conductor worker stays in its parent's group.
        self._log.close()

    def cpu_seconds(self):
        """User + system CPU seconds the process used so far."""
        try:
            with open('/proc/%d/stat' % self.pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except (FileNotFoundError, IndexError):
            return None
        ticks = os.sysconf('SC_CLK_TCK')
        return (int(fields[11]) + int(fields[12])) / ticks

    def log_text(self):
        try:
            with open(self.log_path, errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def log_tail(self, lines=40):
        return '\n'.join(self.log_text().splitlines()[-lines:])


class Deployment(fixtures.Fixture):
    """Config, database and broker for a set of service processes.

    ``backend`` is 'mysql' or 'postgresql'. ``orchestration`` and
    ``fake_driver`` override options of those groups; ``extra`` is
    ``{group: {option: value}}`` for anything else.
    """

    ORCHESTRATION = {
        'lease_seconds': 6,
        'heartbeat_interval': 2,
        'sweep_interval': 1,
        'sweep_grace_seconds': 3,
    }

    def __init__(
        self,
        backend,
        orchestration=None,
        spawn_delay=0.0,
        extra=None,
        broker_lock=True,
    ):
        super().__init__()
        self.backend = backend
        self.orchestration = dict(self.ORCHESTRATION, **(orchestration or {}))
        self.spawn_delay = spawn_delay
        self.extra = extra or {}
        self.broker_lock = broker_lock
        self.processes = []

    def _setUp(self):
        self.tag = uuid.uuid4().hex[:6]
        self.workdir = self.useFixture(fixtures.TempDir()).path
        self.state_path = os.path.join(self.workdir, 'state')
        os.makedirs(os.path.join(self.state_path, 'instances'))
        if self.broker_lock:
            lock = BrokerLock(exclusive=False)
            if not lock.acquire():
                raise AssertionError(
                    'broker lock not acquired in %ds' % lock.timeout
                )
            self.addCleanup(lock.release)
        trace('deployment %s: creating %s database', self.tag, self.backend)
        self.db_url = self.useFixture(
            db_fixture.OpportunisticDB(self.backend)
        ).url
        self.transport_url = self.useFixture(RabbitVhost()).url
        self.config_file = os.path.join(self.workdir, 'nova.conf')
        self._write_config()
        self.engine = sa.create_engine(self.db_url, poolclass=sa.pool.NullPool)
        self.addCleanup(self.engine.dispose)
        self.addCleanup(self._stop_all)
        self.manage('db', 'sync', timeout=120)
        trace(
            'deployment %s: db synced, vhost %s',
            self.tag,
            self.transport_url.rsplit('/', 1)[-1],
        )

    # -- configuration ---------------------------------------------------
    def options(self):
        """Every option written to the config file, by group."""
        groups = {
            'DEFAULT': {
                'transport_url': self.transport_url,
                'state_path': self.state_path,
                'report_interval': 1,
                'service_down_time': 15,
                # A reply lost in a broker restart fails the call after
                # this long instead of the default minute.
                'rpc_response_timeout': 20,
                'debug': _DEBUG,
            },
            'database': {'connection': self.db_url},
            'orchestration': self.orchestration,
            'fake_driver': {'spawn_delay': self.spawn_delay},
            'compute': {'resource_report_interval': 5},
        }
        for group, values in self.extra.items():
            groups.setdefault(group, {}).update(values)
        return groups

    def _write_config(self):
        with open(self.config_file, 'w') as f:
            for group, values in self.options().items():
                f.write('[%s]\n' % group)
                for name, value in values.items():
                    if isinstance(value, (list, tuple)):
                        value = ','.join(str(v) for v in value)
                    f.write('%s = %s\n' % (name, value))
                f.write('\n')

    def host_name(self, name):
        """A host name unique to this deployment."""
        return '%s-%s' % (name, self.tag)

    def _env(self):
        env = dict(os.environ)
        env.pop('OS_TEST_TIMEOUT', None)
        env['PYTHONUNBUFFERED'] = '1'
        return env

    # -- processes -------------------------------------------------------
    def manage(self, *args, timeout=60, check=True):
        """Run ``nova-manage --config-file X ARGS``; return the result."""
        argv = [
            os.path.join(BIN_DIR, 'nova-manage'),
            '--config-file',
            self.config_file,
            *args,
        ]
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self._env(),
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                'nova-manage %s exited %d:\n%s%s'
                % (
                    ' '.join(args),
                    result.returncode,
                    result.stdout,
                    result.stderr,
                )
            )
        return result

    def start(self, binary, name, options=None):
        """Start ``nova-<binary>`` as host ``name`` (suffixed); return it.

        ``options`` ({group: {option: value}}) go into a per-process
        config file after the shared one.
        """
        host = self.host_name(name)
        own = os.path.join(self.workdir, '%s.conf' % host)
        groups = {'DEFAULT': {'host': host}}
        for group, values in (options or {}).items():
            groups.setdefault(group, {}).update(values)
        with open(own, 'w') as f:
            for group, values in groups.items():
                f.write('[%s]\n' % group)
                for key, value in values.items():
                    f.write('%s = %s\n' % (key, value))
        argv = [
            os.path.join(BIN_DIR, 'nova-%s' % binary),
            '--config-file',
            self.config_file,
            '--config-file',
            own,
        ]
        proc = ServiceProcess(
            'nova-%s' % binary,
            host,
            argv,
            os.path.join(self.workdir, '%s.log' % host),
            self._env(),
        )
        self.processes.append(proc)
        return proc

    def start_services(
        self,
        conductors=3,
        schedulers=1,
        computes=2,
        timeout=SERVICE_START_TIMEOUT,
    ):
        """Start a deployment and wait for every service to be up."""
        procs = {
            'conductor': [
                self.start('conductor', 'cond%d' % i)
                for i in range(1, conductors + 1)
            ],
            'scheduler': [
                self.start('scheduler', 'sched%d' % i)
                for i in range(1, schedulers + 1)
            ],
            'compute': [],
        }
        for i in range(1, computes + 1):
            proc = self.start('compute', 'cpu%d' % i)
            procs['compute'].append(proc)
            if STAGGER_COMPUTES and i < computes:
                self.wait_compute_node(proc, timeout)
        self.wait_up(
            [p for group in procs.values() for p in group], timeout=timeout
        )
        return procs

    def wait_compute_node(self, proc, timeout=SERVICE_START_TIMEOUT):
        """Wait until ``proc`` (a nova-compute) created its compute node."""

        def check():
            if not proc.alive:
                raise AssertionError(
                    '%r exited with %s:\n%s'
                    % (proc, proc.popen.returncode, proc.log_tail())
                )
            return self.query(
                'SELECT id FROM compute_nodes WHERE host = '
                ':host AND deleted = 0',
                host=proc.host,
            )

        wait_until(
            check,
            timeout,
            interval=0.1,
            message=lambda: (
                'compute node of %r:\n%s' % (proc, proc.log_tail(10))
            ),
        )

    def wait_up(self, procs, timeout=SERVICE_START_TIMEOUT):
        """Wait until each process has reported alive at least once.

        A service registers, starts its RPC server, then reports every
        report_interval: report_count > 0 means it consumes its queues.
        """

        def check():
            for proc in procs:
                if not proc.alive:
                    raise AssertionError(
                        '%r exited with %s:\n%s'
                        % (proc, proc.popen.returncode, proc.log_tail())
                    )
            rows = self.query(
                'SELECT host, "binary", report_count FROM services '
                'WHERE deleted = 0'
            )
            counts = {(r.host, r.binary): r.report_count for r in rows}
            return all(counts.get((p.host, p.binary), 0) > 0 for p in procs)

        wait_until(
            check,
            timeout,
            interval=0.3,
            message=lambda: '\n'.join(
                '%r:\n%s' % (p, p.log_tail(10)) for p in procs
            ),
        )
        trace(
            'deployment %s: up: %s', self.tag, ', '.join(p.host for p in procs)
        )

    def _stop_all(self):
        for proc in self.processes:
            proc.cleanup()
        keep = os.environ.get('NOVA_IT_KEEP_LOGS')
        if keep:
            # The workdir goes with the test: copy the logs out first.
            target = os.path.join(keep, self.tag)
            os.makedirs(target, exist_ok=True)
            for proc in self.processes:
                with contextlib.suppress(OSError):
                    shutil.copy(proc.log_path, target)
            trace('deployment %s: logs kept in %s', self.tag, target)
        trace('deployment %s: processes cleaned up', self.tag)

    # -- observation -----------------------------------------------------
    def query(self, sql, **params):
        """Rows of ``sql`` on the deployment's database."""
        if self.engine.dialect.name == 'mysql':
            sql = sql.replace('"binary"', '`binary`')
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).fetchall()

    def instance_states(self, uuids):
        rows = self.query(
            'SELECT uuid, vm_state, task_state, host FROM instances'
        )
        wanted = set(uuids)
        return {r.uuid: r for r in rows if r.uuid in wanted}

    def boots(self, uuid):
        """Lines in the fake hypervisor's console.log of ``uuid``."""
        path = os.path.join(self.state_path, 'instances', uuid, 'console.log')
        try:
            with open(path) as f:
                return len(f.read().splitlines())
        except FileNotFoundError:
            return 0

    def instance_owner(self, uuid):
        """The host whose fake hypervisor holds ``uuid``'s guest (its
        instance directory), or None."""
        path = os.path.join(self.state_path, 'instances', uuid, 'host')
        try:
            with open(path) as f:
                return f.read().strip() or None
        except FileNotFoundError:
            return None

    def owned_by(self, host):
        """Unfinished workflows currently owned by conductor ``host``."""
        return [
            r.id
            for r in self.query(
                "SELECT id FROM workflows WHERE owner LIKE :prefix AND "
                "state IN ('RUNNING', 'REVERTING', 'PENDING')",
                prefix=host + ':%',
            )
        ]

    def logs(self, binary=None):
        """{host: log text} of the processes (of one binary)."""
        return {
            p.host: p.log_text()
            for p in self.processes
            if binary is None or p.binary == 'nova-%s' % binary
        }

    def kill_db_sessions(self):
        """Kill every session on this deployment's database (``KILL`` on
        MariaDB, ``pg_terminate_backend`` on PostgreSQL), as a database
        failover or an operator would; return how many were killed.

        Only this database's: the servers are shared with other tests,
        so this never touches another database's sessions. It connects
        without selecting the database (MariaDB) or to ``postgres``, so
        its own session is not one of those it kills.
        """
        url = self.engine.url
        name = url.database
        if self.engine.dialect.name == 'postgresql':
            admin_url = url.set(database='postgres')
            sql = (
                'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                'WHERE datname = :name AND pid <> pg_backend_pid()'
            )
        else:
            admin_url = url.set(database=None)
            sql = (
                'SELECT id FROM information_schema.processlist '
                'WHERE db = :name AND id <> CONNECTION_ID()'
            )
        admin = sa.create_engine(
            admin_url, poolclass=sa.pool.NullPool, isolation_level='AUTOCOMMIT'
        )
        killed = 0
        try:
            with admin.connect() as conn:
                rows = conn.execute(sa.text(sql), {'name': name}).fetchall()
                if admin.dialect.name == 'postgresql':
                    return sum(1 for r in rows if r[0])
                for (session_id,) in rows:
                    try:
                        conn.exec_driver_sql('KILL %d' % int(session_id))
                        killed += 1
                    except sa.exc.DBAPIError:
                        # Gone between the list and the KILL.
                        pass
        finally:
            admin.dispose()
        return killed

    def open_transactions(self):
        """Transactions open on the deployment's database, oldest first
        (a process frozen mid-transaction keeps its locks)."""
        if self.engine.dialect.name == 'postgresql':
            sql = (
                "SELECT pid, state, xact_start, left(query, 200) AS query "
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND xact_start IS NOT NULL AND pid <> pg_backend_pid() "
                "ORDER BY xact_start"
            )
        else:
            sql = (
                "SELECT trx_mysql_thread_id, trx_state, trx_started, "
                "trx_rows_locked, LEFT(trx_query, 200) AS query FROM "
                "information_schema.innodb_trx ORDER BY trx_started"
            )
        try:
            return [tuple(r) for r in self.query(sql)]
        except Exception as exc:  # diagnosis only
            return ['cannot list transactions: %s' % exc]

    def diagnosis(self, lines=30):
        """The tail of every process log, for a failure message."""
        return '\n'.join(
            '---- %r ----\n%s' % (p, p.log_tail(lines)) for p in self.processes
        )


@contextlib.contextmanager
def broker_restart_lock(timeout=300):
    """Hold the broker lock exclusively, or skip when it cannot be had."""
    lock = BrokerLock(exclusive=True, timeout=timeout)
    if not lock.acquire():
        raise testtools.TestCase.skipException(
            'other integration tests held the broker for %ds' % timeout
        )
    try:
        yield
    finally:
        lock.release()


def restart_broker(down_seconds=2.0, timeout=120):
    """``rabbitmqctl stop_app``, a pause, ``start_app``; never leaves the
    broker stopped (start_app runs in a finally, and is retried)."""
    try:
        trace('broker: stop_app')
        rabbitmqctl('stop_app', timeout=timeout)
        trace('broker: stopped')
        time.sleep(down_seconds)
    finally:
        last = None
        for _attempt in range(3):
            try:
                rabbitmqctl('start_app', timeout=timeout)
                last = None
                break
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                last = exc
                time.sleep(2)
        if last is not None:
            raise last
    rabbitmqctl('await_startup', timeout=timeout, check=False)
    wait_until(
        rabbit_reachable,
        60,
        interval=0.5,
        message='RabbitMQ to accept connections after start_app',
    )
    trace('broker: started')


@contextlib.contextmanager
def acting_as_api(deployment, conf=None):
    """Make this process nova-api of ``deployment`` (benchmarks).

    Points the process-wide configuration, DB engine facade and RPC
    transport at the deployment; restores them on exit. Tests do the
    same through their config fixture (see base.IntegrationTestCase).
    """
    from nova import rpc
    import nova.conf
    from nova.db import api as db_api

    conf = conf or nova.conf.CONF
    overrides = [('transport_url', deployment.transport_url, None)] + [
        (name, -1, 'quota') for name in ('instances', 'cores', 'ram')
    ]
    for name, value, group in overrides:
        conf.set_override(name, value, group=group)
    connection = db_api.use_connection(deployment.db_url)
    connection.__enter__()
    rpc.cleanup()
    try:
        yield
    finally:
        rpc.cleanup()
        connection.__exit__(None, None, None)
        for name, _value, group in overrides:
            conf.clear_override(name, group=group)
