"""Key pairs of users (os-keypairs).

Revision ID: 0004_key_pairs
Revises: 0003_locked_by
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = '0004_key_pairs'
down_revision = '0003_locked_by'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'key_pairs',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('fingerprint', sa.String(255)),
        sa.Column('public_key', sa.Text),
        sa.Column('type', sa.String(5), nullable=False),
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('deleted_at', sa.DateTime),
        sa.Column('deleted', sa.Integer),
        sa.UniqueConstraint(
            'user_id', 'name', 'deleted', name='uniq_key_pairs0user_id0name'
        ),
    )


def downgrade():
    op.drop_table('key_pairs')
