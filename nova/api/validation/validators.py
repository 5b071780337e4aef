"""The JSON-schema validator nova uses, with nova's formats and messages."""

import base64
import binascii
import ipaddress
import re

import jsonschema
from jsonschema import exceptions as jsonschema_exc
from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova import exception

_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks('uuid')
def _is_uuid(instance):
    if not isinstance(instance, str):
        return True
    # Nova accepts dashed uuids only (no braces, no urn:).
    return uuidutils.is_uuid_like(instance) and len(instance) == 36


@_FORMATS.checks('name', raises=ValueError)
def _is_name(instance):
    """A printable name without leading or trailing whitespace."""
    if not isinstance(instance, str):
        return True
    if instance.strip() != instance:
        raise ValueError(
            'An invalid \'name\' value was provided. The '
            'name must be: printable characters. Can not '
            'start or end with whitespace.'
        )
    if not all(char.isprintable() for char in instance):
        raise ValueError(
            'An invalid \'name\' value was provided. The '
            'name must be: printable characters.'
        )
    return True


@_FORMATS.checks('ipv4')
def _is_ipv4(instance):
    if not isinstance(instance, str):
        return True
    try:
        ipaddress.IPv4Address(instance)
    except ValueError:
        return False
    return True


@_FORMATS.checks('ipv6')
def _is_ipv6(instance):
    if not isinstance(instance, str):
        return True
    try:
        ipaddress.IPv6Address(instance)
    except ValueError:
        return False
    return True


@_FORMATS.checks('base64')
def _is_base64(instance):
    if not isinstance(instance, str):
        return True
    try:
        base64.b64decode(instance.encode(), validate=False)
    except (binascii.Error, ValueError):
        return False
    return bool(re.match(r'^[A-Za-z0-9+/=\s]*$', instance))


@_FORMATS.checks('date-time')
def _is_datetime(instance):
    if not isinstance(instance, str):
        return True
    try:
        timeutils.parse_isotime(instance)
    except ValueError:
        return False
    return True


class SchemaValidator:
    """Validate a document; raise nova's ValidationError (400)."""

    def __init__(self, schema, is_body=True):
        validator_cls = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft4Validator
        )
        self.validator = validator_cls(schema, format_checker=_FORMATS)
        self.is_body = is_body

    def validate(self, document):
        """:raises nova.exception.ValidationError: with nova's text."""
        try:
            self.validator.validate(document)
        except jsonschema_exc.ValidationError as ex:
            if isinstance(ex.cause, ValueError) and ex.validator == 'format':
                message = str(ex.cause)
            else:
                message = ex.message
            if len(ex.path) > 0:
                if self.is_body:
                    detail = (
                        'Invalid input for field/attribute %(path)s. '
                        'Value: %(value)s. %(message)s'
                    ) % {
                        'path': ex.path.pop(),
                        'value': ex.instance,
                        'message': message,
                    }
                else:
                    detail = (
                        'Invalid input for query parameters '
                        '%(path)s. Value: %(value)s. %(message)s'
                    ) % {
                        'path': ex.path.pop(),
                        'value': ex.instance,
                        'message': message,
                    }
            else:
                detail = message
            raise exception.ValidationError(detail=detail)
        except TypeError as ex:
            raise exception.ValidationError(detail=str(ex))
