"""The stacks the load test and the in-flight benchmark drive.

A stack is started as an operator would start it and observed from the
outside: :class:`NovaAllStack` (nova-all on SQLite, one compute host) or
:class:`DeploymentStack` (nova-api, one nova-conductor, a scheduler and
two fake computes as separate processes on a fresh MariaDB or
PostgreSQL database and a RabbitMQ virtual host, through
:mod:`nova.tests.integration.harness`). Each has a REST client
(:class:`ApiClient`, noauth2), SQL queries on its database,
``nova-manage``, its logs, and ``measured``: the process whose memory
and threads are sampled (nova-all, or the conductor).
"""

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

#: Capacity of each fake compute node and size of the default network,
#: so that a thousand m1.tiny servers fit (1 vCPU, 512 MiB, 1 GiB each).
CAPACITY_OPTIONS = {
    'quota': {'instances': -1, 'cores': -1, 'ram': -1},
    'fake_driver': {'vcpus': 2000, 'memory_mb': 1024000, 'local_gb': 4000},
    'network': {'default_network_cidr': '10.0.0.0/20'},
}


def proc_status(pid):
    """{'rss_kib': VmRSS, 'threads': Threads} of process ``pid``."""
    fields = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'Threads'):
                fields[key] = int(value.split()[0])
    return {'rss_kib': fields.get('VmRSS'), 'threads': fields.get('Threads')}


class ApiClient:
    """The few compute API v2.1 calls of the load (noauth2 token)."""

    def __init__(self, port, token='load:load-project', timeout=60):
        self.base = 'http://127.0.0.1:%d/v2.1' % port
        self.token = token
        self.timeout = timeout

    def request(self, method, path, body=None):
        """(HTTP status, JSON body or None); status None and the error's
        text as body when the API could not be reached."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={
                'X-Auth-Token': self.token,
                'Content-Type': 'application/json',
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read()
        except (http.client.HTTPException, OSError) as exc:
            return None, '%s %s: %r' % (method, path, exc)
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text.decode(errors='replace')[:500]

    def listening(self):
        """Whether the API answers."""
        return self.request('GET', '/flavors')[0] == 200


# -- stacks -----------------------------------------------------------------
class NovaAllStack:
    """nova-all on SQLite (one compute host); measures nova-all itself."""

    name = 'nova-all'

    def __init__(self, spawn_delay=0.0, extra=None):
        from nova.tests.integration import nova_all

        options = {g: dict(v) for g, v in CAPACITY_OPTIONS.items()}
        options['fake_driver']['spawn_delay'] = spawn_delay
        for group, values in (extra or {}).items():
            options.setdefault(group, {}).update(values)
        self.fixture = nova_all.NovaAll(options)

    def start(self):
        """Start nova-all; return self once it serves and is quiet."""
        self.fixture.setUp()
        self.measured = self.fixture.start()
        self.client = ApiClient(self.fixture.port)
        self.state_path = self.fixture.state_path
        self.fixture.wait_quiet()
        return self

    def query(self, sql):
        """Rows of ``sql`` as tuples."""
        return [tuple(r) for r in self.fixture.query(sql)]

    def manage(self, *args):
        """``nova-manage ARGS`` on this stack; the completed process."""
        return subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), 'nova-manage'),
                '--config-file',
                self.fixture.config_file,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    def logs(self):
        """{service: log text}."""
        return {'nova-all': self.measured.log_text()}

    def log_files(self):
        """Paths of the logs and configuration worth keeping."""
        return [self.fixture.log_path, self.fixture.config_file]

    def cleanup(self):
        """Kill every process; remove the state directory."""
        self.fixture.cleanUp()


class DeploymentStack:
    """nova-api, one conductor, a scheduler and two computes as separate
    processes on a fresh database and RabbitMQ vhost; measures the
    conductor."""

    name = 'multi-process'

    def __init__(
        self, backend='mysql', spawn_delay=0.0, extra=None, compute=None
    ):
        from nova.tests.integration import harness

        self.harness = harness
        options = {g: dict(v) for g, v in CAPACITY_OPTIONS.items()}
        for group, values in (extra or {}).items():
            options.setdefault(group, {}).update(values)
        #: Options ({group: {option: value}}) of the computes only.
        self.compute_options = compute or {}
        self.deployment = harness.Deployment(
            backend, spawn_delay=spawn_delay, extra=options
        )

    def start(self):
        """Start the services and nova-api; return self once the API
        serves."""
        from nova.tests.integration import nova_all

        deployment = self.deployment
        deployment.setUp()
        self.measured = deployment.start('conductor', 'cond1')
        procs = [
            self.measured,
            deployment.start('scheduler', 'sched1'),
            deployment.start('compute', 'cpu1', self.compute_options),
            deployment.start('compute', 'cpu2', self.compute_options),
        ]
        deployment.wait_up(procs, timeout=90)
        port = nova_all._free_port()
        self.api = self.deployment.start(
            'api',
            'api1',
            options={
                'DEFAULT': {
                    'osapi_compute_listen': '127.0.0.1',
                    'osapi_compute_listen_port': port,
                }
            },
        )
        self.client = ApiClient(port)
        self.harness.wait_until(
            self.client.listening,
            90,
            interval=0.5,
            message=lambda: 'nova-api: %s' % self.api.log_tail(20),
        )
        self.state_path = self.deployment.state_path
        return self

    def query(self, sql):
        """Rows of ``sql`` as tuples."""
        return [tuple(r) for r in self.deployment.query(sql)]

    def manage(self, *args):
        """``nova-manage ARGS`` on this stack; the completed process."""
        return self.deployment.manage(*args, timeout=300, check=False)

    def logs(self):
        """{service host: log text}."""
        return {p.host: p.log_text() for p in self.deployment.processes}

    def log_files(self):
        """Paths of the logs and configuration worth keeping."""
        return [p.log_path for p in self.deployment.processes] + [
            self.deployment.config_file
        ]

    def cleanup(self):
        """Kill every process; drop the database and the vhost."""
        self.deployment.cleanUp()


def make_stack(
    kind, backend='mysql', spawn_delay=0.0, extra=None, compute=None
):
    """A :class:`NovaAllStack` or a :class:`DeploymentStack`, unstarted.

    ``compute`` ({group: {option: value}}) configures the compute hosts
    only; nova-all has them in its own process, so they go into its
    configuration with ``extra``.
    """
    if kind == 'nova-all':
        merged = {g: dict(v) for g, v in (extra or {}).items()}
        for group, values in (compute or {}).items():
            merged.setdefault(group, {}).update(values)
        return NovaAllStack(spawn_delay=spawn_delay, extra=merged)
    return DeploymentStack(
        backend, spawn_delay=spawn_delay, extra=extra, compute=compute
    )


def save_logs(stack, directory):
    """Copy the stack's logs and configuration to ``directory``."""
    os.makedirs(directory, exist_ok=True)
    for path in stack.log_files():
        with contextlib.suppress(OSError):
            shutil.copy(path, directory)
