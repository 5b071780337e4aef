"""What builds in flight cost a conductor: rows, not threads.

With ``[conductor] spawn_mode = report`` the spawn step casts to the
compute host and the build workflow waits, persisted, with no owner and
no conductor thread, until the host reports back. This benchmark boots
servers whose spawn never finishes during the measure (``[fake_driver]
spawn_delay`` of an hour) and samples the conductor's thread count and
RSS (``/proc/<pid>/status``: ``Threads``, ``VmRSS``):

* idle, once the stack is up;
* with ``--first`` builds (default 100) waiting on their spawn;
* with ``--servers`` builds (default 1,000) waiting on their spawn.

"Waiting on its spawn" is a row condition: the ``build_instance``
workflow RUNNING with no owner, its spawn task RUNNING. The difference
between the last two samples, divided by the builds added, is the
marginal cost of a build in flight once the conductor's pools are warm.

The default stack is the multi-process deployment of
``nova/tests/integration/harness.py`` (MariaDB or PostgreSQL and a
RabbitMQ virtual host on 127.0.0.1): nova-api, one nova-conductor (the
measured process, alone), a scheduler and two fake computes; the
servers are booted through the REST API. ``--stack nova-all`` measures
nova-all instead, where conductor, scheduler and compute share one
process: its count then includes the compute's threads.

The compute hosts are not what is measured, but they bound the
measure: a compute runs each spawn (and its report) on one of its RPC
threads, so each spawn in flight holds one host thread for its whole
duration. With oslo.messaging's default of 64 RPC threads per host
(``[DEFAULT] executor_thread_pool_size``), the 65th slow spawn on a
host waits in RabbitMQ, and so does every later *call* to that host
(``prepare_block_devices``, its revert, ...): those time out
(``rpc_response_timeout``) and the builds revert or fail. So the
computes run with ``--compute-rpc-threads`` (default 1,100) RPC threads;
``--compute-rpc-threads 0`` keeps the default and shows the starvation
(the benchmark stops at the first reverted or failed build). The
threads of the other processes are printed for reference.

    python benchmarks/builds_in_flight.py                 # ~6 min on 2 cores
    python benchmarks/builds_in_flight.py --servers 200 --first 50
    python benchmarks/builds_in_flight.py --stack nova-all
    python benchmarks/builds_in_flight.py --db postgresql
    python benchmarks/builds_in_flight.py --compute-rpc-threads 0

Without RabbitMQ or the database it prints ``skipped: <reason>`` and
exits 0.
"""

import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import testtools  # noqa: E402

from nova.tests.integration import load  # noqa: E402
from nova.tests.integration import load_stacks  # noqa: E402

#: A spawn that outlasts the measure, and a step timeout that outlasts
#: the spawn.
SPAWN_DELAY = 3600
SPAWN_TIMEOUT = 7200

WAITING_SQL = (
    "SELECT COUNT(*) FROM workflows w JOIN workflow_tasks t ON "
    "t.workflow_id = w.id WHERE w.name = 'build_instance' AND "
    "w.state = 'RUNNING' AND w.owner IS NULL AND t.name LIKE '%spawn' "
    "AND t.state = 'RUNNING'"
)


#: Builds that went back instead of waiting on their spawn: a step
#: failed and is (being) reverted, whether the build then tries another
#: host or fails.
FAILED_SQL = (
    "SELECT t.name, t.state, COUNT(*) FROM workflows w JOIN "
    "workflow_tasks t ON t.workflow_id = w.id WHERE w.name = "
    "'build_instance' AND t.state IN ('FAILURE', 'REVERTING', "
    "'REVERTED', 'REVERT_FAILURE') GROUP BY t.name, t.state"
)


def log(message, *args):
    sys.stderr.write(
        '[in-flight %s] %s\n' % (time.strftime('%H:%M:%S'), message % args)
    )
    sys.stderr.flush()


class InFlight:
    """A stack whose spawns never finish, and the samples taken on it."""

    def __init__(self, stack, concurrency):
        self.stack = stack
        self.load = load.Load(stack, 0, concurrency=concurrency)
        self.booted = 0
        self.samples = []

    def waiting(self):
        return self.stack.query(WAITING_SQL)[0][0]

    def boot_until_waiting(self, total, timeout):
        """Boot servers up to ``total``; wait until ``total`` wait on
        their spawn. Return (boot seconds, seconds until all waited)."""
        t0 = time.monotonic()
        posts = self.load.send(
            {},
            'post',
            self.load.post,
            ['in-flight-%d' % i for i in range(self.booted, total)],
        )
        refused = [p for p in posts if p['status'] != 202]
        if refused:
            raise AssertionError('POSTs not accepted: %s' % refused[:5])
        self.booted = total
        posted = time.monotonic() - t0
        while self.waiting() < total:
            failed = self.stack.query(FAILED_SQL)
            if failed:
                raise AssertionError(
                    'builds failed instead of waiting on their spawn '
                    '(task, state, count): %s\n'
                    'the compute hosts may be starved of RPC threads '
                    '(see --compute-rpc-threads)' % failed
                )
            if time.monotonic() - t0 > timeout:
                raise AssertionError(
                    '%d of %d builds waiting on their spawn after %d s'
                    % (self.waiting(), total, timeout)
                )
            time.sleep(1)
        return posted, time.monotonic() - t0

    def sample(self, label):
        """Let the conductor settle, then sample it (and, for
        reference, the other processes of a multi-process stack)."""
        time.sleep(5)
        status = load_stacks.proc_status(self.stack.measured.pid)
        row = dict(label=label, in_flight=self.waiting(), **status)
        others = getattr(self.stack, 'deployment', None)
        if others is not None:
            row['others'] = {
                p.host: load_stacks.proc_status(p.pid)
                for p in others.processes
                if p is not self.stack.measured and p.alive
            }
        row['rows'] = {
            table: self.stack.query('SELECT COUNT(*) FROM %s' % table)[0][0]
            for table in ('workflows', 'workflow_tasks')
        }
        self.samples.append(row)
        log(
            '%s: %d in flight, conductor %d threads, RSS %.1f MiB',
            label,
            row['in_flight'],
            row['threads'],
            row['rss_kib'] / 1024,
        )
        return row


def report(args, stack, bench, timings):
    idle, first, last = bench.samples
    added = last['in_flight'] - first['in_flight']
    per_build_kib = (last['rss_kib'] - first['rss_kib']) / max(added, 1)
    what = (
        'nova-all (conductor, scheduler, compute and API in one process)'
        if args.stack == 'nova-all'
        else 'nova-conductor (alone in its process)'
    )
    lines = [
        '%s; %s, %s, %d cores; Python %s'
        % (
            time.strftime('%Y-%m-%d'),
            platform.system(),
            platform.machine(),
            os.cpu_count(),
            platform.python_version(),
        ),
        'measured: %s; stack %s%s'
        % (
            what,
            stack.name,
            '' if args.stack == 'nova-all' else ', ' + args.db,
        ),
        '',
        '| sample | builds waiting on spawn | threads | RSS |'
        ' workflow rows | task rows |',
        '|---|---:|---:|---:|---:|---:|',
    ]
    for s in bench.samples:
        lines.append(
            '| %s | %d | %d | %.1f MiB | %d | %d |'
            % (
                s['label'],
                s['in_flight'],
                s['threads'],
                s['rss_kib'] / 1024,
                s['rows']['workflows'],
                s['rows']['workflow_tasks'],
            )
        )
    lines += [
        '',
        'threads, %d -> %d in flight: %+d; RSS %+.1f MiB (%.1f KiB per '
        'build added)'
        % (
            first['in_flight'],
            last['in_flight'],
            last['threads'] - first['threads'],
            (last['rss_kib'] - first['rss_kib']) / 1024,
            per_build_kib,
        ),
        'boot: %d POSTs in %.1f s, all waiting after %.1f s; then %d in '
        '%.1f s, all waiting after %.1f s' % timings,
    ]
    for host, status in sorted(last.get('others', {}).items()):
        lines.append(
            'for reference, %s at %d in flight: %d threads, RSS %.1f MiB'
            % (
                host,
                last['in_flight'],
                status['threads'],
                status['rss_kib'] / 1024,
            )
        )
    print('\n'.join(lines))
    print(
        json.dumps(
            {
                'stack': args.stack,
                'samples': bench.samples,
                'rss_kib_per_build': round(per_build_kib, 1),
                'thread_delta': last['threads'] - first['threads'],
            },
            sort_keys=True,
        )
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--stack',
        choices=['multi-process', 'nova-all'],
        default='multi-process',
    )
    parser.add_argument(
        '--db', choices=['mysql', 'postgresql'], default='mysql'
    )
    parser.add_argument('--servers', type=int, default=1000)
    parser.add_argument('--first', type=int, default=100)
    parser.add_argument('--concurrency', type=int, default=8)
    parser.add_argument(
        '--compute-rpc-threads',
        type=int,
        default=1100,
        help='[DEFAULT] executor_thread_pool_size of the compute hosts '
        '(their RPC threads; each spawn in flight holds one); 0 keeps '
        "oslo.messaging's default of 64",
    )
    parser.add_argument(
        '--timeout',
        type=float,
        default=900,
        help='seconds the builds get to be all waiting on their spawn',
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    stack = load_stacks.make_stack(
        args.stack,
        args.db,
        spawn_delay=SPAWN_DELAY,
        extra={'conductor': {'spawn_timeout': SPAWN_TIMEOUT}},
        compute={
            'DEFAULT': {'executor_thread_pool_size': args.compute_rpc_threads}
        }
        if args.compute_rpc_threads
        else None,
    )
    try:
        try:
            stack.start()
        except testtools.TestCase.skipException as exc:
            print('skipped: %s' % exc)
            return 0
        bench = InFlight(stack, args.concurrency)
        bench.sample('idle')
        try:
            first = bench.boot_until_waiting(args.first, args.timeout)
            bench.sample('%d in flight' % args.first)
            rest = bench.boot_until_waiting(args.servers, args.timeout)
            bench.sample('%d in flight' % args.servers)
        except AssertionError as exc:
            print('failed after %d boots: %s' % (bench.booted, exc))
            return 1
        timings = (
            args.first,
            first[0],
            first[1],
            args.servers - args.first,
            rest[0],
            rest[1],
        )
        report(args, stack, bench, timings)
    finally:
        stack.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
