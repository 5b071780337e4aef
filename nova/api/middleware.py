"""The WSGI middleware of the compute API pipeline (etc/nova/api-paste.ini).

* :class:`ComputeReqIdMiddleware`: oslo's request id, also echoed as
  ``x-compute-request-id`` as nova does.
* :class:`FaultWrapper`: any unexpected exception becomes nova's 500
  ``computeFault`` body instead of a traceback or a dropped connection.
* :class:`RequestBodySizeLimiter`: bodies over ``[api]
  max_request_body_size`` are refused with 413 before anything reads them.
"""

from oslo_log import log as logging
from oslo_middleware import request_id
import webob.dec

from nova.api.openstack import wsgi
import nova.conf

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


class Middleware:
    """Base of nova's middleware with a paste filter factory."""

    def __init__(self, application):
        self.application = application

    @classmethod
    def factory(cls, global_config, **local_config):
        """paste.filter_factory: wrap the next app of the pipeline."""

        def _factory(app):
            return cls(app, **local_config)

        return _factory


class ComputeReqIdMiddleware(request_id.RequestId):
    """Request ids in ``x-openstack-request-id`` and the compute alias."""

    compat_headers = ['x-compute-request-id']


class FaultWrapper(Middleware):
    """Turn unexpected exceptions into nova's computeFault (500)."""

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        try:
            return req.get_response(self.application)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            LOG.exception('Caught error: %s', exc)
            version = req.environ.get('nova.api_version_request')
            message = (
                'Unexpected API Error. Please report this at '
                'http://bugs.launchpad.net/nova/ and attach the Nova '
                'API log if possible.\n%s' % type(exc)
            )
            return wsgi.fault_response(500, message, version)


class _LimitingReader:
    """Read at most ``limit`` bytes of a body that gave no length."""

    def __init__(self, data, limit):
        self.data = data
        self.limit = limit
        self.bytes_read = 0

    def _count(self, chunk):
        self.bytes_read += len(chunk)
        if self.bytes_read > self.limit:
            raise _BodyTooLarge()
        return chunk

    def __iter__(self):
        for chunk in self.data:
            yield self._count(chunk)

    def read(self, size=-1):
        return self._count(self.data.read(size))

    def readline(self, size=-1):
        return self._count(self.data.readline(size))


class _BodyTooLarge(Exception):
    """A streamed body went past the size limit."""


class RequestBodySizeLimiter(Middleware):
    """Refuse request bodies larger than ``[api] max_request_body_size``.

    Answered with 413 and nova's ``overLimit`` fault, so clients see the
    same JSON error shape as for any other refusal.
    """

    @webob.dec.wsgify(RequestClass=wsgi.Request)
    def __call__(self, req):
        limit = CONF.api.max_request_body_size
        if req.content_length is not None and req.content_length > limit:
            return self._too_large()
        if req.content_length is None and req.is_body_readable:
            req.body_file = _LimitingReader(req.body_file_raw, limit)
        try:
            return req.get_response(self.application)
        except _BodyTooLarge:
            return self._too_large()

    @staticmethod
    def _too_large():
        return wsgi.fault_response(413, 'Request is too large.')
