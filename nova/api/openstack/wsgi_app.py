"""The compute API as a WSGI application, for any WSGI server.

``init_application()`` builds it; :mod:`nova.api.openstack.compute.wsgi`
calls it at import, for servers that import an ``application``::

    uwsgi --http-socket 127.0.0.1:8774 \
          --module nova.api.openstack.compute.wsgi:application

Configuration is read from ``$OS_NOVA_CONFIG_DIR`` (default /etc/nova):
nova.conf when present; the paste pipeline from ``[api]
api_paste_config``, looked up by :func:`find_paste_config`.
"""

import os
import sys

from oslo_config import cfg
from oslo_log import log as logging
from paste import deploy

from nova import config
import nova.conf

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

APP_NAME = 'osapi_compute'
_PACKAGE_ETC = os.path.join(
    os.path.dirname(
        os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
    ),
    'etc',
    'nova',
)


class PasteConfigNotFound(Exception):
    """No api-paste.ini where [api] api_paste_config says to look."""


def find_paste_config(conf=CONF):
    """Absolute path of the paste file.

    ``[api] api_paste_config`` as an absolute path, else that name in the
    config directories (next to the config files), else in the source
    tree's etc/nova, else in the install prefix's etc/nova (data_files).
    """
    name = conf.api.api_paste_config
    if os.path.isabs(name):
        if os.path.exists(name):
            return name
        raise PasteConfigNotFound('api-paste config %s not found' % name)
    try:
        found = conf.find_file(name)
    except cfg.NotInitializedError:  # no command line parsed (tests)
        found = None
    if found:
        return os.path.abspath(found)
    for directory in (
        _PACKAGE_ETC,
        os.path.join(sys.prefix, 'etc', 'nova'),
        '/etc/nova',
    ):
        candidate = os.path.join(directory, name)
        if os.path.exists(candidate):
            return candidate
    raise PasteConfigNotFound(
        'api-paste config %s not found in the config dirs, %s or %s'
        % (name, _PACKAGE_ETC, os.path.join(sys.prefix, 'etc', 'nova'))
    )


def load_app(conf=CONF, name=APP_NAME):
    """The WSGI app of the paste pipeline ``name``."""
    path = find_paste_config(conf)
    LOG.debug('Loading app %s from %s', name, path)
    return deploy.loadapp('config:%s' % path, name=name)


def init_application():
    """Parse the configuration, set up logging and the DB; return the app.

    For WSGI servers that import the application (uWSGI, mod_wsgi).
    """
    config_dir = os.environ.get('OS_NOVA_CONFIG_DIR', '/etc/nova').strip()
    config_file = os.path.join(config_dir, 'nova.conf')
    files = [config_file] if os.path.exists(config_file) else []
    config.parse_args([sys.argv[0]], default_config_files=files)
    return load_app()
