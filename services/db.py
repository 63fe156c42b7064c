"""The engine, sessions and schema upgrades (Alembic) for SQLite and PostgreSQL alike."""

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from services.config import ensure_sqlite_dir
from services.unit_of_work import WRITE

if TYPE_CHECKING:
    from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "migrations" / "versions"
_REVISION = re.compile(r"""^revision\b[^=\n]*=\s*["']([^"']+)["']""", re.M)
_DOWN_REVISION = re.compile(r"""^down_revision\b[^=\n]*=\s*["']([^"']+)["']""", re.M)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # SQLite's own lower() folds only ASCII, so a search for "østerbo" would miss "Østerbo".
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Up to 16 MiB of pages kept per connection (SQLite's default is 2 MiB), taken as needed:
    # an import of 100.000 invoice lines updates nine indexes of invoicecheck, and with the
    # default cache their pages were written out and read back within the transaction (a
    # quarter of the time its inserts took; 8 MiB gains nearly as much, 64 MiB no more).
    cursor.execute("PRAGMA cache_size=-16384")
    cursor.close()
    # SQLAlchemy issues BEGIN itself (_sqlite_begin), not the driver: see WRITE below.
    dbapi_connection.isolation_level = None


# A connection that a user action writes through has the execution option WRITE
# (services.unit_of_work): on SQLite its transaction starts with BEGIN IMMEDIATE, so it holds
# the write lock from its first read. Two actions that read, check and write (a duplicate
# check, the goals cap) then take turns instead of both passing the check, and a writer waits
# (busy_timeout) instead of failing with "database is locked" when its snapshot went stale.


def _sqlite_begin(connection: sa.Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
    connection.info[_CHANGES_AT_BEGIN] = _sqlite_changes(connection)


_CHANGES_AT_BEGIN = "takstkompas_changes_at_begin"


def _sqlite_changes(connection: sa.Connection) -> int:
    return int(connection.connection.driver_connection.total_changes)  # type: ignore[union-attr]


def has_written(connection: sa.Connection) -> bool:
    """Whether the connection's transaction has written anything yet, which another
    connection cannot see before it commits (an import's second process reads on its own)."""
    if connection.dialect.name == "sqlite":
        return _sqlite_changes(connection) != connection.info.get(_CHANGES_AT_BEGIN)
    if connection.dialect.name == "postgresql":
        query = "SELECT pg_current_xact_id_if_assigned() IS NOT NULL"
        return bool(connection.exec_driver_sql(query).scalar())
    return True


def get_engine(url: str) -> Engine:
    """One engine per database; SQLite gets WAL, a busy timeout and foreign keys on.

    Only the engine: the hook that keeps the stored price periods current on ORM writes is
    installed at start-up (services.startup.prepare_database, services.price_timeline).
    """
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 5},
            poolclass=StaticPool if in_memory else None,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def alembic_config(engine: Engine | None = None) -> "Config":
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe to call on every start.

    On SQLite a batch migration rebuilds a table (create a copy, drop the old, rename); with
    foreign keys on, dropping the old table would cascade into its children (ON DELETE CASCADE
    deletes every deviation event when invoicecheck is rebuilt). So foreign keys are off while
    the migrations run (the PRAGMA is a no-op inside a transaction, so it is set before the
    transaction begins), and `PRAGMA foreign_key_check` must find nothing before the commit.
    """
    if _at_head(engine):
        return  # nothing to do: Alembic (slow to import) is not needed on this start
    from alembic import command

    config = alembic_config(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"Schema upgrade broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


@cache
def head_revisions() -> frozenset[str]:
    """The newest migrations' revisions, read from the files' `revision` and `down_revision`
    lines (Alembic's own reading needs the whole package; a test holds the two together)."""
    revisions: set[str] = set()
    replaced: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(text))
        replaced.update(_DOWN_REVISION.findall(text))
    return frozenset(revisions - replaced)


def _at_head(engine: Engine) -> bool:
    """Whether the database already has every migration (its alembic_version rows are the
    heads)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return False
        stored = {
            row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        }
    heads = head_revisions()
    return bool(heads) and stored == set(heads)
