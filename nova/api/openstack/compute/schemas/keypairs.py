"""Schemas of os-keypairs create, per microversion (as nova's)."""

import copy

create = {
    'type': 'object',
    'properties': {
        'keypair': {
            'type': 'object',
            'properties': {
                'name': {'type': 'string'},
                'public_key': {'type': 'string'},
            },
            'required': ['name'],
            'additionalProperties': False,
        }
    },
    'required': ['keypair'],
    'additionalProperties': False,
}

create_v22 = copy.deepcopy(create)
create_v22['properties']['keypair']['properties']['type'] = {
    'type': 'string',
    'enum': ['ssh', 'x509'],
}

create_v210 = copy.deepcopy(create_v22)
create_v210['properties']['keypair']['properties']['user_id'] = {
    'type': 'string'
}
