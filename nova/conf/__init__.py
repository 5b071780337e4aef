"""Nova's configuration options, one module per group, registered here.

Import ``nova.conf`` and use ``nova.conf.CONF``; never register options
elsewhere, so the sample generator (:mod:`nova.conf.opts`) sees them all.
"""

from oslo_config import cfg

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

CONF = cfg.CONF

_MODULES = (default, all_, api, compute, conductor, database, fake_driver,
            network, orchestration, quota, scheduler)

for _module in _MODULES:
    _module.register_opts(CONF)
