"""Contracts: create/edit with validation, add-ons, renegotiations and prices in force."""

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Contract,
    ContractAddon,
    ContractAddonCreate,
    ContractAddonUpdate,
    ContractCreate,
    ContractPricePeriod,
    ContractStatus,
    ContractUpdate,
    FollowUp,
    Goal,
    InvoiceCheck,
    Offer,
    Paragraph,
    PriceChange,
    PriceChangeCreate,
    PriceUnit,
    Provider,
)
from models.base import VoidInput
from models.contract import ContractDelete
from models.types import DATE_MAX, PRICE_UNIT_TEXT, format_limit, lenient_date, price_limit_error
from services.errors import ConfirmationNeeded, ConflictError, InputError, UserError, confirmed
from services.reference import category_thresholds, index_rates
from services.rules.cadence import first_followup_due
from services.rules.categories import CategoryThresholds, price_category
from services.rules.pricing import (
    AddonTerms,
    PriceTerms,
    Regulation,
    annual_amount,
    daily_equivalent,
    offer_price,
    plausible_price_max,
    regulated_price,
)
from services.rules.voiding import in_force, not_voided_sql
from services.settings import get_settings
from services.unit_of_work import action, flush
from services.validation import (
    insert_row,
    require,
    update_row,
    validate,
    void_row,
    without,
)


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
    """The contract's price terms for the pricing rules; voided price changes count nowhere."""
    return PriceTerms(
        price=contract.price,
        unit=PriceUnit(contract.price_unit),
        base_date=contract.price_base_date,
        regulation=regulation_of(contract, rates),
        changes=tuple((c.effective_date, c.new_price) for c in in_force(changes)),
    )


def addon_terms_of(addons: Sequence[ContractAddon]) -> list[AddonTerms]:
    """The add-ons for the pricing rules; voided ones count nowhere."""
    return [
        AddonTerms(a.price, PriceUnit(a.unit), a.valid_from, a.valid_to) for a in in_force(addons)
    ]


def load_terms(*, session: Session, contract: Contract) -> tuple[PriceTerms, list[AddonTerms]]:
    """Price terms incl. price history and index rates, and the add-ons, from the database
    (voided price changes and add-ons left out)."""
    changes = list(
        session.exec(
            select(PriceChange)
            .where(PriceChange.contract_id == contract.id, not_voided_sql(PriceChange))
            .order_by(col(PriceChange.effective_date))
        )
    )
    addons = list(
        session.exec(
            select(ContractAddon).where(
                ContractAddon.contract_id == contract.id, not_voided_sql(ContractAddon)
            )
        )
    )
    return terms_of(contract, changes, index_rates(session=session)), addon_terms_of(addons)


def ask_if_implausible(
    session: Session,
    data: Mapping[str, Any],
    field: str,
    price: Decimal,
    unit: PriceUnit | str,
) -> None:
    """ConfirmationNeeded on `field` for a price above the plausibility limit of its unit
    (settings, rules.pricing.plausible_price_max), unless the user has confirmed it."""
    if confirmed(data, field):
        return
    settings = get_settings(session=session)
    limit = plausible_price_max(
        unit,
        daily_rate=settings.plausible_daily_rate,
        monthly_price=settings.plausible_monthly_price,
    )
    if price > limit:
        unit_text = PRICE_UNIT_TEXT[str(getattr(unit, "value", unit))]
        raise ConfirmationNeeded(
            {
                field: f"Usædvanligt høj pris: over {format_limit(limit)} pr. {unit_text}. "
                "Tjek beløbet og prisenheden."
            }
        )


def check_contract(session: Session, valid: ContractCreate) -> dict[str, str]:
    """What the contract form refuses beyond each field's own value (dates out of order, a
    provider or offer that does not fit), as field → Danish message; the import asks too."""
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


def contract_input(data: Mapping[str, Any]) -> dict[str, Any]:
    """The input as create_contract and update_contract check it: an empty price date is the
    start date."""
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
                assignee=user,  # who registered the placement follows it up until reassigned
                created_by=user,
                updated_by=user,
            )
        )
        flush(session)


def raw_date_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Date-order errors found in the raw input, so they show together with field errors."""
    start, end = lenient_date(values.get("start_date")), lenient_date(values.get("end_date"))
    if start and end and end < start:
        return {"end_date": "Slutdatoen skal ligge efter startdatoen"}
    return {}


@action
def create_contract(*, session: Session, data: Mapping[str, Any], user: str) -> Contract:
    """Validate and store a new contract; an active one gets its first follow-up planned."""
    values = contract_input(data)
    valid = validate(ContractCreate, values, raw_date_errors(values))
    if errors := check_contract(session, valid):
        raise InputError(errors)
    ask_if_implausible(session, data, "price", valid.price, valid.price_unit)
    contract = insert_row(session=session, row=Contract(**valid.model_dump()), user=user)
    _schedule_first_followup(session, contract, user)
    return contract


@action
def update_contract(
    *, session: Session, contract_id: int, data: Mapping[str, Any], user: str
) -> Contract:
    """Save an edited contract; ConflictError if someone saved it since it was loaded."""
    values = contract_input(data)
    valid = validate(ContractUpdate, values, raw_date_errors(values))
    if errors := check_contract(session, valid):
        raise InputError(errors)
    row = require(session, Contract, contract_id, "Kontrakten")
    if (valid.price, valid.price_unit) != (row.price, row.price_unit):
        ask_if_implausible(session, data, "price", valid.price, valid.price_unit)
    contract = update_row(
        session=session,
        row=row,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        what="kontrakten",
    )
    _schedule_first_followup(session, contract, user)
    _refresh_old_prices(session, contract, user)  # a corrected price or base date moves them
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
    ask_if_implausible(session, data, "price", valid.price, valid.unit)
    return insert_row(session=session, row=ContractAddon(**valid.model_dump()), user=user)


@action
def update_addon(
    *, session: Session, addon_id: int, data: Mapping[str, Any], user: str
) -> ContractAddon:
    """Edit an add-on, or end it by setting its last day (`valid_to`); a voided one stays as
    it was voided."""
    valid = validate(ContractAddonUpdate, data)
    _check_addon(session, valid)
    row = require(session, ContractAddon, addon_id, "Tillægsydelsen")
    if row.contract_id != valid.contract_id:
        raise InputError({"_form": "Tillægsydelsen hører til en anden kontrakt."})
    if row.voided_at is not None:
        raise InputError({"_form": "Tillægsydelsen er annulleret og kan ikke rettes."})
    if (valid.price, valid.unit) != (row.price, row.unit):
        ask_if_implausible(session, data, "price", valid.price, valid.unit)
    return update_row(
        session=session,
        row=row,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        what="tillægsydelsen",
    )


@action
def void_addon(
    *, session: Session, addon_id: int, data: Mapping[str, Any], user: str
) -> ContractAddon:
    """Void an add-on registered by mistake, with a reason: it is kept and shown, marked, and
    counts in no price, expected amount, key figure or alert from then on (rules.voiding)."""
    valid = validate(VoidInput, data)
    row = require(session, ContractAddon, addon_id, "Tillægsydelsen")
    return void_row(
        session=session,
        row=row,
        reason=valid.reason,
        expected_version=valid.version,
        user=user,
        what="tillægsydelsen",
    )


def list_addons(*, session: Session, contract_id: int) -> list[ContractAddon]:
    """Every add-on of the contract, voided ones too (marked by `voided_at`)."""
    return list(
        session.exec(
            select(ContractAddon)
            .where(ContractAddon.contract_id == contract_id)
            .order_by(col(ContractAddon.valid_from), col(ContractAddon.id))
        )
    )


def list_price_changes(*, session: Session, contract_id: int) -> list[PriceChange]:
    """Every price change of the contract, voided ones too (marked by `voided_at`)."""
    return list(
        session.exec(
            select(PriceChange)
            .where(PriceChange.contract_id == contract_id)
            .order_by(col(PriceChange.effective_date), col(PriceChange.id))
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
    ask_if_implausible(session, data, "new_price", valid.new_price, contract.price_unit)
    old_price = regulated_price(terms, valid.effective_date)
    change = PriceChange(**{**valid.model_dump(), "old_price": old_price})
    try:
        change = insert_row(session=session, row=change, user=user)
    except InputError:  # another one for the same day was saved at the same moment
        raise InputError({"effective_date": SAME_DAY}) from None
    _refresh_old_prices(session, contract, user)
    return change


@action
def void_price_change(
    *, session: Session, price_change_id: int, data: Mapping[str, Any], user: str
) -> PriceChange:
    """Void a price change registered by mistake, with a reason: it is kept and shown, marked,
    and the contract is priced as if it had never been registered (the regulated price,
    expected amounts, the stored price periods, alerts and key figures). A corrected change can
    then be registered on the same day."""
    valid = validate(VoidInput, data)
    change = require(session, PriceChange, price_change_id, "Prisændringen")
    change = void_row(
        session=session,
        row=change,
        reason=valid.reason,
        expected_version=valid.version,
        user=user,
        what="prisændringen",
    )
    contract = require(session, Contract, change.contract_id, "Kontrakten")
    _refresh_old_prices(session, contract, user)
    return change


def _refresh_old_prices(session: Session, contract: Contract, user: str) -> None:
    """Each price change stores the price it replaced (the one in force the day before it, by
    the changes that count). Registering or voiding one changes that for the next one: update
    it, audited. A price that cannot be computed (a missing index rate) is left as it was."""
    terms, _ = load_terms(session=session, contract=contract)
    changes = session.exec(
        select(PriceChange)
        .where(PriceChange.contract_id == contract.id, not_voided_sql(PriceChange))
        .order_by(col(PriceChange.effective_date))
    ).all()
    for change in changes:
        before = PriceTerms(
            terms.price,
            terms.unit,
            terms.base_date,
            terms.regulation,
            tuple((day, price) for day, price in terms.changes if day < change.effective_date),
        )
        try:
            old_price = regulated_price(before, change.effective_date)
        except UserError:
            continue
        if old_price != change.old_price:
            update_row(
                session=session,
                row=change,
                values={"old_price": old_price},
                expected_version=change.version,
                user=user,
                what="prisændringen",
            )


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


# --- Deleting a draft -------------------------------------------------------------------------

DRAFT_ONLY = (
    "Kun en kontrakt med status Kladde kan slettes. En kontrakt, der har været i kraft, "
    "afsluttes i stedet (status Afsluttet og en slutdato)."
)


@action
def delete_draft_contract(
    *, session: Session, contract_id: int, data: Mapping[str, Any], user: str
) -> None:
    """Delete a contract with status kladde (a draft never in force) and what hangs under it:
    add-ons, price changes, follow-ups, goals and price periods, in one audited transaction.
    A draft with invoice checks is refused: the checks belong to the deviation log, where
    nothing is deleted."""
    valid = validate(ContractDelete, data)
    contract = require(session, Contract, contract_id, "Kontrakten")
    if contract.version != valid.version:
        raise ConflictError("kontrakten")
    if contract.status != ContractStatus.DRAFT:
        raise InputError({"_form": DRAFT_ONLY})
    checks = session.exec(
        select(sa.func.count())
        .select_from(InvoiceCheck)
        .where(col(InvoiceCheck.contract_id) == contract_id)
    ).one()
    if checks:
        raise InputError(
            {
                "_form": f"Kladden har {checks} fakturakontrol(ler), og de slettes ikke. "
                "Annullér kontrollerne i Fakturaafvigelser og sæt kontrakten til Afsluttet "
                "i stedet."
            }
        )
    # Row by row, not by bulk SQL: each record's deletion is its own audit event. Goals point at
    # follow-ups, so they go first.
    for rows in (
        session.exec(select(Goal).where(col(Goal.contract_id) == contract_id)),
        session.exec(select(FollowUp).where(col(FollowUp.contract_id) == contract_id)),
        session.exec(select(ContractAddon).where(col(ContractAddon.contract_id) == contract_id)),
        session.exec(select(PriceChange).where(col(PriceChange.contract_id) == contract_id)),
    ):
        for row in rows.all():
            session.delete(row)
        flush(session, "kontrakten")
    session.execute(  # derived from the contract (services.price_timeline): not audited
        sa.delete(ContractPricePeriod).where(col(ContractPricePeriod.contract_id) == contract_id)
    )
    session.delete(contract)
    flush(session, "kontrakten")


# --- A new contract from an offer -------------------------------------------------------------


@dataclass(frozen=True)
class OfferTerms:
    """What a new contract takes from the offer it is bought on (the user may change it)."""

    offer_id: int
    provider_id: int
    paragraph: Paragraph
    price: Decimal | None  # a daily rate (unit dag); None: the offer has no rate
    price_base_date: date | None
    negotiated: bool  # the negotiated rate, else the list rate


def offer_terms(*, session: Session, offer_id: int) -> OfferTerms:
    """The provider, paragraph and daily rate (rules.pricing.offer_price) of an offer."""
    offer = require(session, Offer, offer_id, "Tilbuddet")
    proposal = offer_price(
        list_rate=offer.list_rate,
        list_rate_year=offer.list_rate_year,
        negotiated_rate=offer.negotiated_rate,
        negotiated_from=offer.negotiated_from,
    )
    price, base = proposal if proposal is not None else (None, None)
    return OfferTerms(
        offer_id=offer_id,
        provider_id=offer.provider_id,
        paragraph=Paragraph(offer.paragraph),
        price=price,
        price_base_date=base,
        negotiated=offer.negotiated_rate is not None,
    )


def offer_choices(
    *,
    session: Session,
    provider_id: int | None = None,
    include_id: int | None = None,
    name_provider: bool | None = None,
) -> dict[int, str]:
    """Offers to buy a contract on, id → label, by name: the active offers of one provider, or
    of every provider, plus `include_id` (the offer a contract already has, even if inactive).

    The label names the provider when `name_provider`, by default when the offers are every
    provider's. A list whose filter changes while the user works in it passes True: its labels
    must not change, for a selectbox knows its choice by the label."""
    if name_provider is None:
        name_provider = provider_id is None
    query = sa.select(col(Offer.id), col(Offer.name), col(Provider.name)).join(
        Provider, col(Provider.id) == Offer.provider_id
    )
    shown: sa.ColumnElement[bool] = col(Offer.active).is_(True)
    if include_id is not None:
        shown = sa.or_(shown, col(Offer.id) == include_id)
    query = query.where(shown)
    if provider_id is not None:
        query = query.where(col(Offer.provider_id) == provider_id)
    query = query.order_by(col(Offer.name), col(Provider.name), col(Offer.id))
    return {
        int(offer_id): f"{name} – {provider}" if name_provider else name
        for offer_id, name, provider in session.execute(query)
    }
