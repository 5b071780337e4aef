"""The compute REST API: WSGI application, middleware and its server."""
