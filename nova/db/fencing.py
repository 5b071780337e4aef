"""Fencing of nova's own DB writes made by workflow steps.

The engine fences every write to the workflow tables with its
generation; nova-compute fences every host operation. This module fences
the remaining side effects: the rows a step writes (claims, fixed IPs,
block device mappings, instance updates). A step's context carries
``workflow_fence = (workflow_id, generation)``; each writing function
calls :func:`check` inside its own transaction. The check takes a share
lock on the workflow row, so it is atomic with an adoption: a claim by
another conductor (``UPDATE ... generation = generation + 1``) waits for
the write to commit, and a write that starts after the claim sees the
new generation and rolls back. Without it, a conductor paused between a
read and an insert (SIGSTOP, a long GC) would insert a second set of
rows after another conductor adopted the workflow and redid the step.
"""

import sqlalchemy as sa

from nova import exception

_workflows = sa.table('workflows', sa.column('id'), sa.column('generation'))


def fenced(context, workflow_id, generation):
    """Mark ``context`` so writes made with it check the generation."""
    context.workflow_fence = (workflow_id, generation)
    return context


def current_generation(context, workflow_id, share_lock=False):
    """The workflow's generation, or None when the row is gone."""
    query = sa.select(_workflows.c.generation).where(
        _workflows.c.id == workflow_id
    )
    if share_lock:
        query = query.with_for_update(read=True)
    return context.session.connection().execute(query).scalar()


def check(context, operation, share_lock=True):
    """Raise StaleWorkflowGeneration if the context's fence is stale.

    Call it first inside a writer transaction: the share lock on the
    workflow row then holds off an adoption until the writes commit. A
    caller whose act is not a database write (a hypervisor operation)
    gains nothing from the lock and reads plainly (``share_lock=False``).
    A context without a fence (API requests, services acting on their
    own) passes.
    """
    fence = getattr(context, 'workflow_fence', None)
    if not fence:
        return
    workflow_id, generation = fence
    current = current_generation(context, workflow_id, share_lock=share_lock)
    if current is None or current > generation:
        raise exception.StaleWorkflowGeneration(
            workflow_id=workflow_id,
            generation=generation,
            current=current,
            operation=operation,
        )
