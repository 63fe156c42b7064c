"""Time every page through Streamlit's AppTest on the demo and the large database (SPEC 7).

Per page: a fresh AppTest of `streamlit_app.py` with `TAKSTKOMPAS_DB_URL` set, one run of the
entry point, `switch_page`, warm-up runs, then N timed `run()` calls. `st.cache_data` is cleared
before every timed run, so the page's queries really run (a warm cache would make every page look
instant and hide slow SQL); the engine (`st.cache_resource`) stays, as on a running server. For
comparison the same number of runs is also timed with the cache left warm. Every run goes through
streamlit_app.py, as a browser request does (see `entry_point_on_every_run`).

Unless `--no-floor`, every page also gets its floor (bench/floor.py): the statements of one more
uncached run are recorded and replayed raw on the DBAPI connection (`sql_s`), and an empty page
is timed through the same entry point once per database (`empty_s`); the table shows the floor
and the page's median ÷ floor, with the bar ≤ 2× floor.
"""

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bench.report import (
    BAR_FLOOR_RATIO,
    BAR_LARGE_SECONDS,
    BAR_RATIO,
    DATASET_NAMES,
    PageResult,
    Timing,
    fine_seconds,
    markdown_table,
    number,
    ratio_text,
    seconds,
    summary_line,
)

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "streamlit_app.py"
DEFAULT_PATHS = {"demo": ROOT / "data" / "bench_demo.db", "large": ROOT / "data" / "bench_large.db"}
RESULTS = ROOT / "bench" / "results" / "latest.json"
CACHE_NOTE = (
    "Før hver målt kørsel ryddes st.cache_data, så sidens forespørgsler faktisk kører; "
    "motoren (st.cache_resource) bevares som på en kørende server"
)


def log(message: str) -> None:
    """Progress goes to stderr; stdout holds only the table and the summary."""
    print(message, file=sys.stderr, flush=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _dataset_of(url: str) -> tuple[str | None, int]:
    """(dataset kind, providers) of a database; (None, 0) when it is empty or has no schema."""
    from sqlmodel import Session

    from services.db import get_engine
    from services.demo_data import dataset_kind
    from services.queries.home import table_counts

    engine = get_engine(url)
    try:
        with Session(engine) as session:
            return dataset_kind(session=session), table_counts(session=session).providers
    except Exception:  # no schema yet
        return None, 0
    finally:
        engine.dispose()


def _sizes(url: str) -> dict[str, int]:
    """How much data a database holds, to print next to the timings."""
    from sqlmodel import Session

    from services.db import get_engine
    from services.queries.home import table_counts

    engine = get_engine(url)
    try:
        with Session(engine) as session:
            counts = table_counts(session=session)
    finally:
        engine.dispose()
    return {
        "providers": counts.providers,
        "offers": counts.offers,
        "contracts": counts.contracts,
        "invoice_checks": counts.invoice_checks,
    }


def _sizes_text(sizes: dict[str, int]) -> str:
    return (
        f"{_int(sizes['providers'])} leverandører, {_int(sizes['contracts'])} kontrakter, "
        f"{_int(sizes['invoice_checks'])} fakturakontroller"
    )


def _int(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def ensure_database(size: str, path: Path, *, rebuild: bool = False) -> str:
    """Build data/bench_<size>.db with `python -m seed` unless it already holds that data set."""
    url = sqlite_url(path)
    if path.exists() and not rebuild:
        kind, _ = _dataset_of(url)
        if kind == size:
            return url
        log(f"{path.relative_to(ROOT)} er ufuldstændig eller forkert ({kind}); bygges igen.")
    note = " (tager nogle minutter)" if size == "large" else ""
    log(f"Bygger {path.relative_to(ROOT)} med python -m seed --size {size}{note} …")
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "seed", "--size", size, "--db-url", url, "--replace"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"python -m seed fejlede:\n{done.stdout}\n{done.stderr}")
    log(f"  færdig på {seconds(time.perf_counter() - started)}")
    return url


def check_database(name: str, url: str) -> None:
    kind, providers = _dataset_of(url)
    if providers == 0:
        log(f"OBS: {name}-databasen ({url}) er tom – tallene siger intet om ydeevne.")
    elif name == "large" and kind not in ("large", None):
        log(f"OBS: {name}-databasen indeholder datasættet {kind!r}, ikke 'large'.")


def _describe(exception) -> str:  # type: ignore[no-untyped-def]
    """The message and where in the project it was raised (the last project frame)."""
    ours = [line.strip() for line in exception.stack_trace if str(ROOT) in line]
    where = ours[-1].replace(str(ROOT) + "/", "") if ours else ""
    text = str(exception.proto.type or "") + ": " + str(exception.message)
    return f"{text.strip(': ')[:300]}{f' [{where}]' if where else ''}"


def _error_text(at, title: str | None = None) -> str | None:  # type: ignore[no-untyped-def]
    """What went wrong in the last run, or None; with `title`, also check the page was shown."""
    if at.exception:
        return "; ".join(_describe(e) for e in at.exception)
    if title is not None and title not in [t.value for t in at.title]:
        return f"siden »{title}« blev ikke vist"
    return None


@contextlib.contextmanager
def entry_point_on_every_run() -> Iterator[None]:
    """Make AppTest run streamlit_app.py on every run, and compile each script once, as a
    server does.

    AppTest (Streamlit 1.67) resets `PagesManager.uses_pages_directory` before each run, so with
    a folder named `pages/` every run after `switch_page` executes the page file alone
    (Streamlit's legacy multipage mode) and skips the entry point. A server leaves that mode at
    the first `st.navigation` call; doing the same here times what a browser request costs.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    original = PagesManager.__init__
    original_cache_init = ScriptCache.__init__
    compiled: dict[str, object] = {}

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    def one_cache(self):  # type: ignore[no-untyped-def]
        # AppTest makes a new script cache for every run, so it compiled the entry point and
        # the page (with Streamlit's "magic": 2-33 ms per page) on every timed run; a server
        # compiles each script once and keeps it. All caches here share one dict, as a server.
        original_cache_init(self)
        self._cache = compiled

    PagesManager.__init__ = init  # type: ignore[method-assign]
    ScriptCache.__init__ = one_cache  # type: ignore[method-assign]
    try:
        yield
    finally:
        PagesManager.__init__ = original  # type: ignore[method-assign]
        ScriptCache.__init__ = original_cache_init  # type: ignore[method-assign]


def time_page(
    url: str,
    page_path: str,
    title: str | None,
    *,
    runs: int,
    warmup: int,
    cached: bool,
    timeout: float,
    record: list | None = None,
) -> Timing:
    """Median-ready timings of one page on one database.

    With `record` (a list), one more uncached run after the timed ones records the statements
    the page sends to the database into it (bench/floor.py), untimed. `title` None: the page's
    title is not checked (the empty page of bench/floor.py)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["TAKSTKOMPAS_DB_URL"] = url
    # Measured as one local admin, also on a PostgreSQL database (no sign-in to go through).
    os.environ.setdefault("TAKSTKOMPAS_LOCAL_MODE", "1")
    timing = Timing()
    try:
        at = AppTest.from_file(str(APP), default_timeout=timeout)
        at.run()  # the default page; its errors belong to that page, not to this one
        at.switch_page(page_path)
        for _ in range(max(1, warmup)):
            at.run()
        timing.error = _error_text(at, title)
        if timing.error:
            return timing
        for _ in range(runs):
            st.cache_data.clear()
            started = time.perf_counter()
            at.run()
            timing.runs.append(time.perf_counter() - started)
            timing.error = _error_text(at, title)
            if timing.error:
                return timing
        if record is not None:
            from bench.floor import recording

            st.cache_data.clear()
            with recording() as found:
                at.run()
            record.extend(found)
            timing.error = _error_text(at, title)
            if timing.error:
                return timing
        if cached:
            at.run()  # fill the cache once more
            for _ in range(runs):
                started = time.perf_counter()
                at.run()
                timing.cached_runs.append(time.perf_counter() - started)
    except Exception as exc:  # a measurement: report and go on with the next page
        timing.error = f"{type(exc).__name__}: {exc}"
        log(traceback.format_exc(limit=3))
    return timing


def select_pages(wanted: list[str] | None):  # type: ignore[no-untyped-def]
    """The pages of the navigation, or those named by title, url path or file."""
    from pages._nav import PAGES

    if not wanted:
        return list(PAGES)
    names = {w.strip().lower() for item in wanted for w in item.split(",") if w.strip()}
    aliases = {
        p.path: {p.title.lower(), p.url_path.lower(), p.path.lower(), Path(p.path).stem}
        for p in PAGES
    }
    unknown = sorted(n for n in names if not any(n in a for a in aliases.values()))
    if unknown:
        known = ", ".join(p.url_path for p in PAGES)
        raise SystemExit(f"Ukendte sider: {', '.join(unknown)}. Kendte: {known}")
    return [p for p in PAGES if aliases[p.path] & names]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Måler hver side gennem Streamlits AppTest på demo- og den store database og "
            "skriver medianen af varme kørsler, forholdet stor/demo og om kravene i SPEC 7 "
            f"holder (≤ {seconds(BAR_LARGE_SECONDS)} på stor, forhold ≤ {BAR_RATIO:.0f}). "
            f"{CACHE_NOTE}. Resultatet gemmes også i "
            "bench/results/latest.json. Afslutter altid med kode 0 (det er en måling)."
        ),
    )
    parser.add_argument(
        "--demo-url",
        help="database med demodata; standard: data/bench_demo.db (bygges, hvis den mangler)",
    )
    parser.add_argument(
        "--large-url",
        help="database med store testdata; standard: data/bench_large.db (bygges, hvis den "
        "mangler – det tager nogle minutter)",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="byg data/bench_demo.db og data/bench_large.db forfra (fx efter ændringer i seed/)",
    )
    parser.add_argument("--runs", type=int, default=5, help="målte varme kørsler pr. side (5)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="opvarmningskørsler efter sideskift (2)"
    )
    parser.add_argument(
        "--pages",
        nargs="+",
        metavar="SIDE",
        help="kun disse sider (titel, url-sti eller fil, fx overblik kontrakter)",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=["demo", "large"],
        help="hvilke databaser der måles (standard: begge; med --users kun den store)",
    )
    parser.add_argument(
        "--no-cached",
        action="store_true",
        help="spring målingen med varm st.cache_data over (halverer tiden)",
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="spring gulvet over: sidens SQL kørt rå (optaget i én ekstra kørsel, afspillet 3 "
        f"gange) plus en tom side; standard: med, krav side ≤ {number(BAR_FLOOR_RATIO, 0)}× "
        "gulv (bench/floor.py)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="sekunder en enkelt kørsel må tage (120)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON-fil til resultatet")
    parser.add_argument(
        "--import",
        dest="imports",
        choices=["med", "uden", "kun"],
        default="med",
        help="importen af 10.000 og 100.000 fakturalinjer og af 1.000 e-fakturaer på SQLite og "
        "PostgreSQL: med (standard), uden, eller kun den (bench/imports.py, bench/einvoices.py)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TAKSTKOMPAS_BENCH_PG_URL")
        or os.environ.get("TAKSTKOMPAS_TEST_PG_URL"),
        help="PostgreSQL-server til importmålingen (en database takstkompas_bench_import "
        "oprettes og erstattes); standard: TAKSTKOMPAS_BENCH_PG_URL eller "
        "TAKSTKOMPAS_TEST_PG_URL, ellers kun SQLite",
    )
    parser.add_argument(
        "--users",
        nargs="+",
        type=int,
        metavar="N",
        help="mål kun samtidige sessioner over appens websocket mod en kørende server, fx "
        "--users 1 5 10 20: N sessioner ad gangen går Overblik → Kontrakter → Prisopslag → "
        "Fakturaafvigelser → Overblik; klik p50/p95 og første åbning p95 pr. niveau "
        "(bench/users.py, gemmes i bench/results/users.json)",
    )
    parser.add_argument("--walks", type=int, default=3, help="med --users: ture pr. session (3)")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="med --users: sekunders pause før hvert klik (0: klik straks efter svaret)",
    )
    parser.add_argument(
        "--server",
        help="med --users: en kørende server at måle mod, fx http://127.0.0.1:8501; standard: "
        "en server startes på hver database i --datasets og stoppes igen",
    )
    parser.add_argument(
        "--saving",
        type=float,
        metavar="S",
        help="med --users: hvert niveau køres igen, mens en kollega gemmer en reguleringssats "
        "hvert S sekund (det genberegner alle indeksregulerede kontrakters priser); ikke med "
        "--server (bench/saving.py)",
    )
    parser.add_argument(
        "--cold-start",
        type=int,
        metavar="N",
        help="mål kun kold start: N gange fra `streamlit run` til Overblik er vist i Chromium "
        "(bench/paint.py, gemmes i bench/results/cold_start.json)",
    )
    args = parser.parse_args(argv)
    if args.cold_start is not None and args.cold_start < 1:
        parser.error("--cold-start skal være mindst 1")
    if args.saving is not None and (args.users is None or args.server or args.saving <= 0):
        parser.error("--saving kræver --users, et positivt antal sekunder og ingen --server")
    if args.runs < 1:
        parser.error("--runs skal være mindst 1")
    if args.users is not None and (min(args.users) < 1 or args.walks < 1):
        parser.error("--users og --walks skal være mindst 1")
    if args.datasets is None:
        args.datasets = ["large"] if args.users or args.cold_start else ["demo", "large"]
    return args


def _quiet_streamlit() -> None:
    """Keep the output to the table: Streamlit logs warnings on every AppTest run.

    Errors are shown in full in the page's exception element instead, so the bench can say
    what failed (the app's config hides error details from users).
    """
    import streamlit
    import streamlit.logger

    streamlit.config.get_option("logger.level")  # parse .streamlit/config.toml first
    streamlit.config.set_option("logger.level", "critical")
    streamlit.config.set_option("client.showErrorDetails", "full")
    streamlit.logger.set_log_level("critical")
    warnings.filterwarnings("ignore")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    _quiet_streamlit()
    from services.price_timeline import keep_prices_current

    # As the app's start-up does (every timed run also goes through prepare_database): any ORM
    # write of this process keeps the stored price periods current.
    keep_prices_current()
    if args.cold_start:
        return _cold_start(args)
    if args.users:
        return _users(args)
    if args.imports == "kun":
        return _imports(args)
    pages = select_pages(args.pages)
    missing = [p.path for p in select_pages(None) if not (ROOT / p.path).exists()]
    if missing:
        log(
            f"OBS: {', '.join(missing)} findes ikke. streamlit_app.py opretter alle sider, så "
            "indtil da fejler appen for alle sider; de manglende springes over."
        )

    urls: dict[str, str] = {}
    for name in args.datasets:
        given = getattr(args, f"{name}_url")
        if given:
            check_database(name, given)
            urls[name] = given
        else:
            urls[name] = ensure_database(name, DEFAULT_PATHS[name], rebuild=args.rebuild)

    sizes = {name: _sizes(url) for name, url in urls.items()}
    load_before = _load()
    empty = (
        {} if args.no_floor else {name: _empty_page(url, name, args) for name, url in urls.items()}
    )
    results: list[PageResult] = []
    for spec in pages:
        result = PageResult(title=spec.title, path=spec.path)
        results.append(result)
        if not (ROOT / spec.path).exists():
            result.skipped = f"{spec.path} findes ikke (endnu)"
            log(f"{spec.title}: springes over – {result.skipped}")
            continue
        for name, url in urls.items():
            log(f"{spec.title} på {name} …")
            recorded: list | None = None if args.no_floor else []
            with contextlib.redirect_stdout(io.StringIO()), entry_point_on_every_run():
                timing = time_page(
                    url,
                    spec.path,
                    spec.title,
                    runs=args.runs,
                    warmup=args.warmup,
                    cached=not args.no_cached,
                    timeout=args.timeout,
                    record=recorded,
                )
            result.timings[name] = timing
            if timing.error:
                log(f"  fejl: {timing.error}")
                continue
            each = ", ".join(seconds(r) for r in timing.runs)
            log(f"  median {seconds(timing.median)} ({each})")
            if recorded is not None:
                add_floor(timing, url, recorded, empty[name]["empty_s"])
                log(
                    f"  gulv {fine_seconds(timing.floor)} (SQL {fine_seconds(timing.sql_s)}, "
                    f"{timing.statements} sætninger; tom side {fine_seconds(timing.empty_s)}), "
                    f"side/gulv {ratio_text(timing.floor_ratio)}"
                )
                _log_replay_notes(timing.replay or {})

    load_after = _load()
    datasets = list(urls)
    table = markdown_table(results, datasets)
    summary = summary_line(results, datasets)
    print(f"Median af {args.runs} varme kørsler pr. side. {CACHE_NOTE}.")
    for name, counts in sizes.items():
        print(f"- {DATASET_NAMES.get(name, name).capitalize()}: {_sizes_text(counts)}")
    print()
    print(table)
    print()
    busy = max(load_before or 0, load_after or 0)
    cpus = os.cpu_count() or 1
    if busy > cpus:
        print(
            f"OBS: maskinen var belastet af andet arbejde (load {number(busy, 1)} på {cpus} "
            "kerner); tiderne er højere og mere spredte end på en ledig maskine.\n"
        )
    print(summary)

    report = {
        "created": datetime.now().isoformat(timespec="seconds"),
        "runs": args.runs,
        "warmup": args.warmup,
        "cache": CACHE_NOTE,
        "bars": {"large_median_s": BAR_LARGE_SECONDS, "ratio": BAR_RATIO},
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "streamlit": _streamlit_version(),
        },
        "databases": {name: {"url": _safe_url(url), **sizes[name]} for name, url in urls.items()},
        "floor": {
            "bar_ratio": BAR_FLOOR_RATIO,
            "how": "gulv = rå SQL (sidens optagne sætninger kørt igen på DBAPI-forbindelsen, "
            "median af 3) + tom side (indgangen streamlit_app.py med en side uden indhold); "
            "se bench/floor.py",
            "empty_page": empty,
        }
        if empty
        else None,
        "pages": [r.to_json() for r in results],
        "summary": summary,
        "table_markdown": table,
        "median_of_medians": {
            name: _median_or_none([r.median(name) for r in results]) for name in datasets
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"Gemt: {args.output}")
    if args.imports == "med":
        print()
        _imports(args)
    return 0


EMPTY_RUNS = 9  # an empty run takes 0,01–0,02 s, with jitter of the same size: more runs


def _empty_page(url: str, name: str, args: argparse.Namespace) -> dict:
    """The floor's empty page run on one database (bench/floor.py): timings and statements."""
    from bench.floor import empty_page, replay, to_json

    log(f"Tom side (gulvet) på {name} …")
    recorded: list = []
    with (
        empty_page() as script,
        contextlib.redirect_stdout(io.StringIO()),
        entry_point_on_every_run(),
    ):
        timing = time_page(
            url,
            script,
            None,
            runs=max(EMPTY_RUNS, args.runs),
            warmup=max(3, args.warmup),
            cached=False,
            timeout=args.timeout,
            record=recorded,
        )
    if timing.error:  # a measurement: the pages are still timed, without a floor
        log(f"  fejl: {timing.error}; gulvet udelades på {name}")
        return {"empty_s": None, "error": timing.error}
    replayed = replay(url, recorded)
    log(
        f"  median {fine_seconds(timing.median)} ({len(recorded)} sætninger, rå SQL "
        f"{fine_seconds(replayed.sql_s)})"
    )
    return {
        "empty_s": timing.median,
        "runs": timing.runs,
        "entry_sql_s": replayed.sql_s,
        "entry_statements": to_json(replayed),
    }


def add_floor(timing: Timing, url: str, recorded: list, empty_s: float | None) -> None:
    """Replay the recorded statements raw and set the timing's floor (bench/floor.py)."""
    from bench.floor import replay, to_json

    replayed = replay(url, recorded)
    timing.sql_s = replayed.sql_s
    timing.empty_s = empty_s
    timing.statements = replayed.statements
    timing.replay = to_json(replayed)


def _log_replay_notes(replay: dict) -> None:
    for text in replay.get("writes", [])[:3]:
        log(f"  OBS: siden skriver ved et klik: {text}")
    for text in replay.get("failures", [])[:3]:
        log(f"  OBS: en SELECT fejlede ved genafspilningen: {text}")
    for item in replay.get("most_repeated", [])[:1]:
        if item["times"] >= 5:
            log(f"  OBS: samme sætning {item['times']} gange: {item['statement']}")


def _imports(args: argparse.Namespace) -> int:
    """The import of invoice lines (bench/imports.py): its table, also in bench/results."""
    from bench import einvoices, imports

    results = imports.run(args.pg_url)
    print(
        "Import af fakturalinjer (læst, kontrolleret og gemt i én transaktion; krav ≤ "
        f"{seconds(imports.BAR_SECONDS)} for 100.000):"
    )
    print(imports.table(results))
    target = args.output.with_name("imports.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"Gemt: {target}")
    einvoice_results = einvoices.run(args.pg_url)
    print()
    count = f"{einvoices.COUNT:,}".replace(",", ".")
    print(
        f"E-fakturaer ({count} læst, matchet og kontrolleret; krav ≤ "
        f"{seconds(einvoices.BAR_SECONDS)}; derefter gemt i én transaktion):"
    )
    print(einvoices.table(einvoice_results))
    target = args.output.with_name("einvoices.json")
    target.write_text(json.dumps(einvoice_results, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"Gemt: {target}")
    return 0


def _cold_start(args: argparse.Namespace) -> int:
    """From `streamlit run` to the start page painted in Chromium (bench/paint.py)."""
    from bench import paint

    measured: dict[str, dict[str, object]] = {}
    for name in args.datasets:
        given = getattr(args, f"{name}_url")
        if given:
            check_database(name, given)
            url = given
        else:
            url = ensure_database(name, DEFAULT_PATHS[name], rebuild=args.rebuild)
        title = f"{DATASET_NAMES.get(name, name).capitalize()}, {_backend(url)}"
        log(f"Kold start i Chromium ({args.cold_start} gange) mod {_safe_url(url)} …")
        measured[title] = paint.run(url, args.cold_start)
    print(
        "Fra `streamlit run` til Overblik er vist i Chromium (median af "
        f"{args.cold_start} starter; krav ≤ 3 s):"
    )
    print()
    print(paint.table(measured))  # type: ignore[arg-type]
    target = args.output.with_name("cold_start.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(measured, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"Gemt: {target}")
    return 0


def _users(args: argparse.Namespace) -> int:
    """Concurrent sessions over the app's websocket (bench/users.py): a table per database."""
    from bench import users

    targets: dict[str, str] = {}
    if args.server:
        targets["server"] = args.server
    else:
        for name in args.datasets:
            given = getattr(args, f"{name}_url")
            if given:
                check_database(name, given)
                targets[name] = given
            else:
                targets[name] = ensure_database(name, DEFAULT_PATHS[name], rebuild=args.rebuild)
    report: dict[str, object] = {
        "created": datetime.now().isoformat(timespec="seconds"),
        "levels": args.users,
        "walks": args.walks,
        "think_s": args.think,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": _load(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "streamlit": _streamlit_version(),
        },
    }
    measured: dict[str, object] = {}
    target_file = args.output.with_name("users.json")
    target_file.parent.mkdir(parents=True, exist_ok=True)
    for name, target in targets.items():
        server = target.startswith(("http://", "https://"))
        where = target if server else _safe_url(target)
        log(f"Samtidige sessioner mod {where} …")
        results = users.run(
            target,
            args.users,
            args.walks,
            timeout=args.timeout,
            think=args.think,
            log_file=None if server else target_file.with_name(f"users-server-{name}.log"),
            saving_every=args.saving,
        )
        results["target"] = where
        if not server:
            results["database"] = {"url": where, **_sizes(target)}
        measured[name] = results
        title = "Kørende server" if server else DATASET_NAMES.get(name, name).capitalize()
        backend = "" if server else f", {_backend(target)}"
        print(
            f"{title}{backend}: {args.walks} {'tur' if args.walks == 1 else 'ture'} pr. session "
            f"({' → '.join(results['walk'])}); klik = fra rerun_script til script_finished."
        )
        if not server:
            print(f"- {_sizes_text(results['database'])}")
        print()
        print(users.table(results))
        print()
        if results["levels"]:
            level = results["levels"][0]
            print(
                f"Klik pr. side ved {users.sessions_text(level['users'])}, median: "
                f"{users.page_medians_text(level)}."
            )
        if results.get("first_page_after_start_s") is not None:
            print(
                "Kold start (opvarmningen, ikke talt med): serveren svarede "
                f"{seconds(results['healthy_after_s'])} efter `streamlit run`, den første side "
                f"var kørt efter {seconds(results['first_page_after_start_s'])} "
                f"(første åbning {seconds(results['warmup_first_open_s'])})."
            )
        failure = users.first_failure_text(results)
        if failure:
            print(f"Første fejl: {failure}")
        print()
    report["results"] = measured
    load_after = _load()
    report["machine"]["load_average_after"] = load_after  # type: ignore[index]
    cpus = os.cpu_count() or 1
    if (load_after or 0) > cpus:
        print(
            f"OBS: maskinen var belastet (load {number(load_after or 0, 1)} på {cpus} kerner); "
            "klienterne kører selv på samme maskine som serveren."
        )
    target_file.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"Gemt: {target_file}")
    return 0


def _backend(url: str) -> str:
    from sqlalchemy.engine import make_url

    return "PostgreSQL" if make_url(url).get_backend_name().startswith("postgres") else "SQLite"


def _load() -> float | None:
    """The 1-minute load average, to judge how busy the machine was (None where unknown)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _streamlit_version() -> str:
    import streamlit

    return streamlit.__version__
