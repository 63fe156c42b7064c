"""Running the app's pages through Streamlit's AppTest."""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def run_page(url: str, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Start the app on a database, switch to a page, and fail on any exception."""
    monkeypatch.setenv("TAKSTKOMPAS_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescaped(markdown: str) -> str:
    """Markdown source as the browser shows it: user text in it is backslash-escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def metric(at: AppTest, label: str) -> str:
    """The shown value of the metric with this label."""
    return next(m.value for m in at.metric if m.label == label)


def metric_help(at: AppTest, label: str) -> str:
    """The help text (the "?" tooltip) of the metric with this label."""
    return next(m.proto.help for m in at.metric if m.label == label)
