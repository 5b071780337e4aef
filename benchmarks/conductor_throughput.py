"""Builds per second with 1, 2 and 4 conductor processes (issue 6).

For each conductor count: a fresh deployment (separate processes on
RabbitMQ and MariaDB by default: N nova-conductor, one nova-scheduler,
two fake nova-computes with no spawn delay), then ``--servers`` instance
and workflow rows written through nova.compute.api with the cast held
back, then one build_instances cast per workflow sent as fast as
possible; the clock runs from the first cast until every instance is
ACTIVE. Writing the rows is left out so the API process is not the
bottleneck; the sweeper's grace is long so it does not race the casts.

Every build is checked: ACTIVE and booted once. Prints each run and the
median builds/s per conductor count.

    python benchmarks/conductor_throughput.py [--servers 100] [--runs 3]
        [--conductors 1,2,4] [--backend mysql]

The machine has 2 cores: every process (conductors, scheduler, computes,
database, broker, this script) shares them, so more conductors add
concurrency but not CPU.
"""

import argparse
import statistics
import sys
import time
from unittest import mock

import testtools

from nova import context as nova_context
from nova.compute import api as compute_api
from nova.conductor import rpcapi as conductor_rpcapi
import nova.conf
from nova.db import defaults
from nova.tests.integration import harness


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--backend', default='mysql', choices=('mysql', 'postgresql')
    )
    parser.add_argument('--servers', type=int, default=100)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument(
        '--conductors',
        default='1,2,4',
        help='comma-separated conductor process counts',
    )
    parser.add_argument('--timeout', type=float, default=300)
    parser.add_argument(
        '--set',
        action='append',
        default=[],
        metavar='GROUP.OPTION=VALUE',
        help='extra option for every service, e.g. '
        'database.max_pool_size=64 (repeatable)',
    )
    parser.add_argument(
        '--py-spy',
        metavar='PREFIX',
        help='record each conductor with py-spy (on PATH) '
        'during the timed part, into '
        'PREFIX-<n>c-<host>.txt (collapsed stacks)',
    )
    return parser.parse_args(argv)


def create_rows(api, context, count):
    """Instances and workflows, casts held back; return workflow ids."""
    workflow_ids = []
    with mock.patch.object(
        conductor_rpcapi.ConductorAPI, 'build_instances'
    ) as cast:
        api.create(
            context,
            flavor_id='1',
            image_ref=defaults.DEFAULT_IMAGE_ID,
            name='bench',
            min_count=count,
            max_count=count,
        )
    for call in cast.call_args_list:
        workflow_ids.extend(
            call.args[1] if len(call.args) > 1 else call.kwargs['workflow_ids']
        )
    return workflow_ids


def start_profilers(procs, prefix, conductors):
    """py-spy record on every conductor process; return the Popens."""
    import shutil
    import subprocess

    exe = shutil.which('py-spy')
    if not prefix or exe is None:
        return []
    return [
        subprocess.Popen(
            [
                exe,
                'record',
                '--pid',
                str(p.pid),
                '--format',
                'raw',
                '--rate',
                '200',
                '--output',
                '%s-%dc-%s.txt'
                % (prefix, conductors, p.host.rsplit('-', 1)[0]),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in procs
        if p.binary == 'nova-conductor'
    ]


def stop_profilers(profilers):
    import signal

    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        profiler.wait(30)


def parse_settings(settings):
    """['group.option=value', ...] -> {group: {option: value}}."""
    extra = {}
    for setting in settings:
        key, _, value = setting.partition('=')
        group, _, option = key.rpartition('.')
        if not option or not _:
            raise SystemExit('bad --set %r: use GROUP.OPTION=VALUE' % setting)
        extra.setdefault(group, {})[option] = value
    return extra


def one_run(backend, conductors, servers, timeout, py_spy=None, settings=()):
    """Builds per second of one fresh deployment."""
    extra = {
        'fake_driver': {
            'memory_mb': 1048576,
            'vcpus': 256,
            'local_gb': 100000,
        },
        'network': {'default_network_cidr': '10.0.0.0/16'},
    }
    for group, values in parse_settings(settings).items():
        extra.setdefault(group, {}).update(values)
    deployment = harness.Deployment(
        backend,
        spawn_delay=0.0,
        orchestration={
            'lease_seconds': 30,
            'heartbeat_interval': 10,
            'sweep_interval': 5,
            'sweep_grace_seconds': 600,
        },
        extra=extra,
    )
    deployment.setUp()
    try:
        procs = deployment.start_services(conductors=conductors, computes=2)
        procs = [p for group in procs.values() for p in group]
        cpu_before = {p.host: p.cpu_seconds() or 0.0 for p in procs}
        context = nova_context.RequestContext(
            user_id='bench', project_id='bench'
        )
        with harness.acting_as_api(deployment):
            api = compute_api.API()
            workflow_ids = create_rows(api, context, servers)
            assert len(workflow_ids) == servers, len(workflow_ids)
            conductor = conductor_rpcapi.ConductorAPI()
            profilers = start_profilers(procs, py_spy, conductors)
            start = time.monotonic()
            for workflow_id in workflow_ids:
                conductor.build_instances(context, [workflow_id])

            def done():
                rows = deployment.query(
                    'SELECT vm_state, COUNT(*) AS n FROM instances '
                    'GROUP BY vm_state'
                )
                counts = {r.vm_state: r.n for r in rows}
                if counts.get('error'):
                    raise AssertionError(
                        '%d build(s) in ERROR' % counts['error']
                    )
                return counts.get('active', 0) == servers

            harness.wait_until(
                done, timeout, interval=0.05, message=deployment.diagnosis
            )
            elapsed = time.monotonic() - start
            stop_profilers(profilers)
        cpu = {
            p.host.rsplit('-', 1)[0]: (p.cpu_seconds() or 0.0)
            - cpu_before[p.host]
            for p in procs
        }
        uuids = [
            r.uuid for r in deployment.query('SELECT uuid FROM instances')
        ]
        twice = [u for u in uuids if deployment.boots(u) != 1]
        if twice:
            raise AssertionError(
                'instances not booted exactly once: %s' % twice
            )
        return servers / elapsed, elapsed, cpu
    finally:
        deployment.cleanUp()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    nova.conf.CONF([], project='nova', default_config_files=[])
    counts = [int(c) for c in args.conductors.split(',')]
    print(
        'conductor throughput: %s + RabbitMQ, %d servers per run, '
        '%d run(s) per count, 2 fake computes, no spawn delay%s'
        % (
            args.backend,
            args.servers,
            args.runs,
            ''.join(', ' + s for s in args.set),
        )
    )
    medians = {}
    for count in counts:
        rates = []
        for run in range(1, args.runs + 1):
            try:
                rate, elapsed, cpu = one_run(
                    args.backend,
                    count,
                    args.servers,
                    args.timeout,
                    args.py_spy,
                    args.set,
                )
            except testtools.TestCase.skipException as exc:
                print('skipped: %s' % exc)
                return 0
            rates.append(rate)
            print(
                '  %d conductor(s), run %d: %d builds in %.2fs = '
                '%.1f builds/s' % (count, run, args.servers, elapsed, rate)
            )
            print(
                '    CPU seconds during the run: %s'
                % ', '.join('%s %.1f' % item for item in sorted(cpu.items()))
            )
        medians[count] = statistics.median(rates)
    print(
        'median builds/s: %s'
        % ', '.join(
            '%d conductor(s) %.1f' % (count, rate)
            for count, rate in medians.items()
        )
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
