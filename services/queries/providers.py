"""Queries behind the Leverandører screen: the register and one provider's page."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models import (
    Contract,
    ContractStatus,
    InvoiceCheck,
    Offer,
    Provider,
    ProviderNote,
)
from services.rules.deviations import (
    credited_per_invoice,
    credited_sql,
    credits_of,
    deviation_pct,
    invoice_count_sql,
    net_deviation,
    net_deviation_sql,
    open_deviation_sql,
)
from services.rules.voiding import not_voided_sql

T = TypeVar("T")

REGISTER_COLUMNS = [
    "id",
    "name",
    "cvr",
    "kind",
    "city",
    "framework",
    "quality_rating",
    "active",
    "offers",
    "notes",
    "active_contracts",
    "spend_12m",
    "open_deviations",
]


@dataclass(frozen=True)
class ProviderFilter:
    search: str = ""
    kinds: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    active_only: bool = True


def _filtered(query: sa.Select, filters: ProviderFilter) -> sa.Select:
    if filters.search.strip():
        pattern = f"%{filters.search.strip().lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(Provider.name).like(pattern),
                col(Provider.cvr).like(pattern),
                sa.func.lower(Provider.city).like(pattern),
                col(Provider.postal_code).like(pattern),
            )
        )
    if filters.kinds:
        query = query.where(col(Provider.kind).in_(filters.kinds))
    if filters.frameworks:
        query = query.where(col(Provider.framework).in_(filters.frameworks))
    if filters.active_only:
        query = query.where(col(Provider.active).is_(True))
    return query


def count_providers(*, session: Session, filters: ProviderFilter) -> int:
    query = _filtered(select(sa.func.count()).select_from(Provider), filters)
    return int(session.exec(query).one())  # type: ignore[call-overload]


def provider_register(
    *, session: Session, filters: ProviderFilter, today: date, limit: int = 50, offset: int = 0
) -> pd.DataFrame:
    """One page of providers with offers, active contracts, spend and open deviations (SQL)."""
    since = today - timedelta(days=365)
    offers = (
        select(sa.func.count())
        .select_from(Offer)
        .where(Offer.provider_id == Provider.id)
        .scalar_subquery()
    )
    notes = _note_count().where(ProviderNote.provider_id == Provider.id).scalar_subquery()
    contracts = (
        select(sa.func.count())
        .select_from(Contract)
        .where(Contract.provider_id == Provider.id, Contract.status == ContractStatus.ACTIVE)
        .scalar_subquery()
    )
    spend = (
        select(sa.func.coalesce(sa.func.sum(InvoiceCheck.invoiced), 0))
        .where(
            InvoiceCheck.provider_id == Provider.id,
            InvoiceCheck.period_from >= since,
            not_voided_sql(InvoiceCheck),
        )
        .scalar_subquery()
    )
    deviations = (
        select(sa.func.count())
        .select_from(InvoiceCheck)
        .where(
            InvoiceCheck.provider_id == Provider.id,
            open_deviation_sql(),
        )
        .scalar_subquery()
    )
    query = sa.select(
        col(Provider.id),
        col(Provider.name),
        col(Provider.cvr),
        col(Provider.kind),
        col(Provider.city),
        col(Provider.framework),
        col(Provider.quality_rating),
        col(Provider.active),
        offers.label("offers"),
        notes.label("notes"),
        contracts.label("active_contracts"),
        spend.label("spend_12m"),
        deviations.label("open_deviations"),
    )
    query = _filtered(query, filters).order_by(col(Provider.name), col(Provider.id))
    rows = session.exec(query.limit(limit).offset(offset)).all()  # type: ignore[call-overload]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=REGISTER_COLUMNS)
    frame["spend_12m"] = frame["spend_12m"].map(
        lambda v: Decimal(str(v)).quantize(Decimal("0.01")) if v is not None else Decimal(0)
    )
    return frame


def _note_count() -> SelectOfScalar[int]:
    """Vidensbank notes that count: a voided note is kept and shown, but counts nowhere."""
    return select(sa.func.count()).select_from(ProviderNote).where(not_voided_sql(ProviderNote))


def provider_names(*, session: Session) -> dict[int, str]:
    """Every provider's id and name, for pickers."""
    rows = session.exec(select(Provider.id, Provider.name).order_by(Provider.name)).all()
    # `id` is typed optional (unset before insert); a stored row always has one.
    return {int(pid): str(name) for pid, name in rows if pid is not None}


@dataclass(frozen=True)
class ProviderKeyFigures:
    active_contracts: int
    ended_contracts: int
    offers: int
    notes: int
    spend_12m: Decimal
    spend_this_year: Decimal
    open_deviations: int
    open_deviation_amount: Decimal


def provider_key_figures(*, session: Session, provider_id: int, today: date) -> ProviderKeyFigures:
    """Counts and sums for one provider, in a handful of SQL aggregates."""

    def scalar(query: SelectOfScalar[T]) -> T:
        return session.exec(query).one()

    by_status = dict(
        session.exec(
            select(Contract.status, sa.func.count())
            .where(Contract.provider_id == provider_id)
            .group_by(Contract.status)
        ).all()
    )
    spend = sa.func.coalesce(sa.func.sum(InvoiceCheck.invoiced), 0)
    open_filter = (
        InvoiceCheck.provider_id == provider_id,
        open_deviation_sql(),
    )
    credited = credited_per_invoice()
    open_row = session.exec(
        select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(net_deviation_sql(credited)), 0),
        )
        .select_from(InvoiceCheck)
        .outerjoin(credited, credits_of(credited))
        .where(*open_filter)
    ).one()
    return ProviderKeyFigures(
        active_contracts=int(by_status.get(ContractStatus.ACTIVE, 0)),
        ended_contracts=int(
            sum(
                v
                for k, v in by_status.items()
                if k in (ContractStatus.ENDED, ContractStatus.TERMINATED)
            )
        ),
        offers=int(
            scalar(
                select(sa.func.count()).select_from(Offer).where(Offer.provider_id == provider_id)
            )
        ),
        notes=int(scalar(_note_count().where(ProviderNote.provider_id == provider_id))),
        spend_12m=_money(
            scalar(
                select(spend).where(
                    InvoiceCheck.provider_id == provider_id,
                    InvoiceCheck.period_from >= today - timedelta(days=365),
                    not_voided_sql(InvoiceCheck),
                )
            )
        ),
        spend_this_year=_money(
            scalar(
                select(spend).where(
                    InvoiceCheck.provider_id == provider_id,
                    InvoiceCheck.period_from >= date(today.year, 1, 1),
                    not_voided_sql(InvoiceCheck),
                )
            )
        ),
        open_deviations=int(open_row[0]),
        open_deviation_amount=_money(open_row[1]),
    )


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def provider_spend_by_year(*, session: Session, provider_id: int) -> pd.DataFrame:
    """Invoiced amount (credit notes count negative) and invoice count per year of the invoice
    period (SQL GROUP BY); voided checks count nowhere."""
    year = sa.extract("year", col(InvoiceCheck.period_from)).label("year")
    rows = session.exec(
        select(
            year,
            sa.func.sum(InvoiceCheck.invoiced),
            invoice_count_sql(),
        )
        .where(InvoiceCheck.provider_id == provider_id, not_voided_sql(InvoiceCheck))
        .group_by(year)
        .order_by(year)
    ).all()
    return pd.DataFrame(
        [(int(r[0]), _money(r[1]), int(r[2])) for r in rows],
        columns=["year", "invoiced", "invoices"],
    )


def count_provider_contracts(*, session: Session, provider_id: int) -> int:
    query = select(sa.func.count()).select_from(Contract).where(Contract.provider_id == provider_id)
    return int(session.exec(query).one())


def provider_contracts(
    *, session: Session, provider_id: int, limit: int = 50, offset: int = 0
) -> pd.DataFrame:
    """The provider's contracts, active first, newest start first."""
    active_first = sa.case((col(Contract.status) == ContractStatus.ACTIVE, 0), else_=1)
    rows = session.exec(
        select(
            Contract.id,
            Contract.case_ref,
            Contract.paragraph,  # type: ignore[call-overload]
            Contract.status,
            Contract.start_date,
            Contract.end_date,
            Contract.price,
            Contract.price_unit,
            Offer.name,
        )
        .join(Offer, col(Offer.id) == Contract.offer_id, isouter=True)
        .where(Contract.provider_id == provider_id)
        .order_by(active_first, col(Contract.start_date).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return pd.DataFrame(
        [tuple(r) for r in rows],
        columns=[
            "id",
            "case_ref",
            "paragraph",
            "status",
            "start_date",
            "end_date",
            "price",
            "price_unit",
            "offer",
        ],
    )


def provider_deviations(*, session: Session, provider_id: int, limit: int = 50) -> pd.DataFrame:
    """The provider's flagged invoices in force, newest period first; the deviation is net of
    credit notes (services.rules.deviations)."""
    credited = credited_per_invoice()
    rows = session.exec(
        select(
            InvoiceCheck.invoice_no,
            Contract.case_ref,  # type: ignore[call-overload]
            InvoiceCheck.period_from,
            InvoiceCheck.period_to,
            InvoiceCheck.invoiced,
            InvoiceCheck.expected,
            InvoiceCheck.deviation,
            InvoiceCheck.deviation_pct,
            InvoiceCheck.status,
            credited_sql(credited),
        )
        .join(Contract, col(Contract.id) == InvoiceCheck.contract_id)
        .outerjoin(credited, credits_of(credited))
        .where(
            InvoiceCheck.provider_id == provider_id,
            col(InvoiceCheck.flagged).is_(True),
            not_voided_sql(InvoiceCheck),
        )
        .order_by(col(InvoiceCheck.period_from).desc())
        .limit(limit)
    ).all()

    def netted(row: Any) -> tuple[Any, ...]:
        credit = _money(row[9])
        if not credit:
            return tuple(row[:9])
        net = net_deviation(_money(row[6]), credit)
        return (*row[:6], net, deviation_pct(net, _money(row[5])), row[8])

    return pd.DataFrame(
        [netted(r) for r in rows],
        columns=[
            "invoice_no",
            "case_ref",
            "period_from",
            "period_to",
            "invoiced",
            "expected",
            "deviation",
            "deviation_pct",
            "status",
        ],
    )
