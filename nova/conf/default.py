"""Options of the ``[DEFAULT]`` group shared by every service."""

import os
import socket

from oslo_config import cfg

service_opts = [
    cfg.StrOpt(
        'host',
        default=socket.gethostname(),
        sample_default='<current_hostname>',
        help='Name of this node. Used as the compute host name '
        '(topic compute.<host>), as the owner name of '
        'workflows a conductor runs, and in the services '
        'table. Must be unique per service binary.',
    ),
    cfg.StrOpt(
        'state_path',
        default=os.path.join(os.path.expanduser('~'), '.nova'),
        sample_default='$HOME/.nova',
        help='Top-level directory for nova state: the embedded '
        'SQLite database of nova-all and the fake '
        'hypervisor\'s instance directories live here.',
    ),
    cfg.IntOpt(
        'report_interval',
        default=10,
        min=1,
        help='Seconds between two liveness reports of a service '
        'into the services table.',
    ),
    cfg.IntOpt(
        'service_down_time',
        default=60,
        min=1,
        help='Seconds since the last liveness report after which '
        'a service is considered down. Must be larger than '
        'report_interval.',
    ),
]

wsgi_opts = [
    cfg.HostAddressOpt(
        'osapi_compute_listen',
        default='127.0.0.1',
        help='IP address on which the compute API '
        '(nova-api, nova-all) listens.',
    ),
    cfg.PortOpt(
        'osapi_compute_listen_port',
        default=8774,
        help='Port on which the compute API listens.',
    ),
    cfg.IntOpt(
        'osapi_compute_workers',
        default=16,
        min=1,
        help='Number of threads the WSGI server uses to serve API requests.',
    ),
]

allocation_ratio_opts = [
    cfg.FloatOpt(
        'cpu_allocation_ratio',
        default=16.0,
        min=0.0,
        help='Virtual CPUs that may be claimed per physical CPU '
        'of a compute node.',
    ),
    cfg.FloatOpt(
        'ram_allocation_ratio',
        default=1.5,
        min=0.0,
        help='Virtual RAM that may be claimed per MiB of '
        'physical RAM of a compute node.',
    ),
    cfg.FloatOpt(
        'disk_allocation_ratio',
        default=1.0,
        min=0.0,
        help='Virtual disk that may be claimed per GiB of '
        'physical disk of a compute node.',
    ),
]

ALL_OPTS = service_opts + wsgi_opts + allocation_ratio_opts


def register_opts(conf):
    conf.register_opts(ALL_OPTS)


def list_opts():
    return {'DEFAULT': ALL_OPTS}
