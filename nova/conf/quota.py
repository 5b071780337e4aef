"""Options of the ``[quota]`` group: per-project limits."""

from oslo_config import cfg

quota_group = cfg.OptGroup(
    'quota',
    title='Quota options',
    help='Per-project limits checked at server create. -1 means unlimited.',
)

QUOTA_OPTS = [
    cfg.IntOpt(
        'instances', default=10, min=-1, help='Servers a project may have.'
    ),
    cfg.IntOpt(
        'cores', default=20, min=-1, help='Virtual CPUs a project may use.'
    ),
    cfg.IntOpt(
        'ram',
        default=50 * 1024,
        min=-1,
        help='RAM, in MiB, a project may use.',
    ),
    cfg.IntOpt(
        'metadata_items',
        default=128,
        min=-1,
        help='Metadata items a server may have.',
    ),
    cfg.IntOpt(
        'key_pairs',
        default=100,
        min=-1,
        help='Key pairs a user may have (reported in limits).',
    ),
    cfg.IntOpt(
        'server_groups',
        default=10,
        min=-1,
        help='Server groups a project may have (reported in limits).',
    ),
    cfg.IntOpt(
        'server_group_members',
        default=10,
        min=-1,
        help='Servers per server group (reported in limits).',
    ),
]


def register_opts(conf):
    conf.register_group(quota_group)
    conf.register_opts(QUOTA_OPTS, group=quota_group)


def list_opts():
    return {quota_group: QUOTA_OPTS}
