"""A compute host's reports of the steps it ran for a workflow.

A step that returned Pending (the spawn, with ``[conductor] spawn_mode =
report``) ends when its host reports the outcome. Until a conductor has
committed that report, the host is the only holder of it, so the host
keeps it and sends it again until a conductor acknowledges it:

* the report is an RPC call (conductor API 1.3, ``report_completion``);
  the conductor answers once the completion is committed (``taken``), or
  says it will never be wanted (``stale``: the step was reverted, timed
  out, or the report was taken before);
* no answer (the broker restarted, the conductor died before or after
  committing), an error, or ``busy`` (the workflow was held by another
  conductor for too long): the host waits and reports again, 1 s, then
  twice as long each time up to 30 s, for ``[compute]
  completion_report_timeout`` seconds.

A conductor that committed the report and died before answering answers
``stale`` to the next one, so the completion is taken exactly once. What
this does not survive is the host itself dying with the report unsent;
the step's timeout (``[conductor] spawn_timeout``) decides then.
"""

import threading
import time

from oslo_log import log as logging
import oslo_messaging as messaging

from nova.conductor import rpcapi as conductor_rpcapi
import nova.conf

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

#: Seconds before a report no conductor acknowledged is sent again (the
#: first time; doubled each time up to RETRY_MAX).
RETRY_FIRST = 1
RETRY_MAX = 30

#: What a conductor answers to a report it acknowledges
#: (nova.conductor.runner.COMPLETION_TAKEN and COMPLETION_STALE).
TAKEN, STALE = 'taken', 'stale'


class CompletionReporter:
    """Sends one host's completions until a conductor acknowledges them."""

    def __init__(self, host):
        self.host = host
        # Set when the service stops: reports waiting to be sent again
        # give up rather than hold the stop.
        self._stopping = threading.Event()

    def stop(self):
        self._stopping.set()

    def report(self, context, workflow_id, task_name, token, result, failure):
        """Report until acknowledged or given up.

        :returns: TAKEN or STALE (acknowledged), None (given up).
        """
        conductor = conductor_rpcapi.ConductorAPI()
        deadline = time.monotonic() + CONF.compute.completion_report_timeout
        delay = RETRY_FIRST
        while True:
            try:
                answer = conductor.report_completion(
                    context,
                    workflow_id,
                    task_name,
                    token,
                    result=result,
                    failure=failure,
                )
            except messaging.MessagingException as exc:
                answer = '%s: %s' % (type(exc).__name__, exc)
            if answer in (TAKEN, STALE):
                LOG.debug(
                    'Completion of %s of workflow %s on %s: %s',
                    task_name,
                    workflow_id,
                    self.host,
                    answer,
                )
                return answer
            if time.monotonic() + delay > deadline or self._stopping.is_set():
                LOG.error(
                    'Giving up the report of %s of workflow %s on %s (%s): '
                    "the step's timeout will decide",
                    task_name,
                    workflow_id,
                    self.host,
                    answer,
                )
                return None
            LOG.warning(
                'Report of %s of workflow %s on %s not acknowledged (%s); '
                'again in %ss',
                task_name,
                workflow_id,
                self.host,
                answer,
                delay,
            )
            self._stopping.wait(delay)
            delay = min(2 * delay, RETRY_MAX)
