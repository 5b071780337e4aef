"""Policies of the server actions (names and defaults as nova's)."""

from oslo_policy import policy

from nova.policies import base

_ACTION_PATH = '/servers/{server_id}/action (%s)'


def _action(name, check, description, action):
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=check,
        description=description,
        operations=[{'method': 'POST', 'path': _ACTION_PATH % action}],
    )


rules = [
    _action(
        'os_compute_api:servers:stop',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Stop a server',
        'os-stop',
    ),
    _action(
        'os_compute_api:servers:start',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Start a server',
        'os-start',
    ),
    _action(
        'os_compute_api:servers:reboot',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Reboot a server',
        'reboot',
    ),
    _action(
        'os_compute_api:os-pause-server:pause',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Pause a server',
        'pause',
    ),
    _action(
        'os_compute_api:os-pause-server:unpause',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Unpause a paused server',
        'unpause',
    ),
    _action(
        'os_compute_api:os-suspend-server:suspend',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Suspend a server',
        'suspend',
    ),
    _action(
        'os_compute_api:os-suspend-server:resume',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Resume a suspended server',
        'resume',
    ),
    _action(
        'os_compute_api:os-lock-server:lock',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Lock a server',
        'lock',
    ),
    _action(
        'os_compute_api:os-lock-server:unlock',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Unlock a server',
        'unlock',
    ),
    _action(
        'os_compute_api:os-lock-server:unlock:unlock_override',
        base.RULE_ADMIN_API,
        'Unlock a server locked by another side (its owner locked, an '
        'admin unlocks, or the other way round)',
        'unlock',
    ),
]


def list_rules():
    """The server action rules."""
    return rules
