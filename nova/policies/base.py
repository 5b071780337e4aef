"""Rules the API policies are built from, as nova's defaults.

``project_*`` rules match a role *and* the target's project, so a caller
acts only on its own project's resources unless it is an admin.
"""

from oslo_policy import policy

RULE_ADMIN_API = 'rule:admin_api'
PROJECT_MEMBER_OR_ADMIN = 'rule:project_member_or_admin'
PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin'
RULE_ANY = '@'

rules = [
    policy.RuleDefault(
        'context_is_admin',
        'role:admin',
        'Decides what is required for the is_admin:True check.',
    ),
    policy.RuleDefault(
        'admin_api', 'is_admin:True', 'Default rule for administrative APIs.'
    ),
    policy.RuleDefault(
        'project_member_api',
        'role:member and project_id:%(project_id)s',
        'Default rule for project-level write APIs.',
    ),
    policy.RuleDefault(
        'project_reader_api',
        'role:reader and project_id:%(project_id)s',
        'Default rule for project-level read-only APIs.',
    ),
    policy.RuleDefault(
        'project_member_or_admin',
        'rule:project_member_api or rule:context_is_admin',
        'Default rule for project-level write APIs, or an admin.',
    ),
    policy.RuleDefault(
        'project_reader_or_admin',
        'rule:project_reader_api or rule:context_is_admin',
        'Default rule for project-level read APIs, or an admin.',
    ),
]


def list_rules():
    """The base rules."""
    return rules
