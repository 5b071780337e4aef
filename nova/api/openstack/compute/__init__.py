"""Controllers of the compute API v2.1 and the router that maps URLs to
them (:class:`nova.api.openstack.compute.routes.APIRouterV21`).
"""
