"""Nothing half-written: every page, export and key service on the worst values the services accept.

A database is built once per engine (SQLite; PostgreSQL when TAKSTKOMPAS_TEST_PG_URL is set)
THROUGH THE SERVICES, so it holds only values they accept, and the worst of them: prices at the
cap of their unit with add-ons at theirs, 20 % a year regulated from 1900, a price of 0,01 kr.
regulated down by 10 % a year, index rates at 20 % (and one at −10 %), invoices of 100 mio.,
0,00 and 0,01 kr. (deviations of ±∞ % clamped), dates on 01.01.1900 and 31.12.2199, notice of
3.650 and 0 days, every text field at its longest with Danish letters, emoji, right-to-left and
zero-width characters, Markdown, HTML and spreadsheet formulas (`=HYPERLINK(…)`, `@SUM(…)`,
`+45 …`, `-1`), every status and code, many goals, price category sets with huge and with tiny
thresholds, budgets at their cap and at 0, and settings at the ends of their ranges.

On it: (1) every page renders through AppTest without an exception, on its default view and
on every tab and detail view; (2) every download those views offer builds, and every workbook
opens with openpyxl with no cell a formula, no text cell starting with = + - @ and no control
characters; the quarterly report's workbook and printable page and Overblik's workbook are built
directly too; (3) the key read services return on that data for today and for the first and
last day the input allows.
"""

import contextlib
import csv
import io
import math
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit
from openpyxl import load_workbook
from sqlmodel import Session, col, select
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from models import (
    Contract,
    ContractStatus,
    FollowUp,
    Goal,
    InvoiceCheck,
    InvoiceStatus,
    Paragraph,
    PriceCategory,
    Provider,
    ProviderKind,
    Setting,
)
from models.types import (
    BUDGET_MAX,
    DAILY_RATE_MAX,
    DATE_MAX,
    DATE_MIN,
    INVOICE_MAX,
    MONTHLY_PRICE_MAX,
    YEARLY_PRICE_MAX,
)
from pages._nav import PAGES
from services.contracts import add_addon, create_contract, register_price_change
from services.cpr import contains_cpr
from services.db import get_engine, upgrade_schema
from services.errors import UserError
from services.exports.overview import overview_workbook
from services.exports.report import report_html, report_workbook
from services.exports.tables import Sheet, to_csv, to_xlsx
from services.followups import plan_followup, record_followup, update_goal
from services.invoices import check_invoice, preview_invoice_check, update_deviation
from services.providers import add_provider_note, create_offer, create_provider
from services.quarters import Quarter
from services.queries.categories import band_distribution
from services.queries.deviations import (
    DeviationFilter,
    deviation_detail,
    deviation_log,
    deviation_totals,
)
from services.queries.followups import (
    DUE_SOON,
    OVERDUE,
    followup_counts,
    followup_worklist,
    month_plan,
    on_time_figures,
)
from services.queries.lookup import (
    LookupFilters,
    SortOrder,
    count_offers,
    export_frame,
    results_frame,
    search_offers,
    target_group_options,
)
from services.queries.overview import (
    Filters,
    alert_overview,
    contract_alert_list,
    control,
    data_years,
    overview,
    spending,
)
from services.queries.providers import (
    ProviderFilter,
    provider_deviations,
    provider_key_figures,
    provider_register,
)
from services.queries.register import (
    SORT_ORDERS,
    RegisterFilters,
    contract_detail,
    register_counts,
    register_export,
    register_rows,
)
from services.queries.report import quarter_report
from services.reference import create_price_category_set, save_budget, save_regulation_rate
from services.rules.alerts import ALERTS
from services.settings import THEME_MAX, get_settings, update_settings
from services.target_groups import create_target_group
from tests.conftest import BACKENDS, PG_URL, _pg_admin_url
from tests.pagetest import APP

TODAY = date.today()
YEAR = TODAY.year

# --- Worst texts --------------------------------------------------------------------------

# How a text field may begin: what a spreadsheet runs as a formula, and a phone number.
STARTS = (
    '=HYPERLINK("http://evil.example/?q=æøå";"Klik her")',
    "@SUM(A1:A9)",
    "+45 70 20 30 40",
    "-1",
    "=1+1",
    "+",
    "-",
    "@",
)
# The rest: Danish letters, emoji (one with joiners), right-to-left text, zero-width and bidi
# characters, Markdown, HTML and LaTeX. Few digits: no CPR-like number can form (checked).
FILLER = (
    " ÆØÅ æøå é ü 😀 👩\u200d👩\u200d👧 🇩🇰 שלום עולם مرحبا \u200b\u200c\u200d\u200e\u200f\u202e"
    "x\u202c ![x](http://evil.example/x.png) [k](javascript:alert(document.cookie)) "
    "<script>alert('x')</script> <img src=x onerror=alert(1)> **fed** _kursiv_ $x^y$ "
    ":material/home: :red[rød] `kode` | a | b | &amp; &lt; \\ ' \" ; , # > ~~s~~"
)
# Multi-line fields also keep line breaks and tabs.
FILLER_LINES = FILLER + "\n\t- punkt\n# Overskrift\n> citat\n=SUM(A1)\n@x\n"


def worst_text(length: int, start: int = 0, *, multiline: bool = False) -> str:
    """Exactly `length` characters, as the services store them: a formula start, then the
    filler; never ends in whitespace (the services strip it)."""
    body = STARTS[start % len(STARTS)] + (FILLER_LINES if multiline else FILLER)
    text = (body * (length // len(body) + 1))[:length]
    while text[-1].isspace() or unicodedata.category(text[-1]) == "Cf":
        text = text[:-1] + "ø"
    assert len(text) == length
    assert unicodedata.normalize("NFC", text) == text
    assert not contains_cpr(text)
    return text


USER = worst_text(100, 1)  # who signs every change


@dataclass
class WorstDb:
    """The URL and the ids of the records worth opening."""

    url: str
    providers: list[int] = field(default_factory=list)
    contracts: dict[str, int] = field(default_factory=dict)
    checks: list[int] = field(default_factory=list)
    deviations: list[int] = field(default_factory=list)  # the flagged checks
    followups: list[int] = field(default_factory=list)
    open_followups: list[int] = field(default_factory=list)  # not on the ordinary contracts


# --- The database, through the services ---------------------------------------------------


def _settings(s: Session, **overrides: Any) -> None:
    themes = [f"{i:02d} " + worst_text(THEME_MAX - 3, i) for i in range(20)]
    values: dict[str, object] = {
        "regulation_default_pct": "20",
        "tolerance_kr": "0",
        "tolerance_pct": "0",
        "followup_first_months": "1",
        "followup_sel107_months": "1",
        "followup_sel108_months": "24",
        "followup_abl105_months": "24",
        "followup_high_max_months": "1",
        "alert_renegotiation_days": "730",
        "alert_notice_days": "0",
        "vat_refund_pct": "25",
        "large_case_threshold": "0",
        "max_active_goals": "10",
        "vum_themes": themes,
    }
    values.update(overrides)
    update_settings(session=s, values=values, user=USER)


def _reference_data(s: Session) -> None:
    for year in range(2000, 2101):  # every year an index rate can be given for
        percent = "-10" if year == 2000 else "20"
        save_regulation_rate(session=s, data={"year": year, "percent": percent}, user=USER)
    huge = {"middel_from": "99.999,98", "hoej_from": "99.999,99", "ekstraordinaer_from": "100.000"}
    tiny = {"middel_from": "0,01", "hoej_from": "0,02", "ekstraordinaer_from": "0,03"}
    for year in (2000, YEAR, 2100):
        for paragraph, thresholds in (("SEL108", huge), ("SEL107", tiny)):
            create_price_category_set(
                session=s, data={"paragraph": paragraph, "year": year, **thresholds}, user=USER
            )
        for paragraph, amount in (("SEL107", BUDGET_MAX), ("SEL108", BUDGET_MAX), ("ABL105", 0)):
            save_budget(
                session=s, data={"year": year, "paragraph": paragraph, "amount": amount}, user=USER
            )


PROVIDER_VARIANTS = [
    # kind, framework, framework valid to, rating, vat refund
    ("privat", "rammeaftale", DATE_MAX, 5, True),
    ("egen", "samarbejdsaftale", DATE_MIN, 1, False),
    ("selvejende", "ingen", None, None, True),
    ("kommunal", "rammeaftale", DATE_MIN, 3, False),
    ("regional", "samarbejdsaftale", DATE_MAX, 2, False),
]


def _providers(s: Session, db: WorstDb) -> None:
    for i in range(12):  # more than the 10 a chart shows, so "the rest" is a bar too
        kind, framework, valid_to, rating, vat = PROVIDER_VARIANTS[i % len(PROVIDER_VARIANTS)]
        full = i % 3 != 2
        data: dict[str, Any] = {
            "name": worst_text(200, i) if full else "Ø😀",
            "cvr": f"DK-{10000000 + i * 8_191_919}" if full else None,
            "kind": kind,
            "postal_code": "0000" if i % 2 else "9999",
            "city": worst_text(100, i + 1) if full else None,
            "portal_url": ("https://evil.example/?q=" + worst_text(476, i + 2)) if full else None,
            "contact": worst_text(300, i + 3) if full else None,
            "framework": framework,
            "framework_valid_to": valid_to,
            "quality_rating": rating,
            "assessment": worst_text(4000, i + 4, multiline=True) if full else None,
            "vat_refund": vat,
            "active": i != 4,
        }
        provider = create_provider(session=s, data=data, user=USER)
        db.providers.append(provider.id)
    topics = ["kvalitet", "samarbejde", "forhandling", "tilsyn", "andet"]
    for n, topic in enumerate(topics):
        for k, note_date in enumerate((DATE_MIN, TODAY, DATE_MAX)):
            add_provider_note(
                session=s,
                data={
                    "provider_id": db.providers[0],
                    "topic": topic,
                    "note_date": note_date,
                    "author": worst_text(100, n),
                    # Another text each time: the same note twice in a row is refused.
                    "text": worst_text(4000, n + 1 + k, multiline=True),
                },
                user=USER,
            )


def _offers(s: Session, db: WorstDb) -> dict[str, int]:
    offers: dict[str, int] = {}
    # Target groups with the longest names the list takes, formula starts and all.
    groups = [
        create_target_group(session=s, data={"name": worst_text(100, n + 3)}, user=USER).id
        for n in range(3)
    ]
    variants = [
        # paragraph, list rate, its year, negotiated rate, from, places, active
        ("SEL108", DAILY_RATE_MAX, 2100, DAILY_RATE_MAX, DATE_MIN, 10000, True),
        ("SEL107", "0,01", 2000, "0,01", DATE_MAX, 0, True),
        ("ABL105", None, None, None, None, None, True),
        ("SEL108", "0,01", 2000, DAILY_RATE_MAX, TODAY, 1, False),
    ]
    for n, (paragraph, rate, year, negotiated, since, places, active) in enumerate(variants):
        offer = create_offer(
            session=s,
            data={
                "provider_id": db.providers[0],
                "name": worst_text(200, n + 2),
                "paragraph": paragraph,
                "target_group_ids": groups[: n + 1] if active else groups,
                "places": places,
                "list_rate": rate,
                "list_rate_year": year,
                "negotiated_rate": negotiated,
                "negotiated_from": since,
                "portal_url": "http://evil.example/" + worst_text(480, n),
                "active": active,
            },
            user=USER,
        )
        offers[f"{paragraph}_{n}"] = offer.id
    return offers


def _contract(s: Session, db: WorstDb, name: str, n: int, **values: Any) -> int:
    data: dict[str, Any] = {
        "case_ref": worst_text(50, n),
        "provider_id": db.providers[n % len(db.providers)],
        "paragraph": "SEL108",
        "start_date": DATE_MIN,
        "price": DAILY_RATE_MAX,
        "price_unit": "dag",
        "regulation_kind": "fast_pct",
        "regulation_pct": "20",
        "regulation_month": 2,
        "regulation_day": 29,
        "notice_days": 3650,
        "notice_text": worst_text(1000, n + 1),
        "standard_contract": n % 2 == 0,
        "visitation_category": ["lav", "middel", "hoej", "ekstraordinaer", None][n % 5],
        "support_hours_per_week": ["168", "0", "0,1", None][n % 4],
        "night_cover": ["vaagen", "sovende", "ingen", None][n % 4],
        "included": worst_text(2000, n + 2, multiline=True),
        "excluded": worst_text(2000, n + 3, multiline=True),
        "notes": worst_text(4000, n + 4, multiline=True),
        "status": "aktiv",
        "confirmed": ["price"],  # the caps are far above the plausibility limits, on purpose
    }
    for item in (
        "chk_price_scope",
        "chk_service_plan",
        "chk_own_payment",
        "chk_data_agreement",
        "chk_followup_dates",
        "chk_notice",
        "chk_termination",
        "chk_no_change",
    ):
        data[item] = n % 3 != 1
    data.update(values)
    contract = create_contract(session=s, data=data, user=USER)
    db.contracts[name] = contract.id
    return contract.id


def _contracts(s: Session, db: WorstDb, offers: dict[str, int]) -> None:
    p0 = db.providers[0]
    # A daily price at its cap, 20 % a year from 1900: beyond any storable amount by now.
    _contract(
        s,
        db,
        "day_cap_1900",
        0,
        provider_id=p0,
        offer_id=offers["SEL108_0"],
        renegotiation_date=DATE_MAX,
    )
    # Monthly and yearly caps from today, add-ons at every cap, to 2199.
    _contract(
        s,
        db,
        "month_cap",
        1,
        provider_id=p0,
        start_date=TODAY.replace(day=1),
        end_date=DATE_MAX,
        price=MONTHLY_PRICE_MAX,
        price_unit="maaned",
        regulation_kind="ingen",
        regulation_month=12,
        regulation_day=31,
        notice_days=0,
        renegotiation_date=TODAY,
    )
    _contract(
        s,
        db,
        "year_cap_index",
        2,
        start_date=date(2000, 1, 1),
        price_base_date=date(2000, 1, 1),
        price=YEARLY_PRICE_MAX,
        price_unit="aar",
        regulation_kind="indeks",
        regulation_month=1,
        regulation_day=1,
        end_date=DATE_MAX,
        renegotiation_date=date(2000, 1, 1),
    )
    # 0,01 kr. a day, down 10 % a year from 1900 to 2199: 0,00 kr. soon after the start.
    _contract(
        s,
        db,
        "tiny_falling",
        3,
        paragraph="SEL107",
        offer_id=None,
        price="0,01",
        regulation_pct="-10",
        end_date=DATE_MAX,
        notice_days=0,
        visitation_category="lav",
    )
    # Index regulated from 1900: no rate can be given before 2000 (a missing rate).
    _contract(
        s, db, "index_1900", 4, paragraph="ABL105", regulation_kind="indeks", price="2.080,80"
    )
    # Every status, on the first and the last day.
    _contract(s, db, "draft", 5, status="kladde", start_date=DATE_MAX, price="1")
    _contract(
        s, db, "terminated", 6, status="opsagt", end_date=TODAY + timedelta(days=30), price="1"
    )
    _contract(s, db, "ended_1900", 7, status="afsluttet", start_date=DATE_MIN, end_date=DATE_MIN)
    _contract(
        s,
        db,
        "starts_2199",
        8,
        start_date=DATE_MAX,
        end_date=DATE_MAX,
        renegotiation_date=DATE_MAX,
        paragraph="SEL107",
    )
    # Ends in 1900 yet active (never closed), notice 3650 days: the deadline long passed.
    _contract(s, db, "active_ended_1900", 9, end_date=date(1900, 12, 31), price_unit="aar")
    # Many ordinary active contracts, today, on every provider.
    for n in range(10, 22):
        _contract(
            s,
            db,
            f"today_{n}",
            n,
            paragraph=["SEL107", "SEL108", "ABL105"][n % 3],
            start_date=TODAY - timedelta(days=400),
            price=["2.080,80", DAILY_RATE_MAX, "0,01", "99.999,99"][n % 4],
            regulation_kind=["fast_pct", "indeks", "ingen"][n % 3],
            regulation_pct=["20", "-10", "0"][n % 3],
            regulation_month=[1, 2, 12][n % 3],
            regulation_day=[1, 29, 31][n % 3],
            end_date=[None, DATE_MAX, TODAY + timedelta(days=60)][n % 3],
            renegotiation_date=[None, TODAY, DATE_MAX, TODAY + timedelta(days=10)][n % 4],
            notice_days=[0, 3650, 90][n % 3],
        )
    ids = db.contracts
    # Add-ons at the cap of each unit, open-ended and to 2199, from 1900 and today.
    for contract in ("month_cap", "day_cap_1900", "today_11"):
        start = DATE_MIN if contract == "day_cap_1900" else TODAY.replace(day=1)
        for n, (unit, cap) in enumerate(
            (("dag", DAILY_RATE_MAX), ("maaned", MONTHLY_PRICE_MAX), ("aar", YEARLY_PRICE_MAX))
        ):
            add_addon(
                session=s,
                data={
                    "contract_id": ids[contract],
                    "name": worst_text(200, n),
                    "price": cap,
                    "unit": unit,
                    "valid_from": start,
                    "valid_to": DATE_MAX if n % 2 else None,
                    "confirmed": ["price"],
                },
                user=USER,
            )
    # Price changes: at the cap, at 0,01, on the first day after the start and on the last.
    changes = [
        ("day_cap_1900", date(1900, 1, 2), "0,01", "genforhandling"),
        ("day_cap_1900", date(1950, 6, 30), DAILY_RATE_MAX, "aendret_stoettebehov"),
        ("month_cap", TODAY.replace(day=1) + timedelta(days=1), "0,01", "andet"),
        ("tiny_falling", date(1900, 1, 2), DAILY_RATE_MAX, "genforhandling"),
        ("tiny_falling", DATE_MAX, "0,01", "genforhandling"),
        ("today_10", TODAY - timedelta(days=100), DAILY_RATE_MAX, "genforhandling"),
        ("today_12", TODAY - timedelta(days=1), "0,01", "genforhandling"),
        ("today_12", TODAY, "99.999,99", "aendret_stoettebehov"),
    ]
    for n, (contract, effective, price, reason) in enumerate(changes):
        register_price_change(
            session=s,
            contract_id=ids[contract],
            data={
                "effective_date": effective,
                "new_price": price,
                "reason": reason,
                "note": worst_text(2000, n, multiline=True),
                "confirmed": ["new_price"],
            },
            user=USER,
        )


def _invoices(s: Session, db: WorstDb) -> None:
    ids = db.contracts
    month_start = TODAY.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    last_month = (last_month_end.replace(day=1), last_month_end)
    last_year = (TODAY - timedelta(days=366), TODAY - timedelta(days=1))
    cases = [
        # contract, period, invoiced, checked on
        ("month_cap", last_month, INVOICE_MAX, TODAY),
        ("month_cap", (month_start, TODAY), "0", TODAY),
        ("month_cap", (month_start, month_start), "0,01", TODAY),
        ("tiny_falling", (DATE_MIN, date(1900, 12, 31)), INVOICE_MAX, DATE_MIN),
        ("tiny_falling", (date(2199, 1, 1), DATE_MAX), "0,01", DATE_MAX),
        ("tiny_falling", last_year, INVOICE_MAX, TODAY),
        ("tiny_falling", last_month, "0", TODAY),
        ("year_cap_index", last_year, INVOICE_MAX, TODAY),
        ("year_cap_index", (date(2199, 1, 1), DATE_MAX), "0", DATE_MAX),
        ("ended_1900", (DATE_MIN, DATE_MIN), INVOICE_MAX, DATE_MIN),
        ("active_ended_1900", (DATE_MIN, date(1900, 12, 31)), "0,01", DATE_MIN),
        ("starts_2199", (DATE_MAX, DATE_MAX), INVOICE_MAX, DATE_MAX),
        *[(f"today_{n}", last_month, INVOICE_MAX, TODAY) for n in range(10, 22)],
        *[(f"today_{n}", last_year, "0,01", TODAY) for n in range(10, 14)],
    ]
    for n, (contract, (first, last), invoiced, checked_on) in enumerate(cases):
        try:
            check = check_invoice(
                session=s,
                data={
                    "contract_id": ids[contract],
                    "invoice_no": worst_text(50, n)[:-4] + f"{n:04d}",
                    "period_from": first,
                    "period_to": last,
                    "invoiced": invoiced,
                    "assignee": worst_text(100, n + 1),
                    "resolution_note": worst_text(2000, n + 2, multiline=True),
                    "confirmed": ["invoiced"],  # the largest amounts, confirmed as plausible
                },
                user=USER,
                today=checked_on,
            )
        except UserError:  # refused: an expected amount too large to store, a missing rate
            continue
        db.checks.append(check.id)
    flagged = [c for c in s.exec(select(InvoiceCheck).where(InvoiceCheck.flagged)).all() if c.id]
    statuses = ["undersoeges", "leverandoer_kontaktet", "loest", "accepteret", "ny"]
    db.deviations = [c.id for c in flagged if c.id]
    for n, check in enumerate(flagged):
        for step, status in enumerate(statuses[: n % len(statuses) + 1]):
            current = s.get(InvoiceCheck, check.id)
            assert current is not None
            update_deviation(
                session=s,
                check_id=check.id,
                data={
                    "status": status,
                    "assignee": worst_text(100, n + step),
                    "note": worst_text(2000, n + step, multiline=True),
                    "version": current.version,
                },
                user=USER,
                today=[DATE_MIN, TODAY, DATE_MAX][step % 3],
            )


def _followups(s: Session, db: WorstDb) -> None:
    ids = db.contracts
    themes = get_settings(session=s).vum_themes
    outcomes = [
        ("fremgang", "op", "fortsaet"),
        ("uaendret", "ned", "genforhandl"),
        ("tilbagegang", "uaendret", "flyt"),
        ("fremgang", "uaendret", "opsig"),
    ]
    goal_types = ["udvikle", "fastholde", "begraense_tab"]
    contracts = ["day_cap_1900", "month_cap", "tiny_falling", "today_10", "today_11"]
    for n, contract in enumerate(contracts):
        followup = s.exec(
            select(FollowUp).where(
                FollowUp.contract_id == ids[contract], col(FollowUp.done_date).is_(None)
            )
        ).first()
        if followup is None:
            continue
        progression, need, action = outcomes[n % len(outcomes)]
        goals = [
            {
                "theme": themes[(n + g) % len(themes)],
                "goal_type": goal_types[g % 3],
                "text": worst_text(1000, g, multiline=True),
                "measure": worst_text(1000, g + 1),
                "deadline": [DATE_MIN, DATE_MAX, None][g % 3],
            }
            for g in range(10 if n == 0 else 3)
        ]
        done_on = min(TODAY, max(followup.due_date, DATE_MIN))
        record_followup(
            session=s,
            followup_id=followup.id,
            data={
                "done_date": done_on,
                "done_by": worst_text(100, n),
                "kind": ["moede", "statusrapport", "tilsynsbesoeg", "telefon"][n % 4],
                "progression": progression,
                "support_need_change": need,
                "action": action,
                "note": worst_text(4000, n, multiline=True),
                "version": followup.version,
            },
            goals=goals,
            user=USER,
            today=TODAY,
        )
        db.followups.append(followup.id)
    # Every goal status, on the contract whose 10 goals filled the cap.
    goals_now = s.exec(select(Goal).where(Goal.contract_id == ids["day_cap_1900"])).all()
    for g, goal in enumerate(goals_now):
        status = ["opnaaet", "ikke_opnaaet", "opgivet", "aktiv"][g % 4]
        update_goal(
            session=s,
            goal_id=goal.id,
            data={
                "theme": goal.theme,
                "goal_type": goal.goal_type,
                "text": goal.text,
                "measure": goal.measure,
                "deadline": goal.deadline,
                "status": status,
                "version": goal.version,
            },
            user=USER,
        )
    # Planned by hand: due in 1900 (overdue for centuries), today and in 2199, every kind.
    for n, (contract, due) in enumerate(
        [
            ("day_cap_1900", DATE_MIN),
            ("month_cap", TODAY),
            ("tiny_falling", DATE_MAX),
            ("index_1900", DATE_MIN),
            ("starts_2199", DATE_MAX),
            ("draft", TODAY + timedelta(days=1)),
            ("terminated", TODAY - timedelta(days=1)),
        ]
    ):
        planned = plan_followup(
            session=s,
            data={
                "contract_id": ids[contract],
                "due_date": due,
                "kind": ["moede", "statusrapport", "tilsynsbesoeg", "telefon"][n % 4],
                "note": worst_text(4000, n + 5, multiline=True),
            },
            user=USER,
        )
        db.followups.append(planned.id)
    # A follow-up done on the first day there is, on the contract that starts then.
    planned_1900 = plan_followup(
        session=s,
        data={"contract_id": ids["ended_1900"], "due_date": DATE_MIN, "kind": "moede"},
        user=USER,
    )
    record_followup(
        session=s,
        followup_id=planned_1900.id,
        data={
            "done_date": DATE_MIN,
            "done_by": worst_text(100, 3),
            "progression": "tilbagegang",
            "support_need_change": "op",
            "action": "fortsaet",
            "version": planned_1900.version,
        },
        user=USER,
        today=TODAY,
    )
    db.followups.append(planned_1900.id)


def build_worst(url: str) -> WorstDb:
    """Migrate the database at `url` and fill it with the worst accepted values."""
    engine = get_engine(url)
    upgrade_schema(engine)
    db = WorstDb(url=url)
    with Session(engine, expire_on_commit=False) as s:
        _settings(s)
        _reference_data(s)
        _providers(s, db)
        offers = _offers(s, db)
        _contracts(s, db, offers)
        _invoices(s, db)
        _followups(s, db)
        special = [i for name, i in db.contracts.items() if not name.startswith("today_")]
        db.open_followups = list(
            s.exec(
                select(FollowUp.id).where(
                    col(FollowUp.done_date).is_(None), col(FollowUp.contract_id).in_(special)
                )
            )
        )
    engine.dispose()
    return db


@pytest.fixture(scope="module", params=BACKENDS)
def worst(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorstDb]:
    """The worst database, built once per engine for the whole module. Rendering a page writes
    only what start-up and the stored prices write on any database (idempotent)."""
    if request.param == "sqlite":
        yield build_worst(f"sqlite:///{tmp_path_factory.mktemp('worst') / 'worst.db'}")
        return
    if not PG_URL:
        pytest.skip("TAKSTKOMPAS_TEST_PG_URL is not set")
    admin_url = _pg_admin_url()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"takstkompas_worst_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield build_worst(admin_url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_database_holds_the_worst_values(worst):
    """The builder's values were stored as given (so the checks below are not vacuous)."""
    with Session(get_engine(worst.url)) as s:
        providers = s.exec(select(Provider)).all()
        assert 200 == max(len(p.name) for p in providers)
        assert 4000 == max(len(p.assessment or "") for p in providers)
        contracts = s.exec(select(Contract)).all()
        assert {50} == {len(c.case_ref) for c in contracts}
        assert {4000} == {len(c.notes or "") for c in contracts}
        assert {DATE_MIN, DATE_MAX} <= {c.start_date for c in contracts}
        assert {0, 3650} <= {c.notice_days for c in contracts}
        assert set(ContractStatus) == {c.status for c in contracts}
        checks = s.exec(select(InvoiceCheck)).all()
        assert len(checks) == len(worst.checks) >= 24
        assert {Decimal(0), Decimal("0.01"), INVOICE_MAX} <= {c.invoiced for c in checks}
        assert {Decimal("99999.9999"), Decimal(-100)} <= {c.deviation_pct for c in checks}
        assert set(InvoiceStatus) <= {c.status for c in checks}
        goals = s.exec(select(Goal)).all()
        assert len(goals) >= 20
        assert {1000} == {len(g.text) for g in goals}
        assert {100} == {len(g.theme) for g in goals}
        settings = get_settings(session=s)
        assert 20 == len(settings.vum_themes)
        assert (1, 24) == (settings.followup_first_months, settings.followup_sel108_months)


# --- What a download may hold ---------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@")
# Line breaks and tabs are part of multi-line text; every other control character is not.
ALLOWED_CONTROLS = {"\n", "\t"}


def _control_characters(text: str) -> set[str]:
    return {ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS}


def assert_safe_workbook(data: bytes, what: str) -> int:
    """The workbook opens; no cell is a formula, no text starts like one, no control
    characters, no number is NaN or infinite. Returns the number of filled cells."""
    workbook = load_workbook(io.BytesIO(data))
    filled = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if value is None:
                    continue
                filled += 1
                where = f"{what}: {sheet.title}!{cell.coordinate}"
                assert cell.data_type != "f", f"{where} is a formula: {value!r}"
                if isinstance(value, str):
                    assert not value.startswith(FORMULA_START), f"{where}: {value[:40]!r}"
                    assert not _control_characters(value), f"{where}: {value[:40]!r}"
                elif isinstance(value, float):
                    assert math.isfinite(value), f"{where}: {value!r}"
    return filled


NUMBER_CELL = re.compile(r"^-?\d+(,\d+)?$")


def assert_safe_csv(data: bytes, what: str) -> None:
    """Semicolon CSV whose text cells Excel would not run (a negative number is a number)."""
    text = data.decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        for cell in row:
            if cell.startswith(FORMULA_START):
                assert NUMBER_CELL.match(cell), f"{what}: {cell[:40]!r}"
            assert not _control_characters(cell), f"{what}: {cell[:40]!r}"


def assert_safe_html(page: str, what: str) -> None:
    assert page.startswith("<!DOCTYPE html>"), what
    lowered = page.lower()
    for tag in ("<script", "<img", "<iframe", 'javascript:alert(document.cookie)">'):
        assert tag not in lowered, f"{what}: {tag}"
    assert not _control_characters(page), what


def assert_safe_download(data: Any, file_name: str, what: str) -> None:
    """Check one download by its kind (the file name's ending)."""
    if callable(data):
        data = data()
    assert isinstance(data, bytes | str), what
    raw = data.encode("utf-8") if isinstance(data, str) else data
    assert raw, f"{what}: empty download"
    if file_name.endswith(".xlsx"):
        assert_safe_workbook(raw, what)
    elif file_name.endswith(".csv"):
        assert_safe_csv(raw, what)
    elif file_name.endswith(".html"):
        assert_safe_html(raw.decode("utf-8"), what)
    else:
        pytest.fail(f"{what}: unknown download {file_name}")


@dataclass
class Downloads:
    """Every download button a page drew, with the data it would send."""

    seen: dict[str, tuple[Any, str]] = field(default_factory=dict)

    def check(self) -> list[str]:
        for key, (data, file_name) in self.seen.items():
            assert_safe_download(data, file_name, key)
        checked = sorted(self.seen)
        self.seen.clear()
        return checked


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    """Record every download button drawn (the pages draw them on columns, so on the
    DeltaGenerator) with its data, deferred or not."""
    record = Downloads()
    original = DeltaGenerator.download_button

    def recording(self: DeltaGenerator, label: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        file_name = kwargs.get("file_name") or (args[0] if args else "")
        record.seen[str(kwargs.get("key") or label)] = (data, str(file_name))
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    # st.download_button is bound to the main area when Streamlit is imported.
    monkeypatch.setattr(
        streamlit, "download_button", lambda *a, **k: recording(streamlit._main, *a, **k)
    )
    return record


# --- (1) Every page and view ----------------------------------------------------------------


class Views:
    """One AppTest on one page: each view is a change of state or address and a rerun, after
    which nothing may have failed and every download drawn must build safely."""

    def __init__(self, worst: WorstDb, page: str, downloads: Downloads, monkeypatch: Any):
        monkeypatch.setenv("TAKSTKOMPAS_DB_URL", worst.url)
        self.downloads = downloads
        self.checked: set[str] = set()
        self.at = AppTest.from_file(APP, default_timeout=60)
        self.at.run()
        self._check("start")
        downloads.seen.clear()  # the default page's: checked on its own
        self.at.switch_page(page)
        self.at.run()
        self._check(f"{page} (default view)")

    def _check(self, view: str) -> None:
        assert not self.at.exception, (view, [e.value for e in self.at.exception])
        # Nothing was typed: an error message here is the page failing on stored data.
        assert not self.at.error, (view, [e.value for e in self.at.error])
        self.checked.update(f"{view}: {key}" for key in self.downloads.check())

    def show(self, view: str, *, query: dict[str, str] | None = None, **state: Any) -> AppTest:
        """Set widget or page state (and the address), rerun, check."""
        for key, value in state.items():
            self.at.session_state[key] = value
        if query is not None:
            self.at.query_params.clear()
            self.at.query_params.update(query)
        self.at.run()
        self._check(view)
        return self.at

    def click(self, view: str, key: str) -> AppTest:
        self.at.button(key=key).click().run()
        self._check(view)
        return self.at


def _tabs(views: Views, key: str, names: list[str]) -> None:
    for name in names:
        views.show(f"tab {name}", **{key: name})


def _overblik(views: Views, worst: WorstDb) -> None:
    _tabs(views, "overview_tab", ["Økonomi", "Fordeling", "Kontrol og opfølgning", "Varsler"])
    views.show("oldest year", overview_year=YEAR - 15)
    views.show(
        "this year, §105 only (budget 0)", overview_year=YEAR, overview_paragraphs=["ABL105"]
    )
    views.show("own providers only", overview_paragraphs=[], overview_kinds=["egen"])
    views.show("regional providers (none active)", overview_kinds=["regional"])
    views.show("all", overview_kinds=[], overview_distribution_measure="Årsudgift")
    _tabs(views, "overview_tab", ["Fordeling", "Økonomi"])


QUARTER_TABS = [
    "Fakturaafvigelser",
    "Frister",
    "Advarsler",
    "Opfølgninger",
    "Dyreste sager",
    "Leverandører",
    "Besparelser",
]


def _kvartalsrapport(views: Views, worst: WorstDb) -> None:
    _tabs(views, "quarterly_tab", QUARTER_TABS)
    for quarter in (Quarter.of(TODAY), Quarter(YEAR - 15, 1)):
        views.show(f"quarter {quarter.key}", quarterly_quarter=quarter.key)
        _tabs(views, "quarterly_tab", QUARTER_TABS[:2])


def _prisopslag(views: Views, worst: WorstDb) -> None:
    for search in ("", "ÆØÅ 😀", '=HYPERLINK("', "שלום"):
        at = views.show(f"search {search!r}", prisopslag_text=search, prisopslag_inactive=True)
        table = f"prisopslag_table_{at.session_state['prisopslag_search_number']}_0"
        for row in range(3 if search in ("", "שלום") else 0):
            views.show(
                f"search {search!r}, offer {row}",
                **{table: {"selection": {"rows": [row], "columns": [], "cells": []}}},
            )


def _sammenlign(views: Views, worst: WorstDb) -> None:
    from services.queries.comparison import offer_choices

    with Session(get_engine(worst.url)) as s:
        offers = list(offer_choices(session=s))
    views.show("three offers", cmp_offers=offers[:3])
    for visited in offers[:3]:
        views.show(f"visited {visited}", cmp_visited=visited)
    views.show(
        "the largest add-on",
        cmp_addons_open=True,
        **{
            f"cmp_addon_{offers[0]}_0_name": worst_text(200, 1),
            f"cmp_addon_{offers[0]}_0_price": "36.500.000,00",
            f"cmp_addon_{offers[0]}_0_unit": "aar",
        },
    )
    views.show("two offers by link", query={"tilbud": f"{offers[1]},{offers[2]}"})
    views.show("a start in the last year", cmp_start=DATE_MAX)
    views.show("a start in the first year", cmp_start=DATE_MIN)


def _importer(views: Views, worst: WorstDb) -> None:
    # Every row of the worst providers' own values back in: errors, updates, the tables.
    rows = [
        ["CVR", "Navn", "By", "Kvalitet", "Momsfaktor"],
        ["12345674", worst_text(200, 1), worst_text(100, 2), "5", "100%"],
        ["12345674", '=HYPERLINK("x")', "ÆØÅ 😀", "9", "95.4%"],
        ["", worst_text(300, 3), "", "", ""],
    ]
    text = "\n".join(";".join(f'"{c}"' for c in row) for row in rows) + "\n"
    views.show("a file with every problem", import_file=("liste.csv", text.encode("utf-8")))
    views.show("updating existing ones", import_update=True)
    views.show("US dates", import_dates="MM/DD/ÅÅÅÅ")


def _leverandoerer(views: Views, worst: WorstDb) -> None:
    views.show("everyone", providers_active_only=False, providers_search="😀")
    for provider_id in worst.providers[:5]:
        views.show(f"provider {provider_id}", providers_selected_id=provider_id)


def _kontrakter(views: Views, worst: WorstDb) -> None:
    # The register's export buttons are drawn with the list: every view checks their files.
    views.show("all statuses", contracts_filter_status=["kladde", "aktiv", "opsagt", "afsluttet"])
    for sort in SORT_ORDERS:
        views.show(f"sorted by {sort}", contracts_sort=sort)
    for kind in ALERTS:
        views.show(f"alert {kind.value}", contracts_filter_alert=kind.value)
    views.show("new contract", contracts_filter_alert="", contracts_view="Ny kontrakt")
    for name, contract_id in worst.contracts.items():
        if name.startswith("today_") and int(name.removeprefix("today_")) >= 14:
            continue  # the ordinary ones repeat the first four's combinations
        views.show(f"contract {name}", query={"id": str(contract_id)})


def _priskategorier(views: Views, worst: WorstDb) -> None:
    for paragraph, years in (("SEL107", (2000, 2100)), ("ABL105", ()), ("SEL108", (2100, YEAR))):
        views.show(f"{paragraph} {YEAR}", priskategorier_chart_paragraph=paragraph)
        for year in years:
            views.show(f"{paragraph} {year}", priskategorier_chart_year=year)


def _opfoelgning(views: Views, worst: WorstDb) -> None:
    views.show("90 days, next year", opfoelgning_horizon=90, opfoelgning_plan_year=YEAR + 1)
    views.show("two years ago", opfoelgning_plan_year=YEAR - 2)
    views.show("§107 only", opfoelgning_filter_paragraphs=["SEL107"])
    views.show("everything", opfoelgning_filter_paragraphs=[])
    for followup_id in [*worst.open_followups, worst.followups[0]]:  # the last one is done
        views.show(f"follow-up {followup_id}", query={"id": str(followup_id)})


def _fakturaafvigelser(views: Views, worst: WorstDb) -> None:
    views.show("every status", fakturaafvigelser_filter_status=list(InvoiceStatus))
    for check_id in [*worst.deviations[:10], worst.checks[0]]:  # every status; not flagged
        views.show(f"check {check_id}", query={"id": str(check_id)})
    views.show("check an invoice", fakturaafvigelser_tab="Kontrollér en faktura")


def _worst_einvoices(
    worst: WorstDb, contracts: list[str], *, far: bool = False
) -> list[tuple[str, bytes]]:
    """E-invoices aimed at the worst database: each of these contracts on a provider with a
    CVR by its case reference (the longest, with formula starts, HTML and bidi characters), at
    100 mio., 0,00 and 0,01 kr. and half as much again as expected (`far`: on periods in 1900,
    by the order reference, and in 2199 too); one without a reference to the provider with the
    most contracts; three stored checks again (already checked) and credit notes for them at
    100 mio.; an unknown CVR, a file that is no XML, and worst file names, half in a zip."""
    from services.einvoice.examples import OIOUBL_21, PEPPOL, UNKNOWN_CVR, Doc, xml_of
    from services.imports.examples import expected_for

    last_end = TODAY.replace(day=1) - timedelta(days=1)
    last = (last_end.replace(day=1), last_end)
    ids = [worst.contracts[name] for name in contracts]
    with Session(get_engine(worst.url)) as s:
        aimed = s.exec(
            select(Contract, Provider.cvr)
            .join(Provider, col(Provider.id) == Contract.provider_id)
            .where(col(Provider.cvr).is_not(None), col(Contract.id).in_(ids))
            .order_by(col(Contract.id))
        ).all()
        checks = s.exec(
            select(InvoiceCheck, Provider.cvr, Contract.case_ref)
            .join(Provider, col(Provider.id) == InvoiceCheck.provider_id)
            .join(Contract, col(Contract.id) == InvoiceCheck.contract_id)
            .where(col(Provider.cvr).is_not(None))
            .order_by(col(InvoiceCheck.id))
        ).all()
        # Half as much again as expected: flagged (where the contract can be priced at all).
        above: dict[int, Decimal] = {}
        for contract, _ in aimed:
            with contextlib.suppress(UserError, ArithmeticError):
                expected = expected_for(s, contract, *last)
                above[contract.id or 0] = (expected * Decimal("1.5")).quantize(Decimal("0.01"))
    amounts = [INVOICE_MAX, Decimal(0), Decimal("0.01")]
    docs: list[Doc] = []

    def doc(cvr: str, period: tuple[date, date], amount: Decimal, **values: Any) -> None:
        n = len(docs)
        docs.append(
            Doc(
                file_name=f"{n:02d}_{worst_text(40, n)}.xml",
                customization=[OIOUBL_21, PEPPOL][n % 2],
                number=values.pop("number", worst_text(50, n)[:-5] + f"E{n:04d}"),
                supplier_cvr=cvr,
                supplier_name=worst_text(200, n),
                period=period,
                amount=amount,
                item=worst_text(200, n + 1),
                **values,
            )
        )

    for n, (contract, cvr) in enumerate(aimed):
        doc(cvr, last, amounts[n % 3], contract_reference=contract.case_ref)
        if contract.id in above and above[contract.id] <= INVOICE_MAX:
            doc(cvr, last, above[contract.id], contract_reference=contract.case_ref)
        if far:
            doc(
                cvr,
                (DATE_MIN, date(1900, 12, 31)),
                amounts[n % 3],
                order_reference=contract.case_ref,
            )
            doc(
                cvr, (date(2199, 1, 1), DATE_MAX), INVOICE_MAX, contract_reference=contract.case_ref
            )
    by_provider = [cvr for _, cvr in aimed]
    doc(max(by_provider, key=by_provider.count), last, INVOICE_MAX)  # the user picks
    for check, cvr, case_ref in checks[:3]:
        period = (check.period_from, check.period_to)
        doc(cvr, period, check.invoiced, number=check.invoice_no, contract_reference=case_ref)
        doc(cvr, period, INVOICE_MAX, credits=check.invoice_no)
    doc(UNKNOWN_CVR, last, INVOICE_MAX)
    half = len(docs) // 2
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in docs[:half]:
            archive.writestr(item.file_name, xml_of(item))
    return [
        (f"{worst_text(100, 1)}.zip", buffer.getvalue()),
        *[(item.file_name, xml_of(item)) for item in docs[half:]],
        (f"{worst_text(100, 2)}.xml", "ikke xml ÆØÅ 😀 <".encode()),
    ]


def _efakturaer(views: Views, worst: WorstDb) -> None:
    from services.einvoice.batch import Fix

    # Without an upload (the default view) the page only says what to do; no demo files here.
    at = views.show("no upload")
    assert not at.get("download_button")
    names = list(worst.contracts)
    at = views.show("the worst e-invoices", einvoice_files=_worst_einvoices(worst, names, far=True))
    batch = at.session_state["einvoice_batch"][1]
    readable = [f.number for f in batch if f.match is not None]
    assert len(readable) >= 20, [f.error for f in batch if f.match is None]
    for number in readable:
        views.show(f"e-invoice {number} to fix", einvoice_chosen=number)
    contracts = [worst.contracts[name] for name in names]
    last_end = TODAY.replace(day=1) - timedelta(days=1)
    last = (last_end.replace(day=1), last_end)
    fixes = {
        number: Fix(
            contract_id=contracts[k % len(contracts)],
            period=[last, (DATE_MIN, DATE_MIN), (last[0], last[0]), None][k % 4],
            include=k % 5 != 4,
        )
        for k, number in enumerate(readable)
    }
    at = views.show("every file given a contract and a period", einvoice_fixes=fixes)
    number = readable[-1]  # the unknown supplier's: no contract to price for 1900–2199
    unknown = batch[number - 1].match
    assert unknown is not None and unknown.provider_id is None
    at.session_state[f"einvoice_fix_{number}_from"] = DATE_MIN
    at.session_state[f"einvoice_fix_{number}_to"] = DATE_MAX
    views.show(f"e-invoice {number} again", einvoice_chosen=number)
    views.click(
        f"e-invoice {number} given 1900–2199", f"FormSubmitter:einvoice_fix_form_{number}-Anvend"
    )
    views.show("every file as found", einvoice_fixes={})


# A contract whose price cannot be worked out for the period (regulated out of range, an index
# rate missing, 2199 on a contract regulated up every year): the file says why, the page stands.
@pytest.mark.parametrize(
    "contracts, far",
    [(["day_cap_1900"], False), (["index_1900"], False), (["today_10"], True)],
    ids=["regulated out of range", "an index rate missing", "2199"],
)
def test_efakturaer_on_a_contract_that_cannot_be_priced(worst, contracts, far, monkeypatch):
    monkeypatch.setenv("TAKSTKOMPAS_DB_URL", worst.url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/efakturaer.py")
    at.session_state["einvoice_files"] = _worst_einvoices(worst, contracts, far=far)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    frame = at.dataframe[0].value
    assert any(text.startswith(("Prisen pr.", "Der mangler")) for text in frame["Besked"]), list(
        frame["Besked"]
    )


def _indstillinger(views: Views, worst: WorstDb) -> None:
    views.show("again")


def _brugere(views: Views, worst: WorstDb) -> None:
    views.show("again")


def _revisionsspor(views: Views, worst: WorstDb) -> None:
    views.show("one kind of record", audit_entity="contract")
    views.show("a record by its id", audit_entity_id="1")
    views.show("a record's history by link", query={"hvad": "provider", "id": "1"})
    views.show("an id no record has", audit_entity="", audit_entity_id="99999999999")


VIEWS: dict[str, Callable[[Views, WorstDb], None]] = {
    "pages/overblik.py": _overblik,
    "pages/kvartalsrapport.py": _kvartalsrapport,
    "pages/prisopslag.py": _prisopslag,
    "pages/sammenlign.py": _sammenlign,
    "pages/leverandoerer.py": _leverandoerer,
    "pages/kontrakter.py": _kontrakter,
    "pages/priskategorier.py": _priskategorier,
    "pages/importer.py": _importer,
    "pages/opfoelgning.py": _opfoelgning,
    "pages/fakturaafvigelser.py": _fakturaafvigelser,
    "pages/efakturaer.py": _efakturaer,
    "pages/indstillinger.py": _indstillinger,
    "pages/brugere.py": _brugere,
    "pages/revisionsspor.py": _revisionsspor,
}

# Pages that offer no download on the worst database: E-fakturaer's only one is the demo's
# example files, offered while demo data is in.
NO_DOWNLOADS = {"pages/efakturaer.py"}


def test_every_page_has_its_views_listed():
    assert [p.path for p in PAGES] == list(VIEWS)


@pytest.mark.parametrize("spec", PAGES, ids=[p.title for p in PAGES])
def test_page_and_every_view_render_and_their_downloads_build(spec, worst, downloads, monkeypatch):
    views = Views(worst, spec.path, downloads, monkeypatch)
    assert spec.title == views.at.title[0].value
    VIEWS[spec.path](views, worst)
    if spec.path in NO_DOWNLOADS:  # none of its own (the start page's are checked first)
        assert not [c for c in views.checked if not c.startswith("start: ")], views.checked
    else:
        assert views.checked, "no download was offered"


# --- (2) The report's and Overblik's files, built directly ----------------------------------

DAYS = [TODAY, DATE_MIN, DATE_MAX]
DAY_IDS = ["today", "first-day", "last-day"]


def _quarters(day: date) -> list[Quarter]:
    """The day's quarter, the one the page opens on (the one before), and for today the oldest
    the page offers."""
    quarters = [Quarter.of(day), Quarter.of(day).previous()]
    if day == TODAY:
        quarters.append(Quarter(YEAR - 15, 1))
    return quarters


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_report_workbook_and_printable_page_build(worst, day):
    with Session(get_engine(worst.url)) as s:
        for quarter in _quarters(day):
            report = quarter_report(session=s, quarter=quarter, today=day)
            what = f"report {quarter.key} on {day}"
            assert assert_safe_workbook(report_workbook(report), what) > 0
            assert_safe_html(report_html(report, printed=day), what)


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_overview_workbook_builds(worst, day):
    with Session(get_engine(worst.url)) as s:
        for filters in FILTERS:
            data = overview(session=s, year=day.year, filters=filters, today=day)
            alerts = contract_alert_list(session=s, today=day, filters=filters).rows
            what = f"Overblik {day} {filters}"
            assert assert_safe_workbook(overview_workbook(data, alerts), what) > 0


# --- (3) The key services, today and on the first and last day -------------------------------

FILTERS = [
    Filters(),
    *[Filters(paragraphs=(p.value,)) for p in Paragraph],
    *[Filters(provider_kinds=(k.value,)) for k in ProviderKind],
]


def _export(frame: pd.DataFrame, what: str) -> None:
    """A service's table as the pages export it."""
    assert_safe_workbook(to_xlsx([Sheet(what[:31], frame)]), what)
    assert_safe_csv(to_csv(frame), what)


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_overview_services_return(worst, day):
    with Session(get_engine(worst.url)) as s:
        for filters in FILTERS:
            data = overview(session=s, year=day.year, filters=filters, today=day)
            assert data.as_of == day
            alerts = alert_overview(session=s, today=day, filters=filters)
            assert alerts.total >= len(alerts.rows)
            spend = spending(session=s, as_of=day, filters=filters)
            _export(spend.table(), f"spend {day} {filters}")
            control(session=s, as_of=day, filters=filters)
        assert YEAR in data_years(session=s, today=TODAY)


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_band_distribution_returns(worst, day):
    with Session(get_engine(worst.url)) as s:
        for paragraph in Paragraph:
            for year in (2000, YEAR, 2100):
                bands = band_distribution(session=s, paragraph=paragraph, year=year, today=day)
                assert bands.total >= 0


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_register_and_every_contract_return(worst, day):
    with Session(get_engine(worst.url)) as s:
        settings = get_settings(session=s)
        statuses = tuple(ContractStatus)
        every = [(None, sort) for sort in SORT_ORDERS] + [(a, "advarsel") for a in ALERTS]
        for alert, sort in every:
            filters = RegisterFilters(statuses=statuses, alert=alert, sort=sort)
            rows = register_rows(session=s, filters=filters, today=day, horizons=settings.horizons)
            counts = register_counts(
                session=s, filters=filters, today=day, horizons=settings.horizons
            )
            assert counts.matching >= len(rows)
            frame = register_export(
                session=s, filters=filters, today=day, horizons=settings.horizons
            )
            _export(frame, f"register {alert} {sort} {day}")
        for name, contract_id in worst.contracts.items():
            detail = contract_detail(
                session=s, contract_id=contract_id, today=day, horizons=settings.horizons
            )
            assert detail.contract["id"] == contract_id, name
            for frame_name in ("price_history", "addons", "followups", "goals"):
                _export(getattr(detail, frame_name), f"{name} {frame_name} {day}")


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_price_lookup_returns(worst, day):
    searches = ["", "ÆØÅ 😀", '=HYPERLINK("', "שלום", "\u200b", "%", "_", "\\", "0000", "-1"]
    with Session(get_engine(worst.url)) as s:
        for text in searches:
            for categories in [(), tuple(PriceCategory)]:
                filters = LookupFilters(text=text, categories=categories, include_inactive=True)
                for order in SortOrder:  # every order, sorted in SQL
                    offers = search_offers(
                        session=s, filters=filters, today=day, order=order, limit=None
                    )
                    assert count_offers(session=s, filters=filters, today=day) == len(offers)
                _export(results_frame(offers), f"lookup {text!r} {day}")
                _export(export_frame(session=s, filters=filters, today=day), f"lookup {day}")
        for group_id, _name in target_group_options(session=s):
            filters = LookupFilters(target_group=group_id, include_inactive=True)
            assert search_offers(session=s, filters=filters, today=day, limit=None)


@pytest.mark.parametrize("day", DAYS, ids=DAY_IDS)
def test_follow_up_deviation_and_provider_services_return(worst, day):
    with Session(get_engine(worst.url)) as s:
        for kind in (OVERDUE, DUE_SOON):
            for horizon in (30, 90):
                page = followup_worklist(
                    session=s, kind=kind, today=day, horizon_days=horizon, limit=None
                )
                assert page.total == len(page.rows)
                _export(page.rows, f"worklist {kind} {day}")
        month_plan(session=s, year=day.year, today=day)
        on_time_figures(session=s, today=day)
        followup_counts(session=s, today=day)
        for statuses in [(), tuple(InvoiceStatus)]:
            filters = DeviationFilter(statuses=statuses)
            deviation_log(session=s, filters=filters, today=day, limit=None)
            deviation_totals(session=s, filters=filters)
        for check_id in worst.checks:
            deviation_detail(session=s, check_id=check_id, today=day)
        everyone = ProviderFilter(active_only=False)
        _export(provider_register(session=s, filters=everyone, today=day), f"providers {day}")
        for provider_id in worst.providers:
            provider_key_figures(session=s, provider_id=provider_id, today=day)
            _export(provider_deviations(session=s, provider_id=provider_id), f"deviations {day}")


# --- The settings at their other ends --------------------------------------------------------

OTHER_ENDS: dict[str, object] = {
    "regulation_default_pct": "-10",
    "tolerance_kr": "100000",
    "tolerance_pct": "50",
    "followup_first_months": "24",
    "followup_sel107_months": "24",
    "followup_sel108_months": "1",
    "followup_abl105_months": "1",
    "followup_high_max_months": "24",
    "alert_renegotiation_days": "0",
    "alert_notice_days": "730",
    "vat_refund_pct": "0",
    "large_case_threshold": "100000000",
    "max_active_goals": "1",
    "vum_themes": ["Ø"],  # one theme of one letter: the goals' themes are no longer in it
}


@pytest.fixture
def other_ends(worst: WorstDb) -> Iterator[WorstDb]:
    """The worst database with every setting at its other end; put back afterwards."""
    engine = get_engine(worst.url)
    with Session(engine) as s:
        saved = {row.key: row.value for row in s.exec(select(Setting))}
        update_settings(session=s, values=dict(OTHER_ENDS), user=USER)
    try:
        yield worst
    finally:
        with Session(engine) as s:
            update_settings(session=s, values=dict(saved), user=USER)
        engine.dispose()


def test_pages_and_services_with_the_settings_at_their_other_ends(
    other_ends, downloads, monkeypatch
):
    worst = other_ends
    with Session(get_engine(worst.url)) as s:
        settings = get_settings(session=s)
        assert settings.max_active_goals == 1
        month_start = TODAY.replace(day=1)
        preview = preview_invoice_check(
            session=s,
            data={
                "contract_id": worst.contracts["month_cap"],
                "invoice_no": "F-1",
                "period_from": month_start,
                "period_to": TODAY,
                "invoiced": INVOICE_MAX,
            },
        )
        assert preview.deviation.flagged
        overview(session=s, year=YEAR, today=TODAY)
        alert_overview(session=s, today=TODAY)
        register_rows(session=s, today=TODAY, horizons=settings.horizons)
        search_offers(session=s, filters=LookupFilters(include_inactive=True), today=TODAY)
        followup_worklist(session=s, kind=DUE_SOON, today=TODAY, horizon_days=90)
        report = quarter_report(session=s, quarter=Quarter.of(TODAY), today=TODAY)
        assert_safe_workbook(report_workbook(report), "report, other ends")
    for page, show in [
        ("pages/overblik.py", lambda v: _tabs(v, "overview_tab", ["Økonomi", "Fordeling"])),
        ("pages/kontrakter.py", lambda v: v.show("goals", query={"id": "1"})),
        (
            "pages/opfoelgning.py",
            lambda v: v.show("outcome", query={"id": str(worst.open_followups[0])}),
        ),
        ("pages/prisopslag.py", lambda v: v.show("again")),
        ("pages/indstillinger.py", lambda v: v.show("again")),
    ]:
        show(Views(worst, page, downloads, monkeypatch))
