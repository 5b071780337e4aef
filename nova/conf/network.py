"""Options of the ``[network]`` group: DB-backed fixed IP allocation."""

from oslo_config import cfg

network_group = cfg.OptGroup(
    'network',
    title='Network options',
    help='The default private network that "nova-manage db sync" creates.',
)

NETWORK_OPTS = [
    cfg.StrOpt(
        'default_network_label',
        default='private',
        help='Label of the default network; servers list their '
        'addresses under it.',
    ),
    cfg.StrOpt(
        'default_network_cidr',
        default='10.0.0.0/24',
        help='IPv4 CIDR of the default network. The network, '
        'gateway (first host) and broadcast addresses are '
        'never handed out.',
    ),
    cfg.StrOpt(
        'mac_prefix',
        default='fa:16:3e',
        help='First three octets of the MAC addresses generated '
        'for fixed IPs.',
    ),
]


def register_opts(conf):
    conf.register_group(network_group)
    conf.register_opts(NETWORK_OPTS, group=network_group)


def list_opts():
    return {network_group: NETWORK_OPTS}
