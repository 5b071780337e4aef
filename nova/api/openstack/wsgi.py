"""Request dispatch of the compute API: from a routed request to a
controller method and back to a JSON response, as nova's ``wsgi.Resource``.

Every response of the versioned API carries the negotiated microversion
in ``OpenStack-API-Version`` and ``X-OpenStack-Nova-API-Version`` with a
matching ``Vary``. Errors become nova's fault bodies, e.g.
``{"itemNotFound": {"code": 404, "message": "..."}}``.
"""

import functools

from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob
import webob.dec
import webob.exc

from nova import exception
from nova.api.openstack import api_version_request as avr

LOG = logging.getLogger(__name__)

API_VERSION_HEADER = 'OpenStack-API-Version'
LEGACY_API_VERSION_HEADER = 'X-OpenStack-Nova-API-Version'
JSON = 'application/json'

# Fault names per HTTP status, exactly as nova's Fault._fault_names.
_FAULT_NAMES = {
    400: 'badRequest',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'itemNotFound',
    405: 'badMethod',
    409: 'conflictingRequest',
    413: 'overLimit',
    415: 'badMediaType',
    429: 'overLimit',
    501: 'notImplemented',
    503: 'serviceUnavailable',
}


class Request(webob.Request):
    """A compute API request: its microversion and its nova context."""

    @property
    def api_version_request(self):
        """The negotiated microversion (2.1 until negotiated)."""
        version = self.environ.get('nova.api_version_request')
        return version if version is not None else avr.min_api_version()

    @api_version_request.setter
    def api_version_request(self, version):
        self.environ['nova.api_version_request'] = version

    @property
    def context(self):
        """The :class:`nova.context.RequestContext` of the caller."""
        return self.environ['nova.context']

    def is_version(self, min_version, max_version=None):
        """Whether the negotiated microversion is in the given range."""
        return self.api_version_request.matches(min_version, max_version)

    def set_api_version_request(self):
        """Negotiate the microversion from the request headers."""
        self.api_version_request = avr.from_headers(self.headers)


def fault_body(code, message):
    """Nova's error body for an HTTP status and a message."""
    name = _FAULT_NAMES.get(code, 'computeFault')
    body = {'code': code, 'message': message}
    return {name: body}


def add_version_headers(response, version):
    """Echo the negotiated microversion, as nova does on every reply."""
    if version is None or version.is_null():
        return
    text = version.get_string()
    response.headers[API_VERSION_HEADER] = 'compute ' + text
    response.headers[LEGACY_API_VERSION_HEADER] = text
    vary = [
        v.strip()
        for v in response.headers.get('Vary', '').split(',')
        if v.strip()
    ]
    for header in (API_VERSION_HEADER, LEGACY_API_VERSION_HEADER):
        if header not in vary:
            vary.append(header)
    response.headers['Vary'] = ', '.join(vary)


def json_response(status, body=None, headers=None):
    """A webob response carrying ``body`` as JSON (or nothing)."""
    response = webob.Response(status=status)
    if body is not None:
        response.content_type = JSON
        response.charset = 'utf-8'
        response.body = jsonutils.dump_as_bytes(body)
    else:
        response.content_type = None
        response.body = b''
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def fault_response(code, message, version=None, headers=None):
    """A JSON fault response; 413/429 also say when to retry."""
    body = fault_body(code, message)
    if code in (413, 429) and headers and 'Retry-After' in headers:
        body['overLimit']['retryAfter'] = headers['Retry-After']
    response = json_response(code, body, headers)
    add_version_headers(response, version)
    return response


def http_error_to_response(exc, version=None):
    """Turn a webob HTTP error raised by a controller into a fault."""
    message = exc.explanation or exc.detail or exc.title
    headers = {
        k: v
        for k, v in exc.headers.items()
        if k.lower() in ('retry-after', 'location')
    }
    return fault_response(exc.code, message, version, headers)


def nova_error_to_response(exc, version=None):
    """Turn a NovaException into nova's fault with its HTTP code."""
    code = int(getattr(exc, 'code', 500) or 500)
    if code >= 500:
        LOG.error('API method failed: %s', exc)
    return fault_response(code, exc.format_message(), version)


def response(code):
    """Set the success status of a controller method (default 200)."""

    def decorator(func):
        func.wsgi_code = code
        return func

    return decorator


def api_version(min_version, max_version=None):
    """Serve a method only in a microversion range; 404 outside it.

    The same as nova's ``Controller.api_version`` for methods that exist
    in one range only (e.g. the images proxy until 2.35).
    """

    def decorator(func):
        @functools.wraps(func)
        def wrapper(self, req, *args, **kwargs):
            if not req.is_version(min_version, max_version):
                raise webob.exc.HTTPNotFound(
                    explanation='The resource could not be found.'
                )
            return func(self, req, *args, **kwargs)

        return wrapper

    return decorator


class Resource:
    """WSGI app of one controller: routes' ``action`` picks the method.

    Parses the JSON body, negotiates the microversion, calls the method
    with the URL arguments and ``body=``, and renders its dict result.
    """

    def __init__(self, controller):
        self.controller = controller

    @webob.dec.wsgify(RequestClass=Request)
    def __call__(self, req):
        try:
            req.set_api_version_request()
        except avr.InvalidGlobalAPIVersion as exc:
            return fault_response(406, exc.format_message())
        except exception.Invalid as exc:
            return fault_response(400, exc.format_message())
        version = req.api_version_request
        args = dict(req.environ['wsgiorg.routing_args'][1])
        action = args.pop('action')
        args.pop('controller', None)
        args.pop('format', None)
        method = getattr(self.controller, action)
        try:
            self._check_project_in_url(req, args.pop('project_id', None))
            self._check_query_string(req)
            if req.method in ('POST', 'PUT'):
                args['body'] = self._parse_body(req)
            result = method(req, **args)
        except webob.exc.HTTPException as exc:
            return http_error_to_response(exc, version)
        except exception.NovaException as exc:
            return nova_error_to_response(exc, version)
        if isinstance(result, webob.Response):
            response_obj = result
        else:
            status = getattr(method, 'wsgi_code', 200)
            response_obj = json_response(
                status, result if status != 204 else None
            )
        add_version_headers(response_obj, version)
        return response_obj

    @staticmethod
    def _check_project_in_url(req, project_id):
        """A project id in the URL must be the caller's, as in nova."""
        if project_id is None:
            return
        context = req.context
        if context.project_id and project_id != context.project_id:
            raise webob.exc.HTTPBadRequest(
                explanation=(
                    "Malformed request URL: URL's project_id '%s' doesn't "
                    "match Context's project_id '%s'"
                    % (project_id, context.project_id)
                )
            )

    @staticmethod
    def _check_query_string(req):
        """A query string must decode as UTF-8: the controllers read it
        through ``req.GET``, which would raise UnicodeDecodeError (a 500)
        on the first byte that does not."""
        try:
            req.GET  # noqa: B018 (decoded and cached here)
        except UnicodeDecodeError:
            raise webob.exc.HTTPBadRequest(
                explanation='The query string is not valid UTF-8.'
            )

    @staticmethod
    def _parse_body(req):
        """The request body as JSON, or None when there is none."""
        if not req.content_length and not req.body:
            return None
        content_type = req.content_type
        if (
            content_type
            and content_type not in (JSON, 'text/plain')
            and not content_type.endswith('+json')
        ):
            raise webob.exc.HTTPUnsupportedMediaType(
                explanation='Unsupported Content-Type'
            )
        try:
            return jsonutils.loads(req.body)
        except (ValueError, UnicodeDecodeError):
            raise webob.exc.HTTPBadRequest(
                explanation='Malformed request body'
            )
