"""Load driver: N boots, then N deletes, through the REST API, twice.

Not a test by itself: ``tools/load-test.sh`` runs it (see the "Load"
section of doc/source/admin/reliability.rst), and
``nova/tests/integration/test_load.py`` runs a small slice in CI. It
starts a stack (:mod:`nova.tests.integration.load_stacks`), either
nova-all on SQLite or the multi-process deployment (nova-api, one
conductor, a scheduler and two fake computes on MariaDB or PostgreSQL
and RabbitMQ), then runs ``--cycles`` cycles of:

* ``N`` ``POST /servers``, at most ``--concurrency`` at once; each must
  answer 202;
* a wait until every accepted server is ACTIVE (ERROR is counted and
  reported, never waited for again);
* ``DELETE /servers/{id}`` of each, at most ``--concurrency`` at once;
  each must answer 204;
* a wait until every server is deleted, then the checks: the API lists
  no server, every build and delete workflow ended in SUCCESS, nothing
  is left (resource claims, fixed IPs, live block device mappings,
  instance directories, compute node usage), ``nova-manage workflow
  audit`` is clean, and no service logged an ERROR line.

It samples the measured process's VmRSS and thread count (nova-all's, or
the conductor's) from ``/proc/<pid>/status`` at the start, after the
boots and after the deletes of every cycle; "growth" is the RSS after
the last cycle's deletes minus that after the first's. It prints a text
summary and one JSON line, and exits 1 when a request is unaccounted
for, something leaked, the audit found something or a service logged
an ERROR line.
"""

import argparse
import collections
import concurrent.futures
import contextlib
import json
import os
import re
import sys
import time

import testtools

from nova.tests.integration import load_stacks

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'

#: A service log line at ERROR level (oslo.log's format).
LOG_ERROR_RE = re.compile(r'^\S+ \S+ \d+ (ERROR|CRITICAL) .*$', re.MULTILINE)


def log(message, *args):
    """A timestamped progress line on stderr."""
    sys.stderr.write(
        '[load %s] %s\n' % (time.strftime('%H:%M:%S'), message % args)
    )
    sys.stderr.flush()


# -- the load -----------------------------------------------------------------
class Load:
    """Boot/delete cycles against a started stack, and their checks."""

    def __init__(
        self, stack, servers, concurrency=8, timeout=900, progress=None
    ):
        self.stack = stack
        #: Called as ``progress(message, *args)`` at each phase (the
        #: command line prints them; the test stays quiet).
        self.progress = progress or (lambda message, *args: None)
        self.servers = servers
        self.concurrency = concurrency
        self.timeout = timeout
        self.samples = []
        self.cycles = []
        self.problems = []

    def sample(self, label):
        """Record the measured process's RSS and threads as ``label``."""
        status = load_stacks.proc_status(self.stack.measured.pid)
        self.samples.append(dict(label=label, **status))
        self.progress(
            '%s: RSS %.1f MiB, %d threads',
            label,
            status['rss_kib'] / 1024,
            status['threads'],
        )
        return status

    def _call(self, method, path, body=None, expected=202):
        """One request: {uuid (a POST's), status, seconds, error}."""
        t0 = time.monotonic()
        status, reply = self.stack.client.request(method, path, body)
        ok = status == expected
        return {
            'uuid': reply['server']['id'] if ok and method == 'POST' else None,
            'status': status,
            'seconds': time.monotonic() - t0,
            'error': None if ok else '%s %s: %s' % (method, path, reply),
        }

    def post(self, name):
        """``POST /servers`` of an m1.tiny server named ``name``."""
        body = {'server': {'name': name, 'imageRef': IMAGE, 'flavorRef': '1'}}
        return self._call('POST', '/servers', body)

    def delete(self, uuid):
        """``DELETE /servers/{uuid}``."""
        return self._call('DELETE', '/servers/%s' % uuid, expected=204)

    def instances(self):
        """{uuid: (vm_state, task_state, deleted)} of every instance."""
        return {
            r[0]: (r[1], r[2], bool(r[3]))
            for r in self.stack.query(
                'SELECT uuid, vm_state, task_state, deleted FROM instances'
            )
        }

    def _wait(self, uuids, settled):
        """Poll until ``settled(row)`` for every uuid; return {uuid: row}
        of those not settled when the timeout ran out."""
        deadline = time.monotonic() + self.timeout
        while True:
            rows = self.instances()
            pending = {
                u: rows.get(u) for u in uuids if not settled(rows.get(u))
            }
            if not pending or time.monotonic() > deadline:
                return pending
            time.sleep(0.5)

    def send(self, cycle, kind, fn, items):
        """Send ``fn(item)`` for every item, ``concurrency`` at once;
        record the statuses, latencies and errors under ``kind``."""
        with concurrent.futures.ThreadPoolExecutor(self.concurrency) as pool:
            results = list(pool.map(fn, items))
        seconds = sorted(r['seconds'] for r in results) or [0.0]
        cycle[kind] = {
            'status': dict(
                collections.Counter(str(r['status']) for r in results)
            ),
            'latency_p50': seconds[len(seconds) // 2],
            'latency_max': seconds[-1],
            'errors': [r['error'] for r in results if r['error']][:10],
        }
        return results

    def run_cycle(self, number):
        """Boot, wait ACTIVE, delete, wait gone, check; return the
        cycle's record."""
        n = self.servers
        cycle = {'cycle': number}
        self.progress('cycle %d: %d boots', number, n)
        t0 = time.monotonic()
        names = ['load-%d-%d' % (number, i) for i in range(n)]
        posts = self.send(cycle, 'post', self.post, names)
        uuids = [p['uuid'] for p in posts if p['uuid']]
        cycle['not_settled'] = self._wait(
            uuids, lambda r: r and r[0] in ('active', 'error') and not r[1]
        )
        cycle['boot_seconds'] = time.monotonic() - t0
        rows = self.instances()
        active = [u for u in uuids if rows[u][:2] == ('active', None)]
        cycle['active'] = len(active)
        cycle['error'] = sorted(u for u in uuids if rows[u][0] == 'error')
        cycle['booted_not_once'] = self._booted_not_once(active)
        cycle['build_workflows'] = self._workflow_states(uuids, 'build')
        self.sample('cycle %d: %d ACTIVE' % (number, len(active)))

        self.progress('cycle %d: %d deletes', number, len(uuids))
        t1 = time.monotonic()
        self.send(cycle, 'delete', self.delete, uuids)
        cycle['not_deleted'] = self._wait(uuids, lambda r: r and r[2])
        cycle['delete_seconds'] = time.monotonic() - t1
        cycle['delete_workflows'] = self._workflow_states(uuids, 'delete')
        cycle['api_lists'] = self._api_list_count()
        self.sample('cycle %d: all deleted' % number)
        cycle['leaks'] = self.leaks()
        cycle['audit'] = self.audit()
        cycle['checks'] = checks = {
            'every request accounted for': (
                cycle['post']['status'] == {'202': n}
                and cycle['active'] == n
                and cycle['delete']['status'] == {'204': n}
                and not cycle['not_deleted']
            ),
            'each server booted once': not cycle['booted_not_once'],
            'build workflows SUCCESS': cycle['build_workflows']
            == {'SUCCESS': n},
            'delete workflows SUCCESS': cycle['delete_workflows']
            == {'SUCCESS': n},
            'API lists no server': cycle['api_lists'] == 0,
            'nothing leaked': not any(cycle['leaks'].values()),
            'audit clean': cycle['audit'] == {'returncode': 0, 'findings': []},
        }
        self.problems += [
            'cycle %d: %s' % (number, name)
            for name, ok in checks.items()
            if not ok
        ]
        self.cycles.append(cycle)
        self.progress(
            'cycle %d: boots %.1f s, deletes %.1f s, problems so far %d',
            number,
            cycle['boot_seconds'],
            cycle['delete_seconds'],
            len(self.problems),
        )
        return cycle

    def _booted_not_once(self, uuids):
        """{uuid: console lines} of servers not booted exactly once."""
        result = {}
        for uuid in uuids:
            path = os.path.join(
                self.stack.state_path, 'instances', uuid, 'console.log'
            )
            try:
                with open(path) as f:
                    lines = len(f.read().splitlines())
            except FileNotFoundError:
                lines = 0
            if lines != 1:
                result[uuid] = lines
        return result

    def _workflow_states(self, uuids, kind):
        name = 'build_instance' if kind == 'build' else 'delete_instance'
        wanted = set(uuids)
        return dict(
            collections.Counter(
                r[1]
                for r in self.stack.query(
                    "SELECT target_id, state FROM workflows WHERE name = "
                    "'%s'" % name
                )
                if r[0] in wanted
            )
        )

    def _api_list_count(self):
        status, body = self.stack.client.request('GET', '/servers?limit=1000')
        if status != 200:
            return 'HTTP %s: %s' % (status, str(body)[:200])
        return len(body['servers'])

    def leaks(self):
        """What anything still holds, once every server is deleted."""
        query = self.stack.query
        instances_dir = os.path.join(self.stack.state_path, 'instances')
        return {
            'claims': len(query('SELECT id FROM resource_claims')),
            'fixed_ips': len(
                query(
                    'SELECT address FROM fixed_ips WHERE instance_uuid IS '
                    'NOT NULL'
                )
            ),
            'block_devices': len(
                query('SELECT id FROM block_device_mappings WHERE deleted = 0')
            ),
            'instance_dirs': len(os.listdir(instances_dir))
            if os.path.isdir(instances_dir)
            else 0,
            'node_usage': [
                r
                for r in query(
                    'SELECT host, vcpus_used, memory_mb_used, local_gb_used,'
                    ' running_vms FROM compute_nodes WHERE deleted = 0'
                )
                if any(r[1:])
            ],
            'live_instances': len(
                query('SELECT uuid FROM instances WHERE deleted = 0')
            ),
            'unfinished_workflows': query(
                'SELECT id, name, state, owner FROM workflows WHERE state '
                "IN ('PENDING', 'RUNNING', 'REVERTING')"
            ),
        }

    def audit(self):
        """{returncode, findings} of ``nova-manage workflow audit``."""
        result = self.stack.manage('workflow', 'audit', '--json')
        try:
            findings = json.loads(result.stdout or '[]')
        except ValueError:
            findings = [result.stdout[-500:] + result.stderr[-500:]]
        return {'returncode': result.returncode, 'findings': findings}

    def log_errors(self):
        """{service: [ERROR lines]} from every service log."""
        found = {}
        for host, text in self.stack.logs().items():
            lines = [m.group(0) for m in LOG_ERROR_RE.finditer(text)]
            if lines:
                found[host] = lines
        return found

    def run(self, cycles):
        """Run ``cycles`` cycles and the log check; return the result."""
        self.sample('start')
        for number in range(1, cycles + 1):
            self.run_cycle(number)
        self.errors_logged = self.log_errors()
        if self.errors_logged:
            self.problems.append(
                'ERROR lines logged: %d'
                % sum(len(v) for v in self.errors_logged.values())
            )
        return self.result()

    def result(self):
        """Everything the run measured and found, JSON-serialisable."""
        deleted = [s for s in self.samples if s['label'].endswith('deleted')]
        growth = (
            deleted[-1]['rss_kib'] - deleted[0]['rss_kib']
            if len(deleted) > 1
            else None
        )
        per_cycle = [
            b['rss_kib'] - a['rss_kib']
            for a, b in zip(deleted, deleted[1:], strict=False)
        ]
        return {
            'stack': self.stack.name,
            'servers': self.servers,
            'concurrency': self.concurrency,
            'cycles': self.cycles,
            'samples': self.samples,
            'rss_growth_kib': growth,
            'rss_growth_per_cycle_kib': per_cycle,
            'log_errors': {
                h: lines[:5] for h, lines in self.errors_logged.items()
            },
            'problems': self.problems,
            'ok': not self.problems,
        }


def summary(result):
    """The human-readable report of a :meth:`Load.result`."""
    out = [
        'load: %s, %d servers per cycle, %d client requests at once'
        % (result['stack'], result['servers'], result['concurrency'])
    ]
    for c in result['cycles']:
        n = result['servers']
        out.append(
            '  cycle %d: POST %s (p50 %.2f s, max %.2f s); %d ACTIVE %.1f s '
            'after the first POST (%.1f boots/s); DELETE %s (p50 %.2f s, '
            'max %.2f s); all gone after %.1f s (%.1f deletes/s)'
            % (
                c['cycle'],
                c['post']['status'],
                c['post']['latency_p50'],
                c['post']['latency_max'],
                c['active'],
                c['boot_seconds'],
                n / c['boot_seconds'],
                c['delete']['status'],
                c['delete']['latency_p50'],
                c['delete']['latency_max'],
                c['delete_seconds'],
                n / c['delete_seconds'],
            )
        )
        leaks = c['leaks']
        out.append(
            '    leaks: %s; audit rc %d, %d finding(s); failed checks: %s'
            % (
                ', '.join('%s %s' % (k, _count(v)) for k, v in leaks.items()),
                c['audit']['returncode'],
                len(c['audit']['findings']),
                [k for k, ok in c['checks'].items() if not ok] or 'none',
            )
        )
    for s in result['samples']:
        out.append(
            '  RSS %-26s %8.1f MiB  threads %d'
            % (s['label'], s['rss_kib'] / 1024, s['threads'])
        )
    if result['rss_growth_kib'] is not None:
        out.append(
            '  RSS growth, last cycle vs first (after deletes): %+.1f MiB'
            ' (cycle by cycle: %s MiB)'
            % (
                result['rss_growth_kib'] / 1024,
                ', '.join(
                    '%+.1f' % (kib / 1024)
                    for kib in result['rss_growth_per_cycle_kib']
                ),
            )
        )
    for host, lines in result['log_errors'].items():
        out.append('  ERROR lines in %s: %s' % (host, lines))
    out.append(
        '  result: %s'
        % ('OK' if result['ok'] else 'FAILED: %s' % result['problems'])
    )
    return '\n'.join(out)


def _count(value):
    return len(value) if isinstance(value, list) else value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Boot then delete N servers through the REST API, '
        'per cycle, and check that nothing leaked.'
    )
    parser.add_argument(
        '--stack', choices=['nova-all', 'multi-process'], default='nova-all'
    )
    parser.add_argument(
        '--db',
        choices=['mysql', 'postgresql'],
        default='mysql',
        help='database of the multi-process stack',
    )
    parser.add_argument('--servers', type=int, default=500)
    parser.add_argument('--cycles', type=int, default=2)
    parser.add_argument(
        '--concurrency',
        type=int,
        default=8,
        help='client requests in flight at once',
    )
    parser.add_argument(
        '--timeout',
        type=float,
        default=1800,
        help='seconds each wait (all ACTIVE, all deleted) may take',
    )
    parser.add_argument(
        '--log-dir', help='copy the service logs here (default /tmp/...)'
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    stack = load_stacks.make_stack(args.stack, args.db)
    log_dir = args.log_dir or '/tmp/nova-load-%s-%s' % (
        args.stack,
        time.strftime('%Y%m%d-%H%M%S'),
    )
    started = time.monotonic()
    try:
        try:
            stack.start()
        except testtools.TestCase.skipException as exc:
            print('not run: %s' % exc)
            return 2
        log('%s up in %.0f s', stack.name, time.monotonic() - started)
        load = Load(
            stack, args.servers, args.concurrency, args.timeout, progress=log
        )
        result = load.run(args.cycles)
    finally:
        with contextlib.suppress(Exception):
            load_stacks.save_logs(stack, log_dir)
        with contextlib.suppress(Exception):
            stack.cleanup()
    result['date'] = time.strftime('%Y-%m-%d')
    result['cpus'] = os.cpu_count()
    result['wall_seconds'] = round(time.monotonic() - started, 1)
    result['log_dir'] = log_dir
    print(summary(result))
    print(json.dumps(result, default=str, sort_keys=True))
    return 0 if result['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
