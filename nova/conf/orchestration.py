"""Options of the ``[orchestration]`` group: how workflows are run.

nova.orchestration itself reads no configuration (it is a general
library); nova's conductor maps these options onto it.
"""

from oslo_config import cfg

orchestration_group = cfg.OptGroup(
    'orchestration',
    title='Workflow engine options',
    help='How conductors run, lease and adopt workflows.',
)

ORCHESTRATION_OPTS = [
    cfg.IntOpt(
        'lease_seconds',
        default=30,
        min=1,
        help='Seconds a conductor owns a workflow without '
        'renewing its lease. After it expires another '
        'conductor adopts the workflow. Must be much longer '
        'than the clock skew between database and hosts.',
    ),
    cfg.IntOpt(
        'heartbeat_interval',
        default=10,
        min=1,
        help='Seconds between two lease renewals; at most a '
        'third of lease_seconds.',
    ),
    cfg.IntOpt(
        'sweep_interval',
        default=15,
        min=1,
        help='Seconds between two sweeps for workflows to adopt '
        '(expired leases, lost casts).',
    ),
    cfg.IntOpt(
        'sweep_grace_seconds',
        default=30,
        min=0,
        help='Age, in seconds, after which an unowned PENDING '
        'workflow is considered a lost cast and adopted by '
        'the sweeper.',
    ),
    cfg.IntOpt(
        'max_adoptions',
        default=5,
        min=1,
        help='A workflow adopted more often than this is set '
        'FAILED with a reason instead of cycling between '
        'conductors forever.',
    ),
    cfg.IntOpt(
        'result_size_limit',
        default=65536,
        min=1024,
        help='Largest JSON-encoded task result or workflow input, '
        'in bytes. A larger value fails the task that '
        'produced it with an error naming it.',
    ),
    cfg.StrOpt(
        'executor',
        default='threads',
        choices=[('threads', 'native threads (default)')],
        help='Kind of executor that runs workflow tasks. nova\'s '
        'services run on native threads and keep eventlet out '
        'of their processes (nova.native_threads), so '
        'nova.orchestration\'s eventlet executor is not '
        'offered here.',
    ),
    cfg.IntOpt(
        'max_workers',
        default=64,
        min=1,
        help='Most tasks run at once per conductor process.',
    ),
]


def register_opts(conf):
    conf.register_group(orchestration_group)
    conf.register_opts(ORCHESTRATION_OPTS, group=orchestration_group)


def list_opts():
    return {orchestration_group: ORCHESTRATION_OPTS}
