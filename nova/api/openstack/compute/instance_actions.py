"""``/servers/{server_id}/os-instance-actions``: what was done to a
server, and the steps (events) of each action.

Events are shown to admins before 2.51 and to everyone from 2.51 on;
their tracebacks only ever to admins (policy ``events:details``).
"""

import webob.exc

from nova import exception
from nova import policy
from nova.api.openstack import common
from nova.db import actions as actions_db
from nova.db import instances as instances_db

ACTIONS = 'os_compute_api:os-instance-actions:%s'
_ACTION_KEYS = (
    'action',
    'instance_uuid',
    'request_id',
    'user_id',
    'project_id',
    'start_time',
    'message',
)
_EVENT_KEYS = ('event', 'start_time', 'finish_time', 'result')


def _action_view(action):
    view = {key: action.get(key) for key in _ACTION_KEYS}
    view['start_time'] = common.precise_time(action.get('start_time'))
    return view


def _event_view(event, with_traceback):
    view = {key: event.get(key) for key in _EVENT_KEYS}
    view['start_time'] = common.precise_time(event.get('start_time'))
    view['finish_time'] = common.precise_time(event.get('finish_time'))
    if with_traceback:
        view['traceback'] = event.get('traceback')
    return view


class InstanceActionsController:
    """Actions of one server."""

    def _instance(self, req, server_id, action):
        context = req.context
        common.check_instance_uuid(server_id)
        # Since 2.21 the actions of deleted servers stay visible.
        project_id = None if context.is_admin else context.project_id
        instance = instances_db.get(
            context,
            server_id,
            project_id=project_id,
            read_deleted=req.is_version('2.21'),
        )
        policy.authorize(
            context,
            ACTIONS % action,
            {
                'project_id': instance['project_id'],
                'user_id': instance['user_id'],
            },
        )
        return instance

    def index(self, req, server_id):
        """``GET /servers/{id}/os-instance-actions``."""
        self._instance(req, server_id, 'list')
        actions = actions_db.actions_get(req.context, server_id)
        return {'instanceActions': [_action_view(a) for a in actions]}

    def show(self, req, server_id, id):
        """``GET /servers/{id}/os-instance-actions/{request_id}``."""
        context = req.context
        self._instance(req, server_id, 'show')
        try:
            action = actions_db.action_get_by_request_id(
                context, server_id, id
            )
        except exception.InstanceActionNotFound as exc:
            raise webob.exc.HTTPNotFound(explanation=exc.format_message())
        view = _action_view(action)
        show_events = req.is_version('2.51') or policy.authorize(
            context, ACTIONS % 'events', fatal=False
        )
        if show_events:
            with_traceback = policy.authorize(
                context, ACTIONS % 'events:details', fatal=False
            )
            view['events'] = [
                _event_view(e, with_traceback) for e in action['events']
            ]
        return {'instanceAction': view}
