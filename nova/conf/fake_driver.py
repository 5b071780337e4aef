"""Options of the ``[fake_driver]`` group: the fake hypervisor."""

from oslo_config import cfg

fake_driver_group = cfg.OptGroup(
    'fake_driver',
    title='Fake virt driver options',
    help='The fake hypervisor used by nova-all and the tests. It has '
    'observable side effects under <state_path>/instances.',
)

FAKE_DRIVER_OPTS = [
    cfg.IntOpt(
        'vcpus',
        default=8,
        min=1,
        help='Physical CPUs each fake compute node reports.',
    ),
    cfg.IntOpt(
        'memory_mb',
        default=16384,
        min=1,
        help='Physical RAM, in MiB, each fake compute node reports.',
    ),
    cfg.IntOpt(
        'local_gb',
        default=200,
        min=1,
        help='Local disk, in GiB, each fake compute node reports.',
    ),
    cfg.FloatOpt(
        'spawn_delay',
        default=0.0,
        min=0.0,
        help='Seconds a spawn takes, to make builds observable '
        'while in flight.',
    ),
    cfg.ListOpt(
        'spawn_failure_hosts',
        default=[],
        help='Hosts on which spawn raises, to exercise reverts '
        'and reschedules.',
    ),
]


def register_opts(conf):
    conf.register_group(fake_driver_group)
    conf.register_opts(FAKE_DRIVER_OPTS, group=fake_driver_group)


def list_opts():
    return {fake_driver_group: FAKE_DRIVER_OPTS}
