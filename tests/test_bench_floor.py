"""The page bench's floor (bench/floor.py): recorded SQL replayed raw plus an empty page run.

Not timed: only the structure of the measurement is checked, on the demo database."""

import contextlib
import io

import pytest

from bench.floor import Statement, bookkeeping, empty_page, replay
from bench.report import PageResult, Timing, markdown_table, summary_line
from bench.run import entry_point_on_every_run, time_page
from pages._nav import PAGES, page_by_title


def _timed(url: str, path: str, title: str | None, recorded: list) -> Timing:
    with contextlib.redirect_stdout(io.StringIO()), entry_point_on_every_run():
        return time_page(
            url, path, title, runs=1, warmup=1, cached=False, timeout=60, record=recorded
        )


def test_floor_of_a_page_on_the_demo_database(demo_db, monkeypatch):
    monkeypatch.setenv("TAKSTKOMPAS_DB_URL", demo_db)
    monkeypatch.setenv("TAKSTKOMPAS_LOCAL_MODE", "1")
    spec = page_by_title("Prisopslag")
    recorded: list[Statement] = []
    timing = _timed(demo_db, spec.path, spec.title, recorded)
    assert timing.error is None
    assert len(recorded) > 0
    assert not any(bookkeeping(s.text) for s in recorded)

    replayed = replay(demo_db, recorded)
    assert [] == replayed.failures  # every recorded SELECT runs again as it was sent
    assert [] == replayed.writes  # a click on the page does not write
    assert replayed.replayed == replayed.statements == len(recorded)
    assert 3 == len(replayed.runs)
    assert replayed.sql_s is not None and replayed.sql_s > 0

    before = list(PAGES)
    empty_recorded: list[Statement] = []
    with empty_page() as script:
        assert script in [p.path for p in PAGES]
        empty = _timed(demo_db, script, None, empty_recorded)
    assert before == PAGES  # the extra page is gone again
    assert empty.error is None and empty.median is not None and empty.median > 0
    assert len(empty_recorded) < len(recorded)  # the entry point alone reads less

    timing.sql_s, timing.empty_s, timing.statements = replayed.sql_s, empty.median, len(recorded)
    assert timing.floor is not None and timing.floor > 0
    assert timing.floor_ratio is not None and timing.floor_ratio > 0


@pytest.mark.parametrize(
    ("text", "skipped"),
    [
        ("PRAGMA foreign_keys=ON", True),
        ("BEGIN", True),
        ("SAVEPOINT sa_savepoint_1", True),
        ("SELECT alembic_version.version_num FROM alembic_version", True),
        ("SELECT setting.key FROM setting", False),
        ("UPDATE setting SET value = ?", False),
    ],
)
def test_bookkeeping_is_left_out(text, skipped):
    assert skipped == bookkeeping(text)


def test_only_reads_are_replayed():
    assert Statement("SELECT 1", ()).reads
    assert Statement("WITH a AS (SELECT 1) SELECT * FROM a", ()).reads
    assert not Statement("WITH a AS (SELECT 1) DELETE FROM b", ()).reads
    assert not Statement("INSERT INTO b VALUES (?)", [(1,), (2,)], many=True).reads


def test_the_table_shows_floor_and_ratio_and_marks_pages_above_twice_their_floor():
    page = PageResult("Prisopslag", "pages/prisopslag.py")
    page.timings = {
        "demo": Timing(runs=[0.05], sql_s=0.002, empty_s=0.018),
        "large": Timing(runs=[0.03], sql_s=0.005, empty_s=0.015),
    }
    table = markdown_table([page], ["demo", "large"])
    assert "Demo gulv (SQL + tom side) | Demo side/gulv" in table
    assert "| 0,020 s (0,002 + 0,018) | 2,5 ✗ | 0,020 s (0,005 + 0,015) | 1,5 |" in table
    assert "✗ over 2× gulv på demo |" in table
    assert ["demo"] == page.to_json()["floor_misses"]
    assert "Gulv: 0 af 1 sider" in summary_line([page], ["demo", "large"])


def test_the_bench_compiles_each_script_once_as_a_server_does():
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    page = str(page_by_title("Overblik").path)
    with entry_point_on_every_run():
        # AppTest makes a cache per run; inside the bench they all share what was compiled.
        assert ScriptCache().get_bytecode(page) is ScriptCache().get_bytecode(page)
    assert ScriptCache().get_bytecode(page) is not ScriptCache().get_bytecode(page)
