"""Overblik: the working group's key figures (SPEC 4.7) with charts, and the alert list (4.6)."""

from datetime import date
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from sqlmodel import Session

from models import Paragraph, ProviderKind, label
from pages._ui import (
    cached_read,
    export_buttons,
    get_engine,
    show_flash,
    show_table,
)
from services.exports.overview import overview_workbook
from services.formatting import (
    format_date,
    format_kr,
    format_large_kr,
    format_number,
    format_pct,
    format_short_kr,
    sentence,
)
from services.queries.overview import (
    AlertOverview,
    Control,
    Filters,
    Overview,
    Spending,
    alert_overview,
    contract_alert_list,
    control,
    data_years,
    overview,
    spending,
    threshold_text,
    top_and_rest,
)
from services.rules.alerts import alert_label

CONTRACT_PAGE = "pages/kontrakter.py"
PROVIDER_PAGE = "pages/leverandoerer.py"
ALERTS_SHOWN = 10
MIO = 1_000_000
MISSING = "–"
SHORT_PARAGRAPH = {label(p): label(p, "short") for p in Paragraph}


def _show_chart(chart: Any) -> None:
    st.altair_chart(chart, width="stretch")  # Danish numbers: pages/_danish.py


def _pct(value: Any, decimals: int = 1) -> str:
    return format_pct(value, decimals) if value is not None else MISSING


def _short_kr(value: Any) -> str:
    """An amount short enough for a metric at 1366 px (`993.777 kr.`, `1,19 mio. kr.`)."""
    return format_short_kr(value) if value is not None else MISSING


def _signed_mio(value: Any) -> str:
    text = format_large_kr(value)
    return text if value < 0 else f"+{text}"


def _open_contract(contract_id: int) -> None:
    st.session_state["contracts_selected_id"] = contract_id
    st.switch_page(CONTRACT_PAGE, query_params={"id": str(contract_id)})


def _open_provider(provider_id: int) -> None:
    st.session_state["providers_selected_id"] = provider_id
    st.switch_page(PROVIDER_PAGE, query_params={"id": str(provider_id)})


# --- Sections -------------------------------------------------------------------------------


def _key_figures(data: Overview) -> None:
    shot = data.snapshot
    p = shot.portfolio
    year = data.year
    current = data.as_of == data.today
    when = "i dag" if current else f"pr. {format_date(data.as_of)}"

    st.subheader("Nøgletal")
    row = st.columns(4)
    row[0].metric(
        "Aktive kontrakter",
        format_number(p.active_contracts),
        help="Kontrakter med status Aktiv."
        if current
        else f"Kontrakter i kraft {format_date(data.as_of)}.",
    )
    row[1].metric(
        "Forventet årsudgift",
        format_short_kr(p.annual_spend),
        help=f"Reguleret pris {when} inkl. aktive tillæg × 365 dagsækvivalenter, "
        f"summeret over de aktive kontrakter: {sentence(format_kr(p.annual_spend))}",
    )
    row[2].metric(
        "Gns. årsudgift pr. sag",
        _short_kr(p.average_per_case),
        help="Forventet årsudgift delt med antal aktive kontrakter: "
        f"{sentence(format_kr(p.average_per_case))}"
        if p.average_per_case is not None
        else None,
    )
    row[3].metric(
        f"Sager over {threshold_text(shot.large_case_threshold)} om året",
        format_number(p.large_cases),
        help="Aktive kontrakter hvis forventede årsudgift er over grænsen for dyre sager "
        "(Indstillinger).",
    )

    row = st.columns(4)
    row[0].metric(
        f"Faktureret {year} til dato" if current else f"Faktureret {year}",
        format_short_kr(shot.invoiced_ytd),
        help=f"Fakturaer med periodestart i {year} til og med {format_date(data.as_of)}: "
        f"{sentence(format_kr(shot.invoiced_ytd))}",
    )
    if shot.budget is not None:
        budget_text = format_short_kr(shot.budget)
        budget_help = (
            f"{sentence(format_kr(shot.budget))} Budgettet pr. paragraf registreres under "
            "Indstillinger."
        )
    elif shot.budget_note:
        budget_text, budget_help = MISSING, shot.budget_note
    else:
        budget_text = "Intet budget"
        budget_help = "Budgettet pr. paragraf registreres under Indstillinger."
    row[1].metric(f"Budget {year}", budget_text, help=budget_help)
    difference = shot.expected_year_end - shot.budget if shot.budget is not None else None
    row[2].metric(
        "Forventet årsresultat" if current else "Årsresultat",
        format_short_kr(shot.expected_year_end),
        delta=f"{_signed_mio(difference)} mod budget" if difference is not None else None,
        delta_color="inverse",
        help=f"{sentence(format_kr(shot.expected_year_end))} Faktureret til dato + forventet "
        "udgift resten af året efter de aktive kontrakters regulerede priser "
        f"({format_kr(shot.expected_rest)}).",
    )
    row[3].metric(
        "Forbrug af budget",
        _pct(shot.budget_used),
        help="Faktureret i året i procent af årets budget." if shot.budget else shot.budget_note,
    )
    if shot.budget_note:
        st.info(shot.budget_note, icon=":material/info:")

    row = st.columns(4)
    row[0].metric(
        "Leverandører",
        format_number(shot.providers_total),
        help="Leverandører i registret.",
    )
    row[1].metric(
        "Leverandører i brug",
        format_number(p.providers_used),
        help="Leverandører med mindst én aktiv kontrakt.",
    )
    row[2].metric(
        "De 5 største leverandørers andel",
        _pct(shot.top5_share),
        help="Andel af det fakturerede de seneste 12 måneder, der går til de fem leverandører "
        "med størst fakturering.",
    )
    row[3].metric(
        "Egen drift",
        _pct(p.own_share),
        help=f"Kommunens egne tilbud: {format_number(p.own_contracts)} aktive kontrakter, "
        "andel af den forventede årsudgift. Resten købes eksternt.",
    )

    row = st.columns(4)
    row[0].metric(
        "Åbne fakturaafvigelser",
        format_number(shot.open_deviations),
        help="Fakturaer over den regulerede kontraktpris, som endnu ikke er løst eller accepteret.",
    )
    row[1].metric(
        "Åbne afvigelser, beløb",
        format_short_kr(shot.open_deviation_amount),
        help="Fakturerede beløb over det forventede på de åbne afvigelser: "
        f"{sentence(format_kr(shot.open_deviation_amount))}",
    )
    row[2].metric(
        "Opfølgninger til tiden (12 mdr.)",
        _pct(shot.on_time_share),
        help=f"{format_number(shot.followups_on_time)} af {format_number(shot.followups_due)} "
        "opfølgninger med forfald de seneste 12 måneder blev udført senest på forfaldsdagen.",
    )
    row[3].metric("Overskredne opfølgninger", format_number(shot.overdue_followups))

    row = st.columns(4)
    row[0].metric(
        "Standardkontrakter",
        _pct(shot.quality.standard_share),
        help="Andel af de aktive kontrakter, der bruger kommunens standardkontrakt.",
    )
    row[1].metric(
        "Tjekliste udfyldt",
        _pct(shot.quality.checklist_completeness),
        help="Gennemsnitlig andel af standardkontraktens otte tjeklistepunkter, der er "
        "opfyldt på de aktive kontrakter.",
    )
    row[2].metric(
        f"Sparet ved genforhandling {year}",
        format_short_kr(shot.savings_ytd),
        help="Årlig effekt (gammel − ny pris) af genforhandlinger med virkning i året: "
        f"{sentence(format_kr(shot.savings_ytd))}",
    )
    if p.missing_rate:
        st.warning(
            f"{format_number(p.missing_rate)} kontrakt(er) kan ikke prissættes og indgår ikke i "
            "årsudgiften: oftest mangler en reguleringssats (indeks), som tilføjes under "
            "Indstillinger; ellers er kontraktens pris eller datoer urimelige og skal rettes.",
            icon="⚠️",
        )


def _alerts(data: Overview, alerts: AlertOverview, filters: Filters) -> None:
    engine = get_engine()

    def every_alert() -> pd.DataFrame:  # runs when a download is clicked: no st. calls
        with Session(engine) as s:
            return contract_alert_list(session=s, today=data.today, filters=filters).rows

    if alerts.total == 0:
        st.success(
            "Ingen varsler: ingen genforhandlinger, frister eller afvigelser kræver handling "
            "lige nu."
        )
    else:
        st.caption(
            " · ".join(
                f"{alert_label(kind)}: {format_number(count)}"
                for kind, count in alerts.counts.items()
                if count
            )
        )
        top = alerts.rows.iloc[:ALERTS_SHOWN]
        # Short paragraphs and alerts (as in Kontrakter) fit a laptop screen; the list to
        # download below has them in full, with each alert's date.
        shown = top.assign(Paragraf=top["Paragraf"].map(SHORT_PARAGRAPH))
        show_table(
            shown[["Sag", "Leverandør", "Paragraf", "Varsler (kort)", "Frist"]].rename(
                columns={"Varsler (kort)": "Varsler"}
            ),
            dates=["Frist"],
            key="overview_alert_table",
            widths={"Sag": 130, "Paragraf": 80, "Frist": 100},
        )
        if alerts.total > len(top):
            st.caption(
                f"De {len(top)} mest presserende af {format_number(alerts.total)} kontrakter "
                "med varsler. Hent hele listen nedenfor, eller se dem under Kontrakter."
            )
        choices = {
            int(r.contract_id): (int(r.provider_id), f"{r.Sag} – {r.Leverandør}")
            for r in top.itertuples(index=False)
        }
        if st.session_state.get("overview_alert_pick") not in choices:  # another filter's pick
            st.session_state.pop("overview_alert_pick", None)
        pick, open_contract, open_provider = st.columns([4, 1.3, 1.3], vertical_alignment="bottom")
        chosen = pick.selectbox(
            "Åbn en sag fra listen",
            list(choices),
            format_func=lambda cid: choices[cid][1],
            key="overview_alert_pick",
        )
        if open_contract.button("Åbn kontrakten", key="overview_open_contract"):
            _open_contract(int(chosen))
        if open_provider.button("Åbn leverandøren", key="overview_open_provider"):
            _open_provider(choices[int(chosen)][0])
        st.caption("Hele listen af varsler:")
        export_buttons(
            lambda: every_alert()[["Sag", "Leverandør", "Paragraf", "Varsler", "Frist"]],
            "Varsler",
            dates=["Frist"],
            key="overview_alerts_export",
        )
    download, _ = st.columns([2, 3])
    download.download_button(
        "Hent nøgletal og varsler (Excel)",
        icon=":material/download:",
        data=lambda: overview_workbook(data, every_alert()),
        file_name=f"overblik_{data.year}_{data.today.isoformat()}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="overview_workbook",
        on_click="ignore",
    )


def _spend_chart(data: Overview, spend_data: Spending) -> None:
    st.subheader("Forbrug og budget")
    spend = spend_data.by_year
    if spend.empty:
        st.info("Der er ingen fakturakontroller endnu, så forbruget kan ikke vises.")
        return
    years = sorted(spend["year"].unique())
    bars = spend.assign(
        År=spend["year"].astype(str),
        Mio=spend["Faktureret"].astype(float) / MIO,
        Beløb=spend["Faktureret"].map(format_kr),
    )
    layers = [
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("År:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(Mio):Q", title="mio. kr.", axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "Paragraf:N", legend=alt.Legend(orient="bottom", title=None, labelLimit=0)
            ),
            tooltip=[
                alt.Tooltip("År:N"),
                alt.Tooltip("Paragraf:N"),
                alt.Tooltip("Beløb:N", title="Faktureret"),
            ],
        )
    ]
    totals = spend_data.budget_by_year[spend_data.budget_by_year["year"].isin(years)]
    if not totals.empty:
        totals = totals.assign(
            År=totals["year"].astype(str),
            Mio=totals["Budget"].astype(float) / MIO,
            Beløb=totals["Budget"].map(format_kr),
        )
        layers.append(
            alt.Chart(totals)
            .mark_tick(color="#1f2933", thickness=3, size=46)
            .encode(
                x="År:N",
                y="Mio:Q",
                tooltip=[alt.Tooltip("År:N"), alt.Tooltip("Beløb:N", title="Budget")],
            )
        )
    shot = data.snapshot
    forecast_shown = data.current and shot.expected_rest > 0
    if forecast_shown:
        forecast = pd.DataFrame(
            {
                "År": [str(data.year)],
                "Mio": [float(shot.expected_year_end) / MIO],
                "Beløb": [format_kr(shot.expected_year_end)],
            }
        )
        layers.append(
            alt.Chart(forecast)
            .mark_bar(fillOpacity=0, stroke="#1f2933", strokeDash=[5, 3], strokeWidth=1.5)
            .encode(
                x="År:N",
                y="Mio:Q",
                tooltip=[
                    alt.Tooltip("År:N"),
                    alt.Tooltip("Beløb:N", title="Forventet årsresultat"),
                ],
            )
        )
    _show_chart(alt.layer(*layers).properties(height=320))
    caption = "Søjler: faktureret pr. paragraf (periodestart i året)."
    if not totals.empty:
        caption += " Sort streg: budget."
    if forecast_shown:
        caption += " Stiplet ramme: forventet årsresultat."
    if st.session_state.get("overview_kinds"):
        caption += " Budgettet vises ikke: det gælder alle leverandørtyper, ikke kun de valgte."
    elif len(totals) < len(years):
        caption += " Budget vises kun for år med budget for alle de viste paragraffer."
    st.caption(caption)


def _daily_rate_chart(spend_data: Spending) -> None:
    st.subheader("Gennemsnitlig dagstakst")
    rates = spend_data.by_year.dropna(subset=["Gns. dagstakst"])
    if rates.empty:
        st.info("Der er ingen fakturakontroller endnu.")
        return
    rates = rates.assign(
        År=rates["year"].astype(str),
        Takst=rates["Gns. dagstakst"].astype(float),
        Tekst=rates["Gns. dagstakst"].map(format_kr),
    )
    chart = (
        alt.Chart(rates)
        .mark_line(point=True)
        .encode(
            x=alt.X("År:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("Takst:Q", title="kr. pr. døgn", axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "Paragraf:N", legend=alt.Legend(orient="bottom", title=None, labelLimit=0)
            ),
            tooltip=["År:N", "Paragraf:N", alt.Tooltip("Tekst:N", title="Gns. dagstakst")],
        )
        .properties(height=300)
    )
    _show_chart(chart)
    st.caption("Faktureret beløb delt med antal fakturerede døgn pr. år og paragraf.")


def _provider_chart(data: Overview) -> None:
    st.subheader("Forbrug pr. leverandør, seneste 12 måneder")
    spend = data.snapshot.provider_spend
    if spend.empty:
        st.info("Ingen fakturaer de seneste 12 måneder.")
        return
    top = top_and_rest(spend, 10)
    shown_top = min(len(spend), 10)
    top = top.assign(
        Mio=top["Faktureret"].astype(float) / MIO,
        Beløb=top["Faktureret"].map(format_kr),
        Andel_tekst=top["Andel"].map(lambda v: _pct(v)),
        Gruppe=["Top 10"] * shown_top + ["Øvrige"] * (len(top) - shown_top),
    )
    chart = (
        alt.Chart(top)
        .mark_bar()
        .encode(
            y=alt.Y("Leverandør:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("Mio:Q", title="mio. kr.", axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "Gruppe:N",
                scale=alt.Scale(domain=["Top 10", "Øvrige"], range=["#4c78a8", "#b8c4d0"]),
                legend=None,
            ),
            tooltip=[
                "Leverandør:N",
                alt.Tooltip("Beløb:N", title="Faktureret"),
                alt.Tooltip("Andel_tekst:N", title="Andel"),
            ],
        )
        .properties(height=28 * len(top) + 40)
    )
    _show_chart(chart)
    st.caption(
        f"De 5 største leverandører står for {_pct(data.snapshot.top5_share)} af "
        f"{format_kr(sum(spend['Faktureret']))} faktureret fra {format_number(len(spend))} "
        "leverandører."
    )
    export_buttons(
        spend.drop(columns="provider_id"),
        "Leverandører 12 mdr",
        money=["Faktureret"],
        pct=["Andel"],
        key="overview_providers_export",
    )


def _savings_chart(spend_data: Spending) -> None:
    st.subheader("Besparelser ved genforhandling")
    savings = spend_data.savings
    if savings.empty:
        st.caption("Der er ikke registreret genforhandlinger med ny pris endnu.")
        return
    shown = savings.assign(
        År=savings["År"].astype(str),
        Beløb=savings["Besparelse pr. år"].astype(float),
        Tekst=savings["Besparelse pr. år"].map(format_kr),
    )
    chart = (
        alt.Chart(shown)
        .mark_bar(color="#54a24b")
        .encode(
            x=alt.X("År:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("Beløb:Q", title="kr. pr. år", axis=alt.Axis(format=",.0f")),
            tooltip=[
                "År:N",
                alt.Tooltip("Tekst:N", title="Besparelse pr. år"),
                "Genforhandlinger:Q",
            ],
        )
        .properties(height=260)
    )
    _show_chart(chart)
    st.caption(
        "Årlig effekt af genforhandlinger: (pris før − ny pris) omregnet til et år, efter "
        "året prisen trådte i kraft."
    )


def _economy(data: Overview, spend_data: Spending) -> None:
    _spend_chart(data, spend_data)
    _daily_rate_chart(spend_data)
    if not spend_data.by_year.empty:
        export_buttons(
            spend_data.table(),
            "Forbrug pr. år",
            money=["Faktureret", "Budget", "Gns. dagstakst"],
            ints=["Dage", "Fakturaer"],
            key="overview_spend_export",
        )
    _provider_chart(data)
    _savings_chart(spend_data)


def _distribution_chart(frame: pd.DataFrame, name: str, measure: str) -> None:
    if frame.empty:
        st.caption("Ingen aktive kontrakter.")
        return
    shown = frame.assign(
        Mio=frame["Årsudgift"].astype(float) / MIO,
        Beløb=frame["Årsudgift"].map(format_kr),
    )
    field = "Kontrakter:Q" if measure == "Kontrakter" else "Mio:Q"
    title = "kontrakter" if measure == "Kontrakter" else "mio. kr. pr. år"
    chart = (
        alt.Chart(shown)
        .mark_bar()
        .encode(
            y=alt.Y(f"{name}:N", sort=list(shown[name]), title=None, axis=alt.Axis(labelLimit=200)),
            x=alt.X(field, title=title, axis=alt.Axis(format=",.0f")),
            tooltip=[f"{name}:N", "Kontrakter:Q", alt.Tooltip("Beløb:N", title="Årsudgift")],
        )
        .properties(height=34 * len(shown) + 40)
    )
    _show_chart(chart)


def _distribution(data: Overview) -> None:
    p = data.snapshot.portfolio
    measure = (
        st.segmented_control(
            "Vis",
            ["Kontrakter", "Årsudgift"],
            default="Kontrakter",
            key="overview_distribution_measure",
        )
        or "Kontrakter"
    )
    parts = [
        ("Paragraf", p.by_paragraph),
        ("Leverandørtype", p.by_kind),
        ("Priskategori", p.by_category),
    ]
    for column, (name, frame) in zip(st.columns(3), parts, strict=True):
        with column:
            st.markdown(f"**{name}**")
            _distribution_chart(frame, name, measure)
    st.caption(
        "Priskategorien er grundtakstens kategori efter årets priskategorisæt "
        "(Priskategorier). Egen drift = kommunens egne tilbud."
    )
    st.subheader("De 10 dyreste sager")
    cases = data.snapshot.expensive_cases.drop(columns="contract_id")
    if cases.empty:
        st.caption("Ingen aktive kontrakter.")
        return
    show_table(cases, money=["Dagstakst", "Årsudgift"], key="overview_expensive_table")
    export_buttons(
        cases,
        "Dyreste sager",
        money=["Dagstakst", "Årsudgift"],
        key="overview_expensive_export",
    )


def _control_charts(control_data: Control) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("Åbne fakturaafvigelser")
        opened = control_data.open_by_month
        if opened.empty or not opened["Åbne"].any():
            st.caption("Ingen åbne afvigelser de seneste 24 måneder.")
        else:
            chart = (
                alt.Chart(opened.assign(Måned=pd.to_datetime(opened["Måned"])))
                .mark_area(line=True, opacity=0.3)
                .encode(
                    x=alt.X("Måned:T", title=None, axis=alt.Axis(format="%m.%Y")),
                    y=alt.Y("Åbne:Q", title="åbne afvigelser", axis=alt.Axis(format=",.0f")),
                    tooltip=[
                        alt.Tooltip("Måned:T", title="Dato", format="%d.%m.%Y"),
                        alt.Tooltip("Åbne:Q", title="Åbne"),
                    ],
                )
                .properties(height=260)
            )
            _show_chart(chart)
            st.caption("Antal åbne afvigelser ved hver månedsafslutning.")
            export_buttons(
                opened,
                "Åbne afvigelser",
                dates=["Måned"],
                ints=["Åbne"],
                key="overview_open_export",
            )
    with right:
        st.subheader("Opfølgninger udført til tiden")
        quarters = control_data.on_time_by_quarter
        if quarters.empty:
            st.caption("Ingen opfølgninger med forfald de seneste kvartaler.")
        else:
            shown = quarters.assign(
                Andel=quarters["Andel til tiden"].astype(float),
                Tekst=quarters["Andel til tiden"].map(lambda v: _pct(v)),
            )
            chart = (
                alt.Chart(shown)
                .mark_bar()
                .encode(
                    x=alt.X(
                        "Kvartal:N",
                        sort=list(shown["Kvartal"]),
                        title=None,
                        axis=alt.Axis(labelAngle=0),
                    ),
                    y=alt.Y("Andel:Q", title="% til tiden", scale=alt.Scale(domain=[0, 100])),
                    tooltip=[
                        "Kvartal:N",
                        alt.Tooltip("Tekst:N", title="Til tiden"),
                        "Forfaldne:Q",
                        "Til tiden:Q",
                    ],
                )
                .properties(height=260)
            )
            _show_chart(chart)
            st.caption(
                "Andel af kvartalets forfaldne opfølgninger, der blev udført senest på "
                "forfaldsdagen."
            )
            export_buttons(
                quarters,
                "Opfølgninger til tiden",
                ints=["Forfaldne", "Til tiden"],
                pct=["Andel til tiden"],
                key="overview_ontime_export",
            )


# --- Page -----------------------------------------------------------------------------------

st.title("Overblik")
show_flash()

today = date.today()
years = cached_read(data_years, today=today)
filters = st.columns([1, 2, 2])
year = filters[0].selectbox("År", years, key="overview_year")
paragraphs = tuple(
    filters[1].multiselect(
        "Paragraf",
        [p.value for p in Paragraph],
        format_func=label,
        placeholder="Alle paragraffer",
        key="overview_paragraphs",
        select_all=False,
    )
)
kinds = tuple(
    filters[2].multiselect(
        "Leverandørtype",
        [k.value for k in ProviderKind],
        format_func=label,
        placeholder="Alle typer",
        key="overview_kinds",
        select_all=False,
    )
)

selected = Filters(paragraphs, kinds)
data = cached_read(
    overview, spinner="Beregner nøgletal …", year=int(year), filters=selected, today=today
)

if data.is_empty:
    st.info(
        "Der er endnu ingen data. Opret leverandører og kontrakter under Leverandører og "
        "Kontrakter – så viser Overblik nøgletal, grafer og varsler her."
    )
elif data.current:
    st.caption(f"Status pr. {format_date(today)}")
else:
    st.caption(f"{year}: status pr. {format_date(data.as_of)} (varsler gælder i dag)")

_key_figures(data)

# Each tab reads its own data only when it is open, so the page stays fast.
tabs = st.tabs(
    ["Varsler", "Økonomi", "Fordeling", "Kontrol og opfølgning"],
    key="overview_tab",
    on_change="rerun",
)
with tabs[0]:
    if tabs[0].open:
        _alerts(data, cached_read(alert_overview, today=today, filters=selected), selected)
with tabs[1]:
    if tabs[1].open:
        _economy(
            data,
            cached_read(spending, spinner="Henter forbrug …", as_of=data.as_of, filters=selected),
        )
with tabs[2]:
    if tabs[2].open:
        _distribution(data)
with tabs[3]:
    if tabs[3].open:
        _control_charts(cached_read(control, as_of=data.as_of, filters=selected))
