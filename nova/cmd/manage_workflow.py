"""``nova-manage workflow``: see, steer and repair workflows.

Exit codes (besides nova-manage's 0, 1, 2, 127, 255):

* 3: refused (the workflow already finished) or, for ``audit``, at least
  one inconsistency found.

``--json`` output is stable: keys are only ever added.
"""

import datetime
import json
import re
import sys

from oslo_utils import timeutils
from oslo_utils import uuidutils

from nova import context as nova_context
from nova import orchestration as orc
from nova.cmd import common
from nova.conductor import audit
from nova.db import api as db_api
from nova.db import workflows as workflows_db

EXIT_REFUSED = 3
EXIT_INCONSISTENT = 3

_AGE_RE = re.compile(r'^(\d+)([smhdw])$')
_AGE_UNITS = {
    's': 'seconds',
    'm': 'minutes',
    'h': 'hours',
    'd': 'days',
    'w': 'weeks',
}

# Graphviz fill colors of task states in ``show --dot``.
STATE_COLORS = {
    'PENDING': 'white',
    'RUNNING': 'lightblue',
    'SUCCESS': 'palegreen',
    'FAILURE': 'salmon',
    'REVERTING': 'orange',
    'REVERTED': 'khaki',
    'REVERT_FAILURE': 'red',
}


class BadInput(ValueError):
    """A malformed argument (exit 127)."""


def parse_age(text):
    """'90s', '10m', '2h', '7d', '1w' -> timedelta."""
    match = _AGE_RE.match(text or '')
    if not match:
        raise BadInput(
            'invalid age %r: use a number and a unit s, m, h, d '
            'or w, e.g. 30m or 7d' % text
        )
    return datetime.timedelta(
        **{_AGE_UNITS[match.group(2)]: int(match.group(1))}
    )


def _check_id(workflow_id):
    if not uuidutils.is_uuid_like(workflow_id):
        raise BadInput(
            'invalid workflow id %r: a UUID is expected' % workflow_id
        )


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def _jsonable(row):
    return {key: _iso(value) for key, value in row.items() if key != 'store'}


def _lease_left(row, now):
    if not row.get('owner') or not row.get('lease_expires_at'):
        return None
    return round((row['lease_expires_at'] - now).total_seconds(), 1)


def _duration(start, end):
    if not start or not end:
        return None
    return round((end - start).total_seconds(), 3)


def _print_table(headers, rows):
    widths = [
        max([len(h)] + [len(str(r[i])) for r in rows])
        for i, h in enumerate(headers)
    ]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    print(line)
    print(
        '| '
        + ' | '.join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
        + ' |'
    )
    print(line)
    for row in rows:
        print(
            '| '
            + ' | '.join(
                str(v).ljust(w) for v, w in zip(row, widths, strict=True)
            )
            + ' |'
        )
    print(line)


def _commands(func):
    """Bad input -> 127, unknown workflow -> 1, DB down -> 2."""

    @common.db_errors_are_one_line
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BadInput as exc:
            print('ERROR: %s' % exc, file=sys.stderr)
            return common.EXIT_BAD_INPUT
        except orc.WorkflowNotFound as exc:
            print('ERROR: %s' % exc, file=sys.stderr)
            return common.EXIT_NOTHING_DONE

    wrapper.__doc__ = func.__doc__
    wrapper.__name__ = func.__name__
    wrapper.args = getattr(func, 'args', [])
    return wrapper


def _backend():
    db_api.get_engine()  # one clear line when the DB is unusable
    return workflows_db.get_backend()


class WorkflowCommands:
    """Inspect and repair workflows (see doc/source/admin)."""

    @common.args(
        '--state',
        metavar='STATE',
        help='only workflows in this state (e.g. RUNNING)',
    )
    @common.args(
        '--target',
        metavar='ID',
        help='only workflows of this target (an instance uuid)',
    )
    @common.args(
        '--owner',
        metavar='OWNER',
        help='only workflows owned by this conductor',
    )
    @common.args(
        '--older-than',
        metavar='AGE',
        dest='older_than',
        help='only workflows created more than AGE ago (30s, 10m, 2h, 7d)',
    )
    @common.args(
        '--limit',
        metavar='N',
        type=int,
        default=100,
        help='at most N workflows, newest first (default 100)',
    )
    @common.args(
        '--json',
        action='store_true',
        dest='json',
        help='print JSON instead of a table',
    )
    @_commands
    def list(
        self,
        state=None,
        target=None,
        owner=None,
        older_than=None,
        limit=100,
        json=False,
    ):
        """List workflows, newest first."""
        if state and state.upper() not in orc.states.WORKFLOW_STATES:
            raise BadInput(
                'invalid state %r: one of %s'
                % (state, ', '.join(orc.states.WORKFLOW_STATES))
            )
        if limit is not None and limit < 1:
            raise BadInput('--limit must be at least 1')
        before = None
        if older_than:
            before = timeutils.utcnow() - parse_age(older_than)
        rows = _backend().list_workflows(
            state=state.upper() if state else None,
            target=target,
            owner=owner,
            older_than=before,
            limit=limit,
        )
        now = timeutils.utcnow()
        if json:
            _dump(
                [
                    dict(_jsonable(r), lease_left=_lease_left(r, now))
                    for r in rows
                ]
            )
            return common.EXIT_OK
        _print_table(
            [
                'id',
                'name',
                'state',
                'target',
                'owner',
                'gen',
                'lease left',
                'created',
            ],
            [
                [
                    r['id'],
                    r['name'],
                    r['state'],
                    r['target_id'] or '',
                    r['owner'] or '',
                    r['generation'],
                    _fmt_seconds(_lease_left(r, now)),
                    _iso(r['created_at']),
                ]
                for r in rows
            ],
        )
        return common.EXIT_OK

    @common.args('workflow_id', metavar='ID', help='workflow id')
    @common.args('--json', action='store_true', dest='json', help='print JSON')
    @common.args(
        '--dot',
        action='store_true',
        dest='dot',
        help='print a Graphviz graph, states as colors',
    )
    @_commands
    def show(self, workflow_id, json=False, dot=False):
        """Show a workflow as a tree of steps with states and failures."""
        _check_id(workflow_id)
        if json and dot:
            raise BadInput('--json and --dot exclude each other')
        backend = _backend()
        row = backend.get_workflow(workflow_id)
        tree = orc.describe_workflow(workflow_id, backend)
        now = timeutils.utcnow()
        if json:
            out = _jsonable(row)
            out['lease_left'] = _lease_left(row, now)
            out['tasks'] = [_jsonable(t) for t in row['tasks']]
            out['tree'] = _tree_json(tree)
            _dump(out)
        elif dot:
            print(_to_dot(row, tree))
        else:
            _print_show(row, tree, now)
        return common.EXIT_OK

    @common.args('workflow_id', metavar='ID', help='workflow id')
    @_commands
    def resume(self, workflow_id):
        """Release a workflow's owner so that a conductor adopts it.

        Its generation is bumped, so the old owner, if still alive, can
        make no further write or host operation. A lease still running is
        kept until it runs out: the old owner may still start a queued
        step until then, never after.
        """
        _check_id(workflow_id)
        if not _backend().free(workflow_id):
            return _refuse_finished(workflow_id)
        print(
            'Workflow %s released; a conductor will adopt it at its first '
            'sweep after its current lease runs out.' % workflow_id
        )
        return common.EXIT_OK

    @common.args('workflow_id', metavar='ID', help='workflow id')
    @_commands
    def abort(self, workflow_id):
        """Ask a workflow's owner to revert it at the next step."""
        _check_id(workflow_id)
        if not orc.request_abort(workflow_id, _backend()):
            return _refuse_finished(workflow_id)
        print(
            'Abort of workflow %s requested; its owner reverts it at the '
            'next step boundary.' % workflow_id
        )
        return common.EXIT_OK

    @common.args(
        '--before',
        metavar='AGE',
        required=True,
        help='purge finished workflows older than AGE (7d, ...)',
    )
    @common.args(
        '--dry-run',
        action='store_true',
        dest='dry_run',
        help='only count what would be purged',
    )
    @common.args(
        '--batch-size',
        metavar='N',
        type=int,
        default=1000,
        dest='batch_size',
        help='rows deleted per transaction',
    )
    @_commands
    def purge(self, before, dry_run=False, batch_size=1000):
        """Delete finished workflows (and their steps) older than AGE."""
        if batch_size < 1:
            raise BadInput('--batch-size must be at least 1')
        cutoff = timeutils.utcnow() - parse_age(before)
        count = _backend().purge(
            cutoff, batch_size=batch_size, dry_run=dry_run
        )
        print(
            '%s %d finished workflow(s) older than %s.'
            % ('Would purge' if dry_run else 'Purged', count, before)
        )
        return common.EXIT_OK if count else common.EXIT_NOTHING_DONE

    @common.args('--json', action='store_true', dest='json', help='print JSON')
    @_commands
    def stats(self, json=False):
        """Counts by state and owner, oldest running, expired leases."""
        stats = _backend().stats()
        if json:
            _dump(
                {
                    key: _iso(value)
                    if not isinstance(value, dict)
                    else {k: _iso(v) for k, v in value.items()}
                    for key, value in stats.items()
                }
            )
            return common.EXIT_OK
        print('Workflows by state:')
        for state in orc.states.WORKFLOW_STATES:
            print('  %-10s %d' % (state, stats['by_state'].get(state, 0)))
        print('Unfinished workflows by owner:')
        for owner, count in sorted(stats.get('by_owner', {}).items()):
            print('  %-40s %d' % (owner or '(none)', count))
        oldest = stats.get('oldest_running')
        print(
            'Oldest unfinished: %s'
            % (
                '%s (%s, since %s)'
                % (oldest['id'], oldest['name'], _iso(oldest['created_at']))
                if oldest
                else 'none'
            )
        )
        print('Expired leases: %d' % stats['expired_leases'])
        print('Abort requested: %d' % stats['abort_requested'])
        return common.EXIT_OK

    @common.args('--json', action='store_true', dest='json', help='print JSON')
    @_commands
    def audit(self, json=False):
        """Check instances, workflows, claims, IPs, BDMs and usage agree.

        Exits 3 when any inconsistency is found, 0 when clean.
        """
        _backend()
        findings = audit.audit(nova_context.get_admin_context())
        if json:
            _dump([f.to_dict() for f in findings])
        elif findings:
            for finding in findings:
                print(finding)
            print(
                '%d inconsistenc%s found.'
                % (len(findings), 'y' if len(findings) == 1 else 'ies')
            )
        else:
            print('No inconsistency found.')
        return EXIT_INCONSISTENT if findings else common.EXIT_OK


def _refuse_finished(workflow_id):
    print(
        'ERROR: workflow %s already finished; nothing to do.' % workflow_id,
        file=sys.stderr,
    )
    return EXIT_REFUSED


def _dump(data):
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def _fmt_seconds(value):
    return '' if value is None else '%ss' % value


def _tree_json(node):
    out = {
        key: _iso(value) for key, value in node.items() if key != 'children'
    }
    if 'children' in node:
        out['children'] = [_tree_json(child) for child in node['children']]
    return out


def _print_show(row, tree, now):
    print('Workflow %s (%s)' % (row['id'], row['name']))
    print(
        '  state:      %s%s'
        % (
            row['state'],
            ' (abort requested)' if row.get('abort_requested') else '',
        )
    )
    print(
        '  target:     %s %s'
        % (row.get('target_type') or '-', row.get('target_id') or '-')
    )
    print(
        '  owner:      %s (generation %s, lease left %s, adopted %s '
        'times)'
        % (
            row.get('owner') or '-',
            row['generation'],
            _fmt_seconds(_lease_left(row, now)) or '-',
            row.get('adoptions') or 0,
        )
    )
    print('  request:    %s' % (row.get('request_id') or '-'))
    print(
        '  created:    %s  updated: %s  finished: %s'
        % (
            _iso(row['created_at']),
            _iso(row['updated_at']),
            _iso(row.get('finished_at')) or '-',
        )
    )
    print('Steps:')
    _print_node(tree, 1)
    failures = [t for t in row['tasks'] if t.get('failure')]
    if row.get('failure') or failures:
        print('Failures:')
    if row.get('failure'):
        print('  workflow: %s' % _failure_text(row['failure']))
    for task in failures:
        print('  %s (attempt %s):' % (task['name'], task.get('attempt')))
        print(_indent(_failure_text(task['failure'], traceback=True), 4))


def _print_node(node, depth):
    pad = '  ' * depth
    if node['kind'] == 'flow':
        retry = node.get('retry')
        print(
            '%s%s [%s flow%s]'
            % (
                pad,
                node['name'],
                node['pattern'],
                ', retry %s: %s attempt %s'
                % (retry['name'], retry['state'], retry.get('attempt'))
                if retry
                else '',
            )
        )
        for child in node['children']:
            _print_node(child, depth + 1)
        return
    duration = _duration(node.get('started_at'), node.get('finished_at'))
    print(
        '%s%-24s %-14s attempt %-2s %s%s'
        % (
            pad,
            node['name'],
            node['state'],
            node.get('attempt') or 0,
            _iso(node.get('started_at')) or '',
            ' (%ss)' % duration if duration is not None else '',
        )
    )


def _failure_text(failure, traceback=False):
    if isinstance(failure, str):
        try:
            failure = json.loads(failure)
        except ValueError:
            return failure
    if not isinstance(failure, dict):
        return str(failure)
    text = '%s: %s' % (failure.get('exc_type'), failure.get('message'))
    if traceback and failure.get('traceback'):
        text += '\n' + failure['traceback'].rstrip()
    return text


def _indent(text, spaces):
    return '\n'.join(' ' * spaces + line for line in text.splitlines())


def _to_dot(row, tree):
    lines = [
        'digraph "%s" {' % row['id'],
        '  rankdir=LR;',
        '  node [shape=box, style=filled];',
    ]
    counter = [0]

    def walk(node):
        if node['kind'] == 'task':
            lines.append(
                '  "%s" [fillcolor=%s, label="%s\\n%s"];'
                % (
                    node['name'],
                    STATE_COLORS.get(node['state'], 'white'),
                    node['name'],
                    node['state'],
                )
            )
            return [node['name']], [node['name']]
        counter[0] += 1
        lines.append(
            '  subgraph "cluster_%d" { label="%s (%s)";'
            % (counter[0], node['name'], node['pattern'])
        )
        firsts, lasts, previous = [], [], None
        for child in node['children']:
            heads, tails = walk(child)
            if node['pattern'] == 'linear':
                if previous is None:
                    firsts = heads
                else:
                    for a in previous:
                        for b in heads:
                            lines.append('  "%s" -> "%s";' % (a, b))
                previous = lasts = tails
            else:
                firsts += heads
                lasts += tails
        lines.append('  }')
        return firsts, lasts

    walk(tree)
    lines.append('}')
    return '\n'.join(lines)
