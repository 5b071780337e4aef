"""Entry point of oslo-config-generator for nova's own options."""

from nova.conf import all as all_
from nova.conf import api
from nova.conf import compute
from nova.conf import conductor
from nova.conf import database
from nova.conf import default
from nova.conf import fake_driver
from nova.conf import network
from nova.conf import orchestration
from nova.conf import quota
from nova.conf import scheduler

_MODULES = (
    default,
    all_,
    api,
    compute,
    conductor,
    fake_driver,
    network,
    orchestration,
    quota,
    scheduler,
)


def list_opts():
    """Return [(group, [opts])] for every group nova defines."""
    grouped = {}
    for module in _MODULES:
        for group, opts in module.list_opts().items():
            grouped.setdefault(group, []).extend(opts)
    return [(group, opts) for group, opts in grouped.items()]


def set_defaults():
    """Apply nova's defaults to options owned by libraries."""
    database.set_defaults()
