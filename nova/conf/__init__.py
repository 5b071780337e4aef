"""Nova's configuration options, one module per group, registered here.

Import ``nova.conf`` and use ``nova.conf.CONF``; never register options
elsewhere, so the sample generator (:mod:`nova.conf.opts`) sees them all.
"""

from oslo_config import cfg
import oslo_messaging
from oslo_messaging import opts as messaging_opts

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

_MODULES = (
    default,
    all_,
    api,
    compute,
    conductor,
    database,
    fake_driver,
    network,
    orchestration,
    quota,
    scheduler,
)

for _module in _MODULES:
    _module.register_opts(CONF)

# oslo.messaging registers transport_url only when a transport is made;
# register it now so [DEFAULT] transport_url can be read before that.
oslo_messaging.set_transport_defaults(control_exchange='nova')
for _group, _opts in messaging_opts.list_opts():
    if _group is None:
        CONF.register_opts(_opts)
