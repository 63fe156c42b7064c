"""Price category sets, budgets and index rates."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models import (
    Budget,
    BudgetCreate,
    Paragraph,
    PriceCategorySet,
    PriceCategorySetCreate,
    PriceCategorySetUpdate,
    RegulationRate,
    RegulationRateCreate,
)
from models.reference import PriceCategoryCopy
from models.types import round_ore
from services.errors import InputError
from services.rules.categories import CategoryThresholds
from services.unit_of_work import action
from services.validation import insert_row, require, update_row, validate, without


def _check_thresholds(valid: PriceCategorySetCreate) -> None:
    errors = {}
    if valid.hoej_from <= valid.middel_from:
        errors["hoej_from"] = "Høj skal starte over middel"
    if valid.ekstraordinaer_from <= valid.hoej_from:
        errors["ekstraordinaer_from"] = "Ekstraordinær skal starte over høj"
    if errors:
        raise InputError(errors)


def _set_exists(session: Session, paragraph: str, year: int, except_id: int | None) -> bool:
    query = select(PriceCategorySet.id).where(
        PriceCategorySet.paragraph == paragraph, PriceCategorySet.year == year
    )
    return any(row_id != except_id for row_id in session.exec(query))


@action
def create_price_category_set(
    *, session: Session, data: Mapping[str, Any], user: str
) -> PriceCategorySet:
    """A new set of thresholds; thresholds must increase and (paragraph, year) be new."""
    valid = validate(PriceCategorySetCreate, data)
    _check_thresholds(valid)
    if _set_exists(session, valid.paragraph, valid.year, None):
        raise InputError({"year": f"Der findes allerede et sæt for {valid.year}"})
    return insert_row(
        session=session,
        row=PriceCategorySet(**valid.model_dump()),
        user=user,
    )


@action
def update_price_category_set(
    *, session: Session, set_id: int, data: Mapping[str, Any], user: str
) -> PriceCategorySet:
    valid = validate(PriceCategorySetUpdate, data)
    _check_thresholds(valid)
    if _set_exists(session, valid.paragraph, valid.year, set_id):
        raise InputError({"year": f"Der findes allerede et sæt for {valid.year}"})
    row = require(session, PriceCategorySet, set_id, "Priskategorisættet")
    return update_row(
        session=session,
        row=row,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        what="priskategorisættet",
    )


def list_price_category_sets(
    *, session: Session, paragraph: str | None = None
) -> list[PriceCategorySet]:
    query = select(PriceCategorySet)
    if paragraph:
        query = query.where(PriceCategorySet.paragraph == paragraph)
    return list(
        session.exec(query.order_by(col(PriceCategorySet.year).desc(), PriceCategorySet.paragraph))
    )


def category_thresholds(*, session: Session) -> dict[tuple[str, int], CategoryThresholds]:
    """Every set keyed by (paragraph, year)."""
    return {
        (row.paragraph, row.year): CategoryThresholds(
            row.middel_from, row.hoej_from, row.ekstraordinaer_from
        )
        for row in session.exec(select(PriceCategorySet))
    }


@action
def copy_price_category_year(
    *, session: Session, from_year: int, to_year: int, rate_pct: Decimal, user: str
) -> list[PriceCategorySet]:
    """Copy every paragraph's set of one year to another, regulated by `rate_pct`."""
    valid = validate(
        PriceCategoryCopy, {"from_year": from_year, "to_year": to_year, "rate_pct": rate_pct}
    )
    from_year, to_year = valid.from_year, valid.to_year
    sources = list(session.exec(select(PriceCategorySet).where(PriceCategorySet.year == from_year)))
    if not sources:
        raise InputError({"from_year": f"Der er ingen priskategorier for {from_year}"})
    existing = [
        row.paragraph for row in sources if _set_exists(session, row.paragraph, to_year, None)
    ]
    if existing:
        names = ", ".join(sorted(existing))
        raise InputError({"to_year": f"{to_year} har allerede sæt for {names}"})
    factor = 1 + valid.rate_pct / 100
    return [
        # One audit event per set created, as for a set created by hand.
        insert_row(
            session=session,
            row=PriceCategorySet(
                paragraph=source.paragraph,
                year=to_year,
                middel_from=round_ore(source.middel_from * factor),
                hoej_from=round_ore(source.hoej_from * factor),
                ekstraordinaer_from=round_ore(source.ekstraordinaer_from * factor),
            ),
            user=user,
        )
        for source in sources
    ]


@action
def save_budget(*, session: Session, data: Mapping[str, Any], user: str) -> Budget:
    """Create or replace the budget of one paragraph and year."""
    valid = validate(BudgetCreate, data)
    existing = session.exec(
        select(Budget).where(Budget.year == valid.year, Budget.paragraph == valid.paragraph)
    ).first()
    if existing is None:
        return insert_row(session=session, row=Budget(**without(valid, "version")), user=user)
    return update_row(
        session=session,
        row=existing,
        values={"amount": valid.amount},
        expected_version=existing.version if valid.version is None else valid.version,
        user=user,
        what="budgettet",
    )


def list_budgets(*, session: Session, year: int | None = None) -> list[Budget]:
    query = select(Budget)
    if year is not None:
        query = query.where(Budget.year == year)
    return list(session.exec(query.order_by(col(Budget.year).desc(), Budget.paragraph)))


@action
def save_regulation_rate(*, session: Session, data: Mapping[str, Any], user: str) -> RegulationRate:
    """Create or replace the index rate of a year."""
    valid = validate(RegulationRateCreate, data)
    existing = session.exec(select(RegulationRate).where(RegulationRate.year == valid.year)).first()
    if existing is None:
        return insert_row(
            session=session,
            row=RegulationRate(**without(valid, "version")),
            user=user,
        )
    return update_row(
        session=session,
        row=existing,
        values={"percent": valid.percent},
        expected_version=existing.version if valid.version is None else valid.version,
        user=user,
        what="reguleringssatsen",
    )


def index_rates(*, session: Session) -> dict[int, Decimal]:
    """Index regulation rate (percent) by year."""
    return {row.year: row.percent for row in session.exec(select(RegulationRate))}


PARAGRAPHS = list(Paragraph)
