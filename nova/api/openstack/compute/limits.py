"""``/limits``: the project's quota ([quota] options) and its usage."""

from nova import policy
import nova.conf
from nova.db import instances as instances_db

CONF = nova.conf.CONF

# Network-proxy limits removed at 2.36, image metadata at 2.39.
_NETWORK_LIMITS = (
    'maxSecurityGroups',
    'maxSecurityGroupRules',
    'maxTotalFloatingIps',
    'totalFloatingIpsUsed',
    'totalSecurityGroupsUsed',
)


class LimitsController:
    """Absolute limits of the caller's project (rate limits: none)."""

    def index(self, req):
        """``GET /limits`` (admins may pass ``tenant_id``)."""
        context = req.context
        policy.authorize(context, 'os_compute_api:limits')
        project_id = context.project_id
        requested = req.GET.get('tenant_id')
        if requested and requested != project_id:
            policy.authorize(context, 'os_compute_api:limits:other_project')
            project_id = requested
        instances, cores, ram = instances_db.count_usage(context, project_id)
        quota = CONF.quota
        absolute = {
            'maxImageMeta': quota.metadata_items,
            'maxPersonality': 5,
            'maxPersonalitySize': 10240,
            'maxSecurityGroupRules': -1,
            'maxSecurityGroups': -1,
            'maxServerMeta': quota.metadata_items,
            'maxTotalCores': quota.cores,
            'maxTotalFloatingIps': -1,
            'maxTotalInstances': quota.instances,
            'maxTotalKeypairs': quota.key_pairs,
            'maxTotalRAMSize': quota.ram,
            'maxServerGroups': quota.server_groups,
            'maxServerGroupMembers': quota.server_group_members,
            'totalCoresUsed': cores,
            'totalInstancesUsed': instances,
            'totalRAMUsed': ram,
            'totalSecurityGroupsUsed': 0,
            'totalFloatingIpsUsed': 0,
            'totalServerGroupsUsed': 0,
        }
        if req.is_version('2.36'):
            for key in _NETWORK_LIMITS:
                absolute.pop(key)
        if req.is_version('2.39'):
            absolute.pop('maxImageMeta')
        return {'limits': {'absolute': absolute, 'rate': []}}
