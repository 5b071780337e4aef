"""Schemas of the server metadata bodies (as nova's)."""

from nova.api.validation import parameter_types as types

update_all = {
    'type': 'object',
    'properties': {'metadata': types.metadata},
    'required': ['metadata'],
    'additionalProperties': False,
}

update_item = {
    'type': 'object',
    'properties': {
        'meta': {
            'type': 'object',
            'patternProperties': types.metadata['patternProperties'],
            'additionalProperties': False,
            'minProperties': 1,
            'maxProperties': 1,
        }
    },
    'required': ['meta'],
    'additionalProperties': False,
}
