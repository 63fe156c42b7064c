"""The quarterly report as an Excel workbook and a printable page with inline SVG charts."""

import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from openpyxl import load_workbook

from services.exports.tables import INT_FORMAT, MONEY_FORMAT, PCT_FORMAT, Sheet, to_xlsx
from services.formatting import (
    format_amount,
    format_date,
    format_kr,
    format_number,
    format_pct,
    format_short_kr,
)
from services.queries.report import COUNT, MONEY, PCT, KeyFigure, QuarterReport

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
    deviation_money = ["Faktureret", "Krediteret", "Forventet", "Afvigelse"]
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
            note="Aktive kontrakter med genforhandlingsdato i næste kvartal.",
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
            "Advarsler",
            f"Advarsler pr. {format_date(report.alerts_on)}",
            report.alerts,
            ints=["Kontrakter"],
            note=(
                "Kontrakter med hver advarsel, talt som på Kontrakter og Overblik. En kontrakt "
                "kan have flere advarsler."
            ),
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
    """A key figure's value (or change, `signed`) as Danish text; `short` gives amounts short
    enough for a metric on screen (whole kroner, or millions: format_short_kr)."""
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
        return sign + (format_short_kr(value) if short else format_kr(value))
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
