"""Open every page in headless Chromium (Debian's /usr/bin/chromium via Playwright).

Starts `streamlit run` on a free port against a demo database, waits until each page's script
has finished, fails on any exception box, and saves a screenshot per page in test-artifacts/.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from pages._nav import PAGES
from services.db import get_engine, upgrade_schema

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("TAKSTKOMPAS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.browser


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"CI needs Chromium at {CHROMIUM}; .ci/run installs Debian's package")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(base: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("streamlit exited before it became healthy")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on a free port, on a fresh demo database."""
    _chromium_or_skip()
    from seed import seed_database

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    seed_database(engine=engine, size="demo", today=date.today())
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "TAKSTKOMPAS_DB_URL": url}
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--client.showErrorDetails",
            "full",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(app_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=_chromium_or_skip(), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _wait_for_script(page) -> None:  # type: ignore[no-untyped-def]
    """Until the script has finished and the browser has painted every element (Streamlit
    shows grey placeholders, stSkeleton, while it lays out what the script sent)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.wait_for_function(
        "() => { const app = document.querySelector(\"[data-testid='stApp']\");"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector(\"[data-testid='stSkeleton']\"); }",
        timeout=60_000,
    )


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_page_opens_without_exception(spec, app_url, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="da-DK")
    page = context.new_page()
    try:
        page.goto(f"{app_url}/{spec.url_path}", wait_until="domcontentloaded")
        _wait_for_script(page)
        page.wait_for_selector("h1", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / f"{spec.url_path}.png"), full_page=True)
        exceptions = page.locator("[data-testid='stException']")
        assert 0 == exceptions.count(), exceptions.first.inner_text()
        assert spec.title in page.locator("h1").first.inner_text()
    finally:
        context.close()


def test_navigation_lists_every_page(app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(app_url, wait_until="domcontentloaded")
        _wait_for_script(page)
        nav = page.locator("[data-testid='stSidebarNav']").inner_text()
        for spec in PAGES:
            assert spec.title in nav
    finally:
        context.close()
