"""Policy enforcement for the compute API (oslo.policy).

Rules default to :mod:`nova.policies` and can be overridden by the
operator's policy file (``[oslo_policy] policy_file``).
"""

import threading

from oslo_policy import policy

from nova import exception
from nova import policies
import nova.conf

CONF = nova.conf.CONF

_ENFORCER = None
_LOCK = threading.Lock()


def get_enforcer():
    """The process's enforcer with nova's defaults registered."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            enforcer = policy.Enforcer(CONF)
            enforcer.register_defaults(policies.list_rules())
            enforcer.load_rules()
            _ENFORCER = enforcer
    return _ENFORCER


def reset():
    """Forget the enforcer (tests, or after a config reload)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def authorize(context, action, target=None, fatal=True):
    """Check ``action`` for the caller on ``target``.

    The default target is the caller's own project and user, so rules
    like ``project_id:%(project_id)s`` hold for project-scoped actions.

    :returns: True when allowed; False when denied and not ``fatal``.
    :raises PolicyNotAuthorized: when denied and ``fatal`` (403).
    :raises oslo_policy.policy.PolicyNotRegistered: for an unknown action
        (a programming error, never silently allowed).
    """
    if target is None:
        target = {'project_id': context.project_id, 'user_id': context.user_id}
    credentials = context.to_policy_values()
    credentials['is_admin'] = context.is_admin
    return get_enforcer().authorize(
        action,
        target,
        credentials,
        do_raise=fatal,
        exc=exception.PolicyNotAuthorized,
        action=action,
    )
