"""Options of the ``[conductor]`` group: nova-conductor."""

from oslo_config import cfg

conductor_group = cfg.OptGroup(
    'conductor',
    title='Conductor options',
    help='Options of the nova-conductor service, which runs workflows.',
)

CONDUCTOR_OPTS = [
    cfg.StrOpt(
        'topic', default='conductor', help='RPC topic all conductors share.'
    ),
    cfg.IntOpt(
        'workers',
        default=1,
        min=1,
        help='Number of nova-conductor worker processes per host. '
        'Each is a separate workflow owner.',
    ),
    cfg.StrOpt(
        'spawn_mode',
        default='report',
        choices=[
            (
                'report',
                'the spawn step casts to the compute host and the '
                'workflow waits with no thread until the host reports '
                'back; the host reports until a conductor has committed '
                'the outcome (through broker restarts and conductor '
                'crashes), and spawn_timeout catches a host that died',
            ),
            (
                'call',
                "the spawn step waits for the compute host's answer on "
                'an RPC call, holding a conductor thread for the whole '
                'spawn',
            ),
        ],
        help='How a conductor waits for a spawn.',
    ),
    cfg.IntOpt(
        'spawn_timeout',
        default=600,
        min=1,
        help='Seconds a spawn may take before the build step fails '
        'and is reverted.',
    ),
]


def register_opts(conf):
    conf.register_group(conductor_group)
    conf.register_opts(CONDUCTOR_OPTS, group=conductor_group)


def list_opts():
    return {conductor_group: CONDUCTOR_OPTS}
