"""The README must show every page (after sqlite-utils' test_docs.py)."""

from pathlib import Path

import pytest

from pages._nav import PAGES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


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
