"""nova-all as a process a test starts, kills -9 and starts again.

Each :class:`NovaAll` has its own state directory (SQLite database,
fake instances), port and log; every start runs the console script
``nova-all --config-file X`` as a user would, in its own process group
(:class:`nova.tests.integration.harness.ServiceProcess`), and every
process is killed at cleanup. Nothing but the local machine is needed.
"""

import json
import os
import socket
import sqlite3
import time
import urllib.request

import fixtures
import sqlalchemy as sa

from nova.tests.integration import harness

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'

#: Seconds nova-all gets to listen on its port.
START_TIMEOUT = 60


#: What nova-all writes while it starts (services, compute nodes, the
#: first sweep): unchanged for a while, the database is quiet.
_STARTUP_WRITES = (
    'SELECT (SELECT COUNT(*) FROM services), '
    '(SELECT MAX(updated_at) FROM services), '
    '(SELECT MAX(updated_at) FROM compute_nodes), '
    '(SELECT COUNT(*) FROM workflows), '
    '(SELECT MAX(updated_at) FROM workflows)'
)


class _Row(tuple):
    """A row indexable by position and by column name, as sqlite3.Row."""

    def __new__(cls, row):
        self = super().__new__(cls, tuple(row))
        self._names = {name: i for i, name in enumerate(row._fields)}
        return self

    def __getitem__(self, key):
        if isinstance(key, str):
            key = self._names[key]
        return super().__getitem__(key)

    def keys(self):
        return list(self._names)


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class NovaAll(fixtures.Fixture):
    """nova-all on a state directory and port of its own.

    ``options`` ({group: {option: value}}) go into its config file.
    """

    def __init__(self, options=None, database_url=None):
        super().__init__()
        self.options = options or {}
        #: Another database than the SQLite file of the state directory
        #: (set ``[database] connection`` in ``options`` to it as well).
        self.database_url = database_url
        self.processes = []
        self._log_offsets = {}

    def _setUp(self):
        self.state_path = self.useFixture(fixtures.TempDir()).path
        self.port = _free_port()
        self.db_path = os.path.join(self.state_path, 'nova.sqlite')
        self._engine = None
        if self.database_url:
            self._engine = sa.create_engine(
                self.database_url, poolclass=sa.pool.NullPool
            )
            self.addCleanup(self._engine.dispose)
        self.log_path = os.path.join(self.state_path, 'nova-all.log')
        self.config_file = os.path.join(self.state_path, 'nova.conf')
        groups = {
            'DEFAULT': {
                'state_path': self.state_path,
                'osapi_compute_listen_port': self.port,
            }
        }
        for group, values in self.options.items():
            groups.setdefault(group, {}).update(values)
        with open(self.config_file, 'w') as f:
            for group, values in groups.items():
                f.write('[%s]\n' % group)
                for name, value in values.items():
                    f.write('%s = %s\n' % (name, value))
        self.addCleanup(self._kill_all)

    def _kill_all(self):
        for proc in self.processes:
            proc.cleanup()

    @property
    def process(self):
        """The latest nova-all process started."""
        return self.processes[-1]

    def start(self, wait=True, env=None):
        """Start nova-all; return its process, once it serves the API
        unless not ``wait`` (then see :meth:`wait_listening`).
        ``env`` adds environment variables."""
        offset = 0
        if os.path.exists(self.log_path):
            with open(self.log_path, errors='replace') as f:
                offset = len(f.read())  # in characters, as log_text()
        env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
        env.pop('OS_TEST_TIMEOUT', None)
        proc = harness.ServiceProcess(
            'nova-all',
            socket.gethostname(),
            [
                os.path.join(harness.BIN_DIR, 'nova-all'),
                '--config-file',
                self.config_file,
            ],
            self.log_path,
            env,
        )
        self._log_offsets[proc.pid] = offset
        self.processes.append(proc)
        if wait:
            self.wait_listening(proc)
        return proc

    def log_of(self, proc):
        """What nova-all process ``proc`` logged (the log file is shared
        by every start)."""
        return proc.log_text()[self._log_offsets[proc.pid] :]

    def wait_listening(self, proc):
        """Wait until nova-all process ``proc`` serves the compute API."""

        def listening():
            if not proc.alive:
                raise AssertionError(
                    'nova-all exited with %s:\n%s'
                    % (proc.popen.returncode, proc.log_tail())
                )
            return 'compute API at' in self.log_of(proc)

        harness.wait_until(
            listening,
            START_TIMEOUT,
            interval=0.05,
            message=lambda: proc.log_tail(),
        )

    # -- the compute API -------------------------------------------------
    def request(self, method, path, body=None, project='it-project'):
        """JSON of ``method`` ``/v2.1<path>`` as a user of ``project``."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            'http://127.0.0.1:%d/v2.1%s' % (self.port, path),
            data=data,
            method=method,
            headers={
                'X-Auth-Token': 'it:%s' % project,
                'Content-Type': 'application/json',
            },
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def boot(self, count, name='restart', project='it-project'):
        """Boot ``count`` servers, one request each; return their ids."""
        return [
            self.request(
                'POST',
                '/servers',
                {
                    'server': {
                        'name': '%s-%d' % (name, index),
                        'imageRef': IMAGE,
                        'flavorRef': '1',
                    }
                },
                project=project,
            )['server']['id']
            for index in range(count)
        ]

    # -- observation -----------------------------------------------------
    def query(self, sql, *params):
        """Rows of ``sql`` (``?`` placeholders) on nova-all's database,
        each indexable by position and by column name."""
        if self._engine is not None:
            with self._engine.connect() as conn:
                result = conn.exec_driver_sql(
                    sql.replace('?', '%s'), tuple(params)
                )
                return (
                    [_Row(row) for row in result]
                    if result.returns_rows
                    else []
                )
        conn = sqlite3.connect(self.db_path, timeout=30)
        try:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def wait_quiet(self, quiet=0.3, timeout=30):
        """Wait until nothing was committed to the database for
        ``quiet`` seconds (SQLite's data_version moves on every commit
        of another connection that changed something; elsewhere, what
        nova writes while it starts is watched)."""
        if self._engine is not None:
            self._wait_quiet_server(quiet, timeout)
            return
        conn = sqlite3.connect(self.db_path, timeout=30)
        try:
            last = [conn.execute('PRAGMA data_version').fetchone()[0]]
            since = [time.monotonic()]

            def settled():
                version = conn.execute('PRAGMA data_version').fetchone()[0]
                if version != last[0]:
                    last[0], since[0] = version, time.monotonic()
                return time.monotonic() - since[0] >= quiet

            harness.wait_until(
                settled, timeout, interval=0.05, message='database quiet'
            )
        finally:
            conn.close()

    def _wait_quiet_server(self, quiet, timeout):
        last = [None]
        since = [time.monotonic()]

        def settled():
            seen = tuple(self.query(_STARTUP_WRITES)[0])
            if seen != last[0]:
                last[0], since[0] = seen, time.monotonic()
            return time.monotonic() - since[0] >= quiet

        harness.wait_until(
            settled, timeout, interval=0.05, message='database quiet'
        )

    def boots(self, uuid):
        """Lines in the fake hypervisor's console.log of ``uuid``."""
        path = os.path.join(self.state_path, 'instances', uuid, 'console.log')
        try:
            with open(path) as f:
                return len(f.read().splitlines())
        except FileNotFoundError:
            return 0
