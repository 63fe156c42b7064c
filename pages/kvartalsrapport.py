"""Kvartalsrapport: the working group's quarterly report on screen, as a workbook and printable."""

from datetime import date
from typing import Any

import altair as alt
import streamlit as st

from pages._ui import (
    cached_read,
    export_buttons,
    pager,
    show_flash,
    show_table,
)
from services.exports.report import (
    Section,
    figure_text,
    report_html,
    report_workbook,
    sections,
)
from services.formatting import (
    format_date,
    format_kr,
    format_number,
    format_pct,
    format_short_kr,
    sentence,
)
from services.queries.report import (
    Quarter,
    QuarterReport,
    available_quarters,
    default_quarter,
    quarter_report,
)

MIO = 1_000_000
DELTA_COLOR = {"up": "normal", "down": "inverse", None: "off"}
PAGE_SIZE = 25  # rows per table page on screen; the downloads hold every row
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _show_chart(chart: Any) -> None:
    st.altair_chart(chart, width="stretch")  # Danish numbers: pages/_danish.py


def _table(section: Section, key: str) -> None:
    """A section's table with Danish display and its own Excel/CSV export."""
    if section.frame.empty:
        st.caption("Ingen i perioden.")
        return
    limit, offset = pager(len(section.frame), key=f"quarterly_{key}_page", page_size=PAGE_SIZE)
    show_table(
        section.frame.iloc[offset : offset + limit],
        money=section.money,
        pct=section.pct,
        ints=section.ints,
        dates=section.dates,
        key=f"quarterly_{key}_table",
    )
    export_buttons(
        section.frame,
        section.sheet,
        money=section.money,
        dates=section.dates,
        pct=section.pct,
        ints=section.ints,
        key=f"quarterly_{key}",
    )


def _amount_metric(place: Any, name: str, amount: Any) -> None:
    """An amount short enough for a metric on a laptop screen, the full amount in its help."""
    place.metric(name, format_short_kr(amount), help=sentence(format_kr(amount)))


def _key_figures(report: QuarterReport) -> None:
    st.subheader("Nøgletal")
    st.caption(
        f"Ved kvartalets udgang ({format_date(report.as_of)}); ændringen er i forhold til "
        f"forrige kvartals udgang ({format_date(report.previous_as_of)}). Kontrakter tæller "
        "med, når de var i kraft på dagen."
    )
    columns = st.columns(4)
    for index, figure in enumerate(report.key_figures):
        change = figure.change
        change_text = figure_text(change, figure.unit, signed=True, short=True)
        unchanged = change is None or not change_text.startswith(("+", "-"))
        before = sentence(f"Forrige kvartal: {figure_text(figure.previous, figure.unit)}")
        columns[index % 4].metric(
            figure.name,
            figure_text(figure.value, figure.unit, short=True),
            delta=change_text if change is not None else None,
            delta_color="off" if unchanged else DELTA_COLOR[figure.better],  # type: ignore[arg-type]
            delta_arrow="off" if unchanged else "auto",
            help=f"{figure.help} {before}" if figure.help else before,
        )


def _deviations(report: QuarterReport, parts: dict[str, Section]) -> None:
    st.subheader("Fakturaafvigelser")
    logged, resolved = report.deviations_logged, report.deviations_resolved
    row = st.columns(4)
    row[0].metric("Logget i kvartalet", format_number(len(logged)))
    _amount_metric(row[1], "Logget, afvigelse i alt", sum(logged["Afvigelse"], 0))
    row[2].metric("Løst eller accepteret", format_number(len(resolved)))
    _amount_metric(row[3], "Løst, afvigelse i alt", sum(resolved["Afvigelse"], 0))
    tab_logged, tab_resolved = st.tabs(["Logget i kvartalet", "Løst i kvartalet"])
    with tab_logged:
        _table(parts["Afvigelser logget"], "logged")
    with tab_resolved:
        _table(parts["Afvigelser løst"], "resolved")


def _deadlines(report: QuarterReport, parts: dict[str, Section]) -> None:
    following = report.quarter.next().label
    st.subheader(f"Frister i {following}")
    st.markdown(f"**Genforhandlinger ({format_number(len(report.renegotiations))})**")
    _table(parts["Genforhandlinger"], "renegotiations")
    st.markdown(f"**Opsigelsesfrister ({format_number(len(report.notice_deadlines))})**")
    _table(parts["Opsigelsesfrister"], "notice")


def _alerts(report: QuarterReport, parts: dict[str, Section]) -> None:
    section = parts["Advarsler"]
    st.subheader(section.title)
    st.caption(section.note)
    _table(section, "alerts")


def _followups(report: QuarterReport, parts: dict[str, Section]) -> None:
    st.subheader("Overskredne opfølgninger")
    overdue = report.overdue_followups
    st.caption(
        f"{format_number(len(overdue))} opfølgninger var forfaldne og ikke udført pr. "
        f"{format_date(report.as_of)}."
    )
    _table(parts["Overskredne opfølgninger"], "followups")


def _expensive(report: QuarterReport, parts: dict[str, Section]) -> None:
    st.subheader("De 10 dyreste sager")
    cases = report.expensive_cases
    if not cases.empty:
        shown = cases.assign(
            Mio=cases["Årsudgift"].astype(float) / MIO, Beløb=cases["Årsudgift"].map(format_kr)
        )
        chart = (
            alt.Chart(shown)
            .mark_bar()
            .encode(
                y=alt.Y("Sag:N", sort=None, title=None),
                x=alt.X(
                    "Mio:Q", title="mio. kr. pr. år", axis=alt.Axis(format=",.1f", tickCount=6)
                ),
                tooltip=["Sag:N", "Leverandør:N", alt.Tooltip("Beløb:N", title="Årsudgift")],
            )
            .properties(height=28 * len(shown) + 40)
        )
        _show_chart(chart)
    st.caption(
        "Sager vises kun med sagsnummer. Årsudgift = reguleret pris inkl. tillæg × 365 "
        f"dagsækvivalenter pr. {format_date(report.as_of)}."
    )
    _table(parts["Dyreste sager"], "expensive")


def _concentration(report: QuarterReport, parts: dict[str, Section]) -> None:
    st.subheader("Leverandørkoncentration")
    spend = report.concentration
    row = st.columns(3)
    row[0].metric("Leverandører med fakturaer", format_number(len(spend)))
    row[1].metric(
        "Top 5-andel i kvartalet",
        format_pct(report.top5_share, 1) if report.top5_share is not None else "–",
        help="De 5 største leverandørers andel af det fakturerede i kvartalet.",
    )
    _amount_metric(row[2], "Faktureret i alt", sum(spend["Faktureret"], 0))
    if not spend.empty:
        top = spend.iloc[:10].assign(
            Mio=lambda f: f["Faktureret"].astype(float) / MIO,
            Beløb=lambda f: f["Faktureret"].map(format_kr),
            Tekst=lambda f: f["Andel"].map(lambda v: format_pct(v, 1)),
        )
        chart = (
            alt.Chart(top)
            .mark_bar()
            .encode(
                y=alt.Y("Leverandør:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
                x=alt.X("Mio:Q", title="mio. kr.", axis=alt.Axis(format=",.0f")),
                tooltip=[
                    "Leverandør:N",
                    alt.Tooltip("Beløb:N", title="Faktureret"),
                    alt.Tooltip("Tekst:N", title="Andel"),
                ],
            )
            .properties(height=28 * len(top) + 40)
        )
        _show_chart(chart)
    _table(parts["Leverandørkoncentration"], "concentration")


def _savings(report: QuarterReport, parts: dict[str, Section]) -> None:
    st.subheader("Besparelser ved genforhandling")
    st.metric(
        "Besparelse pr. år fra kvartalets genforhandlinger",
        format_short_kr(report.savings_total),
        help="Årlig effekt (pris før − ny pris) af genforhandlinger med virkning i kvartalet: "
        f"{sentence(format_kr(report.savings_total))}",
    )
    _table(parts["Besparelser"], "savings")


def _has_data(report: QuarterReport) -> bool:
    figures = [f.value for f in report.key_figures] + [f.previous for f in report.key_figures]
    tables = [s.frame for s in sections(report)[1:] if s.frame is not report.alerts]
    alerts = bool(report.alerts["Kontrakter"].sum())
    return any(v for v in figures) or any(not t.empty for t in tables) or alerts


# --- Page -----------------------------------------------------------------------------------

st.title("Kvartalsrapport")
show_flash()

today = date.today()
keys = [q.key for q in cached_read(available_quarters, today=today)]
if st.session_state.get("quarterly_quarter") not in keys:
    fallback = default_quarter(today).key
    st.session_state["quarterly_quarter"] = fallback if fallback in keys else keys[0]
quarter_key = st.selectbox(
    "Kvartal",
    keys,
    format_func=lambda key: Quarter.parse(key).label,
    key="quarterly_quarter",
)
report = cached_read(
    quarter_report,
    spinner="Samler kvartalsrapporten …",
    quarter=Quarter.parse(quarter_key),
    today=today,
)

if not _has_data(report):
    st.info(
        "Der er ingen data for kvartalet endnu. Når der er oprettet kontrakter, "
        "fakturakontroller og opfølgninger, samler rapporten nøgletal, afvigelser, frister og "
        "leverandørkoncentration for kvartalet her."
    )
else:
    if not report.complete:
        st.info(
            f"{report.quarter.label} er ikke slut endnu: tallene er opgjort pr. i dag "
            f"({format_date(report.as_of)}) og er foreløbige."
        )
    stamp = today.isoformat()
    name = f"kvartalsrapport_{report.quarter.year}_k{report.quarter.number}"
    downloads = st.container(horizontal=True, gap="small")  # each button as wide as its label
    downloads.download_button(
        "Hent rapporten (Excel)",
        icon=":material/download:",
        data=lambda: report_workbook(report),
        file_name=f"{name}_{stamp}.xlsx",
        mime=XLSX,
        key="quarterly_workbook",
        on_click="ignore",
    )
    downloads.download_button(
        "Hent udskriftsvenlig side (HTML)",
        icon=":material/print:",
        data=lambda: report_html(report, printed=today).encode("utf-8"),
        file_name=f"{name}_{stamp}.html",
        mime="text/html",
        key="quarterly_html",
        on_click="ignore",
    )
    st.caption(
        "Excel-filen har ét ark pr. afsnit. Den udskriftsvenlige side åbnes i en browser og "
        "udskrives eller gemmes som PDF derfra."
    )
    parts = {section.sheet: section for section in sections(report)}
    _key_figures(report)
    # The sections are drawn only when their tab is open (the downloads hold them all).
    shown = [
        ("Fakturaafvigelser", _deviations),
        ("Frister", _deadlines),
        ("Advarsler", _alerts),
        ("Opfølgninger", _followups),
        ("Dyreste sager", _expensive),
        ("Leverandører", _concentration),
        ("Besparelser", _savings),
    ]
    tabs = st.tabs([name for name, _ in shown], key="quarterly_tab", on_change="rerun")
    for tab, (_, draw) in zip(tabs, shown, strict=True):
        with tab:
            if tab.open:
                draw(report, parts)
