"""`python -m seed` as a user runs it: creates a missing PostgreSQL database, and ends with a
clear message and exit code 2 (never a traceback) when the database cannot be reached."""

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
EXIT_REFUSED = 2


def _seed(url: str | URL) -> subprocess.CompletedProcess[str]:
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "seed", "--size", "demo", "--db-url", url, "--today", "2026-11-22"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def server(pg_url: str) -> Iterator[sa.Engine]:
    """An AUTOCOMMIT connection pool to the test server (via the run's test database)."""
    admin = sa.create_engine(make_url(pg_url), isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


@pytest.fixture
def missing_database(server: sa.Engine) -> Iterator[URL]:
    """A URL to a database that does not exist yet (its name needs quoting); dropped after."""
    name = f"Seed-CLI_{uuid.uuid4().hex[:8]}"
    yield server.url.set(database=name)
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _database_exists(server: sa.Engine, name: str) -> bool:
    with server.connect() as connection:
        found = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        return found.first() is not None


@pytest.mark.postgresql
def test_seed_creates_a_missing_postgresql_database(server, missing_database):
    assert not _database_exists(server, missing_database.database)

    result = _seed(missing_database)

    assert 0 == result.returncode, result.stderr
    assert f'Created the PostgreSQL database "{missing_database.database}"' in result.stdout
    assert _database_exists(server, missing_database.database)
    seeded = sa.create_engine(missing_database)
    with seeded.connect() as connection:
        providers = connection.execute(sa.text("SELECT count(*) FROM provider")).scalar_one()
    seeded.dispose()
    assert providers >= 20

    again = _seed(missing_database)  # now it exists: no second CREATE, the usual refusal

    assert EXIT_REFUSED == again.returncode
    assert "Created" not in again.stdout
    assert "--replace" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.postgresql
def test_seed_explains_when_the_user_may_not_create_the_database(server, missing_database):
    role = f"seed_cli_{uuid.uuid4().hex[:8]}"
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD 'pw'"))
    except sa.exc.ProgrammingError:
        pytest.skip("the test user may not create roles")
    try:
        result = _seed(missing_database.set(username=role, password="pw"))
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))

    assert EXIT_REFUSED == result.returncode
    assert "Traceback" not in result.stderr + result.stdout
    assert "could not create it" in result.stderr
    assert f"createdb -h {missing_database.host}" in result.stderr
    assert ":pw@" not in result.stderr
    assert not _database_exists(server, missing_database.database)


def test_seed_explains_an_unreachable_server():
    result = _seed("postgresql+psycopg://postgres:secret@127.0.0.1:1/takstkompas")

    assert EXIT_REFUSED == result.returncode
    assert "Traceback" not in result.stderr + result.stdout
    assert "Cannot connect to the PostgreSQL database" in result.stderr
    assert "Check that the server is running" in result.stderr
    assert "secret" not in result.stderr


def test_seed_explains_a_bad_url():
    result = _seed("postgresql+nodriver://postgres@127.0.0.1/takstkompas")

    assert EXIT_REFUSED == result.returncode
    assert "Traceback" not in result.stderr + result.stdout
    assert "is not a database URL" in result.stderr
