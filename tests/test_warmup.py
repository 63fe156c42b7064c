"""The served app's start (pages/_warmup.py, streamlit_app.py): `streamlit run` finds the
st.App, whose lifespan imports the shell and the start page's modules in the background; a
page view waits for that, and without a start (AppTest, the bench) it does not wait at all."""

import subprocess
import sys
import time
from pathlib import Path

from streamlit.web.server.app_discovery import discover_asgi_app

from pages import _warmup as warmup
from pages._nav import HOME

ROOT = Path(__file__).resolve().parent.parent


def test_streamlit_run_serves_the_app_through_st_app():
    found = discover_asgi_app(ROOT / "streamlit_app.py")
    assert found.is_asgi_app
    assert "streamlit_app:app" == found.import_string


def test_the_shell_and_the_start_pages_imports_are_warmed_first():
    names = warmup.modules_to_warm()
    assert "pages._shell" == names[0]
    assert {"pandas", "altair", "services.queries.overview"} <= set(names)
    assert set(warmup.page_imports(ROOT / HOME.path)) <= set(names)
    assert len(names) == len(set(names))


def test_a_page_view_does_not_wait_when_nothing_was_started():
    if warmup._started.is_set():  # another test in this process started it
        return
    began = time.perf_counter()
    warmup.wait(timeout=30)
    assert time.perf_counter() - began < 0.1


def test_after_a_start_the_modules_are_imported_when_wait_returns():
    # A fresh interpreter: this one has imported most of them already.
    code = (
        "import sys\n"
        "from pages import _warmup as warmup\n"
        "assert 'pandas' not in sys.modules and 'pages._shell' not in sys.modules\n"
        "warmup.start(); warmup.start()\n"  # twice: one thread
        "warmup.wait()\n"
        "missing = [m for m in warmup.modules_to_warm() if m not in sys.modules]\n"
        "assert not missing, missing\n"
        "import threading\n"
        "assert not [t for t in threading.enumerate() if t.name == 'takstkompas-warm-up']\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert "ok" == done.stdout.strip(), done.stderr[-2000:]
