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


def test_upgrade_keeps_existing_data(tmp_path):
    """A database created at the baseline with data in it keeps every row through the upgrades."""
    import sqlalchemy as sa
    from alembic import command

    from services.db import alembic_config, get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO provider (id, name, kind, framework, vat_refund, active, is_demo,"
                " version, created_at, created_by, updated_at, updated_by) VALUES (7,"
                " 'Egelunden', 'privat', 'ingen', 1, 1, 0, 3, '2026-01-01', 'u', '2026-01-01', 'u')"
            )
        )
    upgrade_schema(engine)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT name, version FROM provider WHERE id = 7")).one()
        head = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert ("Egelunden", 3) == tuple(row)
    assert "0001" != head
