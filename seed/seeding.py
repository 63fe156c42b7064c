"""Fill an empty database with the demo or the large data set."""

import time as timer
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel

from models import AuditEvent, Setting
from seed.generator import SEED_USER, SIZES, Generator
from seed.writer import BulkWriter, existing_data, reset_sequences, table_counts
from services.price_timeline import rebuild_price_timeline
from services.settings import AppSettings, ensure_default_settings, setting_text

DATASET_KEY = "dataset"


class SeedError(Exception):
    """The database cannot be seeded as asked (not empty, unknown size)."""


def seed_database(
    *,
    engine: Engine,
    size: str = "demo",
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Fill an empty, migrated database with demo data of `size`; return rows per table.

    Deterministic: the same `today` gives the same data. Runs in one transaction, so a
    failure leaves the database as it was. Raises SeedError if data is already there.
    """
    if size not in SIZES:
        raise SeedError(f"Ukendt størrelse {size!r}; vælg {' eller '.join(SIZES)}.")
    existing = existing_data(engine=engine)
    if existing:
        listed = ", ".join(f"{name}: {count}" for name, count in existing.items())
        raise SeedError(f"Databasen indeholder allerede data ({listed}).")
    report = progress or (lambda _message: None)
    profile = SIZES[size]
    started = timer.perf_counter()
    today = today or date.today()
    with engine.begin() as connection:
        writer = BulkWriter(connection, chunk_size=profile.chunk_size)
        Generator(profile=profile, today=today, writer=writer, progress=report).run()
        _write_settings(connection, writer, dataset=size, today=today)
        writer.flush()
        _write_audit_history(connection)
        reset_sequences(connection)
        report("Beregner kontrakternes priser over tid …")
        rebuild_price_timeline(connection, today=today)
        if connection.dialect.name == "postgresql":
            # Fresh statistics after a bulk load, or the planner guesses (autovacuum comes later).
            connection.execute(sa.text("ANALYZE"))
        with Session(bind=connection) as session:
            ensure_default_settings(session=session, user=SEED_USER)
    report(f"Færdig på {timer.perf_counter() - started:.1f} s")
    return table_counts(engine=engine)


# What each seeded record's "created" audit event names (a realistic trail for Revisionsspor).
AUDIT_HISTORY: dict[str, tuple[str, ...]] = {
    "provider": ("name", "cvr"),
    "offer": ("name", "paragraph"),
    "contract": ("case_ref", "paragraph", "price"),
    "contractaddon": ("name", "price"),
    "pricechange": ("effective_date", "new_price"),
    "providernote": ("note_date", "topic"),
    "followup": ("due_date",),
    "invoicecheck": ("invoice_no", "invoiced", "status"),
}


def _write_audit_history(connection: Connection) -> None:
    """One "create" event per seeded record, at its creation and by its author, written by SQL
    (as services.audit would have written them had a user typed the data in)."""
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    for name, fields_shown in AUDIT_HISTORY.items():
        table = SQLModel.metadata.tables[name]
        parts: list[sa.ColumnElement[str]] = []
        for i, field in enumerate(fields_shown):
            value = sa.func.coalesce(sa.cast(table.c[field], sa.String), "")
            parts += [sa.literal(("{" if i == 0 else ", ") + f'"{field}": [null, "'), value]
            parts.append(sa.literal('"]'))
        parts.append(sa.literal("}"))
        changes = parts[0]
        for part in parts[1:]:
            changes = changes + part  # || on both engines
        select = sa.select(
            table.c.created_at,
            table.c.created_by,
            sa.literal("create"),
            sa.literal(name),
            sa.cast(table.c.id, sa.String),
            changes,
        )
        columns = ["at", "who", "action", "entity", "entity_id", "changes"]
        connection.execute(events.insert().from_select(columns, select))


def _write_settings(
    connection: Connection, writer: BulkWriter, *, dataset: str, today: date
) -> None:
    """Store every default setting not yet stored, and which data set this is."""
    table = Setting.__table__  # type: ignore[attr-defined]
    stored = set(connection.execute(sa.select(table.c.key)).scalars())
    connection.execute(table.delete().where(table.c.key == DATASET_KEY))
    now = datetime.combine(today, time(8), tzinfo=UTC)
    defaults = AppSettings()
    values = {f.name: setting_text(getattr(defaults, f.name)) for f in fields(AppSettings)}
    values[DATASET_KEY] = dataset
    for key, value in values.items():
        if key in stored and key != DATASET_KEY:
            continue
        writer.add(
            "setting",
            {
                "key": key,
                "value": value,
                "created_at": now,
                "created_by": SEED_USER,
                "updated_at": now,
                "updated_by": SEED_USER,
                "version": 1,
            },
        )
