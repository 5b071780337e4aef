"""Reusable pieces of nova's request schemas."""

import copy

name = {
    'type': 'string',
    'minLength': 1,
    'maxLength': 255,
    'format': 'name',
}

# A name that may be null (e.g. availability_zone).
name_or_none = {'oneOf': [copy.deepcopy(name), {'type': 'null'}]}

description = {
    'type': ['string', 'null'],
    'minLength': 0,
    'maxLength': 255,
    'pattern': r'^[^\x00-\x1f\x7f]*$',
}

uuid = {'type': 'string', 'format': 'uuid'}

image_id_or_empty_string = {
    'oneOf': [
        {'type': 'string', 'format': 'uuid'},
        {'type': 'string', 'maxLength': 0},
    ],
}

flavor_ref = {'type': ['string', 'integer'], 'minLength': 1}

positive_integer = {
    'type': ['integer', 'string'],
    'pattern': '^[0-9]*$',
    'minimum': 1,
    'minLength': 1,
}

non_negative_integer = {
    'type': ['integer', 'string'],
    'pattern': '^[0-9]*$',
    'minimum': 0,
    'minLength': 1,
}

boolean = {
    'type': ['boolean', 'string'],
    'enum': [
        True,
        'True',
        'TRUE',
        'true',
        '1',
        'ON',
        'On',
        'on',
        'YES',
        'Yes',
        'yes',
        False,
        'False',
        'FALSE',
        'false',
        '0',
        'OFF',
        'Off',
        'off',
        'NO',
        'No',
        'no',
    ],
}

metadata = {
    'type': 'object',
    'patternProperties': {
        '^[a-zA-Z0-9-_:. ]{1,255}$': {'type': 'string', 'maxLength': 255},
    },
    'additionalProperties': False,
}

accessIPv4 = {'type': 'string', 'format': 'ipv4'}
accessIPv6 = {'type': 'string', 'format': 'ipv6'}
ip_address = {
    'type': 'string',
    'oneOf': [{'format': 'ipv4'}, {'format': 'ipv6'}],
}

admin_password = {'type': 'string'}

# Query parameters arrive as lists of strings.
single_param = lambda schema: {  # noqa: E731
    'type': 'array',
    'items': schema,
    'minItems': 1,
    'maxItems': 1,
}
multi_params = lambda schema: {  # noqa: E731
    'type': 'array',
    'items': schema,
}

common_query_param = {'type': 'string'}
common_query_regex_param = {'type': 'string', 'format': 'regex'}
