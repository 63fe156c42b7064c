"""The app in headless Chromium (Debian's /usr/bin/chromium via Playwright).

Starts `streamlit run` on a free port against a demo database and opens every page, waiting
until its script has finished; then drives three journeys at 1366 × 768 (a caseworker, a
procurement officer, a coordinator). Every page visit fails on an exception box or on
Streamlit's own English (`_assert_danish`). Screenshots land in test-artifacts/screenshots/.
"""

import contextlib
import io
import os
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlmodel import Session, col, select

from pages._nav import HOME, PAGES
from services.db import get_engine, upgrade_schema
from services.formatting import format_amount
from tests.serving import served

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


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh demo database (the journeys look up in it what the screen should show)."""
    _chromium_or_skip()
    from seed import seed_database

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    seed_database(engine=engine, size="demo", today=date.today())
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def app_url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on a free port, on the demo database."""
    with served(
        env={"TAKSTKOMPAS_DB_URL": demo_url},
        log=tmp_path_factory.mktemp("log") / "streamlit.log",
        options=["--client.showErrorDetails", "full"],
    ) as base:
        yield base


@pytest.fixture(scope="module")
def browser(app_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=_chromium_or_skip(), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


# Finished: the script is not running and every element is painted (Streamlit shows grey
# placeholders, stSkeleton, while it lays out what the script sent), and has been so for a
# moment: a fresh server's first run of a deep link reruns through the entry point, with a
# short pause in between.
_FINISHED = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  const done = app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector("[data-testid='stSkeleton']");
  if (!done) { window.__finishedSince = undefined; return false; }
  window.__finishedSince = window.__finishedSince ?? performance.now();
  return performance.now() - window.__finishedSince > 400;
}"""


def _wait_for_script(page) -> None:  # type: ignore[no-untyped-def]
    """Until the script has finished and the browser has painted what it sent."""
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.wait_for_function(_FINISHED, timeout=60_000)


# --- Danish everywhere: the check run on every page visit -----------------------------------

# Streamlit's own English that a page must not show (issue 10, item 11), and text that only a
# bug writes: Python's repr of an amount, a doubled full stop after "kr.".
ENGLISH = (
    "Select all",
    "Choose an option",
    "Press Ctrl+Enter",
    "Page not found",
    "Download as CSV",
    "Decimal(",
    "per file",
    "Browse files",
    "Drag and drop",
    "Upload\n",
)
NOT_WRITTEN = (*ENGLISH, "Press Enter to", "Choose options", "kr..")

# What the user can read: the page's text, the placeholders of empty fields and the labels of
# visible controls (tooltips and icon buttons speak through aria-label).
_READABLE_TEXT = """() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== 'hidden';
  const parts = [document.body.innerText];
  for (const el of document.querySelectorAll('[placeholder]'))
    if (visible(el) && !el.value) parts.push(el.getAttribute('placeholder'));
  for (const el of document.querySelectorAll('[aria-label], [title]'))
    if (visible(el)) parts.push(el.getAttribute('aria-label') || el.getAttribute('title'));
  return parts.join('\\n');
}"""
_YEAR_PLACEHOLDERS = """() => Array.from(document.querySelectorAll(
  "[data-testid='stDateInputField'] [data-type='year'][data-placeholder='true']"
)).map((el) => getComputedStyle(el, '::after').content)"""


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    """After an action: until the rerun it started (if any) has finished."""
    with contextlib.suppress(PlaywrightTimeout):  # finished already, or no rerun was needed
        page.wait_for_function(
            "() => document.querySelector(\"[data-testid='stApp']\")"
            "?.getAttribute('data-test-script-state') === 'running'",
            timeout=1_500,
        )
    _wait_for_script(page)
    exceptions = page.locator("[data-testid='stException']")
    assert 0 == exceptions.count(), exceptions.first.inner_text()


def _assert_danish(page, where: str, *, hover: bool = True) -> None:  # type: ignore[no-untyped-def]
    """No exception box and none of Streamlit's English on the page as the user sees it now.

    Also hovers the first table (`hover`; not while a list is open: scrolling closes it),
    where Streamlit would show its English toolbar with its own "Download as CSV", and reads
    the year placeholder of empty date fields (CSS-generated)."""
    exceptions = page.locator("[data-testid='stException']")
    assert 0 == exceptions.count(), f"{where}: {exceptions.first.inner_text()}"
    tables = page.locator("[data-testid='stDataFrame']:visible")
    if hover and tables.count():
        tables.first.hover()
        page.wait_for_timeout(200)
    text = page.evaluate(_READABLE_TEXT)
    assert [] == [s for s in NOT_WRITTEN if s in text], where
    assert all(c == '"åååå"' for c in page.evaluate(_YEAR_PLACEHOLDERS)), where


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _visit(page, url: str, where: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=90_000)  # the page itself, not a first run's pause
    _wait_for_script(page)
    _assert_danish(page, where)


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_page_opens_without_exception(spec, app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="da-DK")
    page = context.new_page()
    try:
        _visit(page, f"{app_url}/{spec.url_path}", spec.url_path)
        _shot(page, spec.url_path)
        assert spec.title in page.locator("h1").first.inner_text()
    finally:
        context.close()


def test_the_first_page_has_its_own_address_too(app_url, browser):
    # Overblik is served at "/"; a bookmark or a shared link to /overblik leads there, with
    # no "Page not found".
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="da-DK")
    page = context.new_page()
    try:
        _visit(page, f"{app_url}/{HOME.url_path}", HOME.url_path)
        page.wait_for_url(f"{app_url}/", timeout=30_000)
        _wait_for_script(page)
        _assert_danish(page, "/ after /overblik")
        assert HOME.title in page.locator("h1").first.inner_text()
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


# --- Journeys at 1366 × 768: a caseworker, procurement, a coordinator ------------------------

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def laptop(app_url, browser, request):  # type: ignore[no-untyped-def]
    """A browser tab at 1366 × 768; its last view is saved as a screenshot (for a failure)."""
    context = browser.new_context(viewport=LAPTOP, locale="da-DK", accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
    finally:
        _shot(page, f"{request.node.name}_last")
        context.close()


def _widget(page, testid: str, label: str):  # type: ignore[no-untyped-def]
    """The visible widget of this kind whose label is `label` (a hidden tab keeps its own)."""
    labels = page.locator("[data-testid='stWidgetLabel']").filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
    )
    return page.locator(f"[data-testid='{testid}']:visible").filter(has=labels).first


def _choose(  # type: ignore[no-untyped-def]
    page, testid: str, label: str, option: str, where: str, *, search: bool = False
) -> None:
    """Open a selectbox or multiselect, check the open list is Danish, pick the option that is
    `option` or starts with it. `search`: type it first (a long list shows only some options)."""
    options = page.get_by_role("option")
    for _ in range(3):  # a click while the page is still settling may not open the list
        field = _widget(page, testid, label).locator("input").first
        field.scroll_into_view_if_needed()
        field.click()
        with contextlib.suppress(PlaywrightTimeout):
            options.first.wait_for(timeout=5_000)
            break
        page.keyboard.press("Escape")
        _settle(page)
    if search:
        page.keyboard.type(option)
    options.first.wait_for()
    _assert_danish(page, f"{where}: list of {label}", hover=False)
    options.filter(has_text=re.compile(rf"^\s*{re.escape(option)}")).first.click()
    if testid == "stMultiSelect":
        page.keyboard.press("Escape")  # its list stays open for more choices
    _settle(page)


def _selected(page, label: str) -> str:  # type: ignore[no-untyped-def]
    """What a selectbox shows as chosen."""
    return _widget(page, "stSelectbox", label).locator("input").input_value().strip()


def _type(page, label: str, text: str, where: str, *, multiline: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Type into a text field and check, while it is still being typed in, that Streamlit's
    English hint ("Press Enter to apply", "Press Ctrl+Enter to submit form") is not shown."""
    field = _widget(page, "stTextArea" if multiline else "stTextInput", label)
    box = field.locator("textarea" if multiline else "input")
    box.click()
    box.fill(text)
    _assert_danish(page, f"{where}: typing in {label}", hover=False)
    box.press("Tab")
    _settle(page)


def _click(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=name, exact=True).first.click()
    _settle(page)


def _tab(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name=name, exact=True).click()
    _settle(page)


def _nav(page, title: str, where: str) -> None:  # type: ignore[no-untyped-def]
    """Go to a page through the sidebar, as a user would."""
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
    _settle(page)
    page.wait_for_selector("h1", timeout=30_000)
    _assert_danish(page, where)


def _click_row(page, row: int, table: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Select a row of a selectable table by its row marker (the grid draws on a canvas)."""
    grid = page.locator("[data-testid='stDataFrame']").nth(table)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    header = row_height = 35
    page.mouse.click(box["x"] + 16, box["y"] + header + row_height * row + row_height / 2)
    _settle(page)


def _expect_text(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """Until the text shows, scrolled into view (for the screenshot)."""
    shown = page.get_by_text(text, exact=False).first
    shown.wait_for(timeout=30_000)
    shown.scroll_into_view_if_needed()


def test_caseworker_finds_the_cheapest_108_offer_for_a_target_group(laptop, app_url, demo_url):
    from services.queries.lookup import (
        LookupFilters,
        SortOrder,
        latest_notes,
        search_offers,
        target_group_options,
    )

    page = laptop
    today = date.today()
    with Session(get_engine(demo_url)) as s:
        groups = dict(target_group_options(session=s))
        found = {
            group: search_offers(
                session=s,
                filters=LookupFilters(paragraphs=("SEL108",), target_group=group),
                today=today,
                order=SortOrder.CHEAPEST,
                limit=1,
                offset=0,
            )
            for group in groups
        }
        notes = {
            group: latest_notes(session=s, provider_id=offers[0].provider_id)
            for group, offers in found.items()
            if offers
        }
    # A target group whose cheapest §108 offer is at a provider colleagues have notes on.
    group = max(notes, key=lambda g: (len(notes[g]), -g))
    cheapest, notes = found[group][0], notes[group]
    assert notes, "the demo data has notes on providers of §108 offers"

    _visit(page, f"{app_url}/prisopslag", "Prisopslag")
    _choose(page, "stMultiSelect", "Paragraf", "§108 længerevarende botilbud", "Prisopslag")
    _choose(page, "stSelectbox", "Målgruppe", groups[group], "Prisopslag")
    _assert_danish(page, "Prisopslag, filtered")
    assert "Billigst først" == _selected(page, "Sortér efter")
    # The cheapest offer is first, and its detail beside the list shows the latest notes.
    page.get_by_role("heading", name=cheapest.offer_name).first.wait_for()
    _expect_text(page, "Seneste noter i vidensbanken")
    for note in notes:
        _expect_text(page, note.text.splitlines()[0][:60])
    _shot(page, "journey_caseworker_prisopslag")
    # Open the provider and read the notes in the vidensbank.
    _click(page, "Leverandøren")
    page.wait_for_url(re.compile(r"/leverandoerer\?id=\d+"))
    _assert_danish(page, "Leverandører from Prisopslag")
    _tab(page, "Vidensbank")
    _assert_danish(page, "Leverandører, Vidensbank")
    for note in notes:
        _expect_text(page, note.text.splitlines()[0][:60])
    _shot(page, "journey_caseworker_vidensbank")


def test_procurement_offer_contract_and_renegotiation(laptop, app_url):
    page = laptop
    offer = f"Browsertest {date.today():%d%m%Y} bolig"
    case_ref = f"BT-{date.today():%Y}-{os.getpid() % 10_000:04d}"

    _visit(page, f"{app_url}/leverandoerer", "Leverandører")
    _type(page, "Søg", "(demo)", "Leverandører")
    _click_row(page, 0)
    page.wait_for_url(re.compile(r"/leverandoerer\?id=\d+"))
    _assert_danish(page, "a provider")
    provider = page.locator("h3").first.inner_text().strip()

    _tab(page, "Tilbud")
    page.get_by_text("Opret tilbud", exact=True).first.click()
    _settle(page)
    _type(page, "Tilbuddets navn *", offer, "Opret tilbud")
    _choose(page, "stSelectbox", "Paragraf *", "§108 længerevarende botilbud", "Opret tilbud")
    _type(page, "Listetakst pr. døgn (kr.)", "2.150,00", "Opret tilbud")
    _click(page, "Opret tilbud")
    _expect_text(page, f"Tilbuddet »{offer}« er oprettet.")
    _assert_danish(page, "offer created")
    _shot(page, "journey_procurement_offer")

    _nav(page, "Kontrakter", "Kontrakter")
    page.get_by_text("Ny kontrakt", exact=True).click()
    _settle(page)
    _assert_danish(page, "Ny kontrakt")
    _choose(page, "stSelectbox", "Tilbud", offer, "Ny kontrakt", search=True)
    _expect_text(page, "er hentet fra tilbuddet")
    assert provider == _selected(page, "Leverandør")
    assert "§108 længerevarende botilbud" == _selected(page, "Paragraf")
    assert "2.150,00" == _widget(page, "stTextInput", "Pris (kr.)").locator("input").input_value()
    _type(page, "Sagsnummer", case_ref, "Ny kontrakt")
    _date(page, "Startdato", date(date.today().year, 1, 1))
    _click(page, "Opret kontrakt")
    _expect_text(page, f"Kontrakten {case_ref} er oprettet.")
    _assert_danish(page, "contract created")
    _shot(page, "journey_procurement_contract")

    _tab(page, "Prishistorik og genforhandling")
    _type(page, "Ny pris (kr. pr. dag)", "2.050,00", "Genforhandling")
    _type(page, "Note", "Genforhandlet ved browsertest.", "Genforhandling", multiline=True)
    _click(page, "Registrér genforhandling")
    _expect_text(page, "Prisændringen er registreret.")
    _expect_text(page, "Årlig besparelse")
    # The form forgot what it saved, in the browser too: nothing to save twice by accident.
    _expect_empty(page, "stTextInput", "Ny pris (kr. pr. dag)")
    _expect_empty(page, "stTextArea", "Note")
    _assert_danish(page, "renegotiation registered")
    _shot(page, "journey_procurement_renegotiation")


def _expect_empty(page, testid: str, label: str) -> None:  # type: ignore[no-untyped-def]
    """The text field shows nothing, once the run that drew it has finished (a save's message
    can show before the form below it is drawn again); waits up to 10 s for it."""
    _settle(page)
    box = _widget(page, testid, label).locator("textarea" if testid == "stTextArea" else "input")
    deadline = time.monotonic() + 10
    while (shown := box.input_value()) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert "" == shown, f"{label} still shows {shown!r} after the save"


def _date(page, label: str, day: date) -> None:  # type: ignore[no-untyped-def]
    """Type a date into a date field, segment by segment (dd.mm.åååå)."""
    field = _widget(page, "stDateInput", label)
    field.locator("[data-type='day']").click()
    page.keyboard.type(f"{day:%d%m%Y}")
    page.keyboard.press("Tab")
    _settle(page)


def test_coordinator_checks_an_invoice_resolves_it_and_exports_the_log(laptop, app_url, demo_url):
    from models import Contract, ContractStatus, PriceUnit

    page = laptop
    with Session(get_engine(demo_url)) as s:
        contract = s.exec(
            select(Contract)
            .where(Contract.status == ContractStatus.ACTIVE, Contract.price_unit == PriceUnit.DAY)
            .order_by(col(Contract.id))
        ).first()
        assert contract is not None
        case_ref, daily = contract.case_ref, contract.price
    invoice_no = f"BT-{os.getpid()}"
    invoiced = format_amount(daily * 40)  # a month is 28–31 days: well above the expected

    _visit(page, f"{app_url}/fakturaafvigelser", "Fakturaafvigelser")
    _tab(page, "Kontrollér en faktura")
    _assert_danish(page, "Kontrollér en faktura")
    _type(page, "Søg kontrakt", case_ref, "Kontrollér en faktura")
    _choose(page, "stSelectbox", "Kontrakt", case_ref, "Kontrakt")
    _type(page, "Fakturanummer", invoice_no, "Kontrollér en faktura")
    _type(page, "Faktureret beløb (kr.)", invoiced, "Kontrollér en faktura")
    _click(page, "Beregn")
    _expect_text(page, "Beregning")
    _assert_danish(page, "the calculation")
    _click(page, "Gem kontrol")
    _expect_text(page, f"Faktura {invoice_no} er kontrolleret og ført i afvigelsesloggen.")
    _expect_empty(page, "stTextInput", "Fakturanummer")
    _expect_empty(page, "stTextInput", "Faktureret beløb (kr.)")
    _shot(page, "journey_coordinator_check")

    _tab(page, "Afvigelseslog")
    _assert_danish(page, "Afvigelseslog")
    _expect_text(page, f"Faktura {invoice_no}")
    _choose(page, "stSelectbox", "Status", "Løst", "the deviation")
    _type(page, "Note", "Leverandøren har sendt en kreditnota.", "the deviation", multiline=True)
    _click(page, "Gem ændring")
    _expect_text(page, f"Afvigelsen på faktura {invoice_no} er opdateret.")
    # The resolution note is not left in the box to be saved again with the next change.
    _expect_empty(page, "stTextArea", "Note")
    _assert_danish(page, "deviation resolved")
    _shot(page, "journey_coordinator_resolved")

    _choose(page, "stMultiSelect", "Status", "Løst", "the log's status filter")
    with page.expect_download() as download:
        page.get_by_role("button", name="Excel").first.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    rows = [[str(c.value) for c in row] for row in sheet.iter_rows()]
    resolved = [row for row in rows if invoice_no in row]
    assert resolved and any("Løst" in cell for cell in resolved[0]), rows[:3]
    _assert_danish(page, "log exported")
    _shot(page, "journey_coordinator_export")


def _number(page, label: str, value: str, nth: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Type a number into the `nth` number field labelled `label` (also a collapsed label)."""
    box = page.locator(f"[data-testid='stNumberInput'] input[aria-label='{label}']").nth(nth)
    box.scroll_into_view_if_needed()
    box.fill(value)
    box.press("Enter")
    _settle(page)


def _row(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """A row of the comparison table: its cells as shown."""
    row = page.locator("[data-testid='stTable'] tr").filter(
        has=page.locator("th", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))
    )
    return [c.strip() for c in row.first.locator("td").all_inner_texts()]


def test_caseworker_compares_three_offers_weighs_and_prints(laptop, app_url, demo_url, tmp_path):
    from services.queries.comparison import offer_choices

    page = laptop
    with Session(get_engine(demo_url)) as s:
        choices = offer_choices(session=s)
    others = [label for label in choices.values() if "§108" in label]

    _visit(page, f"{app_url}/prisopslag", "Prisopslag")
    _choose(page, "stMultiSelect", "Paragraf", "§108 længerevarende botilbud", "Prisopslag")
    _click(page, "Sammenlign")
    page.wait_for_url(re.compile(r"/sammenlign\?tilbud=\d+"))
    first = choices[int(page.url.rsplit("=", 1)[1])]
    _assert_danish(page, "Sammenlign tilbud from Prisopslag")
    page.get_by_text("Vælg 2–3 tilbud", exact=False).first.wait_for()
    for label in [o for o in others if o != first][:2]:
        _choose(page, "stMultiSelect", "Tilbud (2–3)", label, "Sammenlign", search=True)
    _assert_danish(page, "Sammenlign tilbud, three offers")
    assert 3 == len(_row(page, "Årsbeløb"))
    _choose(page, "stSelectbox", "Visiteret tilbud", first[:40], "Sammenlign")
    rule = _row(page, "10 %-reglen")
    assert "Visiteret tilbud" == rule[0] and all("%-grænsen" in r for r in rule[1:]), rule

    page.get_by_text("Vægte og point", exact=True).click()
    _settle(page)
    _number(page, "Geografi", "20")
    page.get_by_text("Vægtene giver 110", exact=False).first.wait_for()
    _number(page, "Forhandlingsrum", "0")
    _number(page, "Point: Kendskab til leverandøren", "10", nth=0)
    _type(page, "Begrundelse: Kendskab til leverandøren", "Kendt gennem mange år", "Sammenlign")
    assert "2,00" == _row(page, "Kendskab til leverandøren (vægt 20)")[0]
    totals = _row(page, "Point i alt (0–10)")
    _shot(page, "journey_caseworker_compare")

    with page.expect_download() as download:
        page.get_by_role("button", name="Udskriftsvenlig side").click()
    printable = tmp_path / "sammenligning.html"
    download.value.save_as(printable)
    text = printable.read_text(encoding="utf-8")
    assert all(total in text for total in totals)
    printed = page.context.new_page()
    printed.goto(printable.as_uri())
    pdf = printed.pdf(format="A4", landscape=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    printed.close()


def test_procurement_imports_a_provider_list(laptop, app_url, demo_url, tmp_path):
    page = laptop
    sample = tmp_path / "leverandoerliste.csv"
    sample.write_text(
        "CVR;Navn;Type;Postnr.;By;Momsfaktor\n"
        "29876543;Bostedet Nordlys;Privat;9000;Aalborg;95,4%\n"
        "31234567;Botilbud Vestkysten;Selvejende;6700;Esbjerg;95.4%\n",
        encoding="utf-8",
    )
    _visit(page, f"{app_url}/importer", "Import")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(sample))
    page.get_by_text("Forhåndsvisning af leverandoerliste.csv").wait_for()
    _settle(page)
    _assert_danish(page, "Import, preview with an error")
    # The error table draws on a canvas; its cells are there for screen readers.
    page.locator("td", has_text="Mente du 95,4").first.wait_for(state="attached")
    assert 0 == page.get_by_role("button", name=re.compile("^Importér")).count()
    _shot(page, "journey_procurement_import_error")

    fixed = tmp_path / "leverandoerliste_rettet.csv"
    fixed.write_text(sample.read_text(encoding="utf-8").replace("95.4%", "95,4%"), "utf-8")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(fixed))
    page.get_by_text("Forhåndsvisning af leverandoerliste_rettet.csv").wait_for()
    _settle(page)
    _click(page, "Importér 2 nye og opdatér 0")
    _expect_text(page, "Importen er gemt: 2 nye")
    _expect_text(page, "Vælg en fil for at se")  # the page is drawn again without the file
    _assert_danish(page, "Import, saved", hover=False)
    with Session(get_engine(demo_url)) as s:
        from models import Provider

        names = set(
            s.exec(select(Provider.name).where(col(Provider.cvr).in_(["29876543", "31234567"])))
        )
    assert {"Bostedet Nordlys", "Botilbud Vestkysten"} == names


def test_coordinator_imports_the_example_month_of_invoices(laptop, app_url, demo_url, tmp_path):
    """The example month the page offers while demo data is in: downloaded, uploaded, checked
    line by line in the preview, confirmed, and its flagged invoices are in the deviation log."""
    from models import InvoiceCheck

    page = laptop
    _visit(page, f"{app_url}/importer", "Import")
    _choose(page, "stSelectbox", "Hvad importeres", "Fakturalinjer", "the kind")
    with page.expect_download() as download:
        page.get_by_role("button", name="Hent eksempelfil").click()
    example = tmp_path / download.value.suggested_filename
    example.write_bytes(Path(download.value.path()).read_bytes())
    assert example.name.startswith("fakturalinjer_") and example.suffix == ".csv"
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(example))
    page.get_by_text(f"Forhåndsvisning af {example.name}").wait_for()
    _settle(page)
    _expect_text(page, "Afvigelser i alt")
    _assert_danish(page, "Import of invoice lines, preview")
    _shot(page, "journey_coordinator_import_preview")
    button = page.get_by_role("button", name=re.compile("^Importér [0-9.]+ nye$"))
    found = re.search(r"Importér ([0-9.]+) nye", button.inner_text())
    assert found, button.inner_text()
    count = int(found.group(1).replace(".", ""))
    button.click()
    _expect_text(page, f"Importen er gemt: {format_amount(count).split(',')[0]} nye")
    _assert_danish(page, "Import of invoice lines, saved", hover=False)

    month = example.stem.removeprefix("fakturalinjer_").replace("-", "")
    with Session(get_engine(demo_url)) as s:
        flagged = s.exec(
            select(InvoiceCheck.invoice_no, InvoiceCheck.id)
            .where(
                col(InvoiceCheck.invoice_no).startswith(f"F-{month}-"),
                InvoiceCheck.flagged == True,  # noqa: E712
            )
            .order_by(col(InvoiceCheck.id).desc())
        ).all()
    assert flagged
    number, check_id = flagged[0]
    # The deviation's own address in the log opens it, with status Ny.
    _visit(page, f"{app_url}/fakturaafvigelser?id={check_id}", "Fakturaafvigelser")
    _expect_text(page, f"Faktura {number}")
    _assert_danish(page, "an imported deviation in the log", hover=False)


def _unsaved(page):  # type: ignore[no-untyped-def]
    """The items of the list "Gemmes ikke:" under the e-invoices' table."""
    return (
        page.locator("[data-testid='stMarkdownContainer']")
        .filter(has_text="Gemmes ikke:")
        .locator("li")
    )


def _expect_count(locator, count: int, what: str) -> None:  # type: ignore[no-untyped-def]
    """Until `locator` matches `count` elements (up to 10 s: a rerun redraws the page)."""
    deadline = time.monotonic() + 10
    while (found := locator.count()) != count and time.monotonic() < deadline:
        time.sleep(0.2)
    assert count == found, f"{what}: {locator.all_inner_texts()}"


def test_coordinator_saves_the_demo_e_invoices_fixing_one_by_hand(
    laptop, app_url, demo_url, tmp_path
):
    """The demo's zip of e-invoices: uploaded, the one without a contract reference given its
    contract by hand, five saved as invoice checks, and the flagged one is in the deviation
    log. Its invoice numbers (E-<yyyymm>-00N) are this test's own: no other test uploads them."""
    from models import InvoiceCheck
    from services.einvoice.batch import read_batch
    from services.einvoice.examples import einvoice_examples
    from services.imports.examples import last_month

    page = laptop
    today = date.today()
    month = f"{last_month(today)[0]:%Y%m}"
    with Session(get_engine(demo_url)) as s:
        data = einvoice_examples(session=s, today=today)
        assert 0 == len(
            s.exec(
                select(InvoiceCheck.id).where(
                    col(InvoiceCheck.invoice_no).startswith(f"E-{month}-")
                )
            ).all()
        ), "the demo e-invoices were saved before: this test runs once per demo database"
        # The contract to pick for file 05: the first in force, as the page lists them.
        batch = read_batch(session=s, files=[("e-fakturaer.zip", data)])
    no_reference = batch[4]
    assert no_reference.match is not None and no_reference.match.contract_candidates
    case_ref = no_reference.match.contract_candidates[0].case_ref
    assert case_ref.startswith("SAG-"), case_ref
    example = tmp_path / f"e-fakturaer_{month}.zip"
    example.write_bytes(data)

    _visit(page, f"{app_url}/efakturaer", "E-fakturaer")
    _expect_text(page, "Vælg en eller flere e-fakturaer")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(example))
    page.get_by_role("heading", name="Ret en fil").wait_for()
    _settle(page)
    _assert_danish(page, "E-fakturaer, the demo zip read")
    unsaved = _unsaved(page)
    _expect_count(unsaved, 2, "Gemmes ikke, before the fix")
    assert f"E-{month}-005" in unsaved.nth(0).inner_text()
    assert f"E-{month}-006" in unsaved.nth(1).inner_text()
    # The file that cannot be saved without a contract is the one chosen to fix.
    chosen = _selected(page, "Fil")
    assert f"5. {example.name}/05_faktura_uden_reference.xml" == chosen, chosen
    # The four that can be saved could be saved as they are.
    assert 1 == page.get_by_role("button", name="Gem 4 som fakturakontroller", exact=True).count()
    _shot(page, "journey_coordinator_einvoices_read")

    _choose(page, "stSelectbox", "Kontrakt", f"{case_ref} (", "Ret en fil")
    assert _selected(page, "Kontrakt").startswith(f"{case_ref} (")
    _click(page, "Anvend")
    _expect_count(unsaved, 1, "Gemmes ikke, after the fix")
    # Still on the file just fixed, with the contract chosen for it.
    assert f"5. {example.name}/05_faktura_uden_reference.xml" == _selected(page, "Fil")
    assert _selected(page, "Kontrakt").startswith(f"{case_ref} (")
    assert f"E-{month}-006" in unsaved.first.inner_text()
    save = page.get_by_role("button", name="Gem 5 som fakturakontroller", exact=True)
    save.wait_for()
    _assert_danish(page, "E-fakturaer, one fixed by hand")
    _shot(page, "journey_coordinator_einvoices_fixed")
    save.click()
    _settle(page)
    _expect_text(page, "5 e-fakturaer er gemt som fakturakontroller;")
    _expect_text(page, "Vælg en eller flere e-fakturaer")  # the upload is forgotten
    assert 0 == _unsaved(page).count()
    _assert_danish(page, "E-fakturaer, saved", hover=False)
    _shot(page, "journey_coordinator_einvoices_saved")

    with Session(get_engine(demo_url)) as s:
        saved = dict(
            s.exec(
                select(InvoiceCheck.invoice_no, InvoiceCheck.id).where(
                    col(InvoiceCheck.invoice_no).in_(
                        [f"E-{month}-00{n}" for n in range(1, 7)] + [f"K-{month}-001"]
                    )
                )
            ).all()
        )
        flagged = s.get(InvoiceCheck, saved[f"E-{month}-003"])
        assert flagged is not None and flagged.flagged
    assert {f"E-{month}-00{n}" for n in (1, 2, 3, 5)} | {f"K-{month}-001"} == set(saved)
    # The flagged e-invoice's own address in the log opens it.
    _visit(page, f"{app_url}/fakturaafvigelser?id={flagged.id}", "Fakturaafvigelser")
    _expect_text(page, f"Faktura E-{month}-003")
    _assert_danish(page, "a saved e-invoice's deviation in the log", hover=False)
