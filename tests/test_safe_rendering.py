"""User text is shown as typed, never as Markdown; odd links give a Danish message, never an error.

(a) Every text field the services accept holds a Markdown image, a link, formatting, an icon,
LaTeX and HTML. Every page and detail view is rendered, and no element that Streamlit renders
as Markdown (bodies, labels, help texts, tab and expander labels, radio options) may carry them
unescaped. (b) Every page that reads a record id from its address gets malformed, overflowing
and unknown ids. (c) md() escapes every character Markdown or Streamlit gives a meaning to, and
in a real browser the escaped text shows exactly what was typed (skipped without Chromium).
"""

import json
import string
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from models import FollowUp
from pages._ui import MAX_ID, md, parse_id
from services.contracts import add_addon, register_price_change
from services.db import get_engine, upgrade_schema
from services.followups import plan_followup, record_followup
from services.invoices import check_invoice, update_deviation
from services.providers import add_provider_note, create_offer
from services.settings import DEFAULT_VUM_THEMES, update_settings
from services.target_groups import create_target_group
from tests.factories import make_contract, make_provider
from tests.pagetest import run_page, unescaped

IMAGE = "![x](http://evil.example/x.png)"  # fits the 50-character fields (case, invoice)
PAYLOAD = f"{IMAGE} [k](javascript:alert(1)) **b** :material/home: $x$ <b>h</b>"
UNSAFE = ("![", "](http", "](javascript", "**b**", ":material/home:", "$x$", "<b>")
# Elements whose body Streamlit renders as Markdown (st.text, code and tables are plain).
MARKDOWN_BODIES = {
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "error",
    "warning",
    "info",
    "success",
    "toast",
}


# --- (a) A database where every text is an attack ---------------------------------------------


@pytest.fixture(scope="module")
def payload_db(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A provider, offer, note, contract (with add-on, price change, goals, follow-ups) and a
    deviation whose every free-text field, and the signing user, is PAYLOAD."""
    url = f"sqlite:///{tmp_path_factory.mktemp('payload') / 'payload.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    today = date.today()
    with Session(engine, expire_on_commit=False) as s:
        update_settings(
            session=s, values={"vum_themes": [*DEFAULT_VUM_THEMES, PAYLOAD]}, user=PAYLOAD
        )
        provider = make_provider(s, name=PAYLOAD, city=PAYLOAD, contact=PAYLOAD, assessment=PAYLOAD)
        group = create_target_group(session=s, data={"name": PAYLOAD}, user=PAYLOAD)
        offer = create_offer(
            session=s,
            data={
                "provider_id": provider.id,
                "name": PAYLOAD,
                "paragraph": "SEL108",
                "target_group_ids": [group.id],
                "list_rate": "2100",
                "list_rate_year": today.year,
            },
            user=PAYLOAD,
        )
        add_provider_note(
            session=s, data={"provider_id": provider.id, "text": PAYLOAD}, user=PAYLOAD
        )
        contract = make_contract(
            s,
            provider,
            case_ref=IMAGE,
            offer_id=offer.id,
            start_date=date(2024, 3, 1),
            notice_text=PAYLOAD,
            included=PAYLOAD,
            excluded=PAYLOAD,
            notes=PAYLOAD,
        )
        add_addon(
            session=s,
            data={
                "contract_id": contract.id,
                "name": PAYLOAD,
                "price": "500",
                "unit": "maaned",
                "valid_from": date(2024, 3, 1),
            },
            user=PAYLOAD,
        )
        register_price_change(
            session=s,
            contract_id=contract.id,
            data={
                "effective_date": date(2025, 1, 1),
                "new_price": "2050",
                "reason": "genforhandling",
                "note": PAYLOAD,
            },
            user=PAYLOAD,
        )
        last_month = today.replace(day=1) - timedelta(days=1)
        check = check_invoice(
            session=s,
            data={
                "contract_id": contract.id,
                "invoice_no": IMAGE,
                "period_from": last_month.replace(day=1),
                "period_to": last_month,
                "invoiced": "999999",
                "assignee": PAYLOAD,
                "confirmed": ["invoiced"],  # over 3 × expected: confirmed as plausible
            },
            user=PAYLOAD,
        )
        assert check.flagged
        update_deviation(
            session=s,
            check_id=check.id,
            data={
                "status": "undersoeges",
                "assignee": PAYLOAD,
                "note": PAYLOAD,
                "version": check.version,
            },
            user=PAYLOAD,
        )
        first = s.exec(select(FollowUp).where(FollowUp.contract_id == contract.id)).one()
        _, upcoming = record_followup(
            session=s,
            followup_id=first.id,
            data={
                "done_date": today,
                "done_by": PAYLOAD,
                "progression": "fremgang",
                "support_need_change": "uaendret",
                "action": "fortsaet",
                "note": PAYLOAD,
                "version": first.version,
            },
            goals=[{"theme": PAYLOAD, "goal_type": "udvikle", "text": PAYLOAD, "measure": PAYLOAD}],
            user=PAYLOAD,
        )
        assert upcoming is not None
        plan_followup(
            session=s,
            data={
                "contract_id": contract.id,
                "due_date": today + timedelta(days=10),
                "kind": "telefon",
                "note": PAYLOAD,
            },
            user=PAYLOAD,
        )
        s.commit()
        ids = {
            "url": url,
            "provider": provider.id,
            "contract": contract.id,
            "check": check.id,
            "followup": upcoming.id,
        }
    engine.dispose()
    return ids


def _markdown_texts(at: AppTest) -> list[str]:
    """Everything on screen that Streamlit renders as Markdown."""
    texts: list[str] = []
    for node in [*at.main, *at.sidebar]:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if kind in MARKDOWN_BODIES:
            texts.append(node.value)
        if kind == "metric":
            texts.append(proto.body)
        for field in ("label", "help"):  # widget, metric, tab and expander labels; tooltips
            value = getattr(proto, field, None) if proto is not None else None
            if isinstance(value, str):
                texts.append(value)
        if kind == "radio":
            texts.extend(proto.options)
    return texts


def _assert_shown_safely(at: AppTest, *, shows_payload: bool) -> None:
    assert not at.exception, [e.value for e in at.exception]
    texts = _markdown_texts(at)
    unsafe = [t for t in texts if any(fragment in t for fragment in UNSAFE)]
    assert not unsafe
    if shows_payload:  # the user text is on screen, escaped (so the check is not vacuous)
        assert any(md(IMAGE) in t for t in texts), texts


def _open(payload_db: dict, page: str, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    at = run_page(str(payload_db["url"]), page, monkeypatch)
    if query:
        at.query_params.update(query)
        at.run()
    return at


@pytest.mark.parametrize(
    "page, query_key",
    [
        ("pages/leverandoerer.py", "provider"),
        ("pages/kontrakter.py", "contract"),
        ("pages/fakturaafvigelser.py", "check"),
        ("pages/opfoelgning.py", "followup"),
    ],
)
def test_detail_views_show_user_text_escaped(page, query_key, payload_db, monkeypatch):
    at = _open(payload_db, page, monkeypatch, id=str(payload_db[query_key]))
    _assert_shown_safely(at, shows_payload=True)


def test_contract_page_lists_every_contract_text_escaped(payload_db, monkeypatch):
    at = _open(payload_db, "pages/kontrakter.py", monkeypatch, id=str(payload_db["contract"]))
    shown = unescaped(" ".join(_markdown_texts(at)))
    assert shown.count(PAYLOAD) >= 5  # provider, offer, notice terms, included, excluded, notes


def test_price_lookup_detail_shows_user_text_escaped_and_notes_as_text(payload_db, monkeypatch):
    at = run_page(str(payload_db["url"]), "pages/prisopslag.py", monkeypatch)
    table_key = f"prisopslag_table_{at.session_state['prisopslag_search_number']}_0"
    at.session_state[table_key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    _assert_shown_safely(at, shows_payload=True)
    assert PAYLOAD in [t.value for t in at.text]  # the note, as plain text


@pytest.mark.parametrize(
    "page, tab_key, tabs",
    [
        ("pages/overblik.py", "overview_tab", ["Varsler", "Økonomi", "Fordeling"]),
        ("pages/kvartalsrapport.py", "quarterly_tab", ["Fakturaafvigelser", "Frister"]),
        ("pages/leverandoerer.py", None, []),
        ("pages/kontrakter.py", None, []),
        ("pages/fakturaafvigelser.py", None, []),
        ("pages/opfoelgning.py", None, []),
        ("pages/priskategorier.py", None, []),
        ("pages/indstillinger.py", None, []),
    ],
)
def test_lists_and_overviews_render_user_text_safely(page, tab_key, tabs, payload_db, monkeypatch):
    at = run_page(str(payload_db["url"]), page, monkeypatch)
    _assert_shown_safely(at, shows_payload=False)
    for tab in tabs:
        at.session_state[tab_key] = tab
        at.run()
        _assert_shown_safely(at, shows_payload=False)


def test_saved_messages_escape_the_typed_name(payload_db, monkeypatch):
    at = run_page(str(payload_db["url"]), "pages/leverandoerer.py", monkeypatch)
    at.text_input(key="providers_new_name").input(IMAGE + " nr. 2")
    next(b for b in at.button if b.label == "Opret leverandør").click().run()
    _assert_shown_safely(at, shows_payload=True)
    assert any(md(IMAGE) in s.value for s in at.success)


def test_deviation_status_change_message_escapes_the_invoice_number(payload_db, monkeypatch):
    check_id = payload_db["check"]
    at = _open(payload_db, "pages/fakturaafvigelser.py", monkeypatch, id=str(check_id))
    form = f"fakturaafvigelser_deviation_{check_id}"
    at.selectbox(key=f"{form}_status").select("leverandoer_kontaktet")
    at.button(key=f"{form}_save").click().run()
    _assert_shown_safely(at, shows_payload=True)
    assert any("er opdateret" in s.value and md(IMAGE) in s.value for s in at.success)


# --- (b) Odd links ----------------------------------------------------------------------------

ODD_IDS = [
    "²",
    "١٢",
    "99999999999999999999",
    "-1",
    "0",
    "1e3",
    " 1",
    "abc",
    "",
    "1;DROP",
    "%00",
    "\x00",
    "0x10",
    "9223372036854775808",
    "１２",
    "12.0",
    str(MAX_ID + 1),
]
UNKNOWN_IDS = ["999999", str(MAX_ID)]  # well-formed ids of rows that do not exist
LINKED_PAGES = [
    "pages/kontrakter.py",
    "pages/leverandoerer.py",
    "pages/fakturaafvigelser.py",
    "pages/opfoelgning.py",
]


@pytest.mark.parametrize("value", ODD_IDS + UNKNOWN_IDS, ids=repr)
@pytest.mark.parametrize("page", LINKED_PAGES)
def test_odd_link_gives_a_danish_message(page, value, payload_db, monkeypatch):
    at = _open(payload_db, page, monkeypatch, id=value)
    assert not at.exception, [e.value for e in at.exception]
    assert any("Linket peger ikke på" in w.value for w in at.warning), [w.value for w in at.warning]


@pytest.mark.parametrize("value", ODD_IDS + [None])
def test_parse_id_refuses_anything_but_a_plain_positive_id(value):
    assert parse_id(value) is None


@pytest.mark.parametrize(
    "value, expected", [("1", 1), ("42", 42), ("007", 7), (str(MAX_ID), MAX_ID)]
)
def test_parse_id_reads_a_plain_positive_id(value, expected):
    assert expected == parse_id(value)


# --- (c) md() ----------------------------------------------------------------------------------


@pytest.mark.parametrize("character", string.punctuation)
def test_md_escapes_every_ascii_punctuation_character(character):
    assert f"a\\{character}b" == md(f"a{character}b")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Bostedet Solsiden", "Bostedet Solsiden"),
        ("Ærø – “hus” 😀", "Ærø – “hus” 😀"),
        (IMAGE, r"\!\[x\]\(http\:\/\/evil\.example\/x\.png\)"),
        (":material/home: :smile:", r"\:material\/home\: \:smile\:"),
        ("$x^2$", r"\$x\^2\$"),
        ("<img src=x>", r"\<img src\=x\>"),
        ("&amp;", r"\&amp\;"),
        ("# Overskrift\n    kode\r\n- punkt", r"\# Overskrift kode \- punkt"),
        ("1. første", r"1\. første"),
        ("a\\*b", r"a\\\*b"),
        (None, ""),
        (12, "12"),
    ],
)
def test_md_examples(text, expected):
    assert expected == md(text)


@pytest.mark.parametrize("text", [PAYLOAD, string.punctuation, "SAG-2026-0142", "Ærø \\ ~~x~~"])
def test_md_round_trips_through_markdown_unescaping(text):
    assert text == unescaped(md(text))


BROWSER_CASES = [
    PAYLOAD,
    string.punctuation,
    ":smile: :+1: :red[rød] :small[s] $$y$$ 5 $ og 6 $",
    "# h\n> q\n- l\n1. o\n    kode\n===",
    "a | b | c\n|---|---|",
    "<b>fed</b> &amp; &copy; &#58;",
    "back\\slash \\* \\[",
    "Ærø Å ø – “citat” 😀",
]
BROWSER_APP = """
import json, sys
sys.path.insert(0, {root!r})
import streamlit as st
from pages._ui import md
cases = json.loads({cases!r})
for case in cases:
    st.markdown(md(case))
for case in cases:
    st.caption(md(case))
st.tabs([md(case) for case in cases])
for case in cases:
    st.expander(md(case))
"""


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[tuple[object, list[str]]]:
    """A Streamlit script rendering md(case) for each case, opened in headless Chromium."""
    from tests.serving import served
    from tests.test_browser import CHROMIUM_ARGS, _chromium_or_skip, _wait_for_script

    chromium = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    root = str(Path(__file__).resolve().parent.parent)
    script = tmp_path / "md_app.py"
    script.write_text(BROWSER_APP.format(root=root, cases=json.dumps(BROWSER_CASES)))
    requests: list[str] = []
    with served(script, cwd=tmp_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(base, wait_until="domcontentloaded")
        _wait_for_script(page)
        page.wait_for_selector("[data-testid='stExpander']")
        yield page, requests
        browser.close()


@pytest.mark.browser
def test_browser_shows_escaped_text_exactly_as_typed(browser_page):
    page, requests = browser_page
    typed = [" ".join(case.split()) for case in BROWSER_CASES]
    for selector in (
        "[data-testid='stMarkdown'] [data-testid='stMarkdownContainer']",
        "[data-testid='stCaptionContainer']",
        "[role='tab'] [data-testid='stMarkdownContainer']",
        "[data-testid='stExpander'] summary [data-testid='stMarkdownContainer']",
    ):
        shown = page.locator(selector).all_inner_texts()
        assert typed == [" ".join(text.split()) for text in shown[: len(typed)]], selector
    assert 0 == page.locator("[data-testid='stMain'] img, .katex").count()
    hrefs = page.eval_on_selector_all("[data-testid='stMain'] a", "els => els.map(e => e.href)")
    assert not [h for h in hrefs if h.startswith("javascript:")]
    assert not [url for url in requests if "evil.example" in url]
