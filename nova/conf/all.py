"""Options of the ``[all]`` group: the embedded single-process nova-all."""

from oslo_config import cfg

all_group = cfg.OptGroup(
    'all',
    title='nova-all options',
    help='Options of the embedded nova-all process, '
    'which runs every service in one process.',
)

ALL_OPTS = [
    cfg.ListOpt(
        'compute_hosts',
        default=['compute1'],
        help='Names of the fake compute hosts nova-all runs in '
        'its process. Each gets a nova-compute service and '
        'a compute node of [fake_driver] size.',
    ),
]


def register_opts(conf):
    conf.register_group(all_group)
    conf.register_opts(ALL_OPTS, group=all_group)


def list_opts():
    return {all_group: ALL_OPTS}
