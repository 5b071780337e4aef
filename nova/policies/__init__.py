"""nova's default policy rules in code (oslo.policy), one module per API
family. :func:`list_rules` is also the ``oslo.policy.policies`` entry
point for the sample generator.
"""

import itertools

from nova.policies import admin_apis
from nova.policies import base
from nova.policies import server_actions
from nova.policies import servers


def list_rules():
    """Every default rule of nova's API."""
    return list(
        itertools.chain(
            base.list_rules(),
            servers.list_rules(),
            server_actions.list_rules(),
            admin_apis.list_rules(),
        )
    )
