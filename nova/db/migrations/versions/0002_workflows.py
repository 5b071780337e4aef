"""Workflow tables of nova.orchestration (workflows, workflow_tasks).

Revision ID: 0002_workflows
Revises: 0001_initial
Create Date: 2026-11-24
"""

from alembic import op

from nova.orchestration.persistence import schema

revision = '0002_workflows'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    schema.upgrade_v1(op)


def downgrade():
    schema.downgrade_v1(op)
