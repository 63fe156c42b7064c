"""Every page through Streamlit's AppTest: with demo data, with an empty database, first start."""

from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from pages._nav import PAGES
from services.db import get_engine, upgrade_schema
from services.overview import register_counts

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A demo database built once for this module."""
    from seed import seed_database

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    seed_database(engine=engine, size="demo", today=date.today())
    engine.dispose()
    return url


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


def run_page(url: str, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TAKSTKOMPAS_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("spec", PAGES, ids=[p.title for p in PAGES])
def test_page_renders_on_empty_database(spec, empty_db, monkeypatch):
    at = run_page(empty_db, spec.path, monkeypatch)
    assert spec.title == at.title[0].value


@pytest.mark.parametrize("spec", PAGES, ids=[p.title for p in PAGES])
def test_page_renders_on_demo_database(spec, demo_db, monkeypatch):
    at = run_page(demo_db, spec.path, monkeypatch)
    assert spec.title == at.title[0].value
    assert any("Demodata" in w.value for w in at.warning)


def test_overblik_shows_register_counts(demo_db, monkeypatch):
    at = run_page(demo_db, "pages/overblik.py", monkeypatch)
    with Session(get_engine(demo_db)) as session:
        counts = register_counts(session=session)
    assert str(counts.providers) == _metric(at, "Leverandører")
    assert str(counts.active_contracts) == _metric(at, "Aktive kontrakter")
    assert counts.providers >= 20


def test_overblik_on_empty_database_says_so(empty_db, monkeypatch):
    at = run_page(empty_db, "pages/overblik.py", monkeypatch)
    assert "0" == _metric(at, "Leverandører")
    assert any("ingen data" in i.value for i in at.info)
    assert not at.warning


def test_fresh_default_database_is_seeded_with_demo_data_and_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("TAKSTKOMPAS_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert (tmp_path / "data" / "takstkompas.db").exists()
    assert any("fyldt med demodata" in s.value for s in at.success)
    assert any("Demodata" in w.value for w in at.warning)
    assert int(_metric(at, "Leverandører")) >= 20
