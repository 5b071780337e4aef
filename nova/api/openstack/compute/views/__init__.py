"""View builders: instance dicts to the API's JSON bodies."""
