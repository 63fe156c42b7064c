"""Every page through Streamlit's AppTest: with demo data, with an empty database, first start."""

import pytest
from streamlit.testing.v1 import AppTest

from pages._nav import PAGES
from tests.pagetest import APP, metric, run_page


@pytest.mark.parametrize("spec", PAGES, ids=[p.title for p in PAGES])
def test_page_renders_on_empty_database(spec, empty_db, monkeypatch):
    at = run_page(empty_db, spec.path, monkeypatch)
    assert spec.title == at.title[0].value


@pytest.mark.parametrize("spec", PAGES, ids=[p.title for p in PAGES])
def test_page_renders_on_demo_database(spec, demo_db, monkeypatch):
    at = run_page(demo_db, spec.path, monkeypatch)
    assert spec.title == at.title[0].value
    assert any("Demodata" in w.value for w in at.warning)


def test_fresh_default_database_is_seeded_with_demo_data_and_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("TAKSTKOMPAS_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert (tmp_path / "data" / "takstkompas.db").exists()
    assert any("fyldt med demodata" in s.value for s in at.success)
    assert any("Demodata" in w.value for w in at.warning)
    assert int(metric(at, "Leverandører")) >= 20
