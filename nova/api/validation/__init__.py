"""JSON-schema validation of request bodies and query strings.

``@validation.schema(schema, min_version, max_version)`` checks the body
of a request whose microversion is in the range; stack several for
schemas that change across versions. A failure is a 400 with nova's
message ("Invalid input for field/attribute ..."), raised before the
controller runs, so nothing is persisted.
"""

import functools

from nova.api.validation import validators


def schema(request_body_schema, min_version=None, max_version=None):
    """Validate ``body`` against the schema in a microversion range."""
    validator = validators.SchemaValidator(request_body_schema)

    def decorator(func):
        @functools.wraps(func)
        def wrapper(self, req, *args, **kwargs):
            if req.is_version(min_version, max_version):
                validator.validate(kwargs.get('body'))
            return func(self, req, *args, **kwargs)

        return wrapper

    return decorator


def query_schema(query_params_schema, min_version=None, max_version=None):
    """Validate the query string (a dict of lists) in a version range."""
    validator = validators.SchemaValidator(query_params_schema, is_body=False)

    def decorator(func):
        @functools.wraps(func)
        def wrapper(self, req, *args, **kwargs):
            if req.is_version(min_version, max_version):
                validator.validate(req.GET.dict_of_lists())
            return func(self, req, *args, **kwargs)

        return wrapper

    return decorator
