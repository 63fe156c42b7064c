"""The README must show every page (after sqlite-utils' test_docs.py)."""

import tomllib
from pathlib import Path

import pytest

from pages._nav import PAGES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("spec", PAGES, ids=[p.title for p in PAGES])
def test_readme_lists_page_with_screenshot(spec):
    assert f"**{spec.title}**" in README
    assert f"docs/screenshots/{spec.url_path}.png" in README
    assert (
        Path(__file__).resolve().parent.parent / "docs" / "screenshots" / f"{spec.url_path}.png"
    ).exists()


def test_readme_has_the_two_quick_start_commands():
    assert "uv run streamlit run streamlit_app.py" in README
    assert "uv run pytest" in README


def test_the_server_answers_only_this_machine_unless_configured():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert "127.0.0.1" == config["server"]["address"]
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert "/_stcore/metrics" in README  # the reverse proxy's duties are written down
