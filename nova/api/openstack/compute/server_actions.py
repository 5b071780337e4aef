"""``POST /servers/{server_id}/action``: the server actions.

As in stock nova, the body names the action by its one key
(``{"os-stop": null}``, ``{"reboot": {"type": "SOFT"}}``); an unknown
one is a 400 ("There is no such action"). Each accepted action answers
202 with no body: the compute API has then written the server's
task_state, its instance action and the action's workflow in one
transaction, and a conductor runs the workflow
(nova.conductor.workflows.power_actions).
"""

import webob.exc

from nova import exception
from nova import policy
from nova.api import validation
from nova.api.openstack import common
from nova.api.openstack import wsgi
from nova.api.openstack.compute.schemas import server_actions as schema

#: Controller method names by the body key that names the action.
_ACTIONS = {}


def server_action(name):
    """Register the decorated method as the action ``name``."""

    def decorate(method):
        _ACTIONS[name] = method.__name__
        return method

    return decorate


def _action_name(body):
    """The action a body names: its one key (400 otherwise)."""
    if not isinstance(body, dict):
        raise exception.MalformedRequestBody(reason='cannot understand JSON')
    if len(body) != 1:
        raise exception.MalformedRequestBody(reason='too many body keys')
    return next(iter(body))


class ServerActionsController:
    """The actions of one server."""

    @property
    def compute_api(self):
        return common.compute_api()

    @wsgi.response(202)
    def action(self, req, server_id, body):
        """Dispatch to the action the body names."""
        name = _action_name(body)
        method = _ACTIONS.get(name)
        if method is None:
            raise webob.exc.HTTPBadRequest(
                explanation='There is no such action: %s' % name
            )
        return getattr(self, method)(req, server_id, body=body)

    def _authorized_instance(self, req, server_id, rule):
        """The server, once ``rule`` allows the caller to act on it."""
        context = req.context
        common.check_instance_uuid(server_id)
        instance = self.compute_api.get(context, server_id)
        policy.authorize(
            context,
            rule,
            {
                'project_id': instance['project_id'],
                'user_id': instance['user_id'],
            },
        )
        return instance

    def _power_action(self, req, server_id, rule, power_action):
        self._authorized_instance(req, server_id, rule)
        self.compute_api.power_action(req.context, server_id, power_action)

    @server_action('os-stop')
    def stop(self, req, server_id, body):
        self._power_action(
            req, server_id, 'os_compute_api:servers:stop', 'stop'
        )

    @server_action('os-start')
    def start(self, req, server_id, body):
        self._power_action(
            req, server_id, 'os_compute_api:servers:start', 'start'
        )

    @server_action('reboot')
    @validation.schema(schema.reboot)
    def reboot(self, req, server_id, body):
        kind = body['reboot']['type'].upper()
        self._power_action(
            req,
            server_id,
            'os_compute_api:servers:reboot',
            'reboot_hard' if kind == 'HARD' else 'reboot_soft',
        )

    @server_action('pause')
    def pause(self, req, server_id, body):
        self._power_action(
            req, server_id, 'os_compute_api:os-pause-server:pause', 'pause'
        )

    @server_action('unpause')
    def unpause(self, req, server_id, body):
        self._power_action(
            req,
            server_id,
            'os_compute_api:os-pause-server:unpause',
            'unpause',
        )

    @server_action('suspend')
    def suspend(self, req, server_id, body):
        self._power_action(
            req,
            server_id,
            'os_compute_api:os-suspend-server:suspend',
            'suspend',
        )

    @server_action('resume')
    def resume(self, req, server_id, body):
        self._power_action(
            req,
            server_id,
            'os_compute_api:os-suspend-server:resume',
            'resume',
        )

    @server_action('lock')
    def lock(self, req, server_id, body):
        self._authorized_instance(
            req, server_id, 'os_compute_api:os-lock-server:lock'
        )
        self.compute_api.lock(req.context, server_id)

    @server_action('unlock')
    def unlock(self, req, server_id, body):
        self._authorized_instance(
            req, server_id, 'os_compute_api:os-lock-server:unlock'
        )

        def override_allowed(instance):
            # Locked by the other side (an admin, or the owner for an
            # admin of another project): only an override may unlock.
            policy.authorize(
                req.context,
                'os_compute_api:os-lock-server:unlock:unlock_override',
                {'project_id': instance['project_id']},
            )

        self.compute_api.unlock(req.context, server_id, override_allowed)
