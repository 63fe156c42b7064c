"""The speed of reading, matching, checking and saving 1.000 e-invoices (SPEC 9; issue 13), on
SQLite and PostgreSQL.

Each engine gets its own database with the demo data. A fresh process makes a zip of 1.000
e-invoices for the demo's contracts (OIOUBL 2.1 and Peppol BIS 3 in turn; the contract named by
its contract reference, by the case reference in the order reference, or by neither, so the
only contract in force is found; amounts around the expected, so some are flagged) and then
does what the E-fakturaer page does: read and match every file (read_batch), check them
(check_batch), and save them in one transaction (save_einvoices).
"""

import io
import json
import os
import sys
import time
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = ROOT / "data" / "bench_einvoice.db"
PG_DATABASE = "takstkompas_bench_einvoice"
BAR_SECONDS = 30.0
COUNT = 1_000


def _zip(url: str, count: int, tag: str) -> bytes:
    """A zip of `count` e-invoices for last month's contracts in force."""
    from sqlmodel import Session

    from services.db import get_engine
    from services.einvoice.examples import OIOUBL_21, PEPPOL, Doc, xml_of
    from services.imports.examples import contracts_in_force, expected_for, last_month

    first, last = last_month(date.today())
    with Session(get_engine(url)) as s:
        rows = [(c, cvr, n) for c, cvr, n in contracts_in_force(s, first, last) if cvr]
        expected = {c.id: expected_for(s, c, first, last) for c, _, _ in rows}
    per_provider: dict[int, int] = {}
    for contract, _, _ in rows:
        per_provider[contract.provider_id] = per_provider.get(contract.provider_id, 0) + 1
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(count):
            contract, cvr, name = rows[number % len(rows)]
            way = number % 5
            only_one = per_provider[contract.provider_id] == 1
            factor = Decimal("1.03") if number % 7 == 0 else Decimal(1)
            doc = Doc(
                file_name=f"{number:04d}.xml",
                customization=OIOUBL_21 if number % 2 else PEPPOL,
                number=f"{tag}-{number}",
                supplier_cvr=str(cvr),
                supplier_name=name,
                period=(first, last),
                amount=(expected[contract.id] * factor).quantize(Decimal("0.01")),
                item="Botilbud",
                contract_reference=contract.case_ref if way < 3 or not only_one else None,
                order_reference=contract.case_ref if way == 3 else None,
            )
            archive.writestr(doc.file_name, xml_of(doc))
    return buffer.getvalue()


def child(url: str, count: int, tag: str) -> dict[str, float | int]:
    """Read, match, check and save `count` e-invoices in this process; the times of each."""
    from sqlmodel import Session

    from services.db import get_engine
    from services.einvoice.batch import check_batch, read_batch, save_einvoices

    engine = get_engine(url)
    data = _zip(url, count, tag)
    started = time.perf_counter()
    with Session(engine) as s:
        batch = read_batch(session=s, files=[("bench.zip", data)])
    read = time.perf_counter()
    with Session(engine) as s:
        check = check_batch(session=s, files=batch)
    checked = time.perf_counter()
    with Session(engine) as s:
        saved = save_einvoices(session=s, files=batch, user="Bench", upload_name="bench.zip")
    done = time.perf_counter()
    return {
        "invoices": len(batch),
        "checkable": sum(line.saved for line in check.lines),
        "flagged": sum(line.flagged for line in saved.lines),
        "zip_mb": round(len(data) / 1024 / 1024, 2),
        "read_match_s": round(read - started, 2),
        "check_s": round(checked - read, 2),
        "save_s": round(done - checked, 2),
        "seconds": round(checked - started, 2),
    }


def run(pg_server: str | None) -> list[dict[str, object]]:
    """Each engine in a fresh process; the rows of the result table."""
    from bench.imports import run_child, seed_demo

    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    engines = {"SQLite": f"sqlite:///{SQLITE_PATH}"}
    if pg_server:
        from sqlalchemy.engine import make_url

        engines["PostgreSQL"] = (
            make_url(pg_server).set(database=PG_DATABASE).render_as_string(hide_password=False)
        )
    results: list[dict[str, object]] = []
    for name, url in engines.items():
        print(f"E-fakturaer: {name} – bygger demodata …", file=sys.stderr, flush=True)
        seed_demo(url)
        measured = run_child(
            "bench.einvoices", url, COUNT, failure="Målingen af e-fakturaer fejlede"
        )
        results.append({"engine": name, **measured})
    return results


def table(results: list[dict[str, object]]) -> str:
    def number(value: object, decimals: int = 0) -> str:
        text = f"{float(str(value)):,.{decimals}f}"
        return text.replace(",", "X").replace(".", ",").replace("X", ".")

    rows = [
        "| Database | E-fakturaer | Zip (MB) | Læst og matchet (s) | Kontrolleret (s) | "
        f"I alt (s) | Krav ≤ {number(BAR_SECONDS)} s | Gemt i én transaktion (s) |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        bar = "ja" if float(str(r["seconds"])) <= BAR_SECONDS else "NEJ"
        rows.append(
            f"| {r['engine']} | {number(r['invoices'])} | {number(r['zip_mb'], 2)} | "
            f"{number(r['read_match_s'], 2)} | {number(r['check_s'], 2)} | "
            f"{number(r['seconds'], 2)} | {bar} | {number(r['save_s'], 2)} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        url, count = sys.argv[2], int(sys.argv[3])
        print(json.dumps(child(url, count, f"B{time.time_ns()}")))
    else:
        server = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TAKSTKOMPAS_TEST_PG_URL")
        print(table(run(server)))
