"""Argument binding and JSON encoding of results, failures and retry history.

Values are encoded once, when produced: a result that is not JSON or is over
the size cap fails its task at execute time, with an error naming it.
"""

import json

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


class ValuesMixin:
    """Arguments for execute/revert and encodings (mixed into Runtime)."""

    def _encode(self, value, name, what='result'):
        try:
            text = json.dumps(value, separators=(',', ':'))
        except (TypeError, ValueError) as e:
            raise NotSerializable(
                'task %r: %s is not JSON serializable (%s)' % (name, what, e),
                task=name,
            ) from None
        if len(text) > self._limit:  # ensure_ascii: chars == bytes
            raise ResultTooLarge(
                'task %r: encoded %s is %d bytes, over the '
                '%d bytes cap (result_size_limit)'
                % (name, what, len(text), self._limit),
                task=name,
            )
        return text

    def _encode_failure(self, failure):
        d = failure.to_dict()
        text = json.dumps(d, default=repr)
        if len(text) > self._limit:
            d['traceback'] = d['traceback'][-(self._limit // 2) :]
            d['exc_args'] = None
            d['message'] = d['message'][: self._limit // 4]
            text = json.dumps(d, default=repr)
        return text

    def _encode_retry(self, i):
        return json.dumps(
            {
                'value': self._res[i],
                'history': self._history[i].to_json(),
                'retrying': i in self._retrying,
            }
        )

    def _kwargs(self, node, for_revert=False):
        kw = {}
        res = self._res
        for arg, kind, a, b, required in node.bindings:
            if kind == RESULT:
                kw[arg] = res[a] if b is None else _extract(res[a], b)
            elif kind == CONST:
                kw[arg] = a
            elif a in self._store:
                kw[arg] = self._store[a]
            elif for_revert and required:
                kw[arg] = None
            elif required:
                raise MissingRequirement(
                    'task %r requires %r which is a secret not available '
                    'after resume; declare it optional to run without it'
                    % (node.name, a)
                )
        if node.is_retry:
            kw['history'] = self._history[node.index]
        engine_args = node.atom._engine_args
        if for_revert or engine_args:
            # revert() gets both (filtered by its signature later); execute()
            # only those it declares.
            if for_revert or 'workflow_id' in engine_args:
                kw['workflow_id'] = self.workflow_id
            if for_revert or 'workflow_generation' in engine_args:
                kw['workflow_generation'] = self._generation
        return kw

    def _revert_call(self, i):
        node = self._compiled.nodes[i]
        kw = self._kwargs(node, for_revert=True)
        if not node.is_retry:
            kw['result'] = (
                self._fail[i] if self._fail[i] is not None else self._res[i]
            )
            kw['flow_failures'] = dict(self._failures)
        params = node.atom._revert_params
        if params is not None:
            kw = {k: v for k, v in kw.items() if k in params}
        return node.atom.revert, kw
