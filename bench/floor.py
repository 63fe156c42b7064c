"""A page's floor: the raw SQL of the same figures plus an empty page run.

The floor says what a click on a page could cost at the least, so the bench can tell time
spent in the database from time spent building DataFrames, formatting and chart specs.

- **Raw SQL** (`sql_s`): during one uncached run of the page (st.cache_data cleared, as before
  every timed run) every statement the app sends to the database is recorded with its
  parameters (SQLAlchemy's `before_cursor_execute` on every Engine). Bookkeeping that is not a
  figure of the page is left out (PRAGMA, BEGIN/COMMIT/ROLLBACK, SAVEPOINT/RELEASE, SET/SHOW,
  the Alembic version check); everything else is kept, also the sign-in, settings and demo
  banner reads that every click makes. The statements are then executed again, in the same
  order and with the same parameters, straight on a DBAPI connection of a fresh engine from
  `services.db.get_engine` (the same SQLite pragmas and `lower()`), each result fetched in
  full: no ORM, no row objects, no pandas. Only SELECT (and WITH … SELECT) statements are
  replayed, on SQLite with `PRAGMA query_only` on and on PostgreSQL in a read-only transaction
  that is rolled back; any other statement is counted as a write (a click should not write)
  and not replayed. The replay runs three times; `sql_s` is the median.
- **Empty page** (`empty_s`): the same AppTest path as the pages (bench/run.py: streamlit_app.py
  on every run, st.cache_data cleared before each timed run) on a page that draws nothing of
  its own. streamlit_app.py builds its navigation from `pages._nav.PAGES`, so for this
  measurement one extra PageSpec pointing to an empty script in a temporary folder is appended
  to that list and removed again afterwards: the run goes through the real entry point (page
  config, start-up, sign-in gate, navigation, render_shell with the demo banner, user panel)
  and then runs a page script with no code. The only difference from a real page is one more
  link in the sidebar. `empty_s` is the median of nine runs (or --runs, if more).

floor = sql_s + empty_s, and a page's floor ratio is its median ÷ its floor. The entry point's
own reads (in local mode one settings read, for the demo banner) are in both parts, replayed
raw and run through the ORM in the empty page, so the floor errs on the generous side by their
raw cost (well under a millisecond). The statements are recorded in a run of their own, after
the timed runs, so the listener adds nothing to the page's median.
"""

import contextlib
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPLAYS = 3
EMPTY_TITLE = "Tom side (bench)"
_BOOKKEEPING = re.compile(
    r"^\s*(PRAGMA|BEGIN|COMMIT|ROLLBACK|END|SAVEPOINT|RELEASE|SET|SHOW)\b", re.IGNORECASE
)
_READ = re.compile(r"^\s*(\(\s*)*(SELECT|WITH|VALUES)\b", re.IGNORECASE)
_WRITE_IN_WITH = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


@dataclass
class Statement:
    text: str
    parameters: Any
    many: bool = False

    @property
    def reads(self) -> bool:
        if self.many or not _READ.match(self.text):
            return False
        return not (
            self.text.lstrip().upper().startswith("WITH") and _WRITE_IN_WITH.search(self.text)
        )


def bookkeeping(text: str) -> bool:
    """Statements that are not figures of a page (transactions, pragmas, the schema check)."""
    return bool(_BOOKKEEPING.match(text)) or "alembic_version" in text.lower()


@contextlib.contextmanager
def recording() -> Iterator[list[Statement]]:
    """Every statement sent to a database in the block (all engines), bookkeeping left out."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    found: list[Statement] = []

    def listen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not bookkeeping(statement):
            found.append(Statement(statement, parameters, bool(executemany)))

    event.listen(Engine, "before_cursor_execute", listen)
    try:
        yield found
    finally:
        event.remove(Engine, "before_cursor_execute", listen)


@dataclass
class Replay:
    """The recorded statements of one page run, executed again on the raw connection."""

    statements: int = 0  # recorded, bookkeeping left out
    distinct: int = 0  # different statement texts
    replayed: int = 0  # SELECTs executed again
    writes: list[str] = field(default_factory=list)  # non-SELECT statements (not replayed)
    failures: list[str] = field(default_factory=list)  # SELECTs that failed on the replay
    most_repeated: list[tuple[str, int]] = field(default_factory=list)  # text → times
    texts: list[tuple[str, int]] = field(default_factory=list)  # every text (shortened) → times
    runs: list[float] = field(default_factory=list)  # seconds per replay of them all

    @property
    def sql_s(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None


def replay(url: str, statements: list[Statement], repeats: int = REPLAYS) -> Replay:
    """Run the recorded SELECTs again on a DBAPI connection, timed `repeats` times."""
    from services.db import get_engine

    result = Replay(statements=len(statements))
    counts = Counter(s.text for s in statements)
    result.distinct = len(counts)
    result.most_repeated = [(_short(t), n) for t, n in counts.most_common(3) if n > 1]
    result.texts = [(_short(t), n) for t, n in counts.items()]
    reads = [s for s in statements if s.reads]
    result.writes = [_short(s.text) for s in statements if not s.reads]
    result.replayed = len(reads)
    engine = get_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if sqlite:
            cursor.execute("PRAGMA query_only=ON")
        failed: set[int] = set()
        for _ in range(repeats):
            if not sqlite:
                cursor.execute("SET TRANSACTION READ ONLY")
            started = time.perf_counter()
            for number, statement in enumerate(reads):
                if number in failed:
                    continue
                try:
                    cursor.execute(statement.text, statement.parameters)
                    cursor.fetchall()
                except Exception as exc:  # reported, the others still count
                    failed.add(number)
                    result.failures.append(
                        f"{type(exc).__name__}: {exc} [{_short(statement.text)}]"
                    )
                    if not sqlite:
                        connection.rollback()
                        cursor.execute("SET TRANSACTION READ ONLY")
            result.runs.append(time.perf_counter() - started)
            connection.rollback()
        if sqlite:
            cursor.execute("PRAGMA query_only=OFF")
        cursor.close()
    finally:
        connection.close()
        engine.dispose()
    return result


def _short(text: str, width: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@contextlib.contextmanager
def empty_page() -> Iterator[str]:
    """An extra, empty page in the app's navigation for the block; yields its script path."""
    from pages import _nav
    from pages._nav import PageSpec

    with tempfile.TemporaryDirectory(prefix="takstkompas-bench-") as folder:
        script = Path(folder) / "tom_side.py"
        script.write_text("# An empty page: the entry point's cost alone (bench/floor.py).\n")
        spec = PageSpec("Bench", EMPTY_TITLE, str(script), ":material/check_box_outline_blank:")
        _nav.PAGES.append(spec)
        try:
            yield str(script)
        finally:
            _nav.PAGES.remove(spec)


def to_json(result: Replay) -> dict[str, Any]:
    """What the JSON keeps of a replay (the statements' texts shortened, no parameters)."""
    return {
        "statements": result.statements,
        "distinct": result.distinct,
        "replayed": result.replayed,
        "writes": result.writes,
        "failures": result.failures,
        "most_repeated": [{"statement": t, "times": n} for t, n in result.most_repeated],
        "sql_runs": result.runs,
        "by_statement": [{"statement": t, "times": n} for t, n in result.texts],
    }
