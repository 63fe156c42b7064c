"""The speed and memory of importing invoice lines (SPEC 7, 9; issue 12), on SQLite and
PostgreSQL.

Each engine gets its own database with the demo data (`python -m seed --size demo`). For each
size a CSV of that many invoice lines is made for the demo's contracts (monthly periods in
each contract's term, amounts around the contract's price, so some are flagged), and a fresh
process imports it: `import_invoices` reads, checks and writes every line in one transaction,
as confirming on the Import page does (with a second process checking chunks beside it). The
process reports the time and how much its memory grew (peak resident size over the size before
the file was made; a flat figure from 10.000 to 100.000 lines shows that rows are streamed, not
held), and the second process's peak resident size.

The machine's speed varies from minute to minute (the same code has taken 25 % more or less
time from one run to the next), so the whole measurement is made RUNS times, each on freshly
seeded data: the table gives every run's time and judges the median against the bar.
"""

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = ROOT / "data" / "bench_import.db"
PG_DATABASE = "takstkompas_bench_import"
BAR_SECONDS = 10.0
SIZES = (10_000, 100_000)
RUNS = 3


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _lines(url: str, count: int, tag: str) -> bytes:
    """A semicolon CSV of `count` invoice lines for the database's contracts."""
    from sqlmodel import Session, select

    from models import Contract, ContractStatus, Provider
    from services.db import get_engine

    with Session(get_engine(url)) as s:
        contracts = list(
            s.exec(
                select(Contract, Provider.cvr)
                .join(Provider)
                .where(Contract.status != ContractStatus.DRAFT)
            )
        )
    rng = random.Random(7)
    out = ["CVR;Sagsnummer;Fakturanummer;Periode fra;Periode til;Beløb"]
    months: list[tuple[Contract, str | None, date]] = []
    for contract, cvr in contracts:
        # Whole months inside the term (a partial month's expected amount is smaller).
        month = (contract.start_date + timedelta(days=31)).replace(day=1)
        last = (contract.end_date or date(2026, 12, 31)).replace(day=1) - timedelta(days=1)
        while month <= last:
            months.append((contract, cvr, month))
            month = (month + timedelta(days=32)).replace(day=1)
    for number in range(count):
        contract, cvr, month = months[number % len(months)]
        end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        per_day = {"dag": Decimal(1), "maaned": Decimal(30), "aar": Decimal(365)}
        daily = contract.price / per_day[str(contract.price_unit)]
        amount = (daily * 30 * Decimal(rng.uniform(0.9, 1.08))).quantize(Decimal("0.01"))
        text = f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        out.append(
            f"{cvr or ''};{contract.case_ref};{tag}-{number};{month:%d-%m-%Y};{end:%d-%m-%Y};{text}"
        )
    return ("\n".join(out) + "\n").encode("utf-8")


def child(url: str, count: int, tag: str) -> dict[str, float | int]:
    """Import `count` lines into `url` in this process; its time and memory growth."""
    from sqlmodel import Session

    from services.db import get_engine
    from services.imports.invoices import import_invoices
    from services.imports.reading import read_csv

    engine = get_engine(url)
    data = _lines(url, count, tag)
    before = _rss_mb()
    started = time.perf_counter()
    table, _, _ = read_csv(data)
    with Session(engine) as s:
        preview = import_invoices(
            session=s,
            headers=table.headers,
            rows=table.rows,
            file_name=f"bench-{tag}.csv",
            user="Bench",
        )
    seconds = time.perf_counter() - started
    return {
        "lines": count,
        "written": preview.creates,
        "errors": preview.error_count,
        "seconds": round(seconds, 2),
        "file_mb": round(len(data) / 1024 / 1024, 1),
        "memory_growth_mb": round(_rss_mb() - before, 1),
        # The second process that checks a large file's chunks (services.imports.invoices):
        # its whole peak resident size, the interpreter included; 0 when none was started.
        "checker_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def run_child(module: str, url: str, count: int, *, failure: str) -> dict[str, object]:
    """`python -m <module> --child <url> <count>` in a fresh process: the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--child", url, str(count)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode != 0:
        raise SystemExit(f"{failure}:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def seed_demo(url: str) -> None:
    command = [sys.executable, "-m", "seed", "--size", "demo", "--db-url", url, "--replace"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"python -m seed fejlede:\n{done.stdout}\n{done.stderr}")


def _pg_url(server: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server).set(database=PG_DATABASE).render_as_string(hide_password=False)


def run(
    pg_server: str | None, sizes: tuple[int, ...] = SIZES, runs: int = RUNS
) -> list[dict[str, object]]:
    """Every engine × size, `runs` times on fresh demo data, each import in a fresh process;
    the rows of the result table (the median time, every run's, the largest memory figures)."""
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    engines = {"SQLite": f"sqlite:///{SQLITE_PATH}"}
    if pg_server:
        engines["PostgreSQL"] = _pg_url(pg_server)
    results: list[dict[str, object]] = []
    for name, url in engines.items():
        measured: dict[int, list[dict[str, object]]] = {count: [] for count in sizes}
        for number in range(1, runs + 1):
            message = f"Import: {name}, kørsel {number} – bygger demodata …"
            print(message, file=sys.stderr, flush=True)
            seed_demo(url)
            for count in sizes:
                print(f"  {count} fakturalinjer …", file=sys.stderr, flush=True)
                failure = "Importmålingen fejlede"
                measured[count].append(run_child("bench.imports", url, count, failure=failure))
        for each in measured.values():
            times = [float(str(m["seconds"])) for m in each]
            results.append(
                {
                    "engine": name,
                    **each[0],
                    "seconds": round(statistics.median(times), 2),
                    "runs": times,
                    "errors": max(int(str(m["errors"])) for m in each),
                    "memory_growth_mb": max(float(str(m["memory_growth_mb"])) for m in each),
                    "checker_peak_mb": max(float(str(m["checker_peak_mb"])) for m in each),
                }
            )
    return results


def table(results: list[dict[str, object]]) -> str:
    def number(value: object, decimals: int = 0) -> str:
        text = f"{float(str(value)):,.{decimals}f}"
        return text.replace(",", "X").replace(".", ",").replace("X", ".")

    rows = [
        "| Database | Fakturalinjer | Fil (MB) | Tid, median (s) | Kørsler (s) | Krav ≤ 10 s "
        "| Hukommelse, vækst (MB) | Kontrolproces, top (MB) |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        runs = r.get("runs")
        times = runs if isinstance(runs, list) else [r["seconds"]]
        each = " / ".join(number(t, 2) for t in times)
        bar = "ja" if float(str(r["seconds"])) <= BAR_SECONDS else "NEJ"
        rows.append(
            f"| {r['engine']} | {number(r['lines'])} | {number(r['file_mb'], 1)} | "
            f"{number(r['seconds'], 2)} | {each} | {bar if r['lines'] == 100_000 else '–'} | "
            f"{number(r['memory_growth_mb'], 1)} | {number(r.get('checker_peak_mb', 0), 1)} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        url, count = sys.argv[2], int(sys.argv[3])
        print(json.dumps(child(url, count, f"B{count}-{time.time_ns()}")))
    else:
        server = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TAKSTKOMPAS_TEST_PG_URL")
        print(table(run(server)))
