"""Route the top of the URL space to the version documents or the API.

A small replacement for Paste's urlmap (not a dependency), with nova's
notation: ``/v2.1`` serves exactly that path (and ``/v2.1/``), while
``/v2.1/+`` serves everything below it. The matched prefix moves from
PATH_INFO to SCRIPT_NAME, so each app sees its own URLs and builds links
under the right base.
"""

from nova.api.openstack import wsgi


def urlmap_factory(loader, global_conf, **local_conf):
    """paste composite: ``/prefix = app`` and ``/prefix/+ = app`` lines."""
    exact, below = [], []
    for key, app_name in local_conf.items():
        app = loader.get_app(app_name, global_conf=global_conf)
        if key.endswith('/+'):
            below.append(('/' + key[:-2].strip('/'), app))
        else:
            prefix = key.strip('/')
            exact.append(('/' + prefix if prefix else '', app))
    return URLMap(exact, below)


class URLMap:
    """Dispatch on exact paths first, then on the longest prefix."""

    def __init__(self, exact, below):
        self.exact = dict(exact)
        self.below = sorted(below, key=lambda item: -len(item[0]))

    def __call__(self, environ, start_response):
        path = (environ.get('PATH_INFO') or '').rstrip('/')
        if path in self.exact:
            return self._call(self.exact[path], path, environ, start_response)
        for prefix, app in self.below:
            if path == prefix or path.startswith(prefix + '/'):
                return self._call(app, prefix, environ, start_response)
        response = wsgi.fault_response(404, 'The resource could not be found.')
        return response(environ, start_response)

    @staticmethod
    def _call(app, prefix, environ, start_response):
        environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME', '') + prefix
        environ['PATH_INFO'] = environ.get('PATH_INFO', '')[len(prefix) :]
        return app(environ, start_response)
