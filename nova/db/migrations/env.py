"""Alembic environment of the nova database.

Run through :mod:`nova.db.migration`, which passes an open connection in
``config.attributes['connection']``; there is no alembic.ini to edit.
"""

from alembic import context

from nova.db import models

config = context.config
target_metadata = models.BASE.metadata


def run_migrations_online():
    connection = config.attributes['connection']
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
