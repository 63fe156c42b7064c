"""Ten colleagues at once: N sessions over the app's own websocket against a running server.

Each session is a protocol client, not a browser: it opens `/_stcore/stream` as the frontend
does (subprotocol "streamlit"), asks for a run of the start page (`rerun_script` with the
address "/") and then clicks through Overblik → Kontrakter → Prisopslag → Fakturaafvigelser →
Overblik by sending `rerun_script` with the page's `page_script_hash`, taken from the
`navigation` message the app sends on every run. A click lasts from sending the request to
the run's `script_finished`; rendering in a browser is not counted. "First open" lasts from
opening the websocket to the first run's `script_finished`.

All sessions of a level run at once (asyncio, one process); the levels run one after the
other against the same server. A run fails when the page shows an exception, the page's title
is missing, the page is not found, or no `script_finished` comes within the timeout.

The server's st.cache_data is shared by every session, as on a real server (entries live
READ_TTL = 60 s): the figures are those of colleagues working on one warm server, not of
cold queries (`python -m bench` times those page by page).
"""

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import number, seconds

ROOT = Path(__file__).resolve().parent.parent
HOME = "Overblik"
WALK = ("Kontrakter", "Prisopslag", "Fakturaafvigelser", "Overblik")  # the clicks after opening
DEFAULT_LEVELS = (1, 5, 10, 20)
DEFAULT_WALKS = 3
TABLE_HEADER = ("Samtidige sessioner", "Klik p50", "Klik p95", "Første åbning p95", "Fejl")
SAVING_HEADER = (
    "Klik maks",
    "Klik p95 mens der gemmes",
    "Klik maks mens der gemmes",
    "Gemninger",
    "Fejl mens der gemmes",
)


@dataclass
class Click:
    """One run of a page: the start page on opening, or a click in the menu."""

    page: str
    seconds: float | None  # None when it did not finish
    error: str | None = None


@dataclass
class SessionRun:
    first_open: Click | None = None
    clicks: list[Click] = field(default_factory=list)
    error: str | None = None  # what ended the session early (connection lost, timeout)

    def failures(self) -> list[str]:
        runs = ([self.first_open] if self.first_open else []) + self.clicks
        found = [f"{r.page}: {r.error}" for r in runs if r.error]
        if self.error and not found:
            found.append(self.error)
        return found


@dataclass
class Level:
    users: int
    sessions: list[SessionRun]
    wall_seconds: float

    def click_times(self) -> list[float]:
        return [c.seconds for s in self.sessions for c in s.clicks if c.seconds is not None]

    def first_opens(self) -> list[float]:
        return [
            s.first_open.seconds
            for s in self.sessions
            if s.first_open is not None and s.first_open.seconds is not None
        ]

    def failures(self) -> list[str]:
        return [f for s in self.sessions for f in s.failures()]

    def page_medians(self) -> dict[str, float]:
        """The median click per page (in walk order)."""
        times: dict[str, list[float]] = {}
        for s in self.sessions:
            for c in s.clicks:
                if c.seconds is not None and not c.error:
                    times.setdefault(c.page, []).append(c.seconds)
        return {p: statistics.median(times[p]) for p in WALK if p in times}

    def to_json(self) -> dict[str, Any]:
        clicks, opens = self.click_times(), self.first_opens()
        return {
            "users": self.users,
            "clicks": len(clicks),
            "click_p50_s": percentile(clicks, 50),
            "click_p95_s": percentile(clicks, 95),
            "click_max_s": max(clicks, default=None),
            "first_open_p50_s": percentile(opens, 50),
            "first_open_p95_s": percentile(opens, 95),
            "failures": len(self.failures()),
            "first_failure": next(iter(self.failures()), None),
            "wall_s": self.wall_seconds,
            "clicks_per_s": len(clicks) / self.wall_seconds if self.wall_seconds else None,
            "page_medians_s": self.page_medians(),
            "sessions": [
                {
                    "first_open": _click_json(s.first_open),
                    "clicks": [_click_json(c) for c in s.clicks],
                    "error": s.error,
                }
                for s in self.sessions
            ],
        }


def _click_json(click: Click | None) -> dict[str, Any] | None:
    if click is None:
        return None
    return {"page": click.page, "s": click.seconds, "error": click.error}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile, interpolated between the nearest values (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class PageRunError(Exception):
    """A run that did not finish (no script_finished, or the connection closed)."""


class Client:
    """One browser tab's worth of the protocol: a websocket session of the app."""

    def __init__(self, base: str, *, timeout: float) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.pages: dict[str, tuple[str, str]] = {}  # title → (page_script_hash, url path)
        self._ws: Any = None

    @property
    def stream_url(self) -> str:
        scheme, rest = self.base.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/_stcore/stream"

    async def open(self) -> Click:
        """Connect and run the start page ("/", Overblik) as a browser's first request does."""
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        started = time.perf_counter()
        # No size limit: a page's table arrives as one Arrow message. The browser offers
        # "streamlit" as subprotocol (then an XSRF token and a session id, not needed here).
        self._ws = await connect(
            self.stream_url,
            subprotocols=[Subprotocol("streamlit")],
            max_size=None,
            open_timeout=self.timeout,
            ping_interval=None,  # as a browser: the frontend's own heartbeat is optional
        )
        error = await self._run(HOME, page_name="")
        return Click(HOME, time.perf_counter() - started, error)

    async def click(self, title: str) -> Click:
        """Choose a page in the menu: the frontend sends the page's script hash."""
        if title not in self.pages:
            return Click(title, None, f"siden »{title}« er ikke i menuen")
        started = time.perf_counter()
        error = await self._run(title, page_script_hash=self.pages[title][0])
        return Click(title, time.perf_counter() - started, error)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def _run(
        self, title: str, *, page_name: str = "", page_script_hash: str = ""
    ) -> str | None:
        """Ask for a run and read until it has finished; the page's failure, or None."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        state = message.rerun_script
        state.query_string = ""
        state.page_name = page_name
        state.page_script_hash = page_script_hash
        path = self.pages.get(title, ("", ""))[1]
        state.context_info.url = f"{self.base}/{path}"
        state.context_info.timezone = "Europe/Copenhagen"
        state.context_info.locale = "da-DK"
        await self._ws.send(message.SerializeToString())

        errors: list[str] = []
        headings: list[str] = []
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PageRunError(f"intet svar inden for {seconds(self.timeout)}")
            try:
                data = await asyncio.wait_for(self._ws.recv(), remaining)
            except TimeoutError as exc:
                raise PageRunError(f"intet svar inden for {seconds(self.timeout)}") from exc
            except Exception as exc:  # the connection closed
                raise PageRunError(f"forbindelsen lukkede: {exc}") from exc
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                shown = element.WhichOneof("type")
                if shown == "exception" and not element.exception.is_warning:
                    text = f"{element.exception.type}: {element.exception.message}"
                    errors.append(text.strip(": ")[:300])
                elif shown == "heading":
                    headings.append(element.heading.body)
            elif kind == "navigation":
                # The app's own menu (st.navigation). The new_session message lists the files
                # in pages/ as Streamlit's old multipage pages instead; it is not the menu.
                self.pages = {
                    p.page_name: (p.page_script_hash, p.url_pathname)
                    for p in msg.navigation.app_pages
                    if not p.is_hidden
                }
            elif kind == "page_not_found":
                errors.append(f"siden blev ikke fundet ({msg.page_not_found.page_name})")
            elif kind == "ref_hash":
                # Only sent for messages the client says it has cached; this one says none.
                errors.append("uventet ref_hash-besked")
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun / st.switch_page: the run goes on
                if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                    continue  # a fragment's own run (run_every), not the one asked for
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    errors.append("scriptet kunne ikke oversættes")
                break
        if not errors and not any(title in h for h in headings):
            errors.append(f"siden »{title}« blev ikke vist")
        return "; ".join(errors) or None


async def session(
    base: str, *, walks: int, timeout: float, think: float, start: asyncio.Event | None = None
) -> SessionRun:
    """Open the app, then walk Overblik → … → Overblik `walks` times."""
    result = SessionRun()
    client = Client(base, timeout=timeout)
    if start is not None:
        await start.wait()
    try:
        result.first_open = await client.open()
        for _ in range(walks):
            for title in WALK:
                if think:
                    await asyncio.sleep(think)
                result.clicks.append(await client.click(title))
    except PageRunError as exc:
        result.error = str(exc)
        if result.first_open is None:
            result.first_open = Click(HOME, None, str(exc))
    except Exception as exc:  # no server, or the handshake failed
        result.error = f"{type(exc).__name__}: {exc}"
        if result.first_open is None:
            result.first_open = Click(HOME, None, result.error)
    finally:
        with suppress(Exception):  # closing a broken connection
            await client.close()
    return result


async def run_level(base: str, users: int, *, walks: int, timeout: float, think: float) -> Level:
    """`users` sessions at once."""
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(session(base, walks=walks, timeout=timeout, think=think, start=start))
        for _ in range(users)
    ]
    await asyncio.sleep(0)  # every session waits at the start line
    started = time.perf_counter()
    start.set()
    sessions = await asyncio.gather(*tasks)
    return Level(users, list(sessions), time.perf_counter() - started)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def server_for(target: str, *, log_file: Path | None = None) -> Iterator[str]:
    """The base URL of a running server: `target` itself when it is http(s)://…, otherwise a
    server started here on the database URL `target` and stopped afterwards."""
    if target.startswith(("http://", "https://")):
        yield target.rstrip("/")
        return
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.serving import served

    env = {
        "TAKSTKOMPAS_DB_URL": target,
        # One local admin, also on PostgreSQL, as `python -m bench` measures the pages.
        "TAKSTKOMPAS_LOCAL_MODE": os.environ.get("TAKSTKOMPAS_LOCAL_MODE", "1"),
    }
    # Full error details, so a failing page says what failed (the app's config hides them).
    options = ["--client.showErrorDetails", "full"]
    with served(env=env, options=options, log=log_file) as base:
        yield base


def run(
    target: str,
    levels: Sequence[int] = DEFAULT_LEVELS,
    walks: int = DEFAULT_WALKS,
    *,
    timeout: float = 120.0,
    think: float = 0.0,
    warmup: bool = True,
    log_file: Path | None = None,
    saving_every: float | None = None,
) -> dict[str, Any]:
    """Measure every level against `target` (a server's base URL, or a database URL to serve).

    First one session walks once, not counted: it starts the app (migrations, the engine) on a
    fresh server, so the levels measure a server that is up, as colleagues meet it.

    `saving_every` (seconds; only with a database URL as `target`): each level runs once more
    while a colleague saves an index rate that often (bench/saving.py), and the level's result
    holds that run as "while_saving".
    """
    if saving_every is not None and target.startswith(("http://", "https://")):
        raise ValueError("saving needs the database URL, not a running server")
    results: dict[str, Any] = {"walks": walks, "think_s": think, "walk": [HOME, *WALK]}
    own_server = not target.startswith(("http://", "https://"))
    launched = time.perf_counter()
    with server_for(target, log_file=log_file) as base:
        results["server"] = base
        if own_server:
            # From `streamlit run` until the server answers /_stcore/health.
            results["healthy_after_s"] = time.perf_counter() - launched
        if warmup:
            log("Opvarmning: én session går turen én gang …")
            first = asyncio.run(run_level(base, 1, walks=1, timeout=timeout, think=0.0))
            opened = first.first_opens()
            results["warmup_first_open_s"] = opened[0] if opened else None
            if own_server and opened:
                # The cold start: the session connects as soon as the server is healthy, so
                # the first page has been run this long after `streamlit run`.
                results["first_page_after_start_s"] = results["healthy_after_s"] + opened[0]
            if first.failures():
                log(f"  fejl under opvarmningen: {first.failures()[0]}")
        measured: list[Level] = []
        saving_runs: list[dict[str, Any]] = []
        for users in levels:
            log(f"{sessions_text(users)} × {walks} {'tur' if walks == 1 else 'ture'} …")
            level = asyncio.run(run_level(base, users, walks=walks, timeout=timeout, think=think))
            measured.append(level)
            clicks = level.click_times()
            log(
                f"  klik p50 {seconds(percentile(clicks, 50))}, "
                f"p95 {seconds(percentile(clicks, 95))}"
                f", første åbning p95 {seconds(percentile(level.first_opens(), 95))}, "
                f"{len(level.failures())} fejl ({number(level.wall_seconds, 1)} s i alt)"
            )
            for failure in level.failures()[:3]:
                log(f"  fejl: {failure}")
            if saving_every is not None:
                saving_runs.append(
                    _while_saving(base, target, users, walks, timeout, think, saving_every)
                )
    results["levels"] = [level.to_json() for level in measured]
    for level_json, while_saving in zip(results["levels"], saving_runs, strict=False):
        level_json["while_saving"] = while_saving
    return results


def _while_saving(
    base: str, url: str, users: int, walks: int, timeout: float, think: float, every: float
) -> dict[str, Any]:
    """The level once more while a colleague saves an index rate every `every` seconds."""
    from bench.saving import saving

    log(f"  det samme, mens en kollega gemmer en reguleringssats hvert {number(every, 1)} s …")
    with saving(url, every) as saves:
        level = asyncio.run(run_level(base, users, walks=walks, timeout=timeout, think=think))
    clicks = level.click_times()
    log(
        f"  klik p50 {seconds(percentile(clicks, 50))}, p95 {seconds(percentile(clicks, 95))}, "
        f"{len(saves.seconds)} gemninger (median {seconds(saves.to_json()['save_p50_s'])}), "
        f"{len(level.failures()) + len(saves.errors)} fejl"
    )
    result = {k: v for k, v in level.to_json().items() if k != "sessions"}
    result.update(saves.to_json())
    return result


def table(results: dict[str, Any]) -> str:
    """| Samtidige sessioner | Klik p50 | Klik p95 | Første åbning p95 | Fejl |"""
    lines = [
        "| " + " | ".join(TABLE_HEADER) + " |",
        "|---:|---:|---:|---:|---:|",
    ]
    saving = any("while_saving" in level for level in results["levels"])
    if saving:
        lines[0] = "| " + " | ".join((*TABLE_HEADER, *SAVING_HEADER)) + " |"
        lines[1] += "---:|" * len(SAVING_HEADER)
    for level in results["levels"]:
        cells = [
            str(level["users"]),
            seconds(level["click_p50_s"]),
            seconds(level["click_p95_s"]),
            seconds(level["first_open_p95_s"]),
            str(level["failures"]),
        ]
        if saving:
            during = level.get("while_saving") or {}
            cells += [
                seconds(level.get("click_max_s")),
                seconds(during.get("click_p95_s")),
                seconds(during.get("click_max_s")),
                f"{during.get('saves', 0)} (median {seconds(during.get('save_p50_s'))})",
                str(during.get("failures", 0) + during.get("errors", 0)),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sessions_text(users: int) -> str:
    return "1 session" if users == 1 else f"{users} samtidige sessioner"


def page_medians_text(level: dict[str, Any]) -> str:
    """`Kontrakter 0,21 s, Prisopslag 0,09 s, …` for one level."""
    medians = level["page_medians_s"]
    return ", ".join(f"{page} {seconds(value)}" for page, value in medians.items()) or "–"


def first_failure_text(results: dict[str, Any]) -> str | None:
    for level in results["levels"]:
        if level["first_failure"]:
            return f"{sessions_text(level['users'])}: {level['first_failure']}"
    return None
