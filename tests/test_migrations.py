"""The Alembic migrations give exactly the models' schema on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from services.db import upgrade_schema


def test_upgrade_head_matches_models(engine):
    upgrade_schema(engine)  # idempotent on an already migrated database
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert [] == diff
