"""Contract alerts (SPEC 4.6): one table, used by every screen, export and count.

Each alert is one row of ALERT_RULES: its code (AlertKind), Danish label and short label, rank,
the contract statuses it applies to, its Python predicate over one contract's facts and its SQL
condition over the same facts as columns, and the date it sorts by. Kontrakter, the contract
page, Overblik, Kvartalsrapport and their exports all take alerts, labels and order from here.
Most urgent first: by rank, then by the date of the most urgent alert, then by case reference.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from models.contract import Contract, ContractPricePeriod
from models.enums import AlertKind, ContractStatus
from services.rules.cadence import overdue_per_contract
from services.rules.checklist import CHECKLIST_SIZE, checked_count_sql
from services.rules.deviations import open_deviations_per_contract
from services.rules.notice import (
    day_no,
    notice_deadline,
    notice_deadline_sql,
    notice_near,
    notice_near_sql,
    renegotiation_due,
    renegotiation_due_sql,
    renegotiation_overdue,
)
from services.sql import date_of, day_number

ACTIVE = frozenset({ContractStatus.ACTIVE})
# "Live": the citizen still lives there until the end date.
LIVE = frozenset({ContractStatus.ACTIVE, ContractStatus.TERMINATED})
NOT_DRAFT = frozenset(set(ContractStatus) - {ContractStatus.DRAFT})
NO_DUE = 10**9  # a day number after every real date: an alert without a date sorts last


@dataclass(frozen=True)
class AlertHorizons:
    """How far ahead the deadline alerts look (settings)."""

    renegotiation_days: int = 60
    notice_days: int = 90


@dataclass(frozen=True)
class ContractFacts:
    """What the alert rules need to know about one contract."""

    status: ContractStatus | str
    renegotiation_date: date | None
    end_date: date | None
    notice_days: int
    checklist_checked: int
    overdue_followups: int = 0
    oldest_overdue: date | None = None
    open_deviations: int = 0
    oldest_open_deviation: date | None = None
    over_visitation_category: bool = False


@dataclass(frozen=True)
class FactColumns:
    """The same facts as SQL columns of a query over Contract joined by `join_facts`."""

    overdue_n: Any
    overdue_oldest: Any
    open_n: Any
    open_oldest: Any
    above_visitation: Any
    checked: Any

    def labelled(self) -> list[Any]:
        """The fact columns with labels, plus the contract's own facts, for a SELECT whose rows
        `facts_from_row` reads."""
        return [
            col(Contract.status).label("status"),
            col(Contract.renegotiation_date).label("renegotiation_date"),
            col(Contract.end_date).label("end_date"),
            col(Contract.notice_days).label("notice_days"),
            self.checked.label("checked"),
            self.overdue_n.label("overdue"),
            self.overdue_oldest.label("overdue_oldest"),
            self.open_n.label("open_dev"),
            self.open_oldest.label("open_oldest"),
            self.above_visitation.label("above"),
        ]


def facts_from_row(row: Any, *, over_visitation: bool | None = None) -> ContractFacts:
    """The facts of one contract from a row selected with FactColumns.labelled(). The category
    fact is the stored one unless `over_visitation` gives it (computed from today's price)."""
    return ContractFacts(
        status=row.status,
        renegotiation_date=row.renegotiation_date,
        end_date=row.end_date,
        notice_days=row.notice_days,
        checklist_checked=int(row.checked),
        overdue_followups=int(row.overdue),
        oldest_overdue=date_of(row.overdue_oldest),
        open_deviations=int(row.open_dev),
        oldest_open_deviation=date_of(row.open_oldest),
        over_visitation_category=bool(row.above) if over_visitation is None else over_visitation,
    )


@dataclass(frozen=True)
class Alert:
    """One alert raised on one contract."""

    kind: AlertKind
    text: str
    due: date | None
    rank: int


@dataclass(frozen=True)
class AlertRule:
    kind: AlertKind
    rank: int
    label: str
    short_label: str
    statuses: frozenset[ContractStatus]
    raised: Callable[[ContractFacts, date, AlertHorizons], bool]
    raised_sql: Callable[[FactColumns, date, AlertHorizons], sa.ColumnElement[bool]]
    due: Callable[[ContractFacts], date | None]
    due_sql: Callable[[FactColumns], Any]  # a day number (services.sql.day_number) or NULL
    text: Callable[[ContractFacts, date], str]
    help: Callable[[AlertHorizons], str]  # when it is raised, in Danish, for the screens


def _label_with_count(label: str, count: int) -> str:
    return f"{label} ({count})" if count > 1 else label


ALERT_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        kind=AlertKind.NOTICE,
        rank=1,
        label="Opsigelsesfrist nærmer sig",
        short_label="Opsigelse",
        statuses=ACTIVE,
        raised=lambda f, today, h: notice_near(
            notice_deadline(f.end_date, f.notice_days), today, h.notice_days
        ),
        raised_sql=lambda c, today, h: notice_near_sql(today, h.notice_days),
        due=lambda f: notice_deadline(f.end_date, f.notice_days),
        due_sql=lambda c: notice_deadline_sql(),
        text=lambda f, today: "Opsigelsesfrist nærmer sig",
        help=lambda h: f"Slutdato minus opsigelsesvarsel falder inden for {h.notice_days} dage",
    ),
    AlertRule(
        kind=AlertKind.RENEGOTIATION,
        rank=2,
        label="Genforhandling nærmer sig / overskredet",
        short_label="Genforhandling",
        statuses=ACTIVE,
        raised=lambda f, today, h: renegotiation_due(
            f.renegotiation_date, today, h.renegotiation_days
        ),
        raised_sql=lambda c, today, h: renegotiation_due_sql(today, h.renegotiation_days),
        due=lambda f: f.renegotiation_date,
        due_sql=lambda c: day_number(Contract.renegotiation_date),
        text=lambda f, today: (
            "Genforhandling overskredet"
            if renegotiation_overdue(f.renegotiation_date, today)
            else "Genforhandling nærmer sig"
        ),
        help=lambda h: (
            f"Genforhandlingsdatoen er passeret eller falder inden for {h.renegotiation_days} dage"
        ),
    ),
    AlertRule(
        kind=AlertKind.FOLLOW_UP,
        rank=3,
        label="Opfølgning overskredet",
        short_label="Opfølgning",
        statuses=LIVE,
        raised=lambda f, today, h: f.overdue_followups > 0,
        raised_sql=lambda c, today, h: c.overdue_n > 0,
        due=lambda f: f.oldest_overdue,
        due_sql=lambda c: day_number(c.overdue_oldest),
        text=lambda f, today: _label_with_count("Opfølgning overskredet", f.overdue_followups),
        help=lambda h: "En planlagt opfølgning er ikke registreret som udført inden forfald",
    ),
    AlertRule(
        kind=AlertKind.DEVIATION,
        rank=4,
        label="Åbne fakturaafvigelser",
        short_label="Afvigelse",
        statuses=NOT_DRAFT,
        raised=lambda f, today, h: f.open_deviations > 0,
        raised_sql=lambda c, today, h: c.open_n > 0,
        due=lambda f: f.oldest_open_deviation,
        due_sql=lambda c: day_number(c.open_oldest),
        text=lambda f, today: _label_with_count("Åbne fakturaafvigelser", f.open_deviations),
        help=lambda h: "En markeret faktura er hverken løst eller accepteret",
    ),
    AlertRule(
        kind=AlertKind.CATEGORY,
        rank=5,
        label="Over visiteret priskategori",
        short_label="Kategori",
        statuses=LIVE,
        raised=lambda f, today, h: f.over_visitation_category,
        raised_sql=lambda c, today, h: c.above_visitation,
        due=lambda f: None,
        due_sql=lambda c: sa.null(),
        text=lambda f, today: "Over visiteret priskategori",
        help=lambda h: "Prisen i dag ligger i en højere priskategori end den visiterede",
    ),
    AlertRule(
        kind=AlertKind.CHECKLIST,
        rank=6,
        label="Tjekliste ufuldstændig",
        short_label="Tjekliste",
        statuses=ACTIVE,
        raised=lambda f, today, h: f.checklist_checked < CHECKLIST_SIZE,
        raised_sql=lambda c, today, h: c.checked < CHECKLIST_SIZE,
        due=lambda f: None,
        due_sql=lambda c: sa.null(),
        text=lambda f, today: f"Tjekliste ufuldstændig ({f.checklist_checked}/{CHECKLIST_SIZE})",
        help=lambda h: f"Færre end {CHECKLIST_SIZE} af standardkontraktens punkter er afkrydset",
    ),
)
ALERTS: dict[AlertKind, AlertRule] = {rule.kind: rule for rule in ALERT_RULES}


def alert_label(kind: AlertKind | str) -> str:
    return ALERTS[AlertKind(kind)].label


def alert_short_label(kind: AlertKind | str) -> str:
    return ALERTS[AlertKind(kind)].short_label


def alert_short_labels(kinds: Iterable[AlertKind | str]) -> str:
    """Short labels of several alerts for one table cell, in the given order."""
    return ", ".join(alert_short_label(kind) for kind in kinds)


# --- Python: one contract -------------------------------------------------------------------


def contract_alerts(
    facts: ContractFacts, today: date, horizons: AlertHorizons = AlertHorizons()
) -> list[Alert]:
    """The alerts of one contract, most urgent first (by rank)."""
    status = ContractStatus(facts.status)
    return [
        Alert(rule.kind, rule.text(facts, today), rule.due(facts), rule.rank)
        for rule in ALERT_RULES
        if status in rule.statuses and rule.raised(facts, today, horizons)
    ]


def urgency(alerts: list[Alert]) -> tuple[int, date]:
    """Sort key of a contract with these alerts: the most urgent alert's rank, then its date
    (no date sorts last)."""
    if not alerts:
        return (len(ALERT_RULES) + 1, date.max)
    first = alerts[0]
    return (first.rank, first.due or date.max)


# --- SQL: many contracts --------------------------------------------------------------------


def above_visitation_on(day: date) -> Any:
    """Subquery: the contracts whose stored price period of `day` is above their visitation
    category (services.rules.categories.above_visitation, stored by services.price_timeline;
    found through a partial index)."""
    return (
        select(col(ContractPricePeriod.contract_id).label("contract_id"))
        .where(
            col(ContractPricePeriod.above_visitation) == sa.true(),
            col(ContractPricePeriod.valid_from) <= day,
            col(ContractPricePeriod.valid_to) >= day,
        )
        .subquery("above")
    )


def join_facts(selectable: Any, today: date) -> tuple[Any, FactColumns]:
    """Outer-join to `selectable` (which holds Contract) what the alerts need: overdue
    follow-ups, open deviations and today's stored price period. The stored periods must hold
    `today` (services.price_timeline.ensure_price_timeline)."""
    overdue = overdue_per_contract(today)
    open_dev = open_deviations_per_contract()
    above = above_visitation_on(today)
    joined = (
        selectable.outerjoin(overdue, overdue.c.contract_id == Contract.id)
        .outerjoin(open_dev, open_dev.c.contract_id == Contract.id)
        .outerjoin(above, above.c.contract_id == Contract.id)
    )
    columns = FactColumns(
        overdue_n=sa.func.coalesce(overdue.c.n, 0),
        overdue_oldest=overdue.c.oldest,
        open_n=sa.func.coalesce(open_dev.c.n, 0),
        open_oldest=open_dev.c.oldest,
        above_visitation=above.c.contract_id.is_not(None),
        checked=checked_count_sql(),
    )
    return joined, columns


def alert_conditions_sql(
    columns: FactColumns, today: date, horizons: AlertHorizons
) -> dict[AlertKind, sa.ColumnElement[bool]]:
    """SQL twin of `contract_alerts`: one condition per alert kind, status included."""
    status = col(Contract.status)
    return {
        rule.kind: sa.and_(
            status.in_(sorted(s.value for s in rule.statuses)),
            rule.raised_sql(columns, today, horizons),
        )
        for rule in ALERT_RULES
    }


def urgency_sql(
    columns: FactColumns, conditions: dict[AlertKind, sa.ColumnElement[bool]]
) -> tuple[Any, Any]:
    """SQL twin of `urgency`: (rank, day number of the most urgent alert's date)."""
    rank = sa.case(
        *((conditions[rule.kind], rule.rank) for rule in ALERT_RULES),
        else_=len(ALERT_RULES) + 1,
    )
    due = sa.func.coalesce(
        sa.case(*((conditions[rule.kind], rule.due_sql(columns)) for rule in ALERT_RULES)),
        NO_DUE,
    )
    return rank, due


__all__ = [
    "ALERTS",
    "ALERT_RULES",
    "Alert",
    "AlertHorizons",
    "AlertKind",
    "AlertRule",
    "ContractFacts",
    "FactColumns",
    "alert_conditions_sql",
    "alert_label",
    "alert_short_label",
    "alert_short_labels",
    "contract_alerts",
    "facts_from_row",
    "day_no",
    "join_facts",
    "urgency",
    "urgency_sql",
]
