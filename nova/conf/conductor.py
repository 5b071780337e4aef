"""Options of the ``[conductor]`` group: nova-conductor."""

from oslo_config import cfg

conductor_group = cfg.OptGroup('conductor', title='Conductor options',
                               help='Options of the nova-conductor '
                                    'service, which runs workflows.')

CONDUCTOR_OPTS = [
    cfg.StrOpt('topic',
               default='conductor',
               help='RPC topic all conductors share.'),
    cfg.IntOpt('workers',
               default=1, min=1,
               help='Number of nova-conductor worker processes per host. '
                    'Each is a separate workflow owner.'),
]


def register_opts(conf):
    conf.register_group(conductor_group)
    conf.register_opts(CONDUCTOR_OPTS, group=conductor_group)


def list_opts():
    return {conductor_group: CONDUCTOR_OPTS}
