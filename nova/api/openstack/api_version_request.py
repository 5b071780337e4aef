"""Microversions of the compute API v2.1, as nova negotiates them.

A request names its version with ``OpenStack-API-Version: compute X.Y``
or the older ``X-OpenStack-Nova-API-Version: X.Y``; no header means the
minimum (2.1) and ``latest`` the maximum. Changes per version, of the
APIs served here:

* 2.3  - extended server attributes (reservation_id, launch_index, ...)
* 2.9  - ``locked`` in server show/detail
* 2.16 - ``host_status`` in server show/detail (admin)
* 2.19 - server ``description`` on create, update and show
* 2.21 - instance actions of deleted servers
* 2.26 - server ``tags`` in show/detail
* 2.28 - hypervisor ``cpu_info`` as an object
* 2.33 - hypervisors list/detail paginated
* 2.36 - images proxy gone (404); network limits dropped from limits
* 2.37 - ``networks`` required on create ("auto", "none" or a list)
* 2.38 - an unknown ``status`` filter is a 400
* 2.39 - ``maxImageMeta`` dropped from limits
* 2.47 - the flavor embedded in server show/detail/update
* 2.51 - instance action events shown to non-admins (no traceback)
"""

import re

import microversion_parse

from nova import exception

MIN_API_VERSION = '2.1'
MAX_API_VERSION = '2.51'

_VERSION_RE = re.compile(r'^([1-9]\d*)\.([1-9]\d*|0)$')


class InvalidAPIVersionString(exception.Invalid):
    """A version header that is not MAJOR.MINOR."""

    msg_fmt = (
        'API Version String %(version)s is of invalid format. Must '
        'be of format MajorNum.MinorNum.'
    )


class InvalidGlobalAPIVersion(exception.NovaException):
    """A version outside the range this server supports: 406."""

    msg_fmt = (
        'Version %(req_ver)s is not supported by the API. Minimum '
        'is %(min_ver)s and maximum is %(max_ver)s.'
    )
    code = 406


class APIVersionRequest:
    """A MAJOR.MINOR microversion that orders and compares as numbers."""

    def __init__(self, version_string=None):
        self.ver_major = 0
        self.ver_minor = 0
        if version_string is not None:
            match = _VERSION_RE.match(version_string)
            if not match:
                raise InvalidAPIVersionString(version=version_string)
            self.ver_major = int(match.group(1))
            self.ver_minor = int(match.group(2))

    def _key(self):
        return (self.ver_major, self.ver_minor)

    def __lt__(self, other):
        return self._key() < APIVersionRequest._of(other)._key()

    def __le__(self, other):
        return self._key() <= APIVersionRequest._of(other)._key()

    def __gt__(self, other):
        return self._key() > APIVersionRequest._of(other)._key()

    def __ge__(self, other):
        return self._key() >= APIVersionRequest._of(other)._key()

    def __eq__(self, other):
        return self._key() == APIVersionRequest._of(other)._key()

    def __hash__(self):
        return hash(self._key())

    @staticmethod
    def _of(value):
        return (
            value
            if isinstance(value, APIVersionRequest)
            else APIVersionRequest(value)
        )

    def is_null(self):
        """True for the empty version (0.0)."""
        return self._key() == (0, 0)

    def matches(self, min_version=None, max_version=None):
        """Whether this version lies in [min_version, max_version]."""
        if min_version is not None and self < min_version:
            return False
        if max_version is not None and self > max_version:
            return False
        return True

    def get_string(self):
        """The version as 'MAJOR.MINOR'."""
        return '%d.%d' % self._key()

    def __repr__(self):
        return 'APIVersionRequest(%r)' % self.get_string()


def min_api_version():
    """The lowest microversion served."""
    return APIVersionRequest(MIN_API_VERSION)


def max_api_version():
    """The highest microversion served."""
    return APIVersionRequest(MAX_API_VERSION)


def from_headers(headers):
    """The requested version, checked against the supported range.

    :raises InvalidAPIVersionString: header not of the MAJOR.MINOR form.
    :raises InvalidGlobalAPIVersion: version out of range (406).
    """
    requested = microversion_parse.get_version(
        headers,
        service_type='compute',
        legacy_headers=['X-OpenStack-Nova-API-Version'],
    )
    if requested is None:
        return min_api_version()
    requested = requested.strip()
    if requested.lower() == 'latest':
        return max_api_version()
    version = APIVersionRequest(requested)
    if not version.matches(min_api_version(), max_api_version()):
        raise InvalidGlobalAPIVersion(
            req_ver=version.get_string(),
            min_ver=MIN_API_VERSION,
            max_ver=MAX_API_VERSION,
        )
    return version
