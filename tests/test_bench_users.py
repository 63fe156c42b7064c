"""`python -m bench --users`: the protocol client walks the served app and sees its failures.

Not a timed test: it checks the client and the result's shape, never how fast the app is.
"""

from pathlib import Path

from bench import users
from tests.serving import served


def test_two_sessions_walk_the_app_without_failures(demo_db: str) -> None:
    results = users.run(demo_db, levels=[2], walks=1, timeout=60, warmup=True)

    # Its own server: the cold start is measured from `streamlit run` (what, not how fast).
    assert 0 < results["healthy_after_s"] < results["first_page_after_start_s"]
    assert results["first_page_after_start_s"] == (
        results["healthy_after_s"] + results["warmup_first_open_s"]
    )

    assert [2] == [level["users"] for level in results["levels"]]
    level = results["levels"][0]
    assert 2 == len(level["sessions"])
    for session in level["sessions"]:
        assert session["error"] is None
        assert session["first_open"]["error"] is None
        assert ["Overblik", *users.WALK] == [
            session["first_open"]["page"],
            *(click["page"] for click in session["clicks"]),
        ]
        assert all(click["error"] is None for click in session["clicks"])
        assert all(click["s"] > 0 for click in session["clicks"])
    assert 2 * len(users.WALK) == level["clicks"]
    assert 0 == level["failures"]
    assert set(users.WALK) == set(level["page_medians_s"])
    table = users.table(results)
    assert table.startswith(
        "| Samtidige sessioner | Klik p50 | Klik p95 | Første åbning p95 | Fejl |"
    )
    assert "| 2 |" in table


FAILING_APP = """
import streamlit as st


def page(title, fail=False):
    def show():
        st.title(title)
        if fail:
            raise ValueError(f"{title} fejlede")

    return show


titles = ["Overblik", "Kontrakter", "Prisopslag", "Fakturaafvigelser"]
st.navigation(
    [
        st.Page(page(t, fail=t == "Kontrakter"), title=t, url_path=t.lower(), default=i == 0)
        for i, t in enumerate(titles)
    ]
).run()
"""


def test_a_page_exception_counts_as_a_failure(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(FAILING_APP, encoding="utf-8")
    with served(app, cwd=tmp_path, options=["--client.showErrorDetails", "full"]) as base:
        results = users.run(base, levels=[1], walks=1, timeout=60, warmup=False)

    assert "healthy_after_s" not in results  # a server started elsewhere: no cold start
    level = results["levels"][0]
    assert 1 == level["failures"]
    assert "Kontrakter fejlede" in level["first_failure"]
    assert 4 == level["clicks"]  # the walk goes on after a failing page


def test_a_colleague_saving_index_rates_runs_beside_the_sessions(demo_db: str, tmp_path: Path):
    import shutil

    from sqlmodel import Session, col, select

    from models import AuditEvent
    from models.reference import RegulationRate
    from services.db import get_engine

    copy = tmp_path / "demo.db"
    shutil.copy(demo_db.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    with Session(get_engine(url)) as s:
        before = {r.year: r.percent for r in s.exec(select(RegulationRate))}

    results = users.run(url, levels=[2], walks=2, timeout=60, warmup=False, saving_every=0.2)

    during = results["levels"][0]["while_saving"]
    assert 0 == during["failures"] == during["errors"], during
    assert during["saves"] >= 1 and during["save_p50_s"] > 0
    assert 2 * 2 * len(users.WALK) == during["clicks"]
    assert "Klik p95 mens der gemmes" in users.table(results)
    with Session(get_engine(url)) as s:
        # The rate is as it was; the saves are in the audit trail as the bench's user.
        assert before == {r.year: r.percent for r in s.exec(select(RegulationRate))}
        saved = s.exec(select(AuditEvent).where(col(AuditEvent.who) == "bench")).all()
        assert during["saves"] <= len(saved) <= during["saves"] + 1
