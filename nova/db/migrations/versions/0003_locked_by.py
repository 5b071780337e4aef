"""Who locked a server: instances.locked_by ('owner' or 'admin').

Revision ID: 0003_locked_by
Revises: 0002_workflows
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = '0003_locked_by'
down_revision = '0002_workflows'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'instances',
        sa.Column('locked_by', sa.String(5), nullable=True),
    )


def downgrade():
    op.drop_column('instances', 'locked_by')
