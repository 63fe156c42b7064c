"""The working group's quarterly report: key figures, deviations, deadlines, concentration.

`quarter_report` gathers everything for one quarter (queries aggregate in SQL; see
services.queries.overview); `report_workbook` and `report_html` turn it into an Excel workbook with one
sheet per section and a printable page with inline SVG charts (no scripts, works offline).
"""

import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, col

from models import (
    Contract,
    ContractStatus,
    FollowUp,
    InvoiceCheck,
    Provider,
    label,
)
from models.types import round_ore
from services.exports.tables import INT_FORMAT, MONEY_FORMAT, PCT_FORMAT, Sheet, to_xlsx
from services.formatting import (
    format_amount,
    format_date,
    format_kr,
    format_large_kr,
    format_number,
    format_pct,
)
from services.queries.overview import (
    CLOSED_INVOICE_STATUSES,
    LIVE_STATUSES,
    ZERO,
    Snapshot,
    data_years,
    done_after,
    invoiced_between,
    plain_rows,
    provider_spend,
    savings_between,
    snapshot,
    threshold_text,
)
from services.quarters import Quarter
from services.sql import day_number

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
    "Forventet",
    "Afvigelse",
    "Afvigelse %",
    "Status",
    "Registreret",
    "Løst",
]


def _deviations(session: Session, condition: sa.ColumnElement[bool]) -> pd.DataFrame:
    query = (
        sa.select(
            Contract.case_ref,
            Provider.name,
            InvoiceCheck.invoice_no,
            InvoiceCheck.period_from,
            InvoiceCheck.period_to,
            InvoiceCheck.invoiced,
            InvoiceCheck.expected,
            InvoiceCheck.deviation,
            InvoiceCheck.deviation_pct,
            InvoiceCheck.status,
            InvoiceCheck.checked_on,
            InvoiceCheck.resolved_on,
        )
        .join(Contract, col(Contract.id) == InvoiceCheck.contract_id)
        .join(Provider, col(Provider.id) == InvoiceCheck.provider_id)
        .where(col(InvoiceCheck.flagged).is_(True), condition)
        .order_by(InvoiceCheck.checked_on, InvoiceCheck.id)
    )
    rows = [[*row[:9], label(row[9]), row[10], row[11]] for row in plain_rows(session, query)]
    return pd.DataFrame(rows, columns=DEVIATION_COLUMNS)


def _renegotiations_in(session: Session, first: date, last: date) -> pd.DataFrame:
    query = (
        sa.select(
            Contract.case_ref,
            Provider.name,
            Contract.paragraph,
            Contract.renegotiation_date,
            Contract.status,
        )
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(
            col(Contract.status).in_(LIVE_STATUSES),
            col(Contract.renegotiation_date) >= first,
            col(Contract.renegotiation_date) <= last,
        )
        .order_by(Contract.renegotiation_date, Contract.case_ref)
    )
    rows = [
        [case_ref, provider, label(paragraph), when, label(status)]
        for case_ref, provider, paragraph, when, status in plain_rows(session, query)
    ]
    return pd.DataFrame(
        rows, columns=["Sag", "Leverandør", "Paragraf", "Genforhandlingsdato", "Status"]
    )


def _notice_deadlines_in(session: Session, first: date, last: date) -> pd.DataFrame:
    deadline = day_number(Contract.end_date) - Contract.notice_days
    query = (
        sa.select(
            Contract.case_ref,
            Provider.name,
            Contract.paragraph,
            Contract.end_date,
            Contract.notice_days,
        )
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(
            col(Contract.status) == ContractStatus.ACTIVE,
            col(Contract.end_date).is_not(None),
            deadline >= day_number(sa.literal(first, sa.Date)),
            deadline <= day_number(sa.literal(last, sa.Date)),
        )
    )
    rows = [
        [case_ref, provider, label(paragraph), end, notice, end - timedelta(days=notice)]
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
        Contract.case_ref,
        Provider.name,
        Contract.paragraph,
        FollowUp.kind,
        FollowUp.due_date,
        FollowUp.done_date,
    )
    base = (
        sa.select(*columns)
        .join(Contract, col(Contract.id) == FollowUp.contract_id)
        .join(Provider, col(Provider.id) == Contract.provider_id)
    )
    # Two queries, so each can use the (done_date, due_date) index: a combined OR makes the
    # planner walk every earlier due date instead.
    not_done = base.where(col(FollowUp.done_date).is_(None), FollowUp.due_date < on)
    done_later = base.where(done_after(on), FollowUp.due_date < on)
    rows = [
        [case_ref, provider, label(paragraph), label(kind), due, (on - due).days]
        for query in (not_done, done_later)
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
    return QuarterReport(
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
        deviations_logged=_deviations(session, in_quarter_logged),
        deviations_resolved=_deviations(session, in_quarter_resolved),
        renegotiations=_renegotiations_in(session, following.start, following.end),
        notice_deadlines=_notice_deadlines_in(session, following.start, following.end),
        overdue_followups=_overdue_followups_at(session, as_of),
        expensive_cases=now_shot.expensive_cases.drop(columns="contract_id"),
        concentration=_concentration(now_shot.provider_spend),
        top5_share=now_shot.top5_share,
        savings=savings,
        large_case_threshold=now_shot.large_case_threshold,
    )


# --- Excel ----------------------------------------------------------------------------------

KEY_FIGURE_SHEET = "Nøgletal"


@dataclass(frozen=True)
class Section:
    """One section of the report as a table, with how its columns are formatted."""

    sheet: str
    title: str
    frame: pd.DataFrame
    money: Sequence[str] = ()
    dates: Sequence[str] = ()
    pct: Sequence[str] = ()
    ints: Sequence[str] = ()
    note: str = ""


def key_figure_frame(report: QuarterReport) -> pd.DataFrame:
    """The key figures as a table: value at the quarter's end, before, and the change."""
    return pd.DataFrame(
        [[f.name, f.unit, f.value, f.previous, f.change] for f in report.key_figures],
        columns=["Nøgletal", "Enhed", "Kvartalets udgang", "Forrige kvartals udgang", "Ændring"],
    )


def sections(report: QuarterReport) -> list[Section]:
    """The report's sections in order; the screen, the workbook and the printable page use it."""
    next_quarter = report.quarter.next().label
    deviation_money = ["Faktureret", "Forventet", "Afvigelse"]
    deviation_dates = ["Periode fra", "Periode til", "Registreret", "Løst"]
    return [
        Section(
            KEY_FIGURE_SHEET,
            "Nøgletal",
            key_figure_frame(report),
            note=(
                f"Sammenlignet med {format_date(report.previous_as_of)} (forrige kvartals "
                "udgang). Procenter er angivet i procent."
            ),
        ),
        Section(
            "Afvigelser logget",
            "Fakturaafvigelser logget i kvartalet",
            report.deviations_logged,
            money=deviation_money,
            dates=deviation_dates,
            pct=["Afvigelse %"],
            note="Fakturaer over den regulerede kontraktpris, registreret i kvartalet.",
        ),
        Section(
            "Afvigelser løst",
            "Fakturaafvigelser løst eller accepteret i kvartalet",
            report.deviations_resolved,
            money=deviation_money,
            dates=deviation_dates,
            pct=["Afvigelse %"],
        ),
        Section(
            "Genforhandlinger",
            f"Genforhandlinger i {next_quarter}",
            report.renegotiations,
            dates=["Genforhandlingsdato"],
            note="Aktive og opsagte kontrakter med genforhandlingsdato i næste kvartal.",
        ),
        Section(
            "Opsigelsesfrister",
            f"Opsigelsesfrister i {next_quarter}",
            report.notice_deadlines,
            dates=["Slutdato", "Opsigelsesfrist"],
            ints=["Opsigelsesvarsel (dage)"],
            note="Opsigelsesfrist = slutdato − opsigelsesvarsel.",
        ),
        Section(
            "Overskredne opfølgninger",
            "Overskredne opfølgninger",
            report.overdue_followups,
            dates=["Forfaldsdato"],
            ints=["Dage over"],
            note=f"Forfaldne før {format_date(report.as_of)} og ikke udført pr. den dag.",
        ),
        Section(
            "Dyreste sager",
            "De 10 dyreste sager",
            report.expensive_cases,
            money=["Dagstakst", "Årsudgift"],
            note="Årsudgift = reguleret pris inkl. tillæg × 365 dagsækvivalenter.",
        ),
        Section(
            "Leverandørkoncentration",
            "Leverandørkoncentration",
            report.concentration,
            money=["Faktureret"],
            pct=["Andel", "Kumuleret andel"],
            ints=["Nr."],
            note=(
                "Faktureret i kvartalet pr. leverandør. De 5 største leverandørers andel: "
                f"{format_pct(report.top5_share) or '–'}."
            ),
        ),
        Section(
            "Besparelser",
            "Besparelser ved genforhandling",
            report.savings,
            money=["Pris før", "Ny pris", "Besparelse pr. år"],
            dates=["Ikrafttræden"],
            note="Årlig effekt af genforhandlinger med virkning i kvartalet: (før − ny) pr. år.",
        ),
    ]


def _notes(report: QuarterReport, section: Section) -> tuple[str, ...]:
    stamp = f"Opgjort pr. {format_date(report.as_of)}."
    return (stamp, section.note) if section.note else (stamp,)


def report_workbook(report: QuarterReport) -> bytes:
    """The report as an Excel workbook: one sheet per section, Danish names, numbers as numbers."""
    heading = f"Kvartalsrapport {report.quarter.label}"
    parts = sections(report)
    sheets = [
        Sheet(
            section.sheet,
            section.frame,
            money=section.money,
            dates=section.dates,
            pct=section.pct,
            ints=section.ints,
            title=f"{heading} – {section.title}",
            notes=_notes(report, section),
        )
        for section in parts
    ]
    data = to_xlsx(sheets)
    # The key-figure sheet mixes amounts, counts and percentages in one column: format per row.
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook[KEY_FIGURE_SHEET]
    header_row = len(_notes(report, parts[0])) + 3  # title, notes, a blank row, then the header
    formats = {MONEY: MONEY_FORMAT, COUNT: INT_FORMAT, PCT: PCT_FORMAT}
    for row in sheet.iter_rows(min_row=header_row + 1, min_col=2, max_col=5):
        unit_cell, *value_cells = row
        for cell in value_cells:
            cell.number_format = formats.get(str(unit_cell.value), MONEY_FORMAT)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Printable page -------------------------------------------------------------------------

PRINT_ROWS = 25  # rows per table on the printable page; the workbook has them all

_CSS = """
body { font-family: "Segoe UI", Arial, sans-serif; color: #1f2933; margin: 24px; font-size: 11pt; }
h1 { font-size: 20pt; margin-bottom: 4px; }
h2 { font-size: 14pt; margin-top: 28px; border-bottom: 2px solid #4c78a8; break-after: avoid; }
p.meta, p.note { color: #52606d; margin: 4px 0 10px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 9.5pt; }
th, td { border-bottom: 1px solid #d9e2ec; padding: 3px 6px; text-align: left; }
th { background: #dce6f0; }
td.num { text-align: right; white-space: nowrap; }
td.nowrap, td:first-child { white-space: nowrap; }
tr { break-inside: avoid; }
svg { max-width: 100%; height: auto; }
@page { size: A4; margin: 15mm; }
@media print { body { margin: 0; } }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell_text(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if kind == "money":
        return format_amount(value)  # type: ignore[arg-type]
    if kind == "pct":
        return format_pct(value)  # type: ignore[arg-type]
    if kind == "int":
        return format_number(value)  # type: ignore[arg-type]
    if kind == "date":
        return format_date(value)  # type: ignore[arg-type]
    return str(value)


def figure_text(
    value: Decimal | int | None, unit: str, *, signed: bool = False, short: bool = False
) -> str:
    """A key figure's value (or change, `signed`) as Danish text; `short` gives large amounts in
    millions (for metrics on screen)."""
    if value is None:
        return "–"
    number = Decimal(value)
    if unit == PCT:
        number = number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if not number:
        number = abs(number)  # no "-0,0"
    value = number
    sign = "+" if signed and value > 0 else ""
    if unit == MONEY:
        if short and abs(value) >= 1_000_000:
            return sign + format_large_kr(value)
        return sign + format_kr(value)
    if unit == PCT:
        text = format_pct(value, 1)
        return sign + (text.replace(" %", " pct.-point") if signed else text)
    return sign + format_number(value)


def key_figure_texts(figure: KeyFigure) -> tuple[str, str, str]:
    """Value, previous value and change of a key figure, as Danish text."""
    return (
        figure_text(figure.value, figure.unit),
        figure_text(figure.previous, figure.unit),
        figure_text(figure.change, figure.unit, signed=True),
    )


def _table(section: Section) -> str:
    frame = section.frame
    if frame.empty:
        return '<p class="note">Ingen i perioden.</p>'
    kinds = {
        **{c: "money" for c in section.money},
        **{c: "pct" for c in section.pct},
        **{c: "int" for c in section.ints},
        **{c: "date" for c in section.dates},
    }
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.iloc[:PRINT_ROWS].itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            kind = kinds.get(column, "")
            css = {"money": "num", "pct": "num", "int": "num", "date": "nowrap"}.get(kind)
            css = f' class="{css}"' if css else ""
            cells.append(f"<td{css}>{_e(_cell_text(value, kind))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(frame) > PRINT_ROWS:
        more = (
            f'<p class="note">Viser {PRINT_ROWS} af {format_number(len(frame))} rækker. '
            "Alle står i Excel-udgaven af rapporten.</p>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _key_figure_table(report: QuarterReport) -> str:
    head = (
        "<tr><th>Nøgletal</th>"
        f"<th>{_e(format_date(report.as_of))}</th>"
        f"<th>{_e(format_date(report.previous_as_of))}</th><th>Ændring</th></tr>"
    )
    rows = []
    for figure in report.key_figures:
        value, previous, change = key_figure_texts(figure)
        rows.append(
            f"<tr><td>{_e(figure.name)}</td><td class='num'>{_e(value)}</td>"
            f"<td class='num'>{_e(previous)}</td><td class='num'>{_e(change)}</td></tr>"
        )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def svg_bar_chart(
    items: Sequence[tuple[str, Decimal | int]],
    *,
    title: str,
    value_text: Callable[[Decimal | int], str] = format_number,
    width: int = 760,
) -> str:
    """A horizontal bar chart as inline SVG; every text is escaped."""
    if not items:
        return ""
    label_width, value_width, bar_height, gap, top = 250, 140, 20, 6, 8
    plot_width = width - label_width - value_width
    largest = max((float(v) for _, v in items), default=0.0) or 1.0
    height = top + len(items) * (bar_height + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
    ]
    for index, (name, value) in enumerate(items):
        y = top + index * (bar_height + gap)
        bar = max(0.0, float(value)) / largest * plot_width
        text = name if len(name) <= 38 else name[:37] + "…"
        middle = y + bar_height * 0.7
        parts.append(
            f'<text x="{label_width - 8}" y="{middle:.1f}" font-size="11" '
            f'text-anchor="end">{_e(text)}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{bar:.1f}" height="{bar_height}" '
            'fill="#4c78a8"/>'
        )
        parts.append(
            f'<text x="{label_width + bar + 6:.1f}" y="{middle:.1f}" font-size="11">'
            f"{_e(value_text(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _charts(report: QuarterReport) -> dict[str, str]:
    concentration = [
        (str(row["Leverandør"]), row["Faktureret"])
        for _, row in report.concentration.iloc[:10].iterrows()
    ]
    expensive = [
        (str(row["Sag"]), row["Årsudgift"]) for _, row in report.expensive_cases.iterrows()
    ]
    return {
        "Leverandørkoncentration": svg_bar_chart(
            concentration,
            title="Faktureret i kvartalet, 10 største leverandører",
            value_text=format_kr,
        ),
        "Dyreste sager": svg_bar_chart(
            expensive, title="Årsudgift, de 10 dyreste sager", value_text=format_kr
        ),
    }


def report_html(report: QuarterReport, *, printed: date | None = None) -> str:
    """A printable page of the report (HTML with inline SVG charts; no scripts, works offline)."""
    printed = printed or date.today()
    title = f"Kvartalsrapport {report.quarter.label}"
    status = "" if report.complete else " Kvartalet er ikke afsluttet: tallene er foreløbige."
    meta = (
        f"Takstkompas · opgjort pr. {format_date(report.as_of)}, sammenlignet med "
        f"{format_date(report.previous_as_of)} · udskrevet {format_date(printed)}.{status}"
    )
    charts = _charts(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="da"><head><meta charset="utf-8">',
        f"<title>{_e(title)} – Takstkompas</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(meta)}</p>',
    ]
    for section in sections(report):
        parts.append(f"<h2>{_e(section.title)}</h2>")
        if section.note:
            parts.append(f'<p class="note">{_e(section.note)}</p>')
        if section.sheet == KEY_FIGURE_SHEET:
            parts.append(_key_figure_table(report))
            continue
        if charts.get(section.sheet):
            parts.append(charts[section.sheet])
        parts.append(_table(section))
    parts.append("</body></html>")
    return "\n".join(parts)
