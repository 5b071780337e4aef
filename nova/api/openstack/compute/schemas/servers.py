"""Schemas of server create and update, per microversion (as nova's)."""

import copy

from nova.api.validation import parameter_types as types

_networks_list = {
    'type': 'array',
    'items': {
        'type': 'object',
        'properties': {
            'fixed_ip': types.ip_address,
            'port': {
                'oneOf': [
                    {'type': 'string', 'format': 'uuid'},
                    {'type': 'null'},
                ]
            },
            'uuid': {'type': 'string'},
        },
        'additionalProperties': False,
    },
}

_bdm = {'type': 'array', 'items': {'type': 'object'}}

_server_create = {
    'type': 'object',
    'properties': {
        'name': types.name,
        'imageRef': types.image_id_or_empty_string,
        'flavorRef': types.flavor_ref,
        'adminPass': types.admin_password,
        'metadata': types.metadata,
        'networks': _networks_list,
        'OS-DCF:diskConfig': {'type': 'string', 'enum': ['AUTO', 'MANUAL']},
        'accessIPv4': types.accessIPv4,
        'accessIPv6': types.accessIPv6,
        'personality': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {
                    'path': {'type': 'string'},
                    'contents': {'type': 'string', 'format': 'base64'},
                },
                'additionalProperties': False,
            },
        },
        'availability_zone': types.name,
        'block_device_mapping': _bdm,
        'block_device_mapping_v2': _bdm,
        'config_drive': types.boolean,
        'key_name': types.name,
        'min_count': types.positive_integer,
        'max_count': types.positive_integer,
        'return_reservation_id': types.boolean,
        'security_groups': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {
                    'name': {
                        'type': 'string',
                        'minLength': 1,
                        'maxLength': 255,
                    }
                },
                'additionalProperties': False,
            },
        },
        'user_data': {
            'type': 'string',
            'format': 'base64',
            'maxLength': 65535,
        },
    },
    'required': ['name', 'flavorRef'],
    'additionalProperties': False,
}

_hints = {'type': 'object', 'additionalProperties': True}

create = {
    'type': 'object',
    'properties': {
        'server': _server_create,
        'os:scheduler_hints': _hints,
        'OS-SCH-HNT:scheduler_hints': _hints,
    },
    'required': ['server'],
    'additionalProperties': False,
}

create_v219 = copy.deepcopy(create)
create_v219['properties']['server']['properties']['description'] = (
    types.description
)

create_v237 = copy.deepcopy(create_v219)
create_v237['properties']['server']['properties']['networks'] = {
    'oneOf': [_networks_list, {'type': 'string', 'enum': ['none', 'auto']}]
}
create_v237['properties']['server']['required'].append('networks')

_server_update = {
    'type': 'object',
    'properties': {
        'name': types.name,
        'OS-DCF:diskConfig': {'type': 'string', 'enum': ['AUTO', 'MANUAL']},
        'accessIPv4': types.accessIPv4,
        'accessIPv6': types.accessIPv6,
    },
    'additionalProperties': False,
}

update = {
    'type': 'object',
    'properties': {'server': _server_update},
    'required': ['server'],
    'additionalProperties': False,
}

update_v219 = copy.deepcopy(update)
update_v219['properties']['server']['properties']['description'] = (
    types.description
)
