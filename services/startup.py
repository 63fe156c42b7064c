"""Start-up: upgrade the schema, store default settings, fill a brand-new default database,
make every ORM write keep the stored price periods current, and rebuild them if they are
stale."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.config import AppConfig
from services.db import get_engine, upgrade_schema
from services.price_timeline import ensure_price_timeline, keep_prices_current
from services.settings import ensure_default_settings


@dataclass(frozen=True)
class Startup:
    engine: Engine
    seeded_demo: bool


def _is_new(engine: Engine) -> bool:
    """A database that has never been migrated (no alembic_version table)."""
    return not sa.inspect(engine).has_table("alembic_version")


def prepare_database(
    config: AppConfig, seed_demo: Callable[[Engine], object] | None = None
) -> Startup:
    """Install the price periods' write hook, migrate to head; only a new database at the
    built-in default location gets demo data."""
    keep_prices_current()  # before the first ORM write of this process (idempotent)
    engine = get_engine(config.db_url)
    new = _is_new(engine)
    upgrade_schema(engine)
    with Session(engine) as session:
        ensure_default_settings(session=session)
    seeded = False
    if new and config.is_default_db and seed_demo is not None:
        seed_demo(engine)
        seeded = True
    with Session(engine) as session:
        # Stale stored prices (a new database, a deploy with new pricing rules, a new year) are
        # rebuilt now, before the first page, not inside a user's click.
        ensure_price_timeline(session=session, day=date.today())
    return Startup(engine=engine, seeded_demo=seeded)
