"""Input is bounded where it enters: the same limits and Danish messages for a form, an import
and an e-invoice (models.types), and nothing stored can stop the price rebuild or a page."""

import io
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlmodel import SQLModel, select

import models
from models import (
    BudgetCreate,
    Contract,
    ContractAddonCreate,
    ContractCreate,
    ContractPricePeriod,
    ContractUpdate,
    InvoiceCheck,
    InvoiceCheckCreate,
    OfferCreate,
    PriceCategorySetCreate,
    PriceChangeCreate,
    PriceTimeline,
    ProviderCreate,
    ProviderNoteCreate,
    RegulationRateCreate,
)
from models.types import (
    DATE_RANGE_MESSAGE,
    DECIMALS_MESSAGE,
    MONEY_MAX,
    NUL_MESSAGE,
    NUMBER_MESSAGE,
    DateIn,
    MoneyIn,
    MultilineTextIn,
    OptionalMoneyIn,
    TextIn,
)
from services.contracts import add_addon, create_contract
from services.errors import InputError, UserError, input_error_from
from services.exports.tables import Sheet, to_xlsx
from services.invoices import check_invoice
from services.price_timeline import PERIOD_ANNUAL_MAX
from services.providers import create_offer, create_provider
from services.queries.categories import band_distribution
from services.queries.overview import alert_overview, overview
from services.queries.report import Quarter, quarter_report
from tests.factories import USER, make_contract, make_provider

TODAY = date(2026, 6, 30)
MARCH = {"period_from": date(2026, 3, 1), "period_to": date(2026, 3, 31)}
CONTRACT = {
    "case_ref": "SAG-2026-0001",
    "provider_id": 1,
    "paragraph": "SEL108",
    "start_date": "01.01.2026",
    "price_base_date": "01.01.2026",
    "price": "2.000,00",
    "price_unit": "dag",
}
OFFER = {"provider_id": 1, "name": "Huset", "paragraph": "SEL108"}


def errors(schema: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """The Danish message per field the services would show ({} if accepted)."""
    try:
        schema.model_validate(data)
    except ValidationError as exc:
        return input_error_from(exc).fields
    return {}


def accepted(schema: type[BaseModel], data: dict[str, Any]) -> Any:
    return schema.model_validate(data)


# --- Money ----------------------------------------------------------------------------------

NOT_A_NUMBER = [
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    float("nan"),
    float("inf"),
    "1e3",  # no exponents
    "1_000",  # no underscores
    "١٢٣",  # digits of another script
    "12 kr 50",
]


@pytest.mark.parametrize("value", NOT_A_NUMBER)
@pytest.mark.parametrize(
    ("schema", "field", "data"),
    [
        (ContractCreate, "price", CONTRACT),
        (OfferCreate, "list_rate", {"provider_id": 1, "name": "Huset", "paragraph": "SEL108"}),
        (InvoiceCheckCreate, "invoiced", {"contract_id": 1, "invoice_no": "F-1", **MARCH}),
        (BudgetCreate, "amount", {"year": 2026, "paragraph": "SEL108"}),
        (ContractCreate, "regulation_pct", CONTRACT),
        (RegulationRateCreate, "percent", {"year": 2026}),
    ],
)
def test_nan_infinity_and_garbage_are_refused_in_every_number_field(schema, field, data, value):
    assert {field: NUMBER_MESSAGE} == errors(schema, {**data, field: value})


@pytest.mark.parametrize("value", ["2.080,805", "2080.805", Decimal("2080.805"), 2080.805])
def test_money_with_more_than_two_decimals_is_refused_not_rounded(value):
    assert {"price": DECIMALS_MESSAGE} == errors(ContractCreate, {**CONTRACT, "price": value})
    # Trailing zeros are no decimals: 2.080,800 is 2.080,80.
    assert Decimal("2080.80") == accepted(ContractCreate, {**CONTRACT, "price": "2080.800"}).price


@pytest.mark.parametrize(
    ("unit", "highest", "cap"),
    [
        ("dag", "100.000,00", "100.000 kr. pr. dag"),
        ("maaned", "3.000.000,00", "3.000.000 kr. pr. måned"),
        ("aar", "36.500.000,00", "36.500.000 kr. pr. år"),
    ],
)
def test_a_price_is_capped_by_its_unit(unit, highest, cap):
    data = {**CONTRACT, "price_unit": unit}
    assert accepted(ContractCreate, {**data, "price": highest}).price > 0
    over = highest.replace(",00", ",01")
    addon = {"contract_id": 1, "name": "Ekstra", "unit": unit, "valid_from": "01.01.2026"}
    for schema, values in (
        (ContractCreate, {**data, "price": over}),
        (ContractUpdate, {**data, "price": over, "version": 1}),
        (ContractAddonCreate, {**addon, "price": over}),
    ):
        message = errors(schema, values)["price"]
        assert message.startswith("Prisen må højst være ") and cap in message


def test_the_largest_amount_of_the_form_is_refused_with_the_caps_in_the_message():
    # 999.999.999.999,99 kr./dag: it fit NUMERIC(14,2) and broke the stored prices.
    message = errors(ContractCreate, {**CONTRACT, "price": "999.999.999.999,99"})["price"]
    assert "100.000 kr. pr. dag" in message and "36.500.000 kr. pr. år" in message
    assert errors(
        PriceChangeCreate,
        {"contract_id": 1, "effective_date": "01.01.2026"} | {"new_price": "999.999.999.999,99"},
    )["new_price"].startswith("Prisen må højst være")
    too_large = errors(ContractCreate, {**CONTRACT, "price": "1.000.000.000.000,00"})["price"]
    assert "Beløbet er for stort (højst 999.999.999.999,99 kr.)" == too_large


@pytest.mark.parametrize(
    ("schema", "field", "data", "highest"),
    [
        (OfferCreate, "list_rate", {"provider_id": 1, "name": "Huset", "paragraph": "SEL108"}, 1e5),
        (
            OfferCreate,
            "negotiated_rate",
            {"provider_id": 1, "name": "Hus", "paragraph": "SEL108"},
            1e5,
        ),
        (
            PriceCategorySetCreate,
            "ekstraordinaer_from",
            {"paragraph": "SEL108", "year": 2026, "middel_from": "1", "hoej_from": "2"},
            1e5,
        ),
        (InvoiceCheckCreate, "invoiced", {"contract_id": 1, "invoice_no": "F-1", **MARCH}, 1e8),
        (BudgetCreate, "amount", {"year": 2026, "paragraph": "SEL108"}, 1e10),
    ],
)
def test_each_kind_of_amount_has_its_cap(schema, field, data, highest):
    cap = Decimal(int(highest))
    assert cap == getattr(accepted(schema, {**data, field: cap}), field)
    message = errors(schema, {**data, field: cap + Decimal("0.01")})[field]
    assert message.startswith("Må højst være ") and message.endswith(
        " kr." if cap > 1e5 else "døgn"
    )


@pytest.mark.parametrize("empty", ["", "  ", None])
def test_an_empty_optional_amount_is_not_given(empty):
    # An offer with a list rate and no negotiated one: the form sends "" for the empty field.
    offer = accepted(
        OfferCreate,
        {
            "provider_id": 1,
            "name": "Huset",
            "paragraph": "SEL108",
            "list_rate": "2.000,00",
            "list_rate_year": 2026,
            "negotiated_rate": empty,
            "negotiated_from": empty,
            "places": empty,
        },
    )
    assert (Decimal("2000.00"), None, None, None) == (
        offer.list_rate,
        offer.negotiated_rate,
        offer.negotiated_from,
        offer.places,
    )
    contract = accepted(ContractCreate, {**CONTRACT, "end_date": empty, "offer_id": empty})
    assert (None, None) == (contract.end_date, contract.offer_id)
    assert None is TypeAdapter(OptionalMoneyIn).validate_python(empty)
    assert {"price": "Skal udfyldes"} == errors(ContractCreate, {**CONTRACT, "price": empty})


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.decimals(),
        st.decimals(places=2),
        st.floats(),
        st.integers(),
        st.text(alphabet="0123456789.,-+e kr", max_size=24),
        st.text(max_size=12),
    )
)
def test_any_accepted_amount_fits_numeric_14_2(value):
    try:
        amount = TypeAdapter(MoneyIn).validate_python(value)
    except ValidationError:
        return
    assert amount.is_finite()
    assert abs(amount) <= MONEY_MAX
    assert -2 == amount.as_tuple().exponent
    assert len(amount.as_tuple().digits) <= 14


# --- Percentages ----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "ok"), [("20", True), ("-10", True), ("20,001", False)])
def test_regulation_and_index_rates_stay_within_minus_10_and_20_percent(value, ok):
    assert ok == (errors(ContractCreate, {**CONTRACT, "regulation_pct": value}) == {})
    assert ok == (errors(RegulationRateCreate, {"year": 2026, "percent": value}) == {})
    assert "regulation_pct" in errors(ContractCreate, {**CONTRACT, "regulation_pct": "-10,5"})
    assert "percent" in errors(RegulationRateCreate, {"year": 2026, "percent": "50"})


# --- Dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        date(1, 1, 1),
        date(1899, 12, 31),
        date(2200, 1, 1),
        date(2500, 1, 1),
        datetime(2500, 1, 1, 12, 0),
        "31.12.1899",
        "01.01.2200",
        "2500-01-01",
    ],
)
def test_dates_outside_1900_to_2199_are_refused_typed_or_given_as_dates(value):
    assert {"start_date": DATE_RANGE_MESSAGE} == errors(
        ContractCreate, {**CONTRACT, "start_date": value}
    )


@pytest.mark.parametrize("value", [date(1900, 1, 1), "31.12.2199", datetime(2026, 3, 1, 8, 30)])
def test_dates_within_the_range_are_accepted(value):
    assert not errors(ContractCreate, {**CONTRACT, "start_date": value, "price_base_date": value})


@given(st.dates())
def test_any_accepted_date_is_within_the_range(day):
    adapter = TypeAdapter(DateIn)
    try:
        parsed = adapter.validate_python(day)
    except ValidationError:
        assert not date(1900, 1, 1) <= day <= date(2199, 12, 31)
    else:
        assert parsed == day and 1900 <= day.year <= 2199
        assert parsed == adapter.validate_python(day.strftime("%d.%m.") + f"{day.year:04d}")


# --- Whole numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "data", "field", "value"),
    [
        (ContractCreate, CONTRACT, "provider_id", 2**31),
        (ContractCreate, CONTRACT, "provider_id", 10**30),
        (ContractCreate, CONTRACT, "provider_id", 0),
        (ContractCreate, CONTRACT, "offer_id", 2**63),
        (ContractCreate, CONTRACT, "notice_days", 3651),
        (ContractCreate, CONTRACT, "regulation_month", 13),
        (ContractCreate, CONTRACT, "regulation_day", 32),
        (ContractUpdate, {**CONTRACT, "version": 1}, "version", 2**31),
        (InvoiceCheckCreate, {"invoice_no": "F-1", "invoiced": "1", **MARCH}, "contract_id", -1),
        (OfferCreate, {"provider_id": 1, "name": "Huset", "paragraph": "SEL108"}, "places", 10**9),
        (RegulationRateCreate, {"percent": "2"}, "year", 10**12),
    ],
)
def test_whole_numbers_stay_within_the_database_and_their_domain(schema, data, field, value):
    message = errors(schema, {**data, field: value})[field]
    assert message.startswith(("Må ikke være", "Skal være"))


# --- Text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Bostedet\x0bSolsiden", "Bostedet Solsiden"),  # Word's manual line break
        ("Bostedet\r\nSolsiden", "Bostedet Solsiden"),
        ("Bostedet \n\n Solsiden", "Bostedet Solsiden"),
        ("Bostedet\tSolsiden", "Bostedet Solsiden"),
        ("Bostedet\x0cSolsiden", "Bostedet Solsiden"),
        ("\x1b[1mBostedet\x01 Solsiden\x7f", "[1mBostedet Solsiden"),
        ("\ufeffBostedet Solsiden\u2028", "Bostedet Solsiden"),
        ("Cafe\u0301 Solsiden", "Café Solsiden"),  # NFC
    ],
)
def test_single_line_text_holds_no_control_characters(typed, stored):
    assert stored == accepted(ProviderCreate, {"name": typed}).name


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Linje 1\x0bLinje 2", "Linje 1\nLinje 2"),
        ("Linje 1\r\nLinje 2\rLinje 3", "Linje 1\nLinje 2\nLinje 3"),
        ("Punkt:\tgod\x0cNy side", "Punkt:\tgod\nNy side"),
        ("Tekst\x1b med \x01escape", "Tekst med escape"),
    ],
)
def test_multi_line_text_keeps_newline_and_tab_only(typed, stored):
    assert stored == accepted(ProviderCreate, {"name": "Huset", "assessment": typed}).assessment
    note = {"provider_id": 1, "note_date": "01.01.2026", "author": "A", "text": typed}
    assert stored == accepted(ProviderNoteCreate, note).text
    assert stored == accepted(ContractCreate, {**CONTRACT, "notes": typed}).notes


@pytest.mark.parametrize(
    ("schema", "data", "field"),
    [
        (ProviderCreate, {"name": "Huset"}, "name"),
        (ProviderCreate, {"name": "Huset"}, "assessment"),
        (ContractCreate, CONTRACT, "case_ref"),
        (ContractCreate, CONTRACT, "notes"),
        (InvoiceCheckCreate, {"contract_id": 1, "invoiced": "1", **MARCH}, "invoice_no"),
    ],
)
def test_nul_is_refused_with_a_danish_message(schema, data, field):
    assert {field: NUL_MESSAGE} == errors(schema, {**data, field: "Sag\x00 1"})


def _input_schemas() -> list[type[SQLModel]]:
    return sorted(
        {
            value
            for name, value in vars(models).items()
            if isinstance(value, type)
            and issubclass(value, SQLModel)
            and name.endswith(("Create", "Update", "Outcome"))
        },
        key=lambda schema: schema.__name__,
    )


def test_every_text_field_of_every_input_schema_has_a_length_limit():
    unbounded = [
        f"{schema.__name__}.{name}"
        for schema in _input_schemas()
        for name, field in schema.model_fields.items()
        if field.annotation in (str, str | None)
        and not any(getattr(m, "max_length", None) for m in field.metadata)
    ]
    assert len(_input_schemas()) >= 15
    assert [] == unbounded


ALLOWED_IN_MULTILINE = {"\n", "\t"}


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") or char in ("\ufeff", "\ufffe", "\uffff")


@settings(max_examples=400)
@given(st.text(alphabet=st.characters(codec=None), max_size=40))
def test_any_text_through_the_text_types_holds_no_control_characters(text):
    for text_type, allowed in ((TextIn, set()), (MultilineTextIn, ALLOWED_IN_MULTILINE)):
        try:
            cleaned = TypeAdapter(text_type).validate_python(text)
        except ValidationError as exc:
            assert "\x00" in text
            assert NUL_MESSAGE in str(exc)
            continue
        assert "\x00" not in cleaned
        assert not [c for c in cleaned if _is_control(c) and c not in allowed]
        assert cleaned == unicodedata.normalize("NFC", cleaned)
        assert cleaned == cleaned.strip()


# --- Through the services (SQLite and PostgreSQL) -------------------------------------------


def test_create_contract_refuses_the_absurd_daily_rate_typed_in_the_form(session):
    provider = make_provider(session)
    typed = {
        **CONTRACT,
        "provider_id": provider.id,
        "price": "999.999.999.999,99",
        "regulation_pct": "20",
        "start_date": "01.01.1990",
    }
    with pytest.raises(InputError) as raised:
        create_contract(session=session, data=typed, user=USER)
    assert set(raised.value.fields) == {"price"}
    assert raised.value.fields["price"].startswith("Prisen må højst være 100.000 kr. pr. dag")
    assert [] == session.exec(select(Contract)).all()


def test_create_contract_refuses_a_start_in_year_one_given_as_a_date(session):
    provider = make_provider(session)
    with pytest.raises(InputError) as raised:
        make_contract(session, provider, start_date=date(1, 1, 1), price_base_date=None)
    assert DATE_RANGE_MESSAGE == raised.value.fields["start_date"]


def test_create_contract_refuses_nan_with_a_danish_message(session):
    provider = make_provider(session)
    with pytest.raises(InputError) as raised:
        make_contract(session, provider, price=Decimal("NaN"))
    assert {"price": NUMBER_MESSAGE} == raised.value.fields


def test_create_provider_stores_clean_text_that_every_export_can_write(session):
    provider = create_provider(
        session=session,
        user=USER,
        data={
            "name": "Bostedet\x0bSolsiden\x1b",
            "cvr": "12345678",
            "city": "Aar\x01hus",
            "contact": "Leder\r\nTlf. 12 34 56 78",
            "assessment": "God kvalitet.\x0bFaglig tilgang:\tKRAP\x07",
        },
    )
    assert ("Bostedet Solsiden", "Aarhus", "Leder Tlf. 12 34 56 78") == (
        provider.name,
        provider.city,
        provider.contact,
    )
    assert "God kvalitet.\nFaglig tilgang:\tKRAP" == provider.assessment
    import pandas as pd

    frame = pd.DataFrame(
        [[provider.name, provider.city, provider.contact, provider.assessment]],
        columns=["Navn", "By", "Kontakt", "Vurdering"],
    )
    workbook = load_workbook(io.BytesIO(to_xlsx([Sheet("Leverandører", frame)])))
    assert provider.assessment == workbook.active["D2"].value


def test_create_provider_refuses_nul(session):
    with pytest.raises(InputError) as raised:
        create_provider(session=session, user=USER, data={"name": "Bostedet\x00 Solsiden"})
    assert {"name": NUL_MESSAGE} == raised.value.fields


def test_an_offer_with_a_list_rate_and_no_negotiated_rate_can_be_saved(session):
    provider = make_provider(session)
    offer = create_offer(
        session=session,
        user=USER,
        data={
            "provider_id": provider.id,
            "name": "Huset ved søen",
            "paragraph": "SEL108",
            "list_rate": "2.150,00",
            "list_rate_year": 2026,
            "negotiated_rate": "",  # what the form sends for an empty field
            "negotiated_from": None,
        },
    )
    assert (Decimal("2150.00"), None) == (offer.list_rate, offer.negotiated_rate)


@pytest.mark.parametrize(
    ("invoiced", "message"),
    [
        ("NaN", NUMBER_MESSAGE),
        ("Infinity", NUMBER_MESSAGE),
        ("66.000,005", DECIMALS_MESSAGE),
        ("100.000.000,01", "Må højst være 100.000.000 kr."),
    ],
)
def test_check_invoice_refuses_bad_amounts_with_danish_messages(session, invoiced, message):
    contract = make_contract(session)
    data = {"contract_id": contract.id, "invoice_no": "F-1", "invoiced": invoiced, **MARCH}
    with pytest.raises(InputError) as raised:
        check_invoice(session=session, user=USER, data=data)
    assert {"invoiced": message} == raised.value.fields
    assert [] == session.exec(select(InvoiceCheck)).all()


def test_an_invoice_far_above_expected_is_stored_with_its_percent_clamped(session):
    # 1.550 × the expected 64.504,80: 154.929 % does not fit NUMERIC(9,4) (PostgreSQL refused).
    contract = make_contract(session)
    data = {"contract_id": contract.id, "invoice_no": "F-1", "invoiced": "99.999.999,00", **MARCH}
    data["confirmed"] = ["invoiced"]  # far above the plausible 3 × expected: the user confirmed
    check = check_invoice(session=session, user=USER, data=data, today=TODAY)
    assert check.flagged
    stored = session.exec(sa.select(InvoiceCheck.__table__.c.deviation_pct)).one()[0]
    assert Decimal("99999.9999") == stored
    assert Decimal("99935494.20") == check.deviation  # the amount itself is exact


def test_check_invoice_refuses_an_expected_amount_beyond_what_can_be_stored(session):
    # Within every input bound, yet 20 % a year since 1900 makes 100.000 kr./dag
    # about 10^15 kr. a day by 2026: the pricing rule says so (PriceOutOfRange, a Danish
    # user error the page shows) and nothing is written.
    contract = make_contract(
        session,
        price="100.000,00",
        start_date=date(1900, 1, 1),
        price_base_date=date(1900, 1, 1),
        regulation_pct="20",
        confirmed=["price"],  # above the plausible daily rate: the user confirmed it
    )
    data = {"contract_id": contract.id, "invoice_no": "F-1", "invoiced": "1000", **MARCH}
    with pytest.raises(UserError) as raised:
        check_invoice(session=session, user=USER, data=data)
    assert "kan ikke beregnes" in raised.value.message
    assert [] == session.exec(select(InvoiceCheck)).all()


# --- The stored prices survive rows no form can write any more ------------------------------


def _store_absurd(session, contract_id: int, **values: Any) -> None:
    """Write straight to the table, past every schema (as an old import or a script could)."""
    session.exec(
        sa.update(Contract.__table__).where(Contract.__table__.c.id == contract_id).values(**values)
    )
    session.exec(sa.delete(PriceTimeline.__table__))  # the next read rebuilds every contract
    session.commit()


def test_rebuild_prices_every_other_contract_and_pages_read_on(session, engine, caplog):
    provider = make_provider(session)
    normal = make_contract(session, provider, case_ref="SAG-NORMAL")
    absurd = {
        # 999.999.999.999,99 kr./dag with 20 % a year since 1990: BIGINT overflow
        "huge": {
            "price": Decimal("999999999999.99"),
            "regulation_pct": Decimal("20"),
            "start_date": date(1990, 1, 1),
            "price_base_date": date(1990, 1, 1),
        },
        # a start in year 1: two thousand years of regulation
        "ancient": {"start_date": date(1, 1, 1), "price_base_date": date(1, 1, 1)},
        # a regulation day that does not exist
        "month13": {"regulation_month": 13},
        # within bounds, but the annual amount passes a milliard
        "milliard": {"price": Decimal("3000000.00"), "price_unit": "dag"},
    }
    if engine.dialect.name == "postgresql":  # PostgreSQL's NUMERIC holds NaN; SQLite cannot
        absurd["nan"] = {"price": Decimal("NaN")}
    ids = {}
    for name, values in absurd.items():
        contract = make_contract(session, provider, case_ref=f"SAG-{name}")
        _store_absurd(session, contract.id, **values)
        ids[name] = contract.id

    with caplog.at_level("WARNING", logger="services.price_timeline"):
        data = overview(session=session, year=TODAY.year, today=TODAY)
    assert len(absurd) + 1 == data.snapshot.portfolio.active_contracts
    assert len(absurd) == data.snapshot.portfolio.missing_rate  # counted, not summed
    assert Decimal("759492.00") == data.snapshot.portfolio.annual_spend  # the normal one only
    assert f"{len(absurd)} contract(s) stored without a price" in caplog.text

    periods = session.exec(
        select(ContractPricePeriod).where(
            ContractPricePeriod.valid_from <= TODAY, ContractPricePeriod.valid_to >= TODAY
        )
    ).all()
    by_contract = {p.contract_id: p for p in periods}
    assert 208_080 == by_contract[normal.id].price_ore  # 2.000,00 regulated 2 % twice
    for name, contract_id in ids.items():
        assert (True, None) == (
            by_contract[contract_id].missing_rate,
            by_contract[contract_id].price_ore,
        ), name
    assert all(
        p.annual_ore is None or p.annual_ore <= PERIOD_ANNUAL_MAX * 100
        for p in session.exec(select(ContractPricePeriod))
    )

    alerts = alert_overview(session=session, today=TODAY)
    assert alerts.total >= 0
    bands = band_distribution(session=session, paragraph="SEL108", year=2026, today=TODAY)
    assert len(absurd) + 1 == bands.total + bands.missing_index
    report = quarter_report(session=session, quarter=Quarter(2026, 2), today=TODAY)
    assert report is not None


def test_a_write_next_to_an_unpriceable_contract_still_saves(session):
    # The flush hook rebuilds the periods of the contract written to: an add-on saved on a
    # contract whose stored price cannot be priced is saved, and the contract is marked.
    contract = make_contract(session)
    overview(session=session, year=TODAY.year, today=TODAY)  # the periods are current
    table = Contract.__table__
    session.exec(
        sa.update(table)
        .where(table.c.id == contract.id)
        .values(
            price=Decimal("999999999999.99"),
            regulation_pct=Decimal("20"),
            start_date=date(1990, 1, 1),
            price_base_date=date(1990, 1, 1),
        )
    )
    session.commit()
    addon = add_addon(
        session=session,
        user=USER,
        data={
            "contract_id": contract.id,
            "name": "Ekstra støtte",
            "price": "4.500,00",
            "unit": "maaned",
            "valid_from": "01.01.2026",
        },
    )
    assert addon.id is not None
    periods = session.exec(
        select(ContractPricePeriod).where(ContractPricePeriod.contract_id == contract.id)
    ).all()
    assert [(True, None)] == [(p.missing_rate, p.price_ore) for p in periods]


@pytest.mark.parametrize("hidden", ["010190\x01-1234", "010190\x0b1234", "0101\x1b901234"])
def test_a_cpr_number_hidden_by_control_characters_is_still_refused(session, hidden):
    # The schema removes control characters (a vertical tab in a one-line field becomes a
    # space); the cleaned text is guarded too.
    with pytest.raises(InputError) as refused:
        create_provider(
            session=session,
            data={"name": f"Bostedet {hidden}", "cvr": "10000009", "kind": "privat"},
            user="tester",
        )
    assert "CPR" in refused.value.fields["name"]
