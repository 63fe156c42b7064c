"""Fixtures: a migrated SQLite database per test and, when configured, PostgreSQL too.

Set TAKSTKOMPAS_TEST_PG_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run
every `db`-using test on PostgreSQL as well: a fresh database is created for the run and
dropped after. If it is set and unreachable, the run fails instead of skipping.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from services.db import get_engine, upgrade_schema
from services.price_timeline import keep_prices_current

PG_URL = os.environ.get("TAKSTKOMPAS_TEST_PG_URL")
# The pages run in local mode (one local admin, no sign-in) also on the PostgreSQL test
# database, as the app allows only when asked to (SPEC 8); the sign-in tests set what they test.
os.environ.setdefault("TAKSTKOMPAS_LOCAL_MODE", "1")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs on the PostgreSQL test database")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="TAKSTKOMPAS_TEST_PG_URL is not set")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _prices_kept_current() -> None:
    """As the app's start-up does: every ORM write in the tests keeps the price periods current
    (get_engine alone does not install the hook)."""
    keep_prices_current()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = get_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    engine.dispose()
    return path


def _pg_admin_url() -> sa.URL:
    assert PG_URL
    url = make_url(PG_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated to head and dropped after."""
    if not PG_URL:
        pytest.skip("TAKSTKOMPAS_TEST_PG_URL is not set")
    admin_url = _pg_admin_url()
    name = f"takstkompas_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL was asked for ({PG_URL}) but is unreachable: {exc}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = get_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = get_engine(f"sqlite:///{path}")
        yield db
        db.dispose()
    else:
        db = get_engine(request.getfixturevalue("pg_url"))
        _truncate_all(db)
        yield db
        db.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


# --- Page tests (AppTest) -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clear_streamlit_caches() -> Iterator[None]:
    """Streamlit's caches outlive an AppTest; every test starts and ends with them empty."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A demo database built once per test run (tests that write to it must not assume
    another test's writes are absent)."""
    from seed import seed_database

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    seed_database(engine=engine, size="demo", today=date.today())
    engine.dispose()
    return url


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    """A database URL with nothing in it yet (the app migrates it on start)."""
    return f"sqlite:///{tmp_path / 'empty.db'}"
