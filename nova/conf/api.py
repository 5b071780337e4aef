"""Options of the ``[api]`` group: the compute REST API."""

from oslo_config import cfg

api_group = cfg.OptGroup(
    'api', title='API options', help='Options of the compute REST API v2.1.'
)

API_OPTS = [
    cfg.StrOpt(
        'auth_strategy',
        default='noauth2',
        choices=[
            (
                'noauth2',
                'No authentication: the token '
                '"user:project" names the caller; user "admin" '
                'is an administrator. For testing and nova-all.',
            ),
            (
                'keystone',
                'keystonemiddleware auth_token '
                'validates tokens against Keystone.',
            ),
        ],
        help='How API requests are authenticated.',
    ),
    cfg.IntOpt(
        'max_limit',
        default=1000,
        min=1,
        help='Largest number of items a collection (server list, '
        'flavors, ...) returns in one response; larger '
        '"limit" values are clamped to it.',
    ),
    cfg.StrOpt(
        'api_paste_config',
        default='api-paste.ini',
        help='File name of the paste deploy configuration of the '
        'API pipeline; searched next to the config files and '
        'in etc/nova of the installed package.',
    ),
    cfg.IntOpt(
        'max_request_body_size',
        default=114688,
        min=1,
        help='Largest accepted request body, in bytes. Larger '
        'bodies are rejected with 413.',
    ),
]


def register_opts(conf):
    conf.register_group(api_group)
    conf.register_opts(API_OPTS, group=api_group)


def list_opts():
    return {api_group: API_OPTS}
