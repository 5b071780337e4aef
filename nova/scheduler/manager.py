"""SchedulerManager: the RPC endpoint of nova-scheduler."""

import oslo_messaging as messaging

from nova import exception
from nova.scheduler import filter_scheduler


class SchedulerManager:
    """Serves ``select_destinations`` on the 'scheduler' topic.

    Building the manager loads the enabled filters, so a misconfigured
    scheduler refuses to start instead of scheduling without a check.
    """

    target = messaging.Target(version='1.0')

    def __init__(self, driver: filter_scheduler.FilterScheduler | None = None):
        self.driver = driver or filter_scheduler.FilterScheduler()

    # NoValidHost is an answer, not a server error: no traceback logged.
    @messaging.expected_exceptions(exception.NoValidHost)
    def select_destinations(self, context, request_spec):
        """Host dicts for ``request_spec``, selected first (see driver)."""
        return self.driver.select_destinations(context, request_spec)
