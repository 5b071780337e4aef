"""Host filters: each says whether one host can take the request.

Filters are enabled by class name in ``[filter_scheduler]
enabled_filters`` and run in that order; :func:`load_filters` fails at
startup on a name that is not a filter, so a typo never silently
disables a check.
"""

import importlib

# Modules whose BaseHostFilter subclasses can be enabled by name.
_FILTER_MODULES = (
    'nova.scheduler.filters.availability_zone_filter',
    'nova.scheduler.filters.compute_filter',
    'nova.scheduler.filters.resource_filters',
)


class FilterNotFound(ValueError):
    """A name in enabled_filters is not a known host filter."""


class BaseHostFilter:
    """Base of host filters; subclasses implement :meth:`host_passes`."""

    def host_passes(self, host_state, request_spec: dict) -> bool:
        """Whether ``host_state`` can take one instance of the request."""
        raise NotImplementedError()

    def filter_all(self, host_states: list, request_spec: dict) -> list:
        """The host states that pass, in their given order."""
        return [
            state
            for state in host_states
            if self.host_passes(state, request_spec)
        ]


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def all_filters() -> dict:
    """Every known filter class by class name."""
    for module in _FILTER_MODULES:
        importlib.import_module(module)
    return {cls.__name__: cls for cls in _subclasses(BaseHostFilter)}


def load_filters(names: list) -> list:
    """Instances of the filters named in ``names``, in that order.

    :raises FilterNotFound: naming the unknown filter and the known ones.
    """
    known = all_filters()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise FilterNotFound(
            '[filter_scheduler] enabled_filters names unknown filter(s) %s;'
            ' known filters: %s'
            % (', '.join(unknown), ', '.join(sorted(known)))
        )
    return [known[name]() for name in names]
