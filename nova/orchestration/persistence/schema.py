"""The workflow tables: frozen DDL per schema version, and Core Table objects.

``upgrade_v1(op)`` is frozen: it is what nova's alembic revision
0002_workflows runs and what ``SQLBackend.upgrade()`` runs for standalone
users, so both create exactly the same schema. A future change gets an
``upgrade_v2(op)``; never edit v1.

JSON columns are Text, LONGTEXT on MySQL (TEXT there is 64 KiB, which bit
TaskFlow); the engine caps each encoded result at ``result_size_limit``
(64 KiB by default) and the store at 16 times that, on purpose.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

SCHEMA_VERSION = 1


def _json_text():
    return sa.Text().with_variant(mysql.LONGTEXT(), 'mysql')


def _datetime():
    # Microseconds on MySQL (DATETIME defaults to whole seconds).
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def _workflow_columns():
    return [
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('factory', sa.String(255)),
        sa.Column('factory_version', sa.Integer),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('store', _json_text()),
        sa.Column('target_type', sa.String(64)),
        sa.Column('target_id', sa.String(255)),
        sa.Column('request_id', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('user_id', sa.String(255)),
        sa.Column('owner', sa.String(255)),
        sa.Column(
            'generation', sa.Integer, nullable=False, server_default='0'
        ),
        sa.Column('lease_expires_at', _datetime()),
        sa.Column(
            'abort_requested',
            sa.Boolean,
            nullable=False,
            server_default=sa.false(),
        ),
        sa.Column('adoptions', sa.Integer, nullable=False, server_default='0'),
        sa.Column('failure', _json_text()),
        sa.Column('created_at', _datetime()),
        sa.Column('updated_at', _datetime()),
        sa.Column('finished_at', _datetime()),
    ]


def _task_columns():
    return [
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            'workflow_id',
            sa.String(36),
            sa.ForeignKey(
                'workflows.id',
                ondelete='CASCADE',
                name='fk_workflow_tasks_workflow_id',
            ),
            nullable=False,
        ),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('position', sa.Integer, nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('attempt', sa.Integer, nullable=False, server_default='0'),
        sa.Column('result', _json_text()),
        sa.Column('failure', _json_text()),
        sa.Column('started_at', _datetime()),
        sa.Column('finished_at', _datetime()),
        sa.Column('revert_started_at', _datetime()),
        sa.Column('revert_finished_at', _datetime()),
    ]


def upgrade_v1(op):
    """Create the v1 workflow tables with alembic ``op`` (frozen: never
    edit)."""
    op.create_table(
        'workflows',
        *_workflow_columns(),
        mysql_engine='InnoDB',
        mysql_charset='utf8mb4',
    )
    op.create_index(
        'ix_workflows_target', 'workflows', ['target_type', 'target_id']
    )
    op.create_index('ix_workflows_state', 'workflows', ['state'])
    op.create_index(
        'ix_workflows_owner_lease', 'workflows', ['owner', 'lease_expires_at']
    )
    op.create_table(
        'workflow_tasks',
        *_task_columns(),
        sa.UniqueConstraint(
            'workflow_id', 'name', name='uniq_workflow_tasks0workflow_id0name'
        ),
        mysql_engine='InnoDB',
        mysql_charset='utf8mb4',
    )


def downgrade_v1(op):
    """Drop the v1 tables."""
    op.drop_table('workflow_tasks')
    op.drop_table('workflows')


# Core Table objects used by SQLBackend (built once per process).
metadata = sa.MetaData()
workflows = sa.Table('workflows', metadata, *_workflow_columns())
workflow_tasks = sa.Table('workflow_tasks', metadata, *_task_columns())
