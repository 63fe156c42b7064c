"""Nothing half-written: hostile input against every create and update service, on both engines.

Each service gets a form that mixes valid values with hostile ones per field (NaN, Infinity, huge,
negative and many-decimal numbers as text, Decimal, float and int; dates as odd text and as dates
in year 1, 1899, 2200 and 9999; text with NUL, control characters, lone surrogates, RTL marks,
10 kB, Markdown, HTML and formula payloads, CPR-like numbers; wrong types; ids that do not exist;
stale versions). For every input:

1. the only exception is a services.errors.UserError (never a database error, ValueError,
   TypeError, InvalidOperation or OverflowError);
2. when it raises, nothing was written: the row count of every table (the audit trail too) and
   the highest and total version of every versioned table are unchanged;
3. when it succeeds, what is stored is sane (re-read in a fresh session: money within its
   NUMERIC with at most its decimals, dates within 1900–2199, text within its column, without
   control characters other than newline and tab and without CPR-like numbers), and the pages'
   read services still work on it.

Derandomized, so a run tries the same inputs every time. With -s the module ends with a table of
the inputs tried, accepted and refused per service and engine.
"""

import json
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from models import (
    Budget,
    Contract,
    ContractAddon,
    FollowUp,
    Goal,
    InvoiceCheck,
    Offer,
    PriceCategorySet,
    PriceChange,
    Provider,
    RegulationRate,
    Setting,
)
from models.types import (
    DAILY_RATE_MAX,
    DATE_MAX,
    DATE_MIN,
    INT_MAX,
    INVOICE_MAX,
    MONEY_MAX,
    MONTHLY_PRICE_MAX,
    YEARLY_PRICE_MAX,
)
from services.comparisons import save_comparison
from services.contracts import (
    add_addon,
    create_contract,
    register_price_change,
    update_addon,
    update_contract,
)
from services.cpr import contains_cpr
from services.errors import UserError
from services.followups import plan_followup, record_followup, update_goal
from services.invoices import check_invoice, update_deviation
from services.providers import (
    add_provider_note,
    create_offer,
    create_provider,
    update_offer,
    update_provider,
)
from services.quarters import Quarter
from services.queries.categories import band_distribution, sets_frame
from services.queries.deviations import DeviationFilter, deviation_detail, deviation_log
from services.queries.followups import followup_worklist, month_plan
from services.queries.lookup import LookupFilters, latest_notes, search_offers
from services.queries.overview import overview
from services.queries.providers import (
    ProviderFilter,
    provider_contracts,
    provider_deviations,
    provider_key_figures,
    provider_register,
    provider_spend_by_year,
)
from services.queries.register import contract_detail, register_page
from services.queries.report import quarter_report
from services.reference import (
    copy_price_category_year,
    create_price_category_set,
    save_budget,
    save_regulation_rate,
    update_price_category_set,
)
from services.settings import (
    DEFAULT_VUM_THEMES,
    SETTING_LIMITS,
    AppSettings,
    _from_text,
    ensure_default_settings,
    get_settings,
    update_settings,
)
from services.target_groups import create_target_group
from tests.audit_check import changed_records, check_events, events_after, last_event_id, records
from tests.factories import make_contract, make_provider

USER = "fuzz"
TODAY = date(2026, 6, 30)

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- References resolved against the database at run time -----------------------------------


@dataclass(frozen=True)
class Ref:
    """A value only known when the example runs: a world row's id, the edited row's version."""

    name: str

    def __repr__(self) -> str:
        return f"<{self.name}>"


PROVIDER, OFFER, CONTRACT, CONTRACT2 = Ref("provider"), Ref("offer"), Ref("contract"), Ref("c2")
ADDON, CHECK, GOAL, SET = Ref("addon"), Ref("check"), Ref("goal"), Ref("set")
# Values a unique key has not taken yet (else most inputs would only meet "already exists").
FREE_DAY, FREE_YEAR, FRESH_NO = Ref("free_day"), Ref("free_year"), Ref("fresh_no")
OPEN_FOLLOWUP = Ref("open_followup")
VERSION, STALE = Ref("version"), Ref("stale")


def resolve(value: Any, refs: Mapping[str, Any]) -> Any:
    if isinstance(value, Ref):
        return refs[value.name]
    if isinstance(value, dict):
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value


def _plain_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INT_MAX


@dataclass
class World:
    """The rows every example starts from (built through the services)."""

    ids: dict[str, int]

    def refs(self) -> dict[str, Any]:
        return {**self.ids, "version": 1, "stale": 0}


def set_fresh(session: Session, refs: dict[str, Any]) -> None:
    """FREE_DAY: a day without a price change; FREE_YEAR: a year without price categories;
    FRESH_NO: an invoice number not used yet."""
    taken_days = set(session.exec(select(PriceChange.effective_date)))
    day = date(2025, 6, 2)
    while day in taken_days:
        day += timedelta(days=1)
    taken_years = set(session.exec(select(PriceCategorySet.year)))
    checks = session.exec(select(sa.func.count()).select_from(InvoiceCheck)).one()
    refs["free_day"] = day
    refs["free_year"] = next((y for y in range(2027, 2101) if y not in taken_years), 2100)
    refs["fresh_no"] = f"FZ-{checks + 1}"


def set_version(session: Session, refs: dict[str, Any], table: type, row_id: Any) -> None:
    """VERSION and STALE for the row an update edits (1 and 0 when there is no such row)."""
    version = 1
    if _plain_id(row_id):
        row = session.get(table, row_id)
        if row is not None:
            version = row.version
    refs["version"], refs["stale"] = version, version - 1


@pytest.fixture
def world(engine: Engine) -> World:
    with Session(engine, expire_on_commit=False) as s:
        ensure_default_settings(session=s)
        provider = make_provider(s)
        # Target groups 1 (active) and 2 (inactive): the offer forms pick ids 1, 2 and beyond.
        create_target_group(session=s, data={"name": "Udviklingshæmning"}, user=USER)
        create_target_group(session=s, data={"name": "Autisme", "active": False}, user=USER)
        offer = create_offer(
            session=s,
            data={
                "provider_id": provider.id,
                "name": "Huset ved Åen",
                "paragraph": "SEL108",
                "list_rate": "1.850,00",
                "list_rate_year": 2026,
            },
            user=USER,
        )
        contract = make_contract(s, provider, offer_id=offer.id)
        contract2 = make_contract(
            s,
            provider,
            case_ref="SAG-2025-0002",
            paragraph="SEL107",
            price=Decimal("60000.00"),
            price_unit="maaned",
            start_date=date(2025, 1, 1),
            price_base_date=date(2025, 1, 1),
            end_date=date(2027, 12, 31),
            regulation_kind="indeks",
        )
        save_regulation_rate(session=s, data={"year": 2026, "percent": "2,5"}, user=USER)
        addon = add_addon(
            session=s,
            data={
                "contract_id": contract.id,
                "name": "Ekstra støtte",
                "price": "5.000",
                "unit": "maaned",
                "valid_from": date(2024, 3, 1),
            },
            user=USER,
        )
        pcs = create_price_category_set(
            session=s,
            data={
                "paragraph": "SEL108",
                "year": 2026,
                "middel_from": "1500",
                "hoej_from": "2500",
                "ekstraordinaer_from": "4000",
            },
            user=USER,
        )
        save_budget(
            session=s, data={"year": 2026, "paragraph": "SEL108", "amount": "50000000"}, user=USER
        )
        check = check_invoice(
            session=s,
            data={
                "contract_id": contract.id,
                "invoice_no": "F-1",
                "period_from": date(2026, 3, 1),
                "period_to": date(2026, 3, 31),
                "invoiced": "99.999,00",
            },
            user=USER,
            today=TODAY,
        )
        assert check.flagged
        first = s.exec(select(FollowUp).where(FollowUp.contract_id == contract.id)).one()
        record_followup(
            session=s,
            followup_id=first.id,
            data={
                "done_date": date(2024, 6, 3),
                "done_by": "Mette",
                "progression": "fremgang",
                "support_need_change": "uaendret",
                "action": "fortsaet",
                "version": first.version,
            },
            goals=[{"theme": "Egenomsorg", "text": "Tager selv medicin morgen og aften"}],
            user=USER,
            today=TODAY,
        )
        goal = s.exec(select(Goal)).one()
        ids = {
            "provider": provider.id,
            "offer": offer.id,
            "contract": contract.id,
            "c2": contract2.id,
            "addon": addon.id,
            "check": check.id,
            "goal": goal.id,
            "set": pcs.id,
        }
    return World({k: int(v) for k, v in ids.items() if v is not None})


# --- The tally ------------------------------------------------------------------------------


@dataclass
class Count:
    tried: int = 0
    accepted: int = 0
    refused: int = 0


class Tally(dict[tuple[str, str], Count]):
    """Inputs per (service, engine); shown short in a falsifying example."""

    def __repr__(self) -> str:
        return "<tally>"


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    counts = Tally()
    yield counts
    for backend in sorted({b for _, b in counts}):
        rows = [(s, c) for (s, b), c in counts.items() if b == backend]
        total = Count(
            *(sum(getattr(c, f) for _, c in rows) for f in ("tried", "accepted", "refused"))
        )
        print(f"\n\nFuzzed services on {backend}:")
        print(f"{'service':<28} {'tried':>6} {'accepted':>9} {'refused':>8}")
        for service, c in rows:
            print(f"{service:<28} {c.tried:>6} {c.accepted:>9} {c.refused:>8}")
        print(f"{'total':<28} {total.tried:>6} {total.accepted:>9} {total.refused:>8}")


# --- Hostile values -------------------------------------------------------------------------

CPR_LIKE = [
    "0101901234",
    "010190-1234",
    "010190 - 1234",
    "010190/1234",
    "010190.1234",
    "01.01.90-1234",
    "01 01 90 1234",
    "010190\u20131234",
    "010190\u22121234",
    "010190\u00ad1234",
    "010190\u00a01234",
    "010190\x01-1234",
    "Borger 311299-1234 bor her",
    "cpr0101901234",
    "CPR: 290200-4321",
]
PAYLOADS = [
    "**fed** _kursiv_ [klik](javascript:alert(1))",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("http://evil.example","klik")',
    "+SUM(A1:A9)",
    "-2+3",
    "@cmd|' /C calc'!A0",
    "# Overskrift\n---\n| a | b |\n|---|---|",
    "$x^2$ :smile: ~~slet~~",
    "'; DROP TABLE provider; --",
    "{{7*7}} ${7*7} %s%n",
    "\u202eevil\u202c.exe",
    "\u200f\u200eaa\u200b",
    "a\x00b",
    "\x00",
    "\x01\x02\x1b[31mrød\x7f",
    "\x85\x9f\u2028\u2029",
    "\ud800",
    "ok \udfff ok",
    "\ufeffBOM",
    "\ufffe\uffff\ufdd0",
    "x" * 10_000,
    "æøå ÆØÅ " * 1_300,
    "e\u0301" * 60,
    "🙂" * 120,
    "\r\n\r\n",
    "\t",
    "",
    " ",
    "null",
    "None",
    "NaN",
]
FRAGMENTS = ["a", "Ø", " ", "\n", "\t", "\r", "\x00", "\x07", "\ud83d", "\u202e", "1", "-", "<b>"]


def any_text(max_size: int = 60) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec=None, exclude_categories=()), max_size=max_size)


HOSTILE_TEXT = st.one_of(
    st.sampled_from(PAYLOADS + CPR_LIKE),
    any_text(),
    st.lists(st.sampled_from(FRAGMENTS + CPR_LIKE[:3]), max_size=12).map("".join),
)
WRONG_TYPE = st.sampled_from(
    [None, True, False, [], [1], ["a"], {}, {"a": 1}, b"1", b"\x00", (1,), 1j, object]
)
HOSTILE_NUMBER = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "nan",
            "sNaN",
            "Infinity",
            "-inf",
            "1e400",
            "1E5",
            "1_000",
            "\u0663\u0664",
            "12 kr 50",
            "2.080,805",
            "2,080.80",
            "1.2.3",
            "--1",
            "+-1",
            "0x1F",
            "1/2",
            "½",
            "",
            " ",
            "9" * 50,
            "-" + "9" * 30,
            "0." + "0" * 60 + "1",
            "1." + "0" * 5_000 + "1",
            "1." + "0" * 5_000,
            "999999999999.995",
            "999999999999.99",
            "1000000000000",
            "100.000,01",
            "100000,00",
            "-0,00",
            "-1",
            "0",
            "0,001",
            "1.000.000.000.000,00",
            "2.080,80 kr.",
            "2080,80 DKK",
            "12%",
            "\u00a02 080,80",
        ]
    ),
    st.sampled_from(
        [
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("-Infinity"),
            Decimal("1E+400"),
            Decimal("1E-400"),
            Decimal("123.456"),
            Decimal("-0"),
            Decimal("0E-1000"),
            Decimal("1E+6"),
            Decimal("99999.999"),
            float("nan"),
            float("inf"),
            -float("inf"),
            1e300,
            5e-324,
            0.1 + 0.2,
            2**63,
            -(2**63),
            10**30,
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
ODD_DATES = [
    date(1, 1, 1),
    date(1899, 12, 31),
    date(2200, 1, 1),
    date(9999, 12, 31),
    datetime(9999, 12, 31, 23, 59),
    datetime(1, 1, 1),
    "31.02.2026",
    "29.02.2025",
    "2026-13-01",
    "00.00.0000",
    "1.1.26",
    "22.11.0026",
    "22.11.26",
    "2026/11/22",
    "22.11.2026 12:00",
    "2026-11-22T00:00:00",
    "20261122",
    "22 11 2026",
    "\u0662\u0662.\u0661\u0661.\u0662\u0660\u0662\u0666",
    "22.11.20260",
    "31.12.1899",
    "01.01.2200",
    "31.12.9999",
    "01.01.0001",
    "+002026-11-22",
    "i går",
    "",
    " ",
    "22.11.2026\x00",
]
DATE_FORMATS = ["%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%y", "%m/%d/%Y"]
HOSTILE_DATE = st.one_of(
    st.sampled_from(ODD_DATES),
    st.dates(min_value=date(1, 1, 1)),
    st.tuples(st.dates(min_value=date(1, 1, 1)), st.sampled_from(DATE_FORMATS)).map(
        lambda d: d[0].strftime(d[1])
    ),
)
HOSTILE_ID = st.one_of(
    st.sampled_from(
        [0, -1, -(2**63), 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, 999_999]
        + ["1", " 1 ", "1.0", "1,0", "abc", "", "١", 1.0, 1.5, float("nan"), Decimal("1")]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
)
HOSTILE_INT = st.one_of(
    st.sampled_from(
        ["", " ", "3", "3.0", "3,0", "3.5", "\u0663", "1e3", 2**63, -(2**63), 2**31, 1.5]
        + [float("nan"), float("inf"), Decimal("3"), Decimal("NaN"), "0x10", "+7", "007"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
)
HOSTILE_BOOL = st.sampled_from(["ja", "nej", "true", "0", "1", 2, -1, 1.5, "", None, "on", []])
HOSTILE_VERSION = st.one_of(
    st.just(STALE),
    st.sampled_from([0, -1, 2**31, 2**63, "1", "x", 1.5, None, [], True]),
    st.integers(min_value=-(2**70), max_value=2**70),
)


def hostile_enum(values: list[str]) -> st.SearchStrategy[Any]:
    twisted = (
        [v.upper() for v in values] + [f" {v} " for v in values] + [v + "\x00" for v in values]
    )
    return st.sampled_from(twisted + ["", "ukendt", "SEL109", "§108", 1, 0])


KIND = {
    "text": HOSTILE_TEXT,
    "number": HOSTILE_NUMBER,
    "date": HOSTILE_DATE,
    "id": HOSTILE_ID,
    "int": HOSTILE_INT,
    "bool": HOSTILE_BOOL,
    "version": HOSTILE_VERSION,
}
MISSING = Ref("missing")


@st.composite
def corrupted(
    draw: st.DrawFn,
    valid: st.SearchStrategy[dict[str, Any]],
    hostile: Mapping[str, st.SearchStrategy[Any] | str],
) -> dict[str, Any]:
    """A valid form with up to three fields replaced by hostile values (or left out), and now
    and then keys the form does not have."""
    data = draw(valid)
    n = draw(st.sampled_from([0, 0, 0, 1, 1, 1, 2, 3]))
    keys = draw(st.lists(st.sampled_from(sorted(hostile)), min_size=n, max_size=n, unique=True))
    for key in keys:
        kind = hostile[key]
        strategy = KIND[kind] if isinstance(kind, str) else kind
        value = draw(st.one_of(strategy, strategy, WRONG_TYPE, st.just(MISSING)))
        if value is MISSING:
            data.pop(key, None)
        else:
            data[key] = value
    if draw(st.integers(0, 9)) == 0:
        data.update(
            draw(
                st.sampled_from(
                    [
                        {"id": 1},
                        {"is_demo": True},
                        {"created_by": "x" * 500},
                        {"old_price": "1,00"},
                        {"__class__": "x", "_sa_instance_state": None},
                        {"version": 2**63, "id": -1},
                    ]
                )
            )
        )
    return data


# --- Valid values ---------------------------------------------------------------------------


def mostly(
    usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int = 5
) -> st.SearchStrategy[Any]:
    """`usual`, and one time in `odds` `rare` (hypothesis alone favours the simple branch)."""
    return st.sampled_from([True] * (odds - 1) + [False]).flatmap(
        lambda pick: usual if pick else rare
    )


YEARS = st.sampled_from(range(2000, 2101))


def danish(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


@st.composite
def money(draw: st.DrawFn, high: Decimal, low: Decimal = Decimal("0.01")) -> Any:
    amount = draw(
        st.one_of(
            st.decimals(min_value=low, max_value=high, places=2),
            st.sampled_from([low, high, Decimal("2080.80")]),
        )
    )
    forms: list[Any] = [amount, str(amount), danish(amount), float(amount), f"{amount} kr."]
    if amount == amount.to_integral_value():
        forms.append(int(amount))
    return draw(st.sampled_from(forms))


def day_in(low: date = date(2015, 1, 1), high: date = date(2030, 12, 31)) -> Any:
    edges = [d for d in (DATE_MIN, DATE_MAX, date(2024, 2, 29)) if low <= d <= high]
    days = [low + timedelta(days=n) for n in range((high - low).days + 1)]
    return mostly(st.sampled_from(days), st.sampled_from(edges or [low, high]))


@st.composite
def typed_date(draw: st.DrawFn, day: date) -> Any:
    fmt = draw(st.sampled_from([None, None, "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "dt"]))
    if fmt is None:
        return day
    if fmt == "dt":
        return datetime.combine(day, time(12, 0))
    return day.strftime(fmt)


def a_date(low: date = date(2015, 1, 1), high: date = date(2030, 12, 31)) -> Any:
    return day_in(low, high).flatmap(typed_date)


NAMES = ["Bostedet Lyngly", "Huset", "Ærø Bo", "Å", "Ø-hus", "Skovly & Co.", "Bo – Nord"]


def words(min_size: int = 2, max_size: int = 40) -> st.SearchStrategy[str]:
    letters = st.characters(categories=("L", "N", "Zs", "P", "Sm"), max_codepoint=0x2FFF)
    return st.one_of(
        st.sampled_from([n for n in NAMES if min_size <= len(n) <= max_size]),
        st.text(letters, min_size=min_size, max_size=max_size),
    )


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def note_text(max_size: int = 400) -> st.SearchStrategy[str]:
    return st.one_of(
        words(3, 60),
        st.lists(words(1, 30), min_size=1, max_size=5).map("\n".join),
        st.sampled_from(PAYLOADS[:11]),
        st.just("y" * max_size),
    )


def enum(values: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


PARAGRAPHS = ["SEL107", "SEL108", "ABL105"]
UNITS = ["dag", "maaned", "aar"]
UNIT_CAP = {"dag": DAILY_RATE_MAX, "maaned": MONTHLY_PRICE_MAX, "aar": YEARLY_PRICE_MAX}
THEMES = list(DEFAULT_VUM_THEMES)


# --- Running one example --------------------------------------------------------------------

SKIP_TABLES = {"contractpriceperiod", "pricetimeline"}  # derived; rebuilt by reads
UNCHECKED_CPR = {("invoicecheck", "invoice_no")}  # a confirmed CPR-like invoice number
BAD_CHARS = {"\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff"}


def snapshot(session: Session) -> dict[str, Any]:
    """Rows per table, and highest and total version of each versioned table: one query."""
    parts: list[Any] = []
    for table in SQLModel.metadata.sorted_tables:
        parts.append(
            sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
        )
        if "version" in table.c:
            version = table.c.version
            for name, fn in (("max", sa.func.max), ("sum", sa.func.sum)):
                label = f"{table.name}.{name}_version"
                parts.append(sa.select(fn(version)).scalar_subquery().label(label))
    row = session.execute(sa.select(*parts)).mappings().one()
    return {k: (int(v) if v is not None else None) for k, v in row.items()}


def text_problem(value: str, max_length: int | None, cpr: bool) -> str | None:
    for ch in value:
        if ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in BAD_CHARS:
            return f"control character {ch!r}"
    if max_length is not None and len(value) > max_length:
        return f"{len(value)} characters, the column holds {max_length}"
    if cpr and contains_cpr(value):
        return "CPR-like text"
    return None


def value_problem(table: str, column: sa.Column, value: Any) -> str | None:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        number = Decimal(str(value))
        if not number.is_finite():
            return "not a finite number"
        if kind.scale is not None and number != number.quantize(Decimal(1).scaleb(-kind.scale)):
            return f"more than {kind.scale} decimals"
        if kind.precision is not None and abs(number) >= Decimal(10) ** (
            kind.precision - (kind.scale or 0)
        ):
            return f"beyond NUMERIC({kind.precision},{kind.scale})"
        if kind.scale == 2 and abs(number) > MONEY_MAX:
            return "beyond the money limit"
        return None
    if isinstance(kind, sa.DateTime):
        return None
    if isinstance(kind, sa.Date):
        return None if DATE_MIN <= value <= DATE_MAX else "date outside 1900–2199"
    if isinstance(kind, sa.Integer) and not isinstance(kind, sa.BigInteger):
        if not isinstance(value, int):
            return "not a whole number"
        return None if abs(value) <= INT_MAX else "beyond INTEGER"
    if isinstance(kind, sa.String):
        if table == "auditevent" and column.name == "changes":
            return audit_problem(value)
        return text_problem(str(value), kind.length, (table, column.name) not in UNCHECKED_CPR)
    return None


def audit_problem(changes: str) -> str | None:
    payload = json.loads(changes)
    for key, pair in payload.items():
        for value in pair:
            if isinstance(value, str) and (
                problem := text_problem(value, None, key != "invoice_no")
            ):
                return f"audit {key}: {problem}"
    return None


def check_stored(session: Session) -> None:
    """Every stored value is sane (property 3); the settings parse and are within limits."""
    problems = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in SKIP_TABLES:
            continue
        for row in session.execute(table.select()).mappings():
            for column in table.columns:
                if problem := value_problem(table.name, column, row[column.name]):
                    shown = repr(row[column.name])[:80]
                    problems.append(f"{table.name}.{column.name} = {shown}: {problem}")
    defaults = AppSettings()
    for setting in session.exec(select(Setting)):
        assert hasattr(defaults, setting.key) and setting.key in AppSettings.__dataclass_fields__
        parsed = _from_text(getattr(defaults, setting.key), setting.value)
        if setting.key in SETTING_LIMITS:
            _, low, high = SETTING_LIMITS[setting.key]
            assert low <= Decimal(str(parsed)) <= high, (setting.key, setting.value)
        else:
            assert parsed, setting.key
    assert not problems, "\n".join(problems)


def read_pages(session: Session, world: World, touched: Mapping[str, Any]) -> None:
    """The pages' read services on what is stored now (property 3), for the rows the input
    touched (the world's contract, provider and deviation when it touched none of them)."""
    contract_id = touched.get("contract") or world.ids["contract"]
    provider_id = touched.get("provider") or world.ids["provider"]
    check_id = touched.get("check") or world.ids["check"]
    year = touched.get("year")
    for day in {TODAY.year} | ({year} if year and DATE_MIN.year <= year < TODAY.year else set()):
        overview(session=session, year=day, today=TODAY)
    register_page(session=session, today=TODAY)
    contract_detail(session=session, contract_id=contract_id, today=TODAY)
    provider_register(session=session, filters=ProviderFilter(active_only=False), today=TODAY)
    provider_key_figures(session=session, provider_id=provider_id, today=TODAY)
    provider_contracts(session=session, provider_id=provider_id)
    provider_deviations(session=session, provider_id=provider_id)
    provider_spend_by_year(session=session, provider_id=provider_id)
    latest_notes(session=session, provider_id=provider_id)
    search_offers(session=session, filters=LookupFilters(include_inactive=True), today=TODAY)
    deviation_log(session=session, filters=DeviationFilter(statuses=()), today=TODAY)
    deviation_detail(session=session, check_id=check_id, today=TODAY)
    followup_worklist(session=session, kind="overdue", today=TODAY)
    followup_worklist(session=session, kind="due", today=TODAY)
    month_plan(session=session, year=TODAY.year, today=TODAY)
    sets_frame(session=session)
    for paragraph in touched.get("paragraphs", ("SEL108",)):
        band_distribution(
            session=session, paragraph=paragraph, year=year or TODAY.year, today=TODAY
        )
    if touched.get("report"):
        quarter_report(session=session, quarter=Quarter.of(TODAY), today=TODAY)
    get_settings(session=session)


Touched = Callable[[Any], Mapping[str, Any]]


def attempt(
    engine: Engine,
    world: World,
    tally: Tally,
    service: str,
    call: Callable[[Session, dict[str, Any]], Any],
    *,
    prepare: Callable[[Session, dict[str, Any]], None] | None = None,
    target: tuple[type, Any] | None = None,
    touched: Touched = lambda result: {},
) -> None:
    """Run one input through a service and check the three properties."""
    with Session(engine) as s:
        refs = world.refs()
        set_fresh(s, refs)
        if prepare is not None:
            prepare(s, refs)
        if target is not None:
            set_version(s, refs, target[0], resolve(target[1], refs))
        before = snapshot(s)
        before_records, first_event = records(s), last_event_id(s)
    count = tally.setdefault((service, engine.dialect.name), Count())
    count.tried += 1
    refused: UserError | None = None
    with Session(engine, expire_on_commit=False) as s:
        try:
            result = call(s, refs)
        except UserError as exc:  # property 1: anything else fails the test as it is
            refused = exc
    with Session(engine) as s:
        if refused is not None:
            count.refused += 1
            after = snapshot(s)
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert not changed, f"refused ({refused.message}) but written: {changed}"
            return
        count.accepted += 1
        # Every accepted write leaves one audit event per changed record, with its changes,
        # in the same transaction (SPEC 8).
        changed = changed_records(before_records, records(s))
        check_events(changed, events_after(s, first_event), USER)
        rows = result if isinstance(result, tuple | list) else (result,)
        for row in rows:
            if isinstance(row, SQLModel) and getattr(row, "id", None) is not None:
                assert s.get(type(row), row.id) is not None, f"{service} returned an unsaved row"
        check_stored(s)
        read_pages(s, world, touched(result))


# --- Providers ------------------------------------------------------------------------------

PROVIDER_HOSTILE: dict[str, Any] = {
    "name": "text",
    "cvr": st.one_of(
        HOSTILE_TEXT,
        st.sampled_from(
            ["DK10000009", "1000 0009", "10-00-00-09", "01000000", "1000000", "١٠٠٠٠٠٠٩"]
        ),
        HOSTILE_INT,
    ),
    "kind": hostile_enum(["privat", "kommunal"]),
    "postal_code": st.one_of(HOSTILE_TEXT, HOSTILE_INT, st.sampled_from(["800", "08000", "٨٠٠٠"])),
    "city": "text",
    "portal_url": st.one_of(
        HOSTILE_TEXT,
        st.sampled_from(["javascript:alert(1)", "https://" + "a" * 600, "HTTPS://x.dk", "ftp://x"]),
    ),
    "contact": "text",
    "framework": hostile_enum(["rammeaftale"]),
    "framework_valid_to": "date",
    "quality_rating": "int",
    "assessment": "text",
    "vat_refund": "bool",
    "active": "bool",
}


def provider_form() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "name": words(2, 60),
            "cvr": st.sampled_from([None, "", "10000009", "DK 1000 0009", "12345678", "87654321"]),
            "kind": enum(["privat", "selvejende", "kommunal", "regional", "egen"]),
            "postal_code": st.sampled_from([None, "8000", "2100", " 9990 "]),
            "city": maybe(words(2, 40)),
            "portal_url": st.sampled_from(
                [None, "https://tilbudsportalen.dk/x?id=1", "http://a.dk"]
            ),
            "contact": maybe(words(2, 80)),
            "framework": enum(["ingen", "rammeaftale", "samarbejdsaftale"]),
            "framework_valid_to": maybe(a_date()),
            "quality_rating": st.sampled_from([None, 1, 3, 5, "4", ""]),
            "assessment": maybe(note_text()),
        },
        optional={"vat_refund": st.booleans(), "active": st.booleans()},
    )


@FUZZ
@given(data=corrupted(provider_form(), PROVIDER_HOSTILE))
def test_create_provider(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "create_provider",
        lambda s, r: create_provider(session=s, data=resolve(data, r), user=USER),
        touched=lambda row: {"provider": row.id},
    )


def an_id(ref: Ref, *others: Ref) -> st.SearchStrategy[Any]:
    """Mostly the world row, now and then another one or (one in six) a hostile id."""
    return st.sampled_from([ref] * 4 + [*others, None]).flatmap(
        lambda pick: HOSTILE_ID if pick is None else st.just(pick)
    )


def with_version(form: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return form.map(lambda data: {**data, "version": VERSION})


@FUZZ
@given(
    provider_id=an_id(PROVIDER),
    data=corrupted(with_version(provider_form()), {**PROVIDER_HOSTILE, "version": "version"}),
)
def test_update_provider(engine, world, tally, provider_id, data):
    attempt(
        engine,
        world,
        tally,
        "update_provider",
        lambda s, r: update_provider(
            session=s, provider_id=resolve(provider_id, r), data=resolve(data, r), user=USER
        ),
        target=(Provider, provider_id),
        touched=lambda row: {"provider": row.id},
    )


NOTE_HOSTILE: dict[str, Any] = {
    "provider_id": "id",
    "note_date": "date",
    "author": "text",
    "topic": hostile_enum(["kvalitet", "andet"]),
    "text": "text",
}


def note_form() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "provider_id": st.just(PROVIDER),
            "topic": enum(["kvalitet", "samarbejde", "forhandling", "tilsyn", "andet"]),
            "text": note_text(),
        },
        optional={"note_date": a_date(), "author": words(1, 100)},
    )


@FUZZ
@given(data=corrupted(note_form(), NOTE_HOSTILE))
def test_add_provider_note(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "add_provider_note",
        lambda s, r: add_provider_note(session=s, data=resolve(data, r), user=USER),
        touched=lambda row: {"provider": row.provider_id},
    )


OFFER_HOSTILE: dict[str, Any] = {
    "provider_id": "id",
    "name": "text",
    "paragraph": hostile_enum(PARAGRAPHS),
    "target_group_ids": st.lists(HOSTILE_ID, max_size=3),
    "places": "int",
    "list_rate": "number",
    "list_rate_year": "int",
    "negotiated_rate": "number",
    "negotiated_from": "date",
    "portal_url": "text",
    "active": "bool",
}


@st.composite
def offer_form(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "provider_id": PROVIDER,
        "name": draw(words(2, 60)),
        "paragraph": draw(enum(PARAGRAPHS)),
        "target_group_ids": draw(st.sampled_from([[], [1], [1, 2], [2**31]])),
        "places": draw(st.sampled_from([None, "", 0, 12, "10000"])),
        "portal_url": draw(st.sampled_from([None, "https://tilbudsportalen.dk/1"])),
        "active": draw(st.booleans()),
    }
    if draw(st.booleans()):
        data["list_rate"] = draw(money(DAILY_RATE_MAX))
        data["list_rate_year"] = draw(st.sampled_from([2000, 2026, "2025", 2100]))
    if draw(st.booleans()):
        data["negotiated_rate"] = draw(money(DAILY_RATE_MAX))
        data["negotiated_from"] = draw(a_date())
    return data


@FUZZ
@given(data=corrupted(offer_form(), OFFER_HOSTILE))
def test_create_offer(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "create_offer",
        lambda s, r: create_offer(session=s, data=resolve(data, r), user=USER),
        touched=lambda row: {"provider": row.provider_id},
    )


@FUZZ
@given(
    offer_id=an_id(OFFER),
    data=corrupted(with_version(offer_form()), {**OFFER_HOSTILE, "version": "version"}),
)
def test_update_offer(engine, world, tally, offer_id, data):
    attempt(
        engine,
        world,
        tally,
        "update_offer",
        lambda s, r: update_offer(
            session=s, offer_id=resolve(offer_id, r), data=resolve(data, r), user=USER
        ),
        target=(Offer, offer_id),
        touched=lambda row: {"provider": row.provider_id},
    )


# --- Contracts ------------------------------------------------------------------------------

CONTRACT_HOSTILE: dict[str, Any] = {
    "case_ref": st.one_of(HOSTILE_TEXT, st.sampled_from(CPR_LIKE)),
    "provider_id": "id",
    "offer_id": "id",
    "paragraph": hostile_enum(PARAGRAPHS),
    "start_date": "date",
    "end_date": "date",
    "price": "number",
    "price_unit": hostile_enum(UNITS),
    "price_base_date": "date",
    "regulation_kind": hostile_enum(["fast_pct", "indeks"]),
    "regulation_pct": "number",
    "regulation_month": "int",
    "regulation_day": "int",
    "notice_days": "int",
    "notice_text": "text",
    "renegotiation_date": "date",
    "standard_contract": "bool",
    "chk_notice": "bool",
    "visitation_category": hostile_enum(["lav", "hoej"]),
    "support_hours_per_week": "number",
    "night_cover": hostile_enum(["vaagen"]),
    "included": "text",
    "excluded": "text",
    "status": hostile_enum(["aktiv", "kladde"]),
    "notes": "text",
}


@st.composite
def contract_form(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(day_in(date(2015, 1, 1), date(2030, 12, 31)))
    unit = draw(enum(UNITS))
    paragraph = draw(enum(PARAGRAPHS))
    data: dict[str, Any] = {
        "case_ref": draw(st.one_of(words(1, 50), st.sampled_from(["SAG-2026-0042", "27.12-A"]))),
        "provider_id": PROVIDER,
        "offer_id": OFFER if paragraph == "SEL108" and draw(st.booleans()) else None,
        "paragraph": paragraph,
        "start_date": draw(typed_date(start)),
        "price": draw(money(UNIT_CAP[unit])),
        "price_unit": unit,
        # Half the time the user has confirmed a price above the plausibility limit.
        "confirmed": draw(st.sampled_from([[], ["price"]])),
        "regulation_kind": draw(enum(["fast_pct", "indeks", "ingen"])),
        "regulation_pct": draw(
            st.one_of(
                st.decimals(min_value=-10, max_value=20, places=3),
                st.sampled_from(["2,00", "-10", "20", "0"]),
            )
        ),
        "regulation_month": draw(st.integers(1, 12)),
        "regulation_day": draw(st.integers(1, 28)),
        "notice_days": draw(st.sampled_from([0, 90, "180", 3650])),
        "notice_text": draw(maybe(words(2, 80))),
        "standard_contract": draw(st.booleans()),
        "chk_notice": draw(st.booleans()),
        "visitation_category": draw(st.sampled_from([None, "lav", "middel", "hoej"])),
        "support_hours_per_week": draw(st.sampled_from([None, "", "12,5", 168, "0"])),
        "night_cover": draw(st.sampled_from([None, "vaagen", "sovende", "ingen"])),
        "included": draw(maybe(note_text())),
        "excluded": draw(maybe(note_text())),
        "status": draw(enum(["aktiv", "aktiv", "kladde", "opsagt", "afsluttet"])),
        "notes": draw(maybe(note_text())),
    }
    if draw(st.booleans()):
        data["price_base_date"] = draw(typed_date(start))
    if draw(st.booleans()):
        data["end_date"] = draw(typed_date(start + timedelta(days=draw(st.integers(0, 4000)))))
    if draw(st.booleans()):
        later = start + timedelta(days=draw(st.integers(0, 800)))
        data["renegotiation_date"] = draw(typed_date(later))
    return data


def _contract_touched(row: Contract) -> dict[str, Any]:
    return {
        "contract": row.id,
        "provider": row.provider_id,
        "year": row.start_date.year,
        "paragraphs": (row.paragraph,),
    }


EDGE_CONTRACT = {
    "case_ref": "SAG-2199-0001",
    "provider_id": PROVIDER,
    "paragraph": "SEL108",
    "price_unit": "dag",
    "regulation_kind": "fast_pct",
}


@FUZZ
@given(data=corrupted(contract_form(), CONTRACT_HOSTILE))
# The first follow-up of a contract starting on the last storable day would fall in 2200.
@example(data={**EDGE_CONTRACT, "start_date": "31.12.2199", "price": "2.000,00"})
# A century of 20 % a year: beyond what a price period can hold.
@example(
    data={
        **EDGE_CONTRACT,
        "start_date": "01.01.1900",
        "price": "100.000",
        "regulation_pct": 20,
        "confirmed": ["price"],  # above the plausibility limit, on purpose
    }
)
def test_create_contract(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "create_contract",
        lambda s, r: create_contract(session=s, data=resolve(data, r), user=USER),
        touched=_contract_touched,
    )


@FUZZ
@given(
    contract_id=an_id(CONTRACT, CONTRACT2),
    data=corrupted(with_version(contract_form()), {**CONTRACT_HOSTILE, "version": "version"}),
)
@example(contract_id=2**63, data={})  # SQLite cannot bind it: an OverflowError before the fix
def test_update_contract(engine, world, tally, contract_id, data):
    attempt(
        engine,
        world,
        tally,
        "update_contract",
        lambda s, r: update_contract(
            session=s, contract_id=resolve(contract_id, r), data=resolve(data, r), user=USER
        ),
        target=(Contract, contract_id),
        touched=_contract_touched,
    )


ADDON_HOSTILE: dict[str, Any] = {
    "contract_id": "id",
    "name": "text",
    "price": "number",
    "unit": hostile_enum(UNITS),
    "valid_from": "date",
    "valid_to": "date",
}


@st.composite
def addon_form(draw: st.DrawFn) -> dict[str, Any]:
    unit = draw(enum(UNITS))
    start = draw(day_in(date(2020, 1, 1), date(2030, 12, 31)))
    data: dict[str, Any] = {
        "contract_id": draw(st.sampled_from([CONTRACT, CONTRACT2])),
        "name": draw(words(2, 60)),
        "price": draw(money(UNIT_CAP[unit])),
        "unit": unit,
        "valid_from": draw(typed_date(start)),
        "confirmed": draw(st.sampled_from([[], ["price"]])),
    }
    if draw(st.booleans()):
        data["valid_to"] = draw(typed_date(start + timedelta(days=draw(st.integers(0, 2000)))))
    return data


def _addon_touched(row: ContractAddon) -> dict[str, Any]:
    return {"contract": row.contract_id}


@FUZZ
@given(data=corrupted(addon_form(), ADDON_HOSTILE))
def test_add_addon(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "add_addon",
        lambda s, r: add_addon(session=s, data=resolve(data, r), user=USER),
        touched=_addon_touched,
    )


@FUZZ
@given(
    addon_id=an_id(ADDON),
    data=corrupted(with_version(addon_form()), {**ADDON_HOSTILE, "version": "version"}),
)
def test_update_addon(engine, world, tally, addon_id, data):
    attempt(
        engine,
        world,
        tally,
        "update_addon",
        lambda s, r: update_addon(
            session=s, addon_id=resolve(addon_id, r), data=resolve(data, r), user=USER
        ),
        target=(ContractAddon, addon_id),
        touched=_addon_touched,
    )


PRICE_CHANGE_HOSTILE: dict[str, Any] = {
    "effective_date": "date",
    "new_price": "number",
    "old_price": "number",
    "reason": hostile_enum(["genforhandling"]),
    "note": "text",
    "contract_id": "id",
}


def price_change_form() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "effective_date": mostly(
                st.just(FREE_DAY), a_date(date(2025, 1, 1), date(2027, 12, 31)), odds=2
            ),
            "new_price": money(DAILY_RATE_MAX),
            "reason": enum(["genforhandling", "aendret_stoettebehov", "andet"]),
            "confirmed": st.sampled_from([[], ["new_price"]]),
        },
        optional={"note": note_text()},
    )


@FUZZ
@given(
    contract_id=an_id(CONTRACT, CONTRACT2),
    data=corrupted(price_change_form(), PRICE_CHANGE_HOSTILE),
)
def test_register_price_change(engine, world, tally, contract_id, data):
    attempt(
        engine,
        world,
        tally,
        "register_price_change",
        lambda s, r: register_price_change(
            session=s, contract_id=resolve(contract_id, r), data=resolve(data, r), user=USER
        ),
        touched=lambda row: {"contract": row.contract_id, "report": True},
    )


# --- Invoices -------------------------------------------------------------------------------

INVOICE_HOSTILE: dict[str, Any] = {
    "contract_id": "id",
    "invoice_no": st.one_of(HOSTILE_TEXT, st.sampled_from(CPR_LIKE)),
    "period_from": "date",
    "period_to": "date",
    "invoiced": "number",
    "assignee": "text",
    "resolution_note": "text",
    "invoice_no_confirmed": "bool",
}


@st.composite
def invoice_form(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(day_in(date(2025, 1, 1), date(2027, 12, 1)))
    data: dict[str, Any] = {
        "contract_id": draw(st.sampled_from([CONTRACT, CONTRACT2])),
        "invoice_no": draw(
            mostly(st.just(FRESH_NO), st.one_of(words(1, 50), st.sampled_from(["250314-0042"])), 2)
        ),
        "period_from": draw(typed_date(start)),
        "period_to": draw(typed_date(start + timedelta(days=draw(st.integers(0, 62))))),
        "invoiced": draw(money(INVOICE_MAX, Decimal(0))),
        "assignee": draw(maybe(words(1, 100))),
        "resolution_note": draw(maybe(note_text())),
    }
    if draw(st.booleans()):
        data["invoice_no_confirmed"] = True
    return data


@FUZZ
@given(data=corrupted(invoice_form(), INVOICE_HOSTILE))
def test_check_invoice(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "check_invoice",
        lambda s, r: check_invoice(session=s, data=resolve(data, r), user=USER, today=TODAY),
        touched=lambda row: {"contract": row.contract_id, "check": row.id, "report": True},
    )


DEVIATION_STATUSES = ["ny", "undersoeges", "leverandoer_kontaktet", "loest", "accepteret"]


def deviation_form() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "status": enum(DEVIATION_STATUSES),
            "assignee": maybe(words(1, 100)),
            "note": maybe(note_text()),
            "version": st.just(VERSION),
        }
    )


@FUZZ
@given(
    check_id=an_id(CHECK),
    data=corrupted(
        deviation_form(),
        {
            "status": hostile_enum(DEVIATION_STATUSES),
            "assignee": "text",
            "note": "text",
            "version": "version",
        },
    ),
)
def test_update_deviation(engine, world, tally, check_id, data):
    attempt(
        engine,
        world,
        tally,
        "update_deviation",
        lambda s, r: update_deviation(
            session=s, check_id=resolve(check_id, r), data=resolve(data, r), user=USER, today=TODAY
        ),
        target=(InvoiceCheck, check_id),
        touched=lambda row: {"check": row.id, "report": True},
    )


# --- Follow-ups -----------------------------------------------------------------------------

FOLLOWUP_KINDS = ["moede", "statusrapport", "tilsynsbesoeg", "telefon"]
OUTCOME_HOSTILE: dict[str, Any] = {
    "done_date": "date",
    "done_by": "text",
    "kind": hostile_enum(FOLLOWUP_KINDS),
    "progression": hostile_enum(["fremgang"]),
    "support_need_change": hostile_enum(["op", "ned"]),
    "action": hostile_enum(["fortsaet", "opsig"]),
    "note": "text",
}


def plan_form() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "contract_id": st.sampled_from([CONTRACT, CONTRACT2]),
            "due_date": a_date(),
            "kind": enum(FOLLOWUP_KINDS),
        },
        optional={"note": note_text(), "done_by": words(1, 100)},
    )


@FUZZ
@given(data=corrupted(plan_form(), {**OUTCOME_HOSTILE, "contract_id": "id", "due_date": "date"}))
def test_plan_followup(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "plan_followup",
        lambda s, r: plan_followup(session=s, data=resolve(data, r), user=USER),
        touched=lambda row: {"contract": row.contract_id},
    )


GOAL_HOSTILE: dict[str, Any] = {
    "theme": st.one_of(HOSTILE_TEXT, st.sampled_from(["egenomsorg", "Bolig", " Sundhed "])),
    "goal_type": hostile_enum(["udvikle"]),
    "text": "text",
    "measure": "text",
    "deadline": "date",
    "status": hostile_enum(["aktiv", "opnaaet"]),
    "followup_id": "id",
}


def goal_form() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "theme": enum(THEMES),
            "goal_type": enum(["udvikle", "fastholde", "begraense_tab"]),
            "text": note_text(),
            "status": enum(["aktiv", "aktiv", "opnaaet", "ikke_opnaaet", "opgivet"]),
        },
        optional={"measure": maybe(words(2, 80)), "deadline": maybe(a_date())},
    )


def outcome_form() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "done_date": a_date(date(2020, 1, 1), TODAY),
            "done_by": words(1, 100),
            "kind": enum(FOLLOWUP_KINDS),
            "progression": enum(["fremgang", "uaendret", "tilbagegang"]),
            "support_need_change": enum(["op", "ned", "uaendret"]),
            "action": enum(["fortsaet", "fortsaet", "genforhandl", "flyt", "opsig"]),
            "note": maybe(note_text()),
            "version": st.just(VERSION),
        }
    )


def _open_followup(session: Session, refs: dict[str, Any]) -> None:
    """The newest open follow-up of the world's contract (one is planned if none is open)."""
    contract_id = refs["contract"]
    found = session.exec(
        select(FollowUp.id)
        .where(FollowUp.contract_id == contract_id, col(FollowUp.done_date).is_(None))
        .order_by(col(FollowUp.id).desc())
    ).first()
    if found is None:
        found = plan_followup(
            session=session, data={"contract_id": contract_id, "due_date": TODAY}, user=USER
        ).id
    refs["open_followup"] = found


@FUZZ
@given(
    followup_id=an_id(OPEN_FOLLOWUP),
    data=corrupted(outcome_form(), {**OUTCOME_HOSTILE, "version": "version"}),
    goals=st.lists(mostly(goal_form(), corrupted(goal_form(), GOAL_HOSTILE), odds=3), max_size=4),
)
def test_record_followup(engine, world, tally, followup_id, data, goals):
    attempt(
        engine,
        world,
        tally,
        "record_followup",
        lambda s, r: record_followup(
            session=s,
            followup_id=resolve(followup_id, r),
            data=resolve(data, r),
            goals=resolve(goals, r),
            user=USER,
            today=TODAY,
        ),
        prepare=_open_followup,
        target=(FollowUp, followup_id),
        touched=lambda rows: {"contract": rows[0].contract_id},
    )


@FUZZ
@given(
    goal_id=an_id(GOAL),
    data=corrupted(with_version(goal_form()), {**GOAL_HOSTILE, "version": "version"}),
)
def test_update_goal(engine, world, tally, goal_id, data):
    attempt(
        engine,
        world,
        tally,
        "update_goal",
        lambda s, r: update_goal(
            session=s, goal_id=resolve(goal_id, r), data=resolve(data, r), user=USER
        ),
        target=(Goal, goal_id),
        touched=lambda row: {"contract": row.contract_id},
    )


# --- Reference data -------------------------------------------------------------------------

SET_HOSTILE: dict[str, Any] = {
    "paragraph": hostile_enum(PARAGRAPHS),
    "year": "int",
    "middel_from": "number",
    "hoej_from": "number",
    "ekstraordinaer_from": "number",
}


@st.composite
def set_form(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.decimals(min_value=Decimal("0.01"), max_value=DAILY_RATE_MAX - 2, places=2))
    mid = draw(st.decimals(min_value=low + Decimal("0.01"), max_value=DAILY_RATE_MAX - 1, places=2))
    high = draw(st.decimals(min_value=mid + Decimal("0.01"), max_value=DAILY_RATE_MAX, places=2))
    return {
        "paragraph": draw(enum(PARAGRAPHS)),
        "year": draw(
            mostly(st.just(FREE_YEAR), YEARS.flatmap(lambda y: st.sampled_from([y, str(y)])), 2)
        ),
        "middel_from": draw(st.sampled_from([low, str(low), danish(low)])),
        "hoej_from": draw(st.sampled_from([mid, str(mid), danish(mid)])),
        "ekstraordinaer_from": draw(st.sampled_from([high, str(high), danish(high)])),
    }


@FUZZ
@given(data=corrupted(set_form(), SET_HOSTILE))
def test_create_price_category_set(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "create_price_category_set",
        lambda s, r: create_price_category_set(session=s, data=resolve(data, r), user=USER),
        touched=lambda row: {"year": row.year, "paragraphs": (row.paragraph,)},
    )


@FUZZ
@given(
    set_id=an_id(SET),
    data=corrupted(with_version(set_form()), {**SET_HOSTILE, "version": "version"}),
)
def test_update_price_category_set(engine, world, tally, set_id, data):
    attempt(
        engine,
        world,
        tally,
        "update_price_category_set",
        lambda s, r: update_price_category_set(
            session=s, set_id=resolve(set_id, r), data=resolve(data, r), user=USER
        ),
        target=(PriceCategorySet, set_id),
        touched=lambda row: {"year": row.year, "paragraphs": (row.paragraph,)},
    )


YEAR = mostly(YEARS, st.one_of(HOSTILE_INT, WRONG_TYPE), odds=4)


@FUZZ
@example(from_year=2026, to_year="2030", rate_pct="2")  # stored as text in an INTEGER column
@example(from_year=2026, to_year=2**63, rate_pct=Decimal("NaN"))
@example(from_year=2026, to_year=2031, rate_pct="1e400")
@given(
    from_year=mostly(st.just(2026), YEAR, odds=5),
    to_year=mostly(st.just(FREE_YEAR), YEAR, odds=2),
    rate_pct=mostly(
        st.decimals(min_value=-10, max_value=20, places=2),
        st.one_of(HOSTILE_NUMBER, WRONG_TYPE),
        odds=4,
    ),
)
def test_copy_price_category_year(engine, world, tally, from_year, to_year, rate_pct):
    attempt(
        engine,
        world,
        tally,
        "copy_price_category_year",
        lambda s, r: copy_price_category_year(
            session=s, from_year=from_year, to_year=to_year, rate_pct=rate_pct, user=USER
        ),
        touched=lambda rows: {"year": rows[0].year, "paragraphs": [r.paragraph for r in rows]},
    )


def _version_by_year(table: type, data: Mapping[str, Any]) -> Callable[[Session, dict], None]:
    """VERSION and STALE of the budget or rate the input would replace."""

    def prepare(session: Session, refs: dict[str, Any]) -> None:
        year, paragraph = data.get("year"), data.get("paragraph")
        refs["version"], refs["stale"] = 1, 0
        if not (isinstance(year, int) and not isinstance(year, bool) and 2000 <= year <= 2100):
            return
        query = select(table).where(table.year == year)
        if table is Budget:
            if paragraph not in PARAGRAPHS:
                return
            query = query.where(Budget.paragraph == paragraph)
        row = session.exec(query).first()
        if row is not None:
            refs["version"], refs["stale"] = row.version, row.version - 1

    return prepare


VERSION_OR_NOT = st.sampled_from([MISSING, MISSING, VERSION, VERSION, STALE])


@st.composite
def budget_form(draw: st.DrawFn) -> dict[str, Any]:
    data = {
        "year": draw(st.one_of(st.just(2026), YEARS)),
        "paragraph": draw(st.sampled_from(["SEL108", *PARAGRAPHS])),
        "amount": draw(money(Decimal(10_000_000_000), Decimal(0))),
        "version": draw(VERSION_OR_NOT),
    }
    return {k: v for k, v in data.items() if v is not MISSING}


@FUZZ
@given(
    data=corrupted(
        budget_form(),
        {
            "year": "int",
            "paragraph": hostile_enum(PARAGRAPHS),
            "amount": "number",
            "version": "version",
        },
    )
)
@example(data={"year": 2026, "paragraph": "SEL108", "amount": "1", "version": "x"})
@example(data={"year": 2026, "paragraph": "SEL108", "amount": "1", "version": None})
@example(data={"year": 2026, "paragraph": "SEL108", "amount": "1", "version": []})
def test_save_budget(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "save_budget",
        lambda s, r: save_budget(session=s, data=resolve(data, r), user=USER),
        prepare=_version_by_year(Budget, data),
        touched=lambda row: {"year": row.year, "paragraphs": (row.paragraph,)},
    )


@st.composite
def rate_form(draw: st.DrawFn) -> dict[str, Any]:
    data = {
        "year": draw(st.one_of(st.just(2026), YEARS)),
        "percent": draw(
            st.one_of(
                st.decimals(min_value=-10, max_value=20, places=3),
                st.sampled_from(["2,5", "-10", "20", "0,125"]),
            )
        ),
        "version": draw(VERSION_OR_NOT),
    }
    return {k: v for k, v in data.items() if v is not MISSING}


@FUZZ
@given(data=corrupted(rate_form(), {"year": "int", "percent": "number", "version": "version"}))
@example(data={"year": 2026, "percent": "1", "version": "x"})
@example(data={"year": 2026, "percent": "1", "version": None})
def test_save_regulation_rate(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "save_regulation_rate",
        lambda s, r: save_regulation_rate(session=s, data=resolve(data, r), user=USER),
        prepare=_version_by_year(RegulationRate, data),
        touched=lambda row: {"year": row.year, "report": True},
    )


# --- Settings -------------------------------------------------------------------------------

NUMBER_SETTINGS = sorted(SETTING_LIMITS)
HOSTILE_THEMES = st.one_of(
    st.lists(HOSTILE_TEXT, max_size=5),
    st.sampled_from(
        [
            ["x" * 100] * 60,
            [f"Tema {i}" for i in range(1_000)],
            "\n".join(["Bolig"] * 2_000),
            "",
            [],
            ["", " ", "\x00"],
            ["Bolig", "010190-1234"],
            {"a": "Bolig"},
            [["Bolig"], {"x": 1}, None, 3],
        ]
    ),
    HOSTILE_TEXT,
)


@st.composite
def setting_value(draw: st.DrawFn, key: str) -> Any:
    if key == "vum_themes":
        themes = draw(st.lists(st.one_of(enum(THEMES), words(1, 100)), min_size=1, max_size=8))
        return draw(st.sampled_from([themes, "\n".join(themes), tuple(themes)]))
    _, low, high = SETTING_LIMITS[key]
    if isinstance(getattr(AppSettings(), key), int):
        number: Decimal = Decimal(draw(st.integers(int(low), int(high))))
    else:
        number = draw(st.decimals(min_value=low, max_value=high, places=2))
    return draw(st.sampled_from([number, str(number), danish(number).rstrip("0").rstrip(",")]))


@st.composite
def settings_input(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any] | None]:
    keys = draw(
        st.lists(st.sampled_from([*NUMBER_SETTINGS, "vum_themes"]), max_size=4, unique=True)
    )
    values = {key: draw(setting_value(key)) for key in keys}
    hostile = draw(st.sampled_from([0, 0, 1, 1, 2]))
    for _ in range(hostile):
        key = draw(
            st.one_of(
                st.sampled_from([*NUMBER_SETTINGS, "vum_themes"]),
                st.sampled_from(["cadence", "horizons", "__class__", "__doc__", "ukendt", ""]),
            )
        )
        values[key] = draw(
            st.one_of(HOSTILE_THEMES if key == "vum_themes" else HOSTILE_NUMBER, WRONG_TYPE)
        )
    versions = None
    if draw(st.booleans()):
        versions = {
            key: draw(
                st.one_of(st.sampled_from([Ref(f"v:{key}"), Ref(f"s:{key}")]), HOSTILE_VERSION)
            )
            for key in values
        }
    return values, versions


def _refs_in(value: Any) -> list[Ref]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, dict):
        return [ref for v in value.values() for ref in _refs_in(v)]
    return []


def _setting_versions(session: Session, refs: dict[str, Any]) -> None:
    for row in session.exec(select(Setting)):
        refs[f"v:{row.key}"], refs[f"s:{row.key}"] = row.version, row.version - 1


@FUZZ
@given(case=settings_input())
@example(case=({"cadence": "3"}, None))  # a property of AppSettings, not a setting
@example(case=({"__class__": "3"}, None))
@example(case=({"tolerance_kr": "1," + "0" * 5_000}, None))  # 5.002 characters to store
@example(case=({"vum_themes": [f"Tema {i}" for i in range(1_000)]}, None))
def test_update_settings(engine, world, tally, case):
    values, versions = case

    def call(s: Session, r: dict[str, Any]) -> Any:
        refs = {**r, **{k.name: 1 for k in _refs_in(versions) if k.name not in r}}
        return update_settings(
            session=s, values=values, user=USER, versions=resolve(versions, refs)
        )

    attempt(
        engine,
        world,
        tally,
        "update_settings",
        call,
        prepare=_setting_versions,
        touched=lambda result: {"report": True},
    )


# --- Offer comparisons --------------------------------------------------------------------------

OFFER2 = Ref("offer2")
COMPARED = [OFFER, OFFER2]
SCORED_KEYS = ["knowledge", "methods", "negotiation", "transparency", "geography"]


def _second_offer(session: Session, refs: dict[str, Any]) -> None:
    """A second offer to compare with the world's (made once)."""
    found = session.exec(select(Offer.id).where(Offer.name == "Fuzz-andet")).first()
    if found is None:
        found = create_offer(
            session=session,
            data={"provider_id": refs["provider"], "name": "Fuzz-andet", "paragraph": "SEL108"},
            user=USER,
        ).id
    refs["offer2"] = found


def _comparison_data(data: Mapping[str, Any], refs: Mapping[str, Any]) -> dict[str, Any]:
    """The form with its ids filled in; scores and reasons are keyed by the offer's id as text."""
    resolved = resolve(dict(data), refs)
    for key in ("scores", "reasons"):
        if isinstance(resolved.get(key), dict):
            resolved[key] = {
                str(refs[k]) if k in ("offer", "offer2") else k: v for k, v in resolved[key].items()
            }
    return resolved


@st.composite
def comparison_form(draw: st.DrawFn) -> dict[str, Any]:
    offer_key = st.sampled_from(["offer", "offer2"])
    data = {
        "offer_ids": draw(st.sampled_from([COMPARED, COMPARED[::-1]])),
        "start_date": draw(a_date()),
        "visited_id": draw(st.sampled_from([None, OFFER, OFFER2])),
        "addons": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "offer_id": st.sampled_from(COMPARED),
                        "name": words(2, 60),
                        "price": money(Decimal(3000000)),
                        "unit": st.just("maaned"),
                    }
                ),
                max_size=3,
            )
        ),
        "weights": {k: str(v) for k, v in AppSettings().weights.items()},
        "scores": draw(
            st.dictionaries(
                offer_key,
                st.dictionaries(st.sampled_from(SCORED_KEYS), st.integers(0, 10).map(str)),
                max_size=2,
            )
        ),
        "reasons": draw(
            st.dictionaries(
                offer_key, st.dictionaries(st.sampled_from(SCORED_KEYS), words(2, 60)), max_size=2
            )
        ),
        "case_ref": draw(st.sampled_from(["SAG-2026-0001", "K 7/2026", "Visitation 12"])),
    }
    return data


COMPARISON_HOSTILE: dict[str, Any] = {
    "offer_ids": st.one_of(HOSTILE_ID, st.lists(st.one_of(HOSTILE_ID, st.just(OFFER)), max_size=5)),
    "start_date": "date",
    "visited_id": "id",
    "addons": st.lists(
        st.fixed_dictionaries(
            {
                "offer_id": st.one_of(HOSTILE_ID, st.just(OFFER)),
                "name": HOSTILE_TEXT,
                "price": HOSTILE_NUMBER,
                "unit": hostile_enum(UNITS),
            }
        ),
        max_size=20,
    ),
    "weights": st.dictionaries(st.sampled_from([*SCORED_KEYS, "price", "x"]), HOSTILE_NUMBER),
    "scores": st.dictionaries(
        st.sampled_from(["offer", "offer2", "x", "1"]),
        st.dictionaries(st.sampled_from([*SCORED_KEYS, "price", "x"]), HOSTILE_NUMBER),
    ),
    "reasons": st.dictionaries(
        st.sampled_from(["offer", "offer2"]),
        st.dictionaries(st.sampled_from(SCORED_KEYS), HOSTILE_TEXT),
    ),
    "case_ref": "text",
}


@FUZZ
@given(data=corrupted(comparison_form(), COMPARISON_HOSTILE))
def test_save_comparison(engine, world, tally, data):
    attempt(
        engine,
        world,
        tally,
        "save_comparison",
        lambda s, r: save_comparison(session=s, data=_comparison_data(data, r), user=USER),
        prepare=_second_offer,
    )
