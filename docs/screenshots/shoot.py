"""Retake the README's screenshots: every page on fresh demo data, in Chromium at 1366×768.

    uv run python docs/screenshots/shoot.py [--out docs/screenshots]

Builds a demo database in a temporary folder, serves the app on it, opens each page in
Debian's Chromium (/usr/bin/chromium) with a laptop's window and saves a full-page PNG per page
(named after its address; the window is made as tall as the page, so all of it shows).
Prisopslag and Leverandører are shot with their first row open, as
a caseworker sees them. Prints what it shot, and any exception box or English Streamlit text it
met (the same list the browser tests fail on).
"""

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pages._nav import PAGES  # noqa: E402
from seed import seed_database  # noqa: E402
from services.db import get_engine, upgrade_schema  # noqa: E402
from tests.serving import served  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ENGLISH = ("Select all", "Choose an option", "Press Ctrl+Enter", "Page not found", "Decimal(")
# The height of the page's scrolled content: the tallest scrollable area's content height.
TALL = """() => Math.max(document.body.scrollHeight, ...Array.from(document.querySelectorAll("*"))
    .filter(e => e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflowY !== "visible")
    .map(e => e.scrollHeight + e.getBoundingClientRect().top))"""
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# Pages shot as a user would see them in use: Sammenlign tilbud with three §108 offers of the
# demo data, the first one marked as the visited one.
QUERIES = {"sammenlign": "?tilbud=3,7,1&visiteret=3"}


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_timeout(800)  # charts and tables paint after the script finished
    page.wait_for_selector(IDLE, timeout=60_000)


def _problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    found = []
    if page.locator("[data-testid='stException']").count():
        found.append("exception box")
    text = page.inner_text("body")
    found += [f"English: {word!r}" for word in ENGLISH if word in text]
    return found


def _open_first_row(page) -> None:  # type: ignore[no-untyped-def]
    """Select the first row of the page's first table (its detail opens beside or below)."""
    table = page.locator("[data-testid='stDataFrame']").first
    table.wait_for()
    box = table.bounding_box()
    if box is None:
        return
    # The row-selection column sits at the left edge; the first data row below the header.
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
    _settle(page)


# A provider list as municipalities keep them: one new provider, one to update, a CVR that
# fails modulus 11 and a vat factor written the English way.
SAMPLE = (
    "CVR;Navn;Type;Postnr.;By;Momsfaktor;Kvalitet\n"
    "29876543;Bostedet Nordlys;Privat;9000;Aalborg;95,4%;4\n"
    "12345678;Botilbud Vestkysten;Selvejende;6700;Esbjerg;95.4%;3\n"
)


def _upload_sample(page, work: Path) -> None:  # type: ignore[no-untyped-def]
    sample = work / "leverandoerliste.csv"
    sample.write_text(SAMPLE, encoding="utf-8")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(sample))
    page.get_by_text("Forhåndsvisning af", exact=False).first.wait_for(timeout=60_000)
    _settle(page)


def _upload_einvoices(page, work: Path, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """The demo's zip of e-invoices, as a coordinator would upload it."""
    from sqlmodel import Session

    from services.einvoice.examples import einvoice_examples

    with Session(get_engine(db_url)) as session:
        data = einvoice_examples(session=session, today=date.today())
    sample = work / "e-fakturaer.zip"
    sample.write_bytes(data)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(sample))
    page.get_by_text("Ret en fil", exact=False).first.wait_for(timeout=60_000)
    _settle(page)


def _a_day_of_work(engine) -> None:  # type: ignore[no-untyped-def]
    """A few changes through the services, so Revisionsspor shows users' changes besides the
    seed's "created" events."""
    from decimal import Decimal

    from sqlmodel import Session, col, select

    from models import Contract, ContractStatus, PriceUnit, Provider
    from services.contracts import register_price_change
    from services.providers import add_provider_note

    with Session(engine) as session:
        provider = session.exec(select(Provider).order_by(col(Provider.id))).first()
        contract = session.exec(
            select(Contract)
            .where(Contract.status == ContractStatus.ACTIVE, Contract.price_unit == PriceUnit.DAY)
            .order_by(col(Contract.id))
        ).first()
        assert provider is not None and contract is not None
        add_provider_note(
            session=session,
            data={
                "provider_id": provider.id,
                "topic": "forhandling",
                "text": "Aftalt prisniveau for næste år på mødet i dag.",
            },
            user="Henrik S.",
        )
        register_price_change(
            session=session,
            contract_id=int(contract.id or 0),
            data={
                "effective_date": date.today(),
                "new_price": (contract.price * Decimal("0.97")).quantize(Decimal("0.01")),
                "reason": "genforhandling",
                "note": "Genforhandlet: 3 % lavere fra i dag.",
            },
            user="Rikke D.",
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--width", type=int, default=1366)
    parser.add_argument("--height", type=int, default=768)
    parser.add_argument("--only", nargs="*", help="the pages' addresses (default: every page)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="takstkompas-shots-"))
    db_url = f"sqlite:///{work / 'demo.db'}"
    engine = get_engine(db_url)
    upgrade_schema(engine)
    seed_database(engine=engine, size="demo", today=date.today())
    _a_day_of_work(engine)
    engine.dispose()

    problems = 0
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        served(env={"TAKSTKOMPAS_DB_URL": db_url}, log=work / "streamlit.log") as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM)
        window = {"width": args.width, "height": args.height}
        page = browser.new_page(viewport=window, locale="da-DK")
        for spec in PAGES:
            if args.only and spec.url_path not in args.only:
                continue
            page.goto(f"{url}/{spec.url_path}{QUERIES.get(spec.url_path, '')}")
            _settle(page)
            if spec.url_path in ("prisopslag", "leverandoerer"):
                _open_first_row(page)
            if spec.url_path == "importer":
                _upload_sample(page, work)
            if spec.url_path == "efakturaer":
                _upload_einvoices(page, work, db_url)
            target = args.out / f"{spec.url_path}.png"
            found = _problems(page)
            # Streamlit scrolls inside its main area: a window as tall as the page shows all.
            height = int(page.evaluate(TALL)) + 1
            page.set_viewport_size({"width": args.width, "height": max(args.height, height)})
            page.wait_for_timeout(800)
            page.screenshot(path=str(target))
            page.set_viewport_size(window)
            problems += len(found)
            print(f"{spec.title:<18} {target}  {'; '.join(found) or 'ok'}")
        browser.close()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
