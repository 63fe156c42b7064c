"""A Streamlit app served in a subprocess on a free local port: for the browser tests and the
README's screenshot script (docs/screenshots/shoot.py)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base: str, process: subprocess.Popen, timeout: float = 90) -> None:  # type: ignore[type-arg]
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


@contextmanager
def served(
    script: str | Path = "streamlit_app.py",
    *,
    env: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
    log: Path | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    options: Sequence[str] = (),
    cwd: Path = ROOT,
) -> Iterator[str]:
    """Serve `script` (headless, no usage statistics, no reloading: the code under test is the
    code at start) and yield its base URL once it answers; stopped afterwards. `env` is added
    to this process's environment, the variables in `unset` are left out of it; `options` are
    more `streamlit run` options."""
    port = port or free_port()
    output = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.port",
            str(port),
            "--server.address",
            host,
            "--server.fileWatcherType",
            "none",
            *options,
        ],
        cwd=cwd,
        env={k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://{host}:{port}"
    try:
        wait_healthy(base, process)
        yield base
    finally:
        stop(process)
        if not isinstance(output, int):
            output.close()


def stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Stop a served app: terminate, and kill it if it has not stopped within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
