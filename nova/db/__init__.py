"""Nova's database: models, the DB API and the alembic migrations."""
