"""The request context every nova call carries."""

from oslo_context import context
from oslo_db.sqlalchemy import enginefacade


@enginefacade.transaction_context_provider
class RequestContext(context.RequestContext):
    """Who asks (user, project, roles) and the request id, plus the DB
    session of the current transaction (from the enginefacade provider).
    """

    def __init__(
        self,
        user_id=None,
        project_id=None,
        is_admin=None,
        roles=None,
        **kwargs,
    ):
        kwargs.setdefault('user_id', user_id)
        kwargs.setdefault('project_id', project_id)
        super().__init__(is_admin=bool(is_admin), roles=roles or [], **kwargs)

    def to_dict(self):
        values = super().to_dict()
        values['is_admin'] = self.is_admin
        return values

    @classmethod
    def from_dict(cls, values):
        return cls(
            user_id=values.get('user'),
            project_id=values.get('project_id') or values.get('project'),
            is_admin=values.get('is_admin'),
            roles=values.get('roles'),
            request_id=values.get('request_id'),
            global_request_id=values.get('global_request_id'),
            user_name=values.get('user_name'),
            project_name=values.get('project_name'),
            overwrite=False,
        )

    def elevated(self):
        """Return an admin copy of this context (same request id)."""
        ctxt = self.from_dict(self.to_dict())
        ctxt.is_admin = True
        if 'admin' not in ctxt.roles:
            ctxt.roles = list(ctxt.roles) + ['admin']
        return ctxt


def get_admin_context(request_id=None):
    """A context for services acting on their own behalf."""
    kwargs = {'overwrite': False}
    if request_id:
        kwargs['request_id'] = request_id
    return RequestContext(
        user_id=None, project_id=None, is_admin=True, roles=['admin'], **kwargs
    )
