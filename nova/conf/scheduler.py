"""Options of the ``[scheduler]`` and ``[filter_scheduler]`` groups."""

from oslo_config import cfg

scheduler_group = cfg.OptGroup(
    'scheduler',
    title='Scheduler options',
    help='Options of nova-scheduler and of rescheduling builds.',
)

SCHEDULER_OPTS = [
    cfg.IntOpt(
        'max_attempts',
        default=3,
        min=1,
        help='Hosts a build tries (the selected host plus '
        'alternates) before it fails with NoValidHost.',
    ),
]

filter_scheduler_group = cfg.OptGroup(
    'filter_scheduler',
    title='Filter scheduler options',
    help='Filters and weighers of the filter scheduler.',
)

FILTER_SCHEDULER_OPTS = [
    cfg.ListOpt(
        'enabled_filters',
        default=[
            'AvailabilityZoneFilter',
            'ComputeFilter',
            'RamFilter',
            'CoreFilter',
            'DiskFilter',
        ],
        help='Filters a host must pass, in order.',
    ),
    cfg.FloatOpt(
        'ram_weight_multiplier',
        default=1.0,
        help='Multiplier of the RAM weigher: positive spreads '
        'instances over hosts with most free RAM, '
        'negative stacks them.',
    ),
    cfg.IntOpt(
        'host_subset_size',
        default=1,
        min=1,
        help='The selected host is picked at random among this '
        'many best-weighed hosts, to spread concurrent '
        'requests.',
    ),
]


def register_opts(conf):
    conf.register_group(scheduler_group)
    conf.register_opts(SCHEDULER_OPTS, group=scheduler_group)
    conf.register_group(filter_scheduler_group)
    conf.register_opts(FILTER_SCHEDULER_OPTS, group=filter_scheduler_group)


def list_opts():
    return {
        scheduler_group: SCHEDULER_OPTS,
        filter_scheduler_group: FILTER_SCHEDULER_OPTS,
    }
