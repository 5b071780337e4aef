"""Options of the ``[compute]`` group: nova-compute."""

from oslo_config import cfg

compute_group = cfg.OptGroup(
    'compute',
    title='Compute options',
    help='Options of the nova-compute service.',
)

COMPUTE_OPTS = [
    cfg.StrOpt(
        'compute_driver',
        default='fake.FakeDriver',
        help='Virt driver nova-compute loads, as '
        '<module under nova.virt>.<class>.',
    ),
    cfg.IntOpt(
        'resource_report_interval',
        default=60,
        min=1,
        help='Seconds between two reports of a host\'s capacity '
        'into the compute_nodes table.',
    ),
    cfg.IntOpt(
        'max_concurrent_builds',
        default=10,
        min=1,
        help='Spawns a host runs at once (``[conductor] spawn_mode = '
        'report``); more wait, with no thread, in the order they arrived. '
        'They run on threads of their own, never on those that serve '
        'the host\'s RPC calls.',
    ),
    cfg.IntOpt(
        'orphan_reap_interval',
        default=300,
        min=1,
        help='Seconds between two looks for guests of this host that no '
        'resource claim holds (left over by a build reverted while the '
        'host was down); each is destroyed. The host also looks when it '
        'starts.',
    ),
    cfg.IntOpt(
        'completion_report_timeout',
        default=600,
        min=1,
        help='Seconds a host keeps reporting the outcome of a spawn '
        '(``[conductor] spawn_mode = report``) until a conductor '
        'acknowledges it, through broker restarts and conductor '
        'crashes. After that, or if the host stops meanwhile, the '
        'build\'s ``[conductor] spawn_timeout`` decides.',
    ),
]


def register_opts(conf):
    conf.register_group(compute_group)
    conf.register_opts(COMPUTE_OPTS, group=compute_group)


def list_opts():
    return {compute_group: COMPUTE_OPTS}
