"""OpenStack compute API v2.1: WSGI plumbing shared by the controllers."""
