"""Counts and demo-data housekeeping for the start page."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    OPEN_INVOICE_STATUSES,
    AuditEvent,
    Budget,
    Contract,
    ContractStatus,
    FollowUp,
    InvoiceCheck,
    Offer,
    PriceCategorySet,
    Provider,
    RegulationRate,
    Setting,
)
from services.price_timeline import mark_stale

DEMO_AUTHOR = "demo"


@dataclass(frozen=True)
class RegisterCounts:
    providers: int
    offers: int
    contracts: int
    active_contracts: int
    invoice_checks: int
    open_deviations: int
    overdue_followups: int


def _count(session: Session, query: sa.Select) -> int:
    return int(session.exec(query).one())  # type: ignore[call-overload]


def register_counts(*, session: Session, today: date | None = None) -> RegisterCounts:
    """How many rows the main registers hold, counted in SQL."""
    today = today or date.today()
    count = sa.func.count()
    return RegisterCounts(
        providers=_count(session, select(count).select_from(Provider)),
        offers=_count(session, select(count).select_from(Offer)),
        contracts=_count(session, select(count).select_from(Contract)),
        active_contracts=_count(
            session,
            select(count).select_from(Contract).where(Contract.status == ContractStatus.ACTIVE),
        ),
        invoice_checks=_count(session, select(count).select_from(InvoiceCheck)),
        open_deviations=_count(
            session,
            select(count)
            .select_from(InvoiceCheck)
            .where(
                col(InvoiceCheck.flagged).is_(True),
                col(InvoiceCheck.status).in_(OPEN_INVOICE_STATUSES),
            ),
        ),
        overdue_followups=_count(
            session,
            select(count)
            .select_from(FollowUp)
            .where(col(FollowUp.done_date).is_(None), FollowUp.due_date < today),
        ),
    )


def dataset_kind(*, session: Session) -> str | None:
    """'demo' or 'large' when the database holds seeded demo data, else None."""
    row = session.get(Setting, "dataset")
    return row.value if row else None


def remove_demo_data(*, session: Session, user: str) -> int:
    """Delete the demo providers with everything that hangs on them, and demo reference data."""
    demo_ids = select(Provider.id).where(col(Provider.is_demo).is_(True))
    removed = _count(
        session,
        select(sa.func.count()).select_from(Provider).where(col(Provider.is_demo).is_(True)),
    )
    # Child rows go by ON DELETE CASCADE from contract/provider; contracts reference the provider
    # without cascade on purpose, so delete them explicitly first.
    session.execute(sa.delete(Contract).where(col(Contract.provider_id).in_(demo_ids)))
    session.execute(sa.delete(InvoiceCheck).where(col(InvoiceCheck.provider_id).in_(demo_ids)))
    session.execute(sa.delete(Provider).where(col(Provider.is_demo).is_(True)))
    demo_sets = col(PriceCategorySet.is_demo).is_(True)
    session.execute(sa.delete(PriceCategorySet).where(demo_sets))
    session.execute(sa.delete(Budget).where(col(Budget.is_demo).is_(True)))
    # Index rates carry no demo flag; the seeder signs every row it writes as "demo".
    session.execute(sa.delete(RegulationRate).where(RegulationRate.created_by == DEMO_AUTHOR))
    session.execute(sa.delete(Setting).where(Setting.key == "dataset"))
    mark_stale(session.connection())  # index rates and category sets went by Core
    session.add(
        AuditEvent(
            who=user,
            action="delete",
            entity="demo",
            entity_id="*",
            changes=f'{{"providers": {removed}}}',
        )
    )
    session.commit()
    return removed
