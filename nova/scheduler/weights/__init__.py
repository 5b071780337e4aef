"""Host weighers: rank the hosts that passed the filters.

Each weigher's raw values are normalized to [0, 1] over the candidate
hosts, then multiplied by the weigher's multiplier, and the weighted
values of all weighers are summed, as in nova. A higher weight is better.
"""


class BaseHostWeigher:
    """Base of weighers; subclasses implement the raw weight of a host."""

    def weight_multiplier(self) -> float:
        """How much this weigher counts; negative inverts its preference."""
        return 1.0

    def raw_weight(self, host_state) -> float:
        """The unnormalized weight of ``host_state``."""
        raise NotImplementedError()


def _normalize(values):
    low, high = min(values), max(values)
    if high == low:
        return [0.0 for _ in values]
    return [(value - low) / (high - low) for value in values]


def weigh_hosts(weighers: list, host_states: list) -> list:
    """``(weight, host_state)`` pairs, best first.

    Ties keep a stable (host, nodename) order so that results do not
    depend on the order the database returned the rows in.
    """
    totals = [0.0] * len(host_states)
    if host_states:
        for weigher in weighers:
            normalized = _normalize(
                [weigher.raw_weight(state) for state in host_states]
            )
            multiplier = weigher.weight_multiplier()
            totals = [
                total + multiplier * value
                for total, value in zip(totals, normalized, strict=True)
            ]
    pairs = list(zip(totals, host_states, strict=True))
    pairs.sort(key=lambda pair: (-pair[0], pair[1].host, pair[1].nodename))
    return pairs
