"""Values: what each step produced, the arguments each step gets, and their
JSON encodings.

Values are encoded once, when produced: a result that is not JSON or is
over the size cap fails its task at execute time, with an error naming it.
"""

import json

from nova.orchestration import retry as retry_mod
from nova.orchestration._compiler import CONST
from nova.orchestration._compiler import RESULT
from nova.orchestration.exceptions import MissingRequirement
from nova.orchestration.exceptions import NotSerializable
from nova.orchestration.exceptions import ResultTooLarge


def _extract(value, ext):
    if ext is None:
        return value
    if isinstance(ext, int):
        return value[ext]
    return value[ext[1]]


class Values:
    """Results, failures and retry histories by node, plus the store.

    ``result[i]`` is the value node ``i`` returned (kept for its
    successors and its revert), ``failure[i]`` the Failure it ended with;
    ``history[r]`` and ``retrying`` belong to retry controllers.
    """

    def __init__(self, compiled, store, limit):
        n = len(compiled.nodes)
        self.compiled = compiled
        self.store = store
        self.limit = limit
        self.result = [None] * n
        self.failure = [None] * n
        self.history = {
            nd.index: retry_mod.History()
            for nd in compiled.nodes
            if nd.is_retry
        }
        self.retrying = set()

    def forget(self, i):
        """Node ``i`` runs again (its retry scope restarts)."""
        self.result[i] = self.failure[i] = None
        if i in self.history:
            self.history[i] = retry_mod.History()
            self.retrying.discard(i)

    # -- encodings -----------------------------------------------------------
    def encode(self, value, name, what='result'):
        try:
            text = json.dumps(value, separators=(',', ':'))
        except (TypeError, ValueError) as e:
            raise NotSerializable(
                'task %r: %s is not JSON serializable (%s)' % (name, what, e),
                task=name,
            ) from None
        if len(text) > self.limit:  # ensure_ascii: chars == bytes
            raise ResultTooLarge(
                'task %r: encoded %s is %d bytes, over the '
                '%d bytes cap (result_size_limit)'
                % (name, what, len(text), self.limit),
                task=name,
            )
        return text

    def encode_failure(self, failure):
        d = failure.to_dict()
        text = json.dumps(d, default=repr)
        if len(text) > self.limit:
            d['traceback'] = d['traceback'][-(self.limit // 2) :]
            d['exc_args'] = None
            d['message'] = d['message'][: self.limit // 4]
            text = json.dumps(d, default=repr)
        return text

    def encode_retry(self, i):
        return json.dumps(
            {
                'value': self.result[i],
                'history': self.history[i].to_json(),
                'retrying': i in self.retrying,
            }
        )

    # -- arguments -----------------------------------------------------------
    def kwargs(self, node, engine_args, for_revert=False):
        """Arguments of ``node``'s execute (or revert); ``engine_args`` are
        the values of ENGINE_ARGUMENTS (workflow id and generation)."""
        kw = {}
        res = self.result
        store = self.store
        for arg, kind, a, b, required in node.bindings:
            if kind == RESULT:
                kw[arg] = res[a] if b is None else _extract(res[a], b)
            elif kind == CONST:
                kw[arg] = a
            elif a in store:
                kw[arg] = store[a]
            elif for_revert and required:
                kw[arg] = None
            elif required:
                raise MissingRequirement(
                    'task %r requires %r which is a secret not available '
                    'after resume; declare it optional to run without it'
                    % (node.name, a)
                )
        if node.is_retry:
            kw['history'] = self.history[node.index]
        if for_revert:
            kw.update(engine_args)
        else:
            for name in node.atom._engine_args:
                kw[name] = engine_args[name]
        return kw

    def revert_kwargs(self, i, engine_args, flow_failures):
        node = self.compiled.nodes[i]
        kw = self.kwargs(node, engine_args, for_revert=True)
        if not node.is_retry:
            kw['result'] = (
                self.failure[i]
                if self.failure[i] is not None
                else self.result[i]
            )
            kw['flow_failures'] = dict(flow_failures)
        params = node.atom._revert_params
        if params is not None:
            kw = {k: v for k, v in kw.items() if k in params}
        return kw

    # -- outputs -------------------------------------------------------------
    def provided(self, rows, succeeded):
        """{provided symbol: value} of every succeeded step."""
        out = {}
        for i, nd in enumerate(self.compiled.nodes):
            if rows[i]['state'] == succeeded and not nd.is_retry:
                for sym, ext in nd.provides:
                    out[sym] = _extract(self.result[i], ext)
        return out
