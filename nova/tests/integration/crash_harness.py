"""The machinery of the crash-point tests (test_crash_points.py).

:class:`CrashPointsTestCase` runs nova-all (SQLite) with the hook of
:mod:`nova.db.crash_points` and crashes one request after each of its
write commits in turn (:meth:`CrashPointsTestCase.crash_at_every_point`):
a baseline run counts the commits, then every point gets a crash, a
restart and the checks of the request's end state. The workflow, the
request and the end state it must reach are the test's; the numbering,
the restarts and the consistency checks shared by every workflow are
here.

Restarts are what a crash point costs, and most of a nova-all start is
Python importing nova (about 1.5 of 2 s on 2 cores), so each restart
takes over from a *standby* (:class:`StandbyNovaAll`): a process
started ahead that has done the imports of a start and waits. Nothing
in nova acts when it is imported (the configuration, the database, RPC,
the conductors and the hook all come with ``main()``), so a standby that
takes over is a restart like any other: a new process, its own pid and
owner names, nothing in memory from the one that died.
"""

import copy
import json
import os
import re
import sys
import time
import urllib.error

import fixtures
from testtools import content

from nova import context as nova_context
from nova import test
from nova.conductor import audit
from nova.db import api as db_api
from nova.db import crash_points
from nova.tests import db_fixture
from nova.tests.integration import harness
from nova.tests.integration import nova_all

#: Seconds each test may take: about 60 s on 2 cores, with room for a
#: loaded machine.
TEST_TIMEOUT = 480

#: Seconds a restarted nova-all gets to finish the request it took back.
RECOVERY_TIMEOUT = 30

#: Seconds a request gets to reach the crash point.
CRASH_TIMEOUT = 30

HOURLY = 3600

OPTIONS = {
    'DEFAULT': {'report_interval': HOURLY},
    'compute': {'resource_report_interval': HOURLY},
    'orchestration': {
        'heartbeat_interval': HOURLY,
        'sweep_interval': HOURLY,
        # The first sweep adopts a build whose cast died with the
        # process, however young.
        'sweep_grace_seconds': 0,
    },
    'all': {'compute_hosts': 'host1'},
    'quota': {'instances': -1, 'cores': -1, 'ram': -1},
    'fake_driver': {'vcpus': 1000, 'memory_mb': 1024000},
}

_POINT_RE = re.compile(r'^crash point (\d+): (.*)$', re.MULTILINE)

#: The environment variable naming the file whose creation tells a
#: standby to take over.
_ENV_GO_FILE = 'NOVA_TEST_STANDBY_GO_FILE'

#: What a standby runs: the imports of the nova-all console script, then
#: a wait for its go file, then nova-all's main. It leaves when the test
#: process that started it is gone, rather than wait for ever.
_STANDBY_SCRIPT = (
    """
import os, sys, time
from nova.cmd.all import _console_main
go, parent = os.environ.pop('%s'), os.getppid()
while not os.path.exists(go):
    if os.getppid() != parent:
        sys.exit(3)
    time.sleep(0.01)
sys.argv[0] = 'nova-all'
sys.exit(_console_main())
"""
    % _ENV_GO_FILE
)

#: Seconds a standby gets to finish its imports and serve the API once
#: told to take over.
TAKE_OVER_TIMEOUT = 60


class StandbyNovaAll(nova_all.NovaAll):
    """nova-all whose next process waits, imports done, to take over.

    ``env`` adds environment variables to every process (change it
    before :meth:`start`). After :meth:`start`, a standby is always
    there: :meth:`take_over`, once the running process is dead, makes it
    the running one and starts the next standby.
    """

    def __init__(self, options=None, env=None, database_url=None):
        super().__init__(options, database_url=database_url)
        self.env = env or {}
        self.standby = None
        self._standbys = 0
        self._taken_over_at = {}  # pid -> log offset when it took over

    def start(self, wait=True, env=None):
        proc = super().start(wait=wait, env=dict(self.env, **(env or {})))
        self._start_standby()
        return proc

    def _start_standby(self):
        self._standbys += 1
        go_file = os.path.join(
            self.state_path, 'standby-%d.go' % self._standbys
        )
        env = dict(
            os.environ,
            PYTHONUNBUFFERED='1',
            **self.env,
            **{_ENV_GO_FILE: go_file},
        )
        env.pop('OS_TEST_TIMEOUT', None)
        proc = harness.ServiceProcess(
            'nova-all',
            'standby-%d' % self._standbys,
            [
                sys.executable,
                '-c',
                _STANDBY_SCRIPT,
                '--config-file',
                self.config_file,
            ],
            self.log_path,
            env,
        )
        proc.go_file = go_file
        self.processes.append(proc)
        self.standby = proc

    def take_over(self):
        """The standby runs nova-all; return it once it serves the API.

        Only once the running process is dead: two nova-all on one
        database and port is not a restart.
        """
        proc, self.standby = self.standby, None
        running = [p for p in self.processes if p.alive and p is not proc]
        if running:
            raise AssertionError(
                'no take-over while nova-all still runs: %s' % running
            )
        with open(self.log_path, errors='replace') as f:
            # In characters, as log_text(). The process before is dead:
            # whatever comes after is the standby's.
            self._taken_over_at[proc.pid] = len(f.read())
        with open(proc.go_file, 'w'):
            pass
        harness.wait_until(
            lambda: self._listening(proc),
            TAKE_OVER_TIMEOUT,
            interval=0.02,
            message=lambda: proc.log_tail(),
        )
        self._start_standby()
        return proc

    def _listening(self, proc):
        if not proc.alive:
            raise AssertionError(
                'nova-all (standby) exited with %s:\n%s'
                % (proc.popen.returncode, proc.log_tail())
            )
        return 'compute API at' in self.log_of(proc)

    def log_of(self, proc):
        """What ``proc`` logged, a standby from when it took over."""
        offset = self._taken_over_at.get(proc.pid)
        if offset is None:
            return super().log_of(proc)
        return proc.log_text()[offset:]


class CrashPointsTestCase(test.TestCase):
    """nova-all with the crash-point hook, and the means to crash one
    request after each of its write commits in turn."""

    #: nova-all's configuration, {group: {option: value}}.
    options = OPTIONS
    #: Its database: 'sqlite' (a file, in-process messaging), or 'mysql'
    #: or 'postgresql' (a new database, and RabbitMQ on a new vhost).
    backend = 'sqlite'

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(TEST_TIMEOUT, gentle=True))
        options = copy.deepcopy(self.options)
        database_url = None
        if self.backend != 'sqlite':
            database_url = self.useFixture(
                db_fixture.OpportunisticDB(self.backend)
            ).url
            rabbit = self.useFixture(harness.RabbitVhost())
            options.setdefault('database', {})['connection'] = database_url
            options.setdefault('DEFAULT', {})['transport_url'] = rabbit.url
        self.nova = self.useFixture(
            StandbyNovaAll(options, database_url=database_url)
        )
        self.arm_file = os.path.join(self.nova.state_path, 'crash-arm')
        self.nova.env[crash_points.ENV_ARM_FILE] = self.arm_file
        connection = db_api.use_connection(
            database_url or 'sqlite:///' + self.nova.db_path
        )
        connection.__enter__()
        self.addCleanup(connection.__exit__, None, None, None)
        self.proc = self.nova.start()
        self.nova.wait_quiet()

    # -- driving ---------------------------------------------------------
    def arm(self, what):
        """Arm the hook of the running nova-all (atomically)."""
        tmp = self.arm_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write(str(what))
        os.rename(tmp, self.arm_file)

    def send(self, method, path, body=None):
        """A request that the process may not live to answer."""
        try:
            return self.nova.request(method, path, body)
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            return exc

    def post_server(self, name):
        self.send(
            'POST',
            '/servers',
            {
                'server': {
                    'name': name,
                    'imageRef': nova_all.IMAGE,
                    'flavorRef': '1',
                }
            },
        )

    def uuid_of(self, name):
        rows = self.nova.query(
            'SELECT uuid FROM instances WHERE display_name = ?', name
        )
        self.assertEqual(1, len(rows), 'instances named %s' % name)
        return rows[0][0]

    def points_logged(self, proc):
        """{N: what commit N wrote} as process ``proc`` logged them."""
        return {
            int(n): text.strip()
            for n, text in _POINT_RE.findall(self.nova.log_of(proc))
        }

    def count_points(self, request, wait_done):
        """Run ``request()`` with the hook counting; return T and what
        each commit wrote."""
        self.arm(crash_points.COUNT_ONLY)
        request()
        wait_done()
        self.nova.wait_quiet()
        points = self.points_logged(self.proc)
        self.assertEqual(list(range(1, len(points) + 1)), sorted(points))
        return points

    def crash_at(self, n, request):
        """Arm the hook at ``n``, run ``request()``, wait for the process
        to end by the hook, restart nova-all (the standby takes over);
        return what commit ``n`` wrote."""
        self.arm(n)
        request()
        crashed = self.proc
        status = crashed.wait(CRASH_TIMEOUT)
        self.assertEqual(
            crash_points.EXIT_STATUS,
            status,
            'nova-all did not end at crash point %d:\n%s'
            % (n, crashed.log_tail(30)),
        )
        written = self.points_logged(crashed).get(n)
        self.proc = self.nova.take_over()
        return written

    def wait_for(self, predicate, what):
        harness.wait_until(
            predicate,
            RECOVERY_TIMEOUT,
            interval=0.05,
            message=lambda: '%s\n%s' % (what(), self.proc.log_tail(30)),
        )
        self.nova.wait_quiet()

    # -- observation -----------------------------------------------------
    def workflows(self, uuid):
        return [
            tuple(r)
            for r in self.nova.query(
                'SELECT name, state FROM workflows WHERE target_id = ? '
                'ORDER BY created_at',
                uuid,
            )
        ]

    def instance(self, uuid):
        return tuple(
            self.nova.query(
                'SELECT vm_state, task_state, deleted FROM instances '
                'WHERE uuid = ?',
                uuid,
            )[0]
        )

    def placed_on(self, uuid):
        """(host, node) of ``uuid``'s instance row."""
        return tuple(
            self.nova.query(
                'SELECT host, node FROM instances WHERE uuid = ?', uuid
            )[0]
        )

    def held(self, uuid):
        """What the host side holds for ``uuid``."""
        count = lambda sql: self.nova.query(sql, uuid)[0][0]  # noqa: E731
        return {
            'claims': count(
                'SELECT count(*) FROM resource_claims WHERE instance_uuid = ?'
            ),
            'fixed_ips': count(
                'SELECT count(*) FROM fixed_ips WHERE instance_uuid = ?'
            ),
            'bdms': count(
                'SELECT count(*) FROM block_device_mappings WHERE '
                'instance_uuid = ? AND deleted = 0'
            ),
            'directory': int(
                os.path.exists(
                    os.path.join(self.nova.state_path, 'instances', uuid)
                )
            ),
        }

    def assert_consistent(self, where):
        """No unfinished workflow, usage equal to the servers on a host,
        the audit clean."""
        self.assertEqual(
            [],
            [
                tuple(r)
                for r in self.nova.query(
                    "SELECT id, name, state, owner FROM workflows WHERE "
                    "state NOT IN ('SUCCESS', 'REVERTED', 'FAILED')"
                )
            ],
            '%s: unfinished workflows' % where,
        )
        # A server on a host holds its claim, running or not.
        live = self.nova.query(
            "SELECT count(*) FROM instances WHERE deleted = 0 AND "
            "vm_state IN ('active', 'stopped', 'paused', 'suspended')"
        )[0][0]
        usage = [
            tuple(r)
            for r in self.nova.query(
                'SELECT vcpus_used, memory_mb_used FROM compute_nodes '
                'WHERE deleted = 0'
            )
        ]
        self.assertEqual(
            [(live, 512 * live)],
            usage,
            '%s: node usage (m1.tiny: 1 vCPU, 512 MiB each)' % where,
        )
        findings = audit.audit(nova_context.get_admin_context())
        self.assertEqual([], [str(f) for f in findings], '%s: audit' % where)

    def record(self, name, points, written, seconds, checked, requests):
        same = sum(written.get(n) == points[n] for n in points)
        lines = [
            '%d points, %.1f s; at %d of them the commit wrote what the '
            "baseline's did (parallel steps may swap)"
            % (len(points), seconds, same)
        ]
        lines += [
            'N=%d: %s%s'
            % (
                n,
                written.get(n),
                ''
                if written.get(n) == points[n]
                else ' (baseline: %s)' % points[n],
            )
            for n in sorted(points)
        ]
        self.addDetail(name, content.text_content('\n'.join(lines)))
        # For tools/reliability-report.sh. Every end state held what it
        # should (nothing leaked) only when all of them were checked.
        figures = {
            'requests': requests,
            'faults': len(written),
            'crash_points': {name: len(points)},
            'end_states_checked': checked,
        }
        if checked == len(points) + 1:
            figures['leaks'] = 0
        self.addDetail('figures', content.text_content(json.dumps(figures)))
        harness.trace('%s: %s', self.id(), lines[0])

    def faults(self, uuid):
        """The messages of the faults recorded for ``uuid``."""
        return [
            r[0]
            for r in self.nova.query(
                'SELECT message FROM instance_faults WHERE '
                'instance_uuid = ? ORDER BY id',
                uuid,
            )
        ]

    def actions(self, uuid):
        """(action, finished, message) of each action on ``uuid``."""
        return [
            (r[0], r[1] is not None, r[2])
            for r in self.nova.query(
                'SELECT action, finish_time, message FROM instance_actions '
                'WHERE instance_uuid = ? ORDER BY id',
                uuid,
            )
        ]

    def unfinished_events(self, uuid):
        """(action, event, finish_time, result) of each event of an
        action on ``uuid`` with no finish time or no result."""
        return [
            tuple(r)
            for r in self.nova.query(
                'SELECT a.action, e.event, e.finish_time, e.result FROM '
                'instance_actions_events e JOIN instance_actions a ON '
                'e.action_id = a.id WHERE a.instance_uuid = ? AND '
                '(e.finish_time IS NULL OR e.result IS NULL) ORDER BY e.id',
                uuid,
            )
        ]

    def assert_events_finished(self, uuid, where):
        """Every step of every action on ``uuid`` shows its end: a
        step that ended before a crash too (the conductor that takes
        the workflow back closes what the dead one left open)."""
        self.assertEqual(
            [],
            self.unfinished_events(uuid),
            '%s: action events left unfinished' % where,
        )

    # -- every point of one request ---------------------------------------
    def crash_at_every_point(self, name, send, done, check, prepare=None):
        """Crash request ``send(label)`` after each of its write commits.

        Each request acts on the server named ``label``: ``'baseline'``
        for the run that counts the points, ``'crash-N'`` for the one
        that crashes after commit N. ``prepare(labels)``, if given,
        readies those servers first (a delete needs them booted).
        ``done(uuid)`` tells whether the request ended; then ``check(uuid,
        where, wrote)`` asserts its end state (``wrote``: what the commit
        the process died after wrote, None for the baseline), and every
        event of the server's actions must be finished. Returns
        what each commit of the baseline wrote, {N: summary}; the test
        details get what each crash point's commit wrote, also when a
        check fails.
        """
        started = time.monotonic()
        checked = prepared = 0
        if prepare is not None:
            prepare(['baseline'])
            prepared += 1
        points = self.count_points(
            lambda: send('baseline'),
            lambda: self.wait_for(
                done(self.uuid_of('baseline')), lambda: 'baseline'
            ),
        )
        check(self.uuid_of('baseline'), '%s, baseline' % name, None)
        self.assert_events_finished(
            self.uuid_of('baseline'), '%s, baseline' % name
        )
        checked += 1

        labels = {n: 'crash-%d' % n for n in sorted(points)}
        if prepare is not None:
            prepare(list(labels.values()))
            prepared += len(labels)
        written = {}
        try:
            for n, label in labels.items():
                wrote = written[n] = self.crash_at(
                    n, lambda label=label: send(label)
                )
                uuid = self.uuid_of(label)
                where = '%s, crash after write %d (%s)' % (name, n, wrote)
                self.wait_for(
                    done(uuid),
                    lambda uuid=uuid, where=where: (
                        '%s: %s %s'
                        % (where, self.instance(uuid), self.workflows(uuid))
                    ),
                )
                check(uuid, where, wrote)
                self.assert_events_finished(uuid, where)
                checked += 1
                harness.trace(
                    '%s: point %d/%d done at %.1f s',
                    name,
                    n,
                    len(points),
                    time.monotonic() - started,
                )
        finally:
            # The baseline, one per crash and those readying their servers.
            requests = 1 + len(written) + prepared
            self.record(
                name,
                points,
                written,
                time.monotonic() - started,
                checked,
                requests,
            )
        return points
