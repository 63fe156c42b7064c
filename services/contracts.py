"""Contracts: create/edit with validation, add-ons, renegotiations and prices in force."""

import calendar
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models import (
    Contract,
    ContractAddon,
    ContractAddonCreate,
    ContractAddonUpdate,
    ContractCreate,
    ContractStatus,
    ContractUpdate,
    FollowUp,
    Offer,
    PriceChange,
    PriceChangeCreate,
    PriceUnit,
    Provider,
)
from models.types import DATE_MAX, lenient_date, price_limit_error
from services.errors import InputError
from services.reference import category_thresholds, index_rates
from services.rules.cadence import first_followup_due
from services.rules.categories import CategoryThresholds, price_category
from services.rules.pricing import (
    AddonTerms,
    PriceTerms,
    Regulation,
    annual_amount,
    daily_equivalent,
    regulated_price,
)
from services.settings import get_settings
from services.unit_of_work import action, flush
from services.validation import insert_row, require, update_row, validate, without


def regulation_of(contract: Contract, rates: Mapping[int, Decimal] | None = None) -> Regulation:
    return Regulation(
        kind=contract.regulation_kind,
        pct=contract.regulation_pct,
        month=contract.regulation_month,
        day=contract.regulation_day,
        index_rates=dict(rates or {}),
    )


def terms_of(
    contract: Contract,
    changes: Sequence[PriceChange] = (),
    rates: Mapping[int, Decimal] | None = None,
) -> PriceTerms:
    """The contract's price terms for the pricing rules."""
    return PriceTerms(
        price=contract.price,
        unit=PriceUnit(contract.price_unit),
        base_date=contract.price_base_date,
        regulation=regulation_of(contract, rates),
        changes=tuple((c.effective_date, c.new_price) for c in changes),
    )


def addon_terms_of(addons: Sequence[ContractAddon]) -> list[AddonTerms]:
    return [AddonTerms(a.price, PriceUnit(a.unit), a.valid_from, a.valid_to) for a in addons]


def load_terms(*, session: Session, contract: Contract) -> tuple[PriceTerms, list[AddonTerms]]:
    """Price terms incl. price history and index rates, and the add-ons, from the database."""
    changes = list(
        session.exec(
            select(PriceChange)
            .where(PriceChange.contract_id == contract.id)
            .order_by(col(PriceChange.effective_date))
        )
    )
    addons = list(
        session.exec(select(ContractAddon).where(ContractAddon.contract_id == contract.id))
    )
    return terms_of(contract, changes, index_rates(session=session)), addon_terms_of(addons)


def _check_contract(session: Session, valid: ContractCreate) -> dict[str, str]:
    errors: dict[str, str] = {}
    if valid.end_date is not None and valid.end_date < valid.start_date:
        errors["end_date"] = "Slutdatoen skal ligge efter startdatoen"
    if valid.renegotiation_date is not None and valid.renegotiation_date < valid.start_date:
        errors["renegotiation_date"] = "Genforhandlingsdatoen ligger før kontraktens start"
    last_day = calendar.monthrange(2024, valid.regulation_month)[1]  # leap year: 29 Feb allowed
    if valid.regulation_day > last_day:
        errors["regulation_day"] = "Reguleringsdagen findes ikke i den valgte måned"
    if session.get(Provider, valid.provider_id) is None:
        errors["provider_id"] = "Vælg en leverandør"
    if valid.offer_id is not None:
        offer = session.get(Offer, valid.offer_id)
        if offer is None or offer.provider_id != valid.provider_id:
            errors["offer_id"] = "Tilbuddet hører ikke til den valgte leverandør"
        elif offer.paragraph != valid.paragraph:
            errors["offer_id"] = "Tilbuddet er under en anden paragraf end kontrakten"
    return errors


def _contract_input(data: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if not values.get("price_base_date") and values.get("start_date"):
        values["price_base_date"] = values["start_date"]
    return values


def _schedule_first_followup(session: Session, contract: Contract, user: str) -> None:
    """An active contract without any follow-up gets its first one by the cadence rule."""
    if contract.status != ContractStatus.ACTIVE:
        return
    has_any = session.exec(select(FollowUp.id).where(FollowUp.contract_id == contract.id)).first()
    if has_any is None:
        cadence = get_settings(session=session).cadence
        due = first_followup_due(contract.start_date, cadence)
        if due > DATE_MAX:  # no date past 2199 is stored: none to plan for a start in 2199
            return
        session.add(
            FollowUp(
                contract_id=contract.id,  # type: ignore[arg-type]
                due_date=due,
                created_by=user,
                updated_by=user,
            )
        )
        flush(session)


def _raw_date_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Date-order errors found in the raw input, so they show together with field errors."""
    start, end = lenient_date(values.get("start_date")), lenient_date(values.get("end_date"))
    if start and end and end < start:
        return {"end_date": "Slutdatoen skal ligge efter startdatoen"}
    return {}


@action
def create_contract(*, session: Session, data: Mapping[str, Any], user: str) -> Contract:
    """Validate and store a new contract; an active one gets its first follow-up planned."""
    values = _contract_input(data)
    valid = validate(ContractCreate, values, _raw_date_errors(values))
    if errors := _check_contract(session, valid):
        raise InputError(errors)
    contract = insert_row(
        session=session, row=Contract(**valid.model_dump()), user=user, entity="contract"
    )
    _schedule_first_followup(session, contract, user)
    return contract


@action
def update_contract(
    *, session: Session, contract_id: int, data: Mapping[str, Any], user: str
) -> Contract:
    """Save an edited contract; ConflictError if someone saved it since it was loaded."""
    values = _contract_input(data)
    valid = validate(ContractUpdate, values, _raw_date_errors(values))
    if errors := _check_contract(session, valid):
        raise InputError(errors)
    row = require(session, Contract, contract_id, "Kontrakten")
    contract = update_row(
        session=session,
        row=row,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        entity="contract",
        what="kontrakten",
    )
    _schedule_first_followup(session, contract, user)
    return contract


def get_contract(*, session: Session, contract_id: int) -> Contract:
    return require(session, Contract, contract_id, "Kontrakten")


def _check_addon(session: Session, valid: ContractAddonCreate) -> None:
    require(session, Contract, valid.contract_id, "Kontrakten")
    if valid.valid_to is not None and valid.valid_to < valid.valid_from:
        raise InputError({"valid_to": "Slutdatoen skal ligge efter startdatoen"})


@action
def add_addon(*, session: Session, data: Mapping[str, Any], user: str) -> ContractAddon:
    """An agreed extra service on a contract, with its own price."""
    valid = validate(ContractAddonCreate, data)
    _check_addon(session, valid)
    return insert_row(
        session=session, row=ContractAddon(**valid.model_dump()), user=user, entity="contractaddon"
    )


@action
def update_addon(
    *, session: Session, addon_id: int, data: Mapping[str, Any], user: str
) -> ContractAddon:
    valid = validate(ContractAddonUpdate, data)
    _check_addon(session, valid)
    row = require(session, ContractAddon, addon_id, "Tillægsydelsen")
    return update_row(
        session=session,
        row=row,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        entity="contractaddon",
        what="tillægsydelsen",
    )


def list_addons(*, session: Session, contract_id: int) -> list[ContractAddon]:
    return list(
        session.exec(
            select(ContractAddon)
            .where(ContractAddon.contract_id == contract_id)
            .order_by(col(ContractAddon.valid_from))
        )
    )


def list_price_changes(*, session: Session, contract_id: int) -> list[PriceChange]:
    return list(
        session.exec(
            select(PriceChange)
            .where(PriceChange.contract_id == contract_id)
            .order_by(col(PriceChange.effective_date))
        )
    )


SAME_DAY = "Der er allerede en prisændring på den dato"


@action
def register_price_change(
    *, session: Session, contract_id: int, data: Mapping[str, Any], user: str
) -> PriceChange:
    """Record a renegotiation or changed support need; the old price is the one in force then."""
    contract = require(session, Contract, contract_id, "Kontrakten")
    valid = validate(PriceChangeCreate, {**dict(data), "contract_id": contract_id})
    if valid.effective_date < contract.start_date:
        raise InputError({"effective_date": "Datoen ligger før kontraktens start"})
    if contract.end_date is not None and valid.effective_date > contract.end_date:
        raise InputError({"effective_date": "Datoen ligger efter kontraktens slutdato"})
    if too_high := price_limit_error(valid.new_price, contract.price_unit):
        raise InputError({"new_price": too_high})
    terms, _ = load_terms(session=session, contract=contract)
    if any(effective == valid.effective_date for effective, _ in terms.changes):
        raise InputError({"effective_date": SAME_DAY})
    old_price = regulated_price(terms, valid.effective_date)
    change = PriceChange(**{**valid.model_dump(), "old_price": old_price})
    try:
        return insert_row(session=session, row=change, user=user, entity="pricechange")
    except InputError:  # another one for the same day was saved at the same moment
        raise InputError({"effective_date": SAME_DAY}) from None


def annual_effect(change: PriceChange, unit: PriceUnit | str) -> Decimal:
    """Annualised effect of a price change (negative is a saving)."""
    old = change.old_price if change.old_price is not None else change.new_price
    return annual_amount(change.new_price, unit) - annual_amount(old, unit)


def price_on(*, session: Session, contract: Contract, on: date) -> Decimal:
    """The contract's base price in force on a date."""
    terms, _ = load_terms(session=session, contract=contract)
    return regulated_price(terms, on)


def category_on(
    price: Decimal,
    unit: PriceUnit | str,
    paragraph: str,
    on: date,
    thresholds: Mapping[tuple[str, int], CategoryThresholds],
) -> Any:
    """Price category of a price on a date (None: no set for the paragraph and year)."""
    return price_category(daily_equivalent(price, unit), thresholds.get((paragraph, on.year)))


def current_category(*, session: Session, contract: Contract, on: date) -> Any:
    price = price_on(session=session, contract=contract, on=on)
    return category_on(
        price, contract.price_unit, contract.paragraph, on, category_thresholds(session=session)
    )
