"""Notice deadline, checklist completeness and contract alerts (SPEC 4.6)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from models.contract import CHECKLIST_ITEMS
from models.enums import ContractStatus


def notice_deadline(end_date: date | None, notice_days: int) -> date | None:
    """The last day to give notice: end date − notice days (None without an end date)."""
    if end_date is None:
        return None
    return end_date - timedelta(days=notice_days)


def checklist_completeness(checks: Mapping[str, bool]) -> Decimal:
    """Share of the eight standard-contract checklist points that are checked (0–1)."""
    checked = sum(1 for key in CHECKLIST_ITEMS if checks.get(key))
    return Decimal(checked) / Decimal(len(CHECKLIST_ITEMS))


def checklist_of(contract: object) -> dict[str, bool]:
    return {key: bool(getattr(contract, key)) for key in CHECKLIST_ITEMS}


@dataclass(frozen=True)
class AlertHorizons:
    renegotiation_days: int = 60
    notice_days: int = 90


@dataclass(frozen=True)
class Alert:
    kind: str  # genforhandling, opsigelse, opfoelgning, tjekliste, afvigelse, kategori
    text: str
    due: date | None = None


@dataclass(frozen=True)
class ContractFacts:
    """What the alert rules need to know about one contract."""

    status: ContractStatus | str
    renegotiation_date: date | None
    end_date: date | None
    notice_days: int
    checklist_checked: int
    overdue_followups: int = 0
    open_deviations: int = 0
    over_visitation_category: bool = False


def contract_alerts(
    facts: ContractFacts, today: date, horizons: AlertHorizons = AlertHorizons()
) -> list[Alert]:
    """The alerts of SPEC 4.6 for one contract, in order of urgency."""
    alerts: list[Alert] = []
    live = ContractStatus(facts.status) in (ContractStatus.ACTIVE, ContractStatus.TERMINATED)
    if (
        live
        and facts.renegotiation_date is not None
        and (facts.renegotiation_date <= today + timedelta(days=horizons.renegotiation_days))
    ):
        when = "overskredet" if facts.renegotiation_date < today else "nærmer sig"
        alerts.append(
            Alert("genforhandling", f"Genforhandlingsdato {when}", facts.renegotiation_date)
        )
    deadline = notice_deadline(facts.end_date, facts.notice_days)
    if (
        ContractStatus(facts.status) == ContractStatus.ACTIVE
        and deadline is not None
        and today <= deadline <= today + timedelta(days=horizons.notice_days)
    ):
        alerts.append(
            Alert("opsigelse", f"Opsigelsesfrist inden for {horizons.notice_days} dage", deadline)
        )
    if facts.overdue_followups:
        alerts.append(Alert("opfoelgning", f"{facts.overdue_followups} opfølgning(er) overskredet"))
    if ContractStatus(facts.status) == ContractStatus.ACTIVE and facts.checklist_checked < len(
        CHECKLIST_ITEMS
    ):
        alerts.append(
            Alert(
                "tjekliste",
                f"Tjekliste ufuldstændig ({facts.checklist_checked}/{len(CHECKLIST_ITEMS)})",
            )
        )
    if facts.open_deviations:
        alerts.append(Alert("afvigelse", f"{facts.open_deviations} åben(e) fakturaafvigelse(r)"))
    if facts.over_visitation_category:
        alerts.append(Alert("kategori", "Over visiteret priskategori"))
    return alerts
