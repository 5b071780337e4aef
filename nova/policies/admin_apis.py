"""Policies of os-services, os-hypervisors, os-instance-actions, limits,
flavors, os-availability-zone and os-keypairs (names and defaults as
nova's).
"""

from oslo_policy import policy

from nova.policies import base


def _op(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=check,
        description=description,
        operations=[{'method': method, 'path': path}],
    )


#: The key pair's own user, or an admin (nova's ADMIN_OR_OWNER).
_ADMIN_OR_OWNER = 'rule:admin_api or user_id:%(user_id)s'

rules = [
    *[
        _op(
            'os_compute_api:os-keypairs:%s' % action,
            _ADMIN_OR_OWNER,
            description,
            method,
            path,
        )
        for action, description, method, path in (
            ('index', 'List all keypairs', 'GET', '/os-keypairs'),
            ('create', 'Create a keypair', 'POST', '/os-keypairs'),
            (
                'show',
                'Show details of a keypair',
                'GET',
                '/os-keypairs/{keypair_name}',
            ),
            (
                'delete',
                'Delete a keypair',
                'DELETE',
                '/os-keypairs/{keypair_name}',
            ),
        )
    ],
    _op(
        'os_compute_api:os-availability-zone:list',
        base.RULE_ANY,
        'List availability zone information without host information',
        'GET',
        '/os-availability-zone',
    ),
    _op(
        'os_compute_api:os-availability-zone:detail',
        base.RULE_ADMIN_API,
        'List detailed availability zone information with host information',
        'GET',
        '/os-availability-zone/detail',
    ),
    _op(
        'os_compute_api:os-services:list',
        base.RULE_ADMIN_API,
        'List all running Compute services in a region.',
        'GET',
        '/os-services',
    ),
    _op(
        'os_compute_api:os-hypervisors:list',
        base.RULE_ADMIN_API,
        'List all hypervisors.',
        'GET',
        '/os-hypervisors',
    ),
    _op(
        'os_compute_api:os-hypervisors:list-detail',
        base.RULE_ADMIN_API,
        'List all hypervisors with details',
        'GET',
        '/os-hypervisors/detail',
    ),
    _op(
        'os_compute_api:os-hypervisors:show',
        base.RULE_ADMIN_API,
        'Show details for a hypervisor.',
        'GET',
        '/os-hypervisors/{hypervisor_id}',
    ),
    _op(
        'os_compute_api:os-instance-actions:list',
        base.PROJECT_READER_OR_ADMIN,
        'List actions for a server.',
        'GET',
        '/servers/{server_id}/os-instance-actions',
    ),
    _op(
        'os_compute_api:os-instance-actions:show',
        base.PROJECT_READER_OR_ADMIN,
        'Show action details for a server.',
        'GET',
        '/servers/{server_id}/os-instance-actions/{request_id}',
    ),
    _op(
        'os_compute_api:os-instance-actions:events',
        base.RULE_ADMIN_API,
        'Add events details in action details for a server (before '
        '2.51; all callers see them from 2.51 on).',
        'GET',
        '/servers/{server_id}/os-instance-actions/{request_id}',
    ),
    _op(
        'os_compute_api:os-instance-actions:events:details',
        base.RULE_ADMIN_API,
        'Add the traceback of events in action details for a server.',
        'GET',
        '/servers/{server_id}/os-instance-actions/{request_id}',
    ),
    _op(
        'os_compute_api:limits',
        base.RULE_ANY,
        'Show rate and absolute limits for the current user project',
        'GET',
        '/limits',
    ),
    _op(
        'os_compute_api:limits:other_project',
        base.RULE_ADMIN_API,
        'Show rate and absolute limits of another project (tenant_id)',
        'GET',
        '/limits',
    ),
]


def list_rules():
    """The rules of these APIs."""
    return rules
