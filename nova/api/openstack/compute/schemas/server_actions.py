"""Schemas of the bodies of ``POST /servers/{id}/action`` (as nova's)."""

reboot = {
    'type': 'object',
    'properties': {
        'reboot': {
            'type': 'object',
            'properties': {
                'type': {
                    'type': 'string',
                    'enum': ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'],
                }
            },
            'required': ['type'],
            'additionalProperties': False,
        }
    },
    'required': ['reboot'],
    'additionalProperties': False,
}
