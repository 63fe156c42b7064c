"""Cold start in a browser (`python -m bench --cold-start N`): from `streamlit run` until the
start page is painted in Chromium.

Each of the N runs starts a fresh server on the database (`streamlit run streamlit_app.py`, the
app's own settings, local mode as in the page bench) with Chromium already open, asks for "/"
until the server answers, and waits for Overblik's title and its first key figure ("Aktive
kontrakter") to be on the screen. It reports when the server first answered /_stcore/health,
when the browser had loaded the page (HTML and scripts), and when Overblik was painted, each
counted from the moment `streamlit run` was started. Debian's Chromium
(/usr/bin/chromium, TAKSTKOMPAS_CHROMIUM) through Playwright; no browser is downloaded.
"""

import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("TAKSTKOMPAS_CHROMIUM", "/usr/bin/chromium")
HEADING = "Overblik"
FIRST_FIGURE = "Aktive kontrakter"


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def one_start(db_url: str, page: Any, *, timeout: float = 60.0) -> dict[str, float]:
    """One cold start against an open browser page: seconds after `streamlit run`."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.serving import free_port, stop

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TAKSTKOMPAS_DB_URL": db_url,
        "TAKSTKOMPAS_LOCAL_MODE": os.environ.get("TAKSTKOMPAS_LOCAL_MODE", "1"),
    }
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = started + timeout
        healthy = None
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError("streamlit stoppede, før den svarede")
            if _healthy(base):
                healthy = time.perf_counter() - started
                break
            time.sleep(0.02)
        if healthy is None:
            raise TimeoutError("serveren svarede ikke")
        page.goto(base, timeout=timeout * 1000)  # waits for the page's load event
        loaded = time.perf_counter() - started
        page.get_by_role("heading", name=HEADING).wait_for(timeout=timeout * 1000)
        page.get_by_text(FIRST_FIGURE).first.wait_for(timeout=timeout * 1000)
        painted = time.perf_counter() - started
        return {"healthy_s": healthy, "loaded_s": loaded, "painted_s": painted}
    finally:
        stop(process)


def run(db_url: str, starts: int) -> dict[str, Any]:
    """`starts` cold starts in one Chromium (a new page each time, as a new visitor)."""
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for _ in range(starts):
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                try:
                    runs.append(one_start(db_url, page))
                finally:
                    page.close()
        finally:
            browser.close()
    painted = [r["painted_s"] for r in runs]
    return {
        "starts": runs,
        "painted_median_s": statistics.median(painted),
        "painted_max_s": max(painted),
    }


def table(results: dict[str, dict[str, Any]]) -> str:
    """The Danish table: per database the median times and the slowest paint."""
    from bench.report import seconds

    header = ("Database", "Server svarer", "Side indlæst", "Overblik vist", "Overblik vist, maks")
    lines = ["| " + " | ".join(header) + " |", "|---|---:|---:|---:|---:|"]
    for name, result in results.items():
        starts = result["starts"]
        lines.append(
            f"| {name} "
            f"| {seconds(statistics.median(s['healthy_s'] for s in starts))} "
            f"| {seconds(statistics.median(s['loaded_s'] for s in starts))} "
            f"| {seconds(result['painted_median_s'])} "
            f"| {seconds(result['painted_max_s'])} |"
        )
    return "\n".join(lines)
