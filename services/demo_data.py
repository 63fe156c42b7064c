"""The seeded demo data: which data set the database holds, and removing it."""

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Budget,
    Contract,
    InvoiceCheck,
    OfferTargetGroup,
    PriceCategorySet,
    Provider,
    RegulationRate,
    Setting,
    TargetGroup,
)
from services.audit import record_change
from services.price_timeline import mark_stale
from services.unit_of_work import action, flush

DEMO_AUTHOR = "demo"


def dataset_kind(*, session: Session) -> str | None:
    """'demo' or 'large' when the database holds seeded demo data, else None."""
    row = session.get(Setting, "dataset")
    return row.value if row else None


@action
def remove_demo_data(*, session: Session, user: str) -> int:
    """Delete the demo providers with everything that hangs on them, and demo reference data."""
    demo_ids = select(Provider.id).where(col(Provider.is_demo).is_(True))
    count = select(sa.func.count()).select_from(Provider).where(col(Provider.is_demo).is_(True))
    removed = int(session.exec(count).one())
    # Child rows go by ON DELETE CASCADE from contract/provider; contracts reference the provider
    # without cascade on purpose, so delete them explicitly first.
    session.execute(sa.delete(Contract).where(col(Contract.provider_id).in_(demo_ids)))
    session.execute(sa.delete(InvoiceCheck).where(col(InvoiceCheck.provider_id).in_(demo_ids)))
    session.execute(sa.delete(Provider).where(col(Provider.is_demo).is_(True)))
    demo_sets = col(PriceCategorySet.is_demo).is_(True)
    session.execute(sa.delete(PriceCategorySet).where(demo_sets))
    session.execute(sa.delete(Budget).where(col(Budget.is_demo).is_(True)))
    # Index rates and target groups carry no demo flag; the seeder signs every row it writes as
    # "demo". A demo target group that one of the user's own offers has stays on the list.
    session.execute(sa.delete(RegulationRate).where(col(RegulationRate.created_by) == DEMO_AUTHOR))
    in_use = select(OfferTargetGroup.target_group_id)
    session.execute(
        sa.delete(TargetGroup).where(
            col(TargetGroup.created_by) == DEMO_AUTHOR, col(TargetGroup.id).not_in(in_use)
        )
    )
    session.execute(sa.delete(Setting).where(col(Setting.key) == "dataset"))
    mark_stale(session.connection())  # index rates and category sets went by Core
    # The deletes above went by SQL, past the audit listener: one event says what went.
    record_change(
        session=session,
        action="delete",
        entity="demo",
        entity_id="*",
        changes={"providers": (removed, 0)},
    )
    flush(session)
    return removed
