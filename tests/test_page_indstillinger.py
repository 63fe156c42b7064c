"""Indstillinger through AppTest: settings, index rates, budgets, demo data; the bench CLI."""

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import Session, col, func, select

from bench.run import entry_point_on_every_run
from models import Paragraph, Provider
from services.db import get_engine
from services.demo_data import dataset_kind
from services.reference import index_rates, list_budgets
from services.settings import get_settings, update_settings
from tests.pagetest import run_page

PAGE = "pages/indstillinger.py"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def _entry_point_on_every_run():
    """Run streamlit_app.py (and so the demo banner) on every AppTest run, as a server does."""
    with entry_point_on_every_run():
        yield


@pytest.fixture
def db_url(engine) -> str:
    """A migrated, empty database on each backend (SQLite, and PostgreSQL when configured)."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def demo_copy(demo_db: str, tmp_path: Path) -> str:
    """A private copy of the demo database, for tests that delete from it."""
    source = Path(demo_db.removeprefix("sqlite:///"))
    target = tmp_path / "demo_copy.db"
    shutil.copy(source, target)
    return f"sqlite:///{target}"


def _settings(url: str):
    engine = get_engine(url)
    with Session(engine) as s:
        settings = get_settings(session=s)
    engine.dispose()
    return settings


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_changing_a_setting_stores_it(db_url, monkeypatch):
    at = run_page(db_url, PAGE, monkeypatch)
    assert "1,00" == at.text_input(key="settings_regulation_tolerance_kr").value
    at.text_input(key="settings_regulation_tolerance_kr").input("5,00")
    at.text_input(key="settings_regulation_regulation_default_pct").input("2,5")
    at.button(key="settings_regulation__save").click().run()

    assert not at.exception
    assert not _errors(at)
    stored = _settings(db_url)
    assert Decimal("5.00") == stored.tolerance_kr
    assert Decimal("2.5") == stored.regulation_default_pct
    assert any("gemt" in s.value for s in at.success)
    assert "5,00" == at.text_input(key="settings_regulation_tolerance_kr").value
    assert "2,50" == at.text_input(key="settings_regulation_regulation_default_pct").value


def test_invalid_settings_show_danish_message_at_the_field_and_keep_what_was_typed(
    empty_db, monkeypatch
):
    at = run_page(empty_db, PAGE, monkeypatch)
    at.text_input(key="settings_regulation_tolerance_kr").input("abc")
    at.text_input(key="settings_regulation_tolerance_pct").input("60")
    at.text_input(key="settings_alerts_alert_notice_days").input("45")  # other section: untouched
    at.button(key="settings_regulation__save").click().run()

    assert not at.exception
    assert "Skal være et tal, fx 2.080,80" in _errors(at)
    assert "Skal være mellem 0 og 50" in _errors(at)
    assert "abc" == at.text_input(key="settings_regulation_tolerance_kr").value
    assert "60" == at.text_input(key="settings_regulation_tolerance_pct").value
    assert "45" == at.text_input(key="settings_alerts_alert_notice_days").value
    stored = _settings(empty_db)
    assert Decimal("1.00") == stored.tolerance_kr
    assert Decimal("0.0") == stored.tolerance_pct

    at.text_input(key="settings_followup_followup_sel108_months").input("6,5")
    at.button(key="settings_followup__save").click().run()
    assert "Skal være et helt tal" in _errors(at)
    assert "6,5" == at.text_input(key="settings_followup_followup_sel108_months").value
    assert "abc" == at.text_input(key="settings_regulation_tolerance_kr").value  # still there

    at.text_input(key="settings_followup_followup_sel108_months").input("6")
    at.button(key="settings_followup__save").click().run()
    assert "Skal være et helt tal" not in _errors(at)
    assert 6 == _settings(empty_db).followup_sel108_months


def test_the_comparison_weights_are_saved_only_together_summing_to_100(db_url, monkeypatch):
    at = run_page(db_url, PAGE, monkeypatch)
    assert "25" == at.text_input(key="settings_comparison_weight_price").value
    at.text_input(key="settings_comparison_weight_price").input("30")
    at.button(key="settings_comparison__save").click().run()
    assert not at.exception
    assert any("Vægtene skal give 100 tilsammen; de giver nu 105." in e for e in _errors(at))
    assert 25 == _settings(db_url).weight_price
    at.text_input(key="settings_comparison_weight_methods").input("15")
    at.text_input(key="settings_comparison_free_choice_limit_pct").input("12,5")
    at.button(key="settings_comparison__save").click().run()
    assert not _errors(at)
    stored = _settings(db_url)
    assert (30, 15, Decimal("12.5")) == (
        stored.weight_price,
        stored.weight_methods,
        stored.free_choice_limit_pct,
    )


def test_a_setting_changed_by_someone_else_meanwhile_gives_the_conflict_message(
    empty_db, monkeypatch
):
    at = run_page(empty_db, PAGE, monkeypatch)
    engine = get_engine(empty_db)
    with Session(engine) as s:
        update_settings(session=s, values={"alert_notice_days": "120"}, user="kollega")
    engine.dispose()

    at.text_input(key="settings_alerts_alert_notice_days").input("30")
    at.button(key="settings_alerts__save").click().run()
    assert any("En anden har gemt" in message for message in _errors(at))
    assert "30" == at.text_input(key="settings_alerts_alert_notice_days").value
    assert 120 == _settings(empty_db).alert_notice_days

    at.button(key="settings_alerts__reload").click().run()
    assert not _errors(at)
    assert "120" == at.text_input(key="settings_alerts_alert_notice_days").value


def test_vum_themes_are_stored_one_per_line(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    assert "Praktiske opgaver i hjemmet" in at.text_area(key="settings_themes_vum_themes").value
    at.text_area(key="settings_themes_vum_themes").input("Bolig\n\n  Job og uddannelse \n")
    at.button(key="settings_themes__save").click().run()
    assert ("Bolig", "Job og uddannelse") == _settings(empty_db).vum_themes

    at.text_area(key="settings_themes_vum_themes").input("  \n")
    at.button(key="settings_themes__save").click().run()
    assert "Der skal være mindst ét tema" in _errors(at)
    assert ("Bolig", "Job og uddannelse") == _settings(empty_db).vum_themes


def test_add_and_replace_an_index_rate(db_url, monkeypatch):
    at = run_page(db_url, PAGE, monkeypatch)
    at.number_input(key="settings_rate_year").set_value(2027)
    at.text_input(key="settings_rate_percent").input("abc")
    at.button(key="settings_rate__save").click().run()
    assert "Skal være et tal, fx 2.080,80" in _errors(at)
    assert "abc" == at.text_input(key="settings_rate_percent").value

    at.text_input(key="settings_rate_percent").input("2,5")
    at.button(key="settings_rate__save").click().run()
    assert not _errors(at)
    engine = get_engine(db_url)
    with Session(engine) as s:
        assert {2027: Decimal("2.5")} == index_rates(session=s)

    at.number_input(key="settings_rate_year").set_value(2027)
    at.text_input(key="settings_rate_percent").input("3,1")
    at.button(key="settings_rate__save").click().run()
    with Session(engine) as s:
        assert {2027: Decimal("3.1")} == index_rates(session=s)
    engine.dispose()


def test_set_a_budget_and_replace_it(db_url, monkeypatch):
    at = run_page(db_url, PAGE, monkeypatch)
    at.number_input(key="settings_budget_year").set_value(2026)
    at.selectbox(key="settings_budget_paragraph").select(Paragraph.SEL108)
    at.text_input(key="settings_budget_amount").input("-5")
    at.button(key="settings_budget__save").click().run()
    assert "Må ikke være mindre end 0" in _errors(at)
    assert "-5" == at.text_input(key="settings_budget_amount").value

    at.text_input(key="settings_budget_amount").input("12.500.000,00")
    at.button(key="settings_budget__save").click().run()
    assert not _errors(at)
    # Year and paragraph stay for the next entry; the amount is cleared.
    assert 2026 == at.number_input(key="settings_budget_year").value
    assert "" == at.text_input(key="settings_budget_amount").value

    at.text_input(key="settings_budget_amount").input("13000000")
    at.button(key="settings_budget__save").click().run()
    assert not _errors(at)
    engine = get_engine(db_url)
    with Session(engine) as s:
        budgets = [(b.year, b.paragraph, b.amount) for b in list_budgets(session=s)]
    engine.dispose()
    assert [(2026, Paragraph.SEL108, Decimal("13000000.00"))] == budgets


def test_empty_database_has_no_demo_tab_and_explains_empty_tables(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    assert "Demodata" not in [t.label for t in at.tabs]
    infos = [i.value for i in at.info]
    assert any("ingen reguleringssatser" in i for i in infos)
    assert any("ingen budgetter" in i for i in infos)


def _demo_providers(url: str) -> int:
    engine = get_engine(url)
    with Session(engine) as s:
        count = s.exec(
            select(func.count()).select_from(Provider).where(col(Provider.is_demo).is_(True))
        ).one()
    engine.dispose()
    return count


def test_removing_demo_data_requires_confirmation_and_removes_the_banner(demo_copy, monkeypatch):
    before = _demo_providers(demo_copy)
    assert before > 0
    at = run_page(demo_copy, PAGE, monkeypatch)
    assert "Demodata" in [t.label for t in at.tabs]
    assert any("Demodata" in w.value for w in at.warning)

    at.button(key="settings_demo__remove").click().run()
    assert any("bekræfte" in message for message in _errors(at))
    assert before == _demo_providers(demo_copy)

    at.checkbox(key="settings_demo_confirm").check()
    at.button(key="settings_demo__remove").click().run()
    assert not at.exception
    assert 0 == _demo_providers(demo_copy)
    engine = get_engine(demo_copy)
    with Session(engine) as s:
        assert dataset_kind(session=s) is None
    engine.dispose()
    assert any(f"{before} demo-leverandører" in s.value for s in at.success)
    assert not any("Demodata" in w.value for w in at.warning)
    assert "Demodata" not in [t.label for t in at.tabs]


def test_bench_help_works():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert 0 == done.returncode, done.stderr
    assert "--large-url" in done.stdout
    assert "--runs" in done.stdout


def test_bench_report_marks_pages_that_miss_a_bar():
    from bench.report import PageResult, Timing, markdown_table, summary_line

    fast = PageResult("Overblik", "pages/overblik.py")
    fast.timings = {"demo": Timing(runs=[0.1, 0.2, 0.3]), "large": Timing(runs=[0.4, 0.5, 0.6])}
    slow = PageResult("Kontrakter", "pages/kontrakter.py")
    slow.timings = {"demo": Timing(runs=[0.2]), "large": Timing(runs=[1.2])}
    missing = PageResult("Prisopslag", "pages/prisopslag.py", skipped="findes ikke")

    table = markdown_table([fast, slow, missing], ["demo", "large"])
    assert "| Overblik | 0,20 s | 0,50 s | 2,5 |" in table
    assert "✗ over 1,00 s på stor, forhold over 3" in table
    assert "sprunget over: findes ikke" in table
    summary = summary_line([fast, slow, missing], ["demo", "large"])
    assert summary.startswith("Resultat: 1 af 2 målte sider klarer kravene")
    assert "Kontrakter" in summary and "1 sprunget over: Prisopslag" in summary
