"""Policies of the servers API (names and defaults as nova's)."""

from oslo_policy import policy

from nova.policies import base

SERVERS = 'os_compute_api:servers:%s'


def _op(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=SERVERS % name,
        check_str=check,
        description=description,
        operations=[{'method': method, 'path': path}],
    )


rules = [
    _op(
        'index',
        base.PROJECT_READER_OR_ADMIN,
        'List all servers',
        'GET',
        '/servers',
    ),
    _op(
        'detail',
        base.PROJECT_READER_OR_ADMIN,
        'List all servers with detailed information',
        'GET',
        '/servers/detail',
    ),
    _op(
        'index:get_all_tenants',
        base.RULE_ADMIN_API,
        'List all servers for all projects',
        'GET',
        '/servers',
    ),
    _op(
        'detail:get_all_tenants',
        base.RULE_ADMIN_API,
        'List all servers with detailed information for all projects',
        'GET',
        '/servers/detail',
    ),
    _op(
        'allow_all_filters',
        base.RULE_ADMIN_API,
        'Allow all filters when listing servers',
        'GET',
        '/servers',
    ),
    _op(
        'show',
        base.PROJECT_READER_OR_ADMIN,
        'Show a server',
        'GET',
        '/servers/{server_id}',
    ),
    _op(
        'show:host_status',
        base.RULE_ADMIN_API,
        'Show a server with additional host status information',
        'GET',
        '/servers/{server_id}',
    ),
    _op(
        'create',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Create a server',
        'POST',
        '/servers',
    ),
    _op(
        'create:forced_host',
        base.RULE_ADMIN_API,
        'Create a server on the specified host and/or node',
        'POST',
        '/servers',
    ),
    _op(
        'update',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Update a server',
        'PUT',
        '/servers/{server_id}',
    ),
    _op(
        'delete',
        base.PROJECT_MEMBER_OR_ADMIN,
        'Delete a server',
        'DELETE',
        '/servers/{server_id}',
    ),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-extended-server-attributes',
        check_str=base.RULE_ADMIN_API,
        description='Return extended attributes of a server (host, '
        'instance_name, hypervisor_hostname, ...)',
        operations=[
            {'method': 'GET', 'path': '/servers/{id}'},
            {'method': 'GET', 'path': '/servers/detail'},
        ],
    ),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-flavor-extra-specs:index',
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='List flavor extra specs (shown in the embedded '
        'flavor of a server since 2.47)',
        operations=[{'method': 'GET', 'path': '/servers/{id}'}],
    ),
    *[
        policy.DocumentedRuleDefault(
            name='os_compute_api:server-metadata:%s' % action,
            check_str=check,
            description=description,
            operations=[{'method': method, 'path': path}],
        )
        for action, check, description, method, path in (
            (
                'index',
                base.PROJECT_READER_OR_ADMIN,
                'List all metadata of a server',
                'GET',
                '/servers/{server_id}/metadata',
            ),
            (
                'show',
                base.PROJECT_READER_OR_ADMIN,
                'Show metadata for a server',
                'GET',
                '/servers/{server_id}/metadata/{key}',
            ),
            (
                'create',
                base.PROJECT_MEMBER_OR_ADMIN,
                'Create metadata for a server',
                'POST',
                '/servers/{server_id}/metadata',
            ),
            (
                'update_all',
                base.PROJECT_MEMBER_OR_ADMIN,
                'Replace metadata for a server',
                'PUT',
                '/servers/{server_id}/metadata',
            ),
            (
                'update',
                base.PROJECT_MEMBER_OR_ADMIN,
                'Update metadata from a server',
                'PUT',
                '/servers/{server_id}/metadata/{key}',
            ),
            (
                'delete',
                base.PROJECT_MEMBER_OR_ADMIN,
                'Delete metadata from a server',
                'DELETE',
                '/servers/{server_id}/metadata/{key}',
            ),
        )
    ],
    policy.DocumentedRuleDefault(
        name='os_compute_api:ips:index',
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='List IP addresses that are assigned to a server',
        operations=[{'method': 'GET', 'path': '/servers/{server_id}/ips'}],
    ),
    policy.DocumentedRuleDefault(
        name='os_compute_api:ips:show',
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show IP addresses details for a network label of a '
        'server',
        operations=[
            {
                'method': 'GET',
                'path': '/servers/{server_id}/ips/{network_label}',
            }
        ],
    ),
]


def list_rules():
    """The servers rules."""
    return rules
