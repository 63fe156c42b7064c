"""The working group's quarterly report: key figures, deviations, deadlines, concentration.

`quarter_report` gathers everything for one quarter (queries aggregate in SQL; see
services.queries.overview); services.exports.report turns it into an Excel workbook with one
sheet per section and a printable page with inline SVG charts (no scripts, works offline).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col

from models import (
    AlertKind,
    Contract,
    FollowUp,
    InvoiceCheck,
    Provider,
    label,
)
from models.types import round_ore
from services.quarters import Quarter
from services.queries.overview import (
    ZERO,
    Snapshot,
    alert_counts,
    data_years,
    invoiced_between,
    plain_rows,
    provider_spend,
    savings_between,
    snapshot,
    threshold_text,
)
from services.rules.alerts import ALERTS
from services.rules.cadence import was_overdue_sql_parts
from services.rules.deviations import (
    CLOSED_INVOICE_STATUSES,
    credited_per_invoice,
    credited_sql,
    credits_of,
    deviation_pct,
    net_deviation,
)
from services.rules.notice import notice_deadline, notice_deadline_between_sql
from services.rules.voiding import not_voided_sql


def _statuses(kind: AlertKind) -> list[str]:
    """The contract statuses an alert applies to (the alert table's), for a query."""
    return sorted(status.value for status in ALERTS[kind].statuses)


# --- Quarters -------------------------------------------------------------------------------


def available_quarters(*, session: Session, today: date | None = None) -> list[Quarter]:
    """Quarters a report can be made for, newest first: from the first data to this quarter."""
    today = today or date.today()
    first_year = min(data_years(session=session, today=today))
    current = Quarter.of(today)
    quarters = []
    quarter = current
    while quarter.year >= first_year:
        quarters.append(quarter)
        quarter = quarter.previous()
    return quarters


def default_quarter(today: date | None = None) -> Quarter:
    """The last completed quarter: the one the working group meets about."""
    return Quarter.of(today or date.today()).previous()


# --- The report -----------------------------------------------------------------------------

MONEY = "kr."
COUNT = "antal"
PCT = "%"


@dataclass(frozen=True)
class KeyFigure:
    name: str
    unit: str  # MONEY, COUNT or PCT
    value: Decimal | int | None
    previous: Decimal | int | None
    better: str | None = None  # "up" or "down" when a rise is good or bad news; None: neutral
    help: str | None = None

    @property
    def change(self) -> Decimal | int | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True)
class QuarterReport:
    quarter: Quarter
    as_of: date  # quarter end, or today while the quarter runs
    previous_as_of: date
    complete: bool
    key_figures: list[KeyFigure]
    deviations_logged: pd.DataFrame
    deviations_resolved: pd.DataFrame
    renegotiations: pd.DataFrame  # renegotiation dates in the next quarter
    notice_deadlines: pd.DataFrame  # notice deadlines in the next quarter
    overdue_followups: pd.DataFrame
    expensive_cases: pd.DataFrame
    concentration: pd.DataFrame  # invoiced per provider in the quarter, largest first
    top5_share: Decimal | None
    savings: pd.DataFrame  # renegotiations effective in the quarter
    large_case_threshold: Decimal
    alerts: pd.DataFrame  # contracts per alert kind today (the alert table, SPEC 4.6)
    alerts_on: date  # the day the alerts are counted: the report's day

    @property
    def savings_total(self) -> Decimal:
        return sum(self.savings["Besparelse pr. år"], ZERO)

    def figure(self, name: str) -> KeyFigure:
        return next(f for f in self.key_figures if f.name == name)


DEVIATION_COLUMNS = [
    "Sag",
    "Leverandør",
    "Fakturanr.",
    "Periode fra",
    "Periode til",
    "Faktureret",
    "Krediteret",
    "Forventet",
    "Afvigelse",
    "Afvigelse %",
    "Status",
    "Registreret",
    "Løst",
]


def _deviations(session: Session, condition: sa.ColumnElement[bool], on: date) -> pd.DataFrame:
    """Deviations in the condition (voided checks left out), net of the credit notes registered
    by `on`: "Afvigelse" is the deviation after them (services.rules.deviations)."""
    credited = credited_per_invoice(on)
    query = (
        sa.select(
            col(Contract.case_ref),
            col(Provider.name),
            col(InvoiceCheck.invoice_no),
            col(InvoiceCheck.period_from),
            col(InvoiceCheck.period_to),
            col(InvoiceCheck.invoiced),
            credited_sql(credited),
            col(InvoiceCheck.expected),
            col(InvoiceCheck.deviation),
            col(InvoiceCheck.deviation_pct),
            col(InvoiceCheck.status),
            col(InvoiceCheck.checked_on),
            col(InvoiceCheck.resolved_on),
        )
        .join(Contract, col(Contract.id) == InvoiceCheck.contract_id)
        .join(Provider, col(Provider.id) == InvoiceCheck.provider_id)
        .outerjoin(credited, credits_of(credited))
        .where(col(InvoiceCheck.flagged).is_(True), not_voided_sql(InvoiceCheck), condition)
        .order_by(col(InvoiceCheck.checked_on), col(InvoiceCheck.id))
    )
    rows = []
    for row in plain_rows(session, query):
        credit = round_ore(Decimal(str(row[6])))
        net = net_deviation(Decimal(str(row[8])), credit)
        pct = deviation_pct(net, Decimal(str(row[7]))) if credit else row[9]
        rows.append([*row[:6], credit, row[7], net, pct, label(row[10]), row[11], row[12]])
    return pd.DataFrame(rows, columns=DEVIATION_COLUMNS)


def _renegotiations_in(session: Session, first: date, last: date) -> pd.DataFrame:
    query = (
        sa.select(
            col(Contract.case_ref),
            col(Provider.name),
            col(Contract.paragraph),
            col(Contract.renegotiation_date),
            col(Contract.status),
        )
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(
            col(Contract.status).in_(_statuses(AlertKind.RENEGOTIATION)),
            col(Contract.renegotiation_date) >= first,
            col(Contract.renegotiation_date) <= last,
        )
        .order_by(col(Contract.renegotiation_date), col(Contract.case_ref))
    )
    rows = [
        [case_ref, provider, label(paragraph), when, label(status)]
        for case_ref, provider, paragraph, when, status in plain_rows(session, query)
    ]
    return pd.DataFrame(
        rows, columns=["Sag", "Leverandør", "Paragraf", "Genforhandlingsdato", "Status"]
    )


def _notice_deadlines_in(session: Session, first: date, last: date) -> pd.DataFrame:
    query = (
        sa.select(
            col(Contract.case_ref),
            col(Provider.name),
            col(Contract.paragraph),
            col(Contract.end_date),
            col(Contract.notice_days),
        )
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(
            col(Contract.status).in_(_statuses(AlertKind.NOTICE)),
            notice_deadline_between_sql(first, last),
        )
    )
    rows = [
        [case_ref, provider, label(paragraph), end, notice, notice_deadline(end, notice)]
        for case_ref, provider, paragraph, end, notice in plain_rows(session, query)
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "Sag",
            "Leverandør",
            "Paragraf",
            "Slutdato",
            "Opsigelsesvarsel (dage)",
            "Opsigelsesfrist",
        ],
    )
    return frame.sort_values(["Opsigelsesfrist", "Sag"], ignore_index=True)


def _overdue_followups_at(session: Session, on: date) -> pd.DataFrame:
    """Follow-ups due before `on` and not done by then (done later, or not at all)."""
    columns = (
        col(Contract.case_ref),
        col(Provider.name),
        col(Contract.paragraph),
        col(FollowUp.kind),
        col(FollowUp.due_date),
        col(FollowUp.done_date),
    )
    base = (
        sa.select(*columns)
        .join(Contract, col(Contract.id) == FollowUp.contract_id)
        .join(Provider, col(Provider.id) == Contract.provider_id)
    )
    # Two queries, so each can use the (done_date, due_date) index: a combined OR makes the
    # planner walk every earlier due date instead.
    rows = [
        [case_ref, provider, label(paragraph), label(kind), due, (on - due).days]
        for query in (base.where(part) for part in was_overdue_sql_parts(on))
        for case_ref, provider, paragraph, kind, due, _done in plain_rows(session, query)
    ]
    frame = pd.DataFrame(
        rows, columns=["Sag", "Leverandør", "Paragraf", "Type", "Forfaldsdato", "Dage over"]
    )
    return frame.sort_values(["Forfaldsdato", "Sag"], ignore_index=True)


def _concentration(spend: pd.DataFrame) -> pd.DataFrame:
    frame = spend[["Leverandør", "Leverandørtype", "Faktureret", "Andel"]].copy()
    whole = sum(frame["Faktureret"], ZERO)
    running = ZERO
    cumulative = []
    for amount in frame["Faktureret"]:
        running += amount
        cumulative.append(round_ore(running * 100 / whole) if whole else None)
    frame.insert(0, "Nr.", range(1, len(frame) + 1))
    frame["Kumuleret andel"] = cumulative
    return frame


def _key_figures(
    now: Snapshot,
    before: Snapshot,
    invoiced_now: Decimal,
    invoiced_before: Decimal,
    saved_now: Decimal,
    saved_before: Decimal,
) -> list[KeyFigure]:
    p, q = now.portfolio, before.portfolio
    threshold = threshold_text(now.large_case_threshold)
    return [
        KeyFigure("Kontrakter i kraft", COUNT, p.active_contracts, q.active_contracts),
        KeyFigure("Forventet årsudgift", MONEY, p.annual_spend, q.annual_spend),
        KeyFigure("Gns. årsudgift pr. sag", MONEY, p.average_per_case, q.average_per_case),
        KeyFigure(f"Sager over {threshold} om året", COUNT, p.large_cases, q.large_cases, "down"),
        KeyFigure("Faktureret i kvartalet", MONEY, invoiced_now, invoiced_before),
        KeyFigure("Faktureret år til dato", MONEY, now.invoiced_ytd, before.invoiced_ytd),
        KeyFigure("Årets budget", MONEY, now.budget, before.budget),
        KeyFigure("Forbrug af årets budget", PCT, now.budget_used, before.budget_used),
        KeyFigure("Leverandører i brug", COUNT, p.providers_used, q.providers_used),
        KeyFigure(
            "De 5 største leverandørers andel",
            PCT,
            now.top5_share,
            before.top5_share,
            help="Andel af det fakturerede i kvartalet, der går til de fem største leverandører.",
        ),
        KeyFigure(
            "Egen drift",
            PCT,
            p.own_share,
            q.own_share,
            help="Kommunens egne tilbuds andel af den forventede årsudgift.",
        ),
        KeyFigure("Åbne afvigelser", COUNT, now.open_deviations, before.open_deviations, "down"),
        KeyFigure(
            "Åbne afvigelser, beløb",
            MONEY,
            now.open_deviation_amount,
            before.open_deviation_amount,
            "down",
        ),
        KeyFigure(
            "Opfølgninger til tiden",
            PCT,
            now.on_time_share,
            before.on_time_share,
            "up",
            help="Andel af opfølgningerne med forfald de seneste 12 måneder, der blev udført "
            "senest på forfaldsdagen.",
        ),
        KeyFigure(
            "Overskredne opfølgninger",
            COUNT,
            now.overdue_followups,
            before.overdue_followups,
            "down",
        ),
        KeyFigure(
            "Standardkontrakter",
            PCT,
            now.quality.standard_share,
            before.quality.standard_share,
            "up",
        ),
        KeyFigure(
            "Tjekliste udfyldt",
            PCT,
            now.quality.checklist_completeness,
            before.quality.checklist_completeness,
            "up",
        ),
        KeyFigure(
            "Sparet ved genforhandling",
            MONEY,
            saved_now,
            saved_before,
            "up",
            help="Årlig effekt (pris før − ny pris) af genforhandlinger med virkning i kvartalet.",
        ),
    ]


def quarter_report(
    *, session: Session, quarter: Quarter, today: date | None = None
) -> QuarterReport:
    """Everything the working group's quarterly meeting looks at, for one quarter.

    Figures are taken at the quarter's end (today while it runs) and compared with the end of
    the quarter before. Contracts count when in force on the day (see key_figures.in_force).
    """
    today = today or date.today()
    as_of = min(quarter.end, today)
    before = quarter.previous()
    previous_as_of = min(before.end, today)
    # Provider spend is taken over each quarter: concentration and invoiced in the quarter.
    spend_now = provider_spend(session=session, first=quarter.start, last=as_of)
    spend_before = provider_spend(session=session, first=before.start, last=previous_as_of)
    invoiced_now = sum(spend_now["Faktureret"], ZERO)
    invoiced_before = sum(spend_before["Faktureret"], ZERO)
    if quarter.number == 1:
        ytd_now = invoiced_now
        ytd_before = invoiced_between(
            session=session, first=date(before.year, 1, 1), last=previous_as_of
        )
    else:  # the year so far at the previous quarter's end, plus this quarter
        ytd_before = invoiced_between(
            session=session, first=date(quarter.year, 1, 1), last=previous_as_of
        )
        ytd_now = ytd_before + invoiced_now
    now_shot = snapshot(
        session=session,
        as_of=as_of,
        historical=True,
        invoiced_ytd=ytd_now,
        spend_from=quarter.start,
        spend=spend_now,
    )
    before_shot = snapshot(
        session=session,
        as_of=previous_as_of,
        historical=True,
        invoiced_ytd=ytd_before,
        spend_from=before.start,
        spend=spend_before,
        cases=False,
    )
    savings = savings_between(session=session, first=quarter.start, last=as_of)
    saved_before = sum(
        savings_between(session=session, first=before.start, last=previous_as_of)[
            "Besparelse pr. år"
        ],
        ZERO,
    )
    following = quarter.next()
    in_quarter_logged = sa.and_(
        col(InvoiceCheck.checked_on) >= quarter.start, col(InvoiceCheck.checked_on) <= as_of
    )
    in_quarter_resolved = sa.and_(
        col(InvoiceCheck.status).in_(CLOSED_INVOICE_STATUSES),
        col(InvoiceCheck.resolved_on) >= quarter.start,
        col(InvoiceCheck.resolved_on) <= as_of,
    )
    alert_total, alert_kinds = alert_counts(session=session, today=today)
    alerts = pd.DataFrame(
        [[rule.label, alert_kinds[rule.kind]] for rule in ALERTS.values()]
        + [["Kontrakter med mindst én advarsel", alert_total]],
        columns=["Advarsel", "Kontrakter"],
    )
    return QuarterReport(
        alerts=alerts,
        alerts_on=today,
        quarter=quarter,
        as_of=as_of,
        previous_as_of=previous_as_of,
        complete=quarter.end < today,
        key_figures=_key_figures(
            now_shot,
            before_shot,
            invoiced_now,
            invoiced_before,
            sum(savings["Besparelse pr. år"], ZERO),
            saved_before,
        ),
        deviations_logged=_deviations(session, in_quarter_logged, as_of),
        deviations_resolved=_deviations(session, in_quarter_resolved, as_of),
        renegotiations=_renegotiations_in(session, following.start, following.end),
        notice_deadlines=_notice_deadlines_in(session, following.start, following.end),
        overdue_followups=_overdue_followups_at(session, as_of),
        expensive_cases=now_shot.expensive_cases.drop(columns="contract_id"),
        concentration=_concentration(now_shot.provider_spend),
        top5_share=now_shot.top5_share,
        savings=savings,
        large_case_threshold=now_shot.large_case_threshold,
    )
