"""The filter scheduler: filter the hosts, weigh them, pick one.

``select_destinations`` returns the selected host first, then
alternates for the conductor's retry controller: distinct hosts, best
first, at most ``[scheduler] max_attempts`` entries in all. It does not
claim; it records the selection in memory so concurrent requests in this
process see the selected host's resources as used until the conductor's
claim shows in the database.
"""

import random
import threading

from oslo_log import log as logging

from nova import exception
import nova.conf
from nova.scheduler import filters
from nova.scheduler import host_manager
from nova.scheduler import weights
from nova.scheduler.request import ResourceRequest
from nova.scheduler.weights import ram

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

NOT_ENOUGH_HOSTS = 'There are not enough hosts available.'


class FilterScheduler:
    """Select a compute host and alternates for one instance."""

    def __init__(self, hosts: host_manager.HostManager | None = None):
        # Loading here makes a typo in enabled_filters fail at startup.
        self.filters = filters.load_filters(
            CONF.filter_scheduler.enabled_filters
        )
        self.weighers = [ram.RAMWeigher()]
        self.host_manager = hosts or host_manager.HostManager()
        # One selection at a time, so each sees the previous one consumed.
        self._lock = threading.Lock()

    def select_destinations(self, context, request_spec: dict) -> list:
        """Host dicts for ``request_spec``: the selected one, then alternates.

        :raises NoValidHost: when no host passes, with the filter that
            removed the last candidates in the reason.
        """
        resources = ResourceRequest.from_spec(request_spec)
        with self._lock:
            states = self.host_manager.get_all_host_states(context)
            passed = self._filter(states, request_spec)
            chosen = self._choose(weights.weigh_hosts(self.weighers, passed))
            self.host_manager.record_selection(
                request_spec.get('instance_uuid'), chosen[0], resources
            )
        LOG.debug(
            'Selected %s (alternates %s) for instance %s',
            chosen[0],
            chosen[1:],
            request_spec.get('instance_uuid'),
        )
        return [state.to_destination() for state in chosen]

    def _filter(self, states, request_spec):
        instance = request_spec.get('instance_uuid')
        if not states:
            raise exception.NoValidHost(
                reason='%s No compute node is registered.' % NOT_ENOUGH_HOSTS
            )
        ignored = set(request_spec.get('ignore_hosts') or [])
        candidates = [state for state in states if state.host not in ignored]
        if not candidates:
            raise exception.NoValidHost(
                reason='%s Every compute host (%s) is in ignore_hosts.'
                % (NOT_ENOUGH_HOSTS, ', '.join(sorted(ignored)))
            )
        results = []
        for host_filter in self.filters:
            before = len(candidates)
            candidates = host_filter.filter_all(candidates, request_spec)
            name = type(host_filter).__name__
            results.append('%s %d->%d' % (name, before, len(candidates)))
            if not candidates:
                reason = (
                    '%s %s removed the last %d host(s) for instance %s'
                    ' (%s).'
                    % (
                        NOT_ENOUGH_HOSTS,
                        name,
                        before,
                        instance,
                        ', '.join(results),
                    )
                )
                LOG.info('No valid host: %s', reason)
                raise exception.NoValidHost(reason=reason)
        return candidates

    def _choose(self, weighed):
        """The selected state, then alternates: best node of each host."""
        best_per_host = []
        seen = set()
        for _weight, state in weighed:
            if state.host not in seen:
                seen.add(state.host)
                best_per_host.append(state)
        # Picking among the few best spreads requests of schedulers that
        # do not see each other's selections.
        subset = best_per_host[: CONF.filter_scheduler.host_subset_size]
        selected = random.choice(subset)
        alternates = [
            state for state in best_per_host if state is not selected
        ]
        return [selected] + alternates[: CONF.scheduler.max_attempts - 1]
