"""Priskategorier: the bands of the daily rate per paragraph and year, copying a year forward,
and how the active contracts fall into the bands (SPEC 4.4, 5.4)."""

from datetime import date
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from models import Paragraph, label
from pages._ui import (
    app_settings,
    cached_read,
    call_service,
    edit_form,
    export_buttons,
    field_error,
    form_error,
    locked,
    money_input,
    run_save,
    select_code,
    show_flash,
    show_table,
)
from services.errors import InputError
from services.formatting import format_amount, format_kr, format_number, format_short_kr, sentence
from services.queries.categories import (
    COPY_COLUMNS,
    SET_MONEY,
    BandDistribution,
    SetChoice,
    band_distribution,
    band_labels,
    band_texts,
    chart_years,
    copy_preview,
    copy_year_forward,
    set_choices,
    set_years,
    sets_frame,
)
from services.reference import (
    copy_price_category_year,
    create_price_category_set,
    update_price_category_set,
)
from services.rules.roles import capability_of

CREATE = "priskategorier_create"
COPY = "priskategorier_copy"
EDIT_PREFIX = "priskategorier_edit"
THRESHOLDS = (
    ("middel_from", "Middel fra (kr. pr. dag)"),
    ("hoej_from", "Høj fra (kr. pr. dag)"),
    ("ekstraordinaer_from", "Ekstraordinær fra (kr. pr. dag)"),
)
# Band colours from low to extraordinary; grey for "ingen kategori".
BAND_COLOURS = ["#4C9F70", "#F2C14E", "#F08A4B", "#C0392B", "#9E9E9E"]
PARAGRAPHS = [p.value for p in Paragraph]
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a set can be for (PriceCategorySetCreate)


# --- The sets -------------------------------------------------------------------------------


def _sets_section() -> None:
    frame = cached_read(sets_frame)
    if frame.empty:
        st.info(
            "Der er endnu ingen priskategorier. Opret det første sæt under **Opret sæt** "
            "nedenfor – en paragraf, et år og tre grænser for dagstaksten."
        )
        return
    show_table(frame, money=SET_MONEY, dates=["Senest ændret"], key="priskategorier_sets")
    export_buttons(
        frame, "Priskategorier", money=SET_MONEY, dates=["Senest ændret"], key="priskategorier_exp"
    )


# --- Contracts in the bands -----------------------------------------------------------------


def _chart(frame: pd.DataFrame) -> alt.HConcatChart:
    data = frame.assign(
        Udgift=[float(v) / 1_000_000 for v in frame["Årlig udgift"]],
        Udgift_tekst=[format_kr(v) for v in frame["Årlig udgift"]],
    )
    colour = alt.Color(
        "Priskategori:N",
        scale=alt.Scale(domain=band_labels(), range=BAND_COLOURS),
        legend=None,
    )
    band = alt.Y("Priskategori:N", sort=band_labels(), title=None)
    tooltip = [
        alt.Tooltip("Priskategori:N"),
        alt.Tooltip("Kontrakter:Q", format=",d"),
        alt.Tooltip("Udgift_tekst:N", title="Årlig udgift"),
        alt.Tooltip("Over visiteret priskategori:Q", format=",d"),
    ]
    base = alt.Chart(data).encode(y=band, color=colour, tooltip=tooltip)
    counts = base.mark_bar().encode(
        x=alt.X("Kontrakter:Q", title="Aktive kontrakter", axis=alt.Axis(format=",d"))
    )
    spend = base.mark_bar().encode(
        x=alt.X("Udgift:Q", title="Årlig udgift (mio. kr.)", axis=alt.Axis(format=",.1f"))
    )
    return alt.hconcat(
        counts.properties(title="Antal kontrakter", width=240, height=190),
        spend.properties(title="Årlig udgift", width=240, height=190),
    ).configure_title(anchor="start")


def _thresholds_text(dist: BandDistribution) -> None:
    paragraph = label(dist.paragraph)
    if dist.thresholds is None:
        st.warning(
            f"Der er intet sæt for {paragraph} i {dist.year}, så kontrakterne vises som "
            "»Ingen kategori«. Opret sættet under **Opret sæt**, eller kopiér et år frem.",
            icon="⚠️",
        )
        return
    st.markdown(f"**Grænser {dist.year}** (dagstakst)")
    st.markdown("\n".join(f"- **{band}:** {text}" for band, text in band_texts(dist.thresholds)))
    st.caption("En takst lig med en grænse hører til den højere kategori.")


def _bands_section(today: date) -> None:
    cols = st.columns([2, 1, 3])
    with cols[0]:
        paragraph = select_code(
            "Paragraf", PARAGRAPHS, key="priskategorier_chart_paragraph", value="SEL108"
        )
    years = cached_read(chart_years, paragraph=paragraph, today=today)
    year_key = "priskategorier_chart_year"
    if st.session_state.get(year_key) not in years:
        st.session_state[year_key] = today.year if today.year in years else years[0]
    year = cols[1].selectbox("År", years, key=year_key)
    dist = cached_read(band_distribution, paragraph=paragraph, year=year, today=today)
    st.caption(
        f"Aktive kontrakter under {label(paragraph)}: deres regulerede pris i dag "
        f"(dagsækvivalent) holdt op mod {year}-sættet. Årlig udgift er inkl. tillægsydelser."
    )
    if dist.total == 0 and dist.missing_index == 0:
        st.info(f"Der er ingen aktive kontrakter under {label(paragraph)}.")
        _thresholds_text(dist)
        return
    metrics = st.columns(3)
    metrics[0].metric("Aktive kontrakter", format_number(dist.total))
    metrics[1].metric(
        "Årlig udgift i alt",
        format_short_kr(dist.annual_total),
        help=sentence(format_kr(dist.annual_total)),
    )
    metrics[2].metric(
        "Over visiteret priskategori",
        format_number(dist.over_visitation),
        help="Kontrakter, hvis kategori i dag er højere end den, sagen blev visiteret i.",
    )
    if dist.missing_index:
        st.warning(
            f"{format_number(dist.missing_index)} kontrakt(er) reguleres efter indeks, men "
            "der mangler en reguleringssats. De er ikke med. Tilføj satsen under Indstillinger.",
            icon="⚠️",
        )
    left, right = st.columns([3, 1])
    left.altair_chart(_chart(dist.frame), width="content")
    with right:
        _thresholds_text(dist)
    show_table(
        dist.frame,
        money=["Årlig udgift"],
        ints=["Kontrakter", "Over visiteret priskategori"],
        key="priskategorier_bands",
    )
    export_buttons(
        dist.frame,
        f"Kategorier {paragraph} {year}",
        money=["Årlig udgift"],
        ints=["Kontrakter", "Over visiteret priskategori"],
        key="priskategorier_bands_exp",
    )


# --- Create and edit ------------------------------------------------------------------------


def _threshold_inputs(form: str, values: SetChoice | None = None) -> dict[str, str]:
    typed = {}
    for column, (field, text) in zip(st.columns(3), THRESHOLDS, strict=True):
        with column:
            typed[field] = money_input(
                text, key=f"{form}_{field}", value=getattr(values, field) if values else None
            )
            field_error(form, field)
    return typed


def _create_section(today: date) -> None:
    form = CREATE

    def fields() -> dict[str, Any]:
        cols = st.columns(2)
        with cols[0]:
            paragraph = select_code("Paragraf", PARAGRAPHS, key=f"{form}_paragraph")
            field_error(form, "paragraph")
        with cols[1]:
            year_key = f"{form}_year"
            st.session_state.setdefault(year_key, today.year)
            year = st.number_input("År", min_value=2000, max_value=2100, step=1, key=year_key)
            field_error(form, "year")
        return {"paragraph": paragraph, "year": int(year), **_threshold_inputs(form)}

    edit_form(
        form,
        fields,
        create_price_category_set,
        batch=True,
        border=False,
        submit="Opret sæt",
        success=lambda data: (
            f"Priskategorierne for {label(data['paragraph'])} {data['year']} er oprettet."
        ),
    )


def _edit_section() -> None:
    choices = {c.id: c for c in cached_read(set_choices)}
    if not choices:
        st.info("Der er ingen sæt at rette endnu.")
        return
    choice_key = f"{EDIT_PREFIX}_choice"
    if st.session_state.get(choice_key) not in choices:
        st.session_state[choice_key] = next(iter(choices))
    set_id = st.selectbox(
        "Sæt", list(choices), key=choice_key, format_func=lambda i: choices[i].title
    )
    choice = choices[set_id]
    form = f"{EDIT_PREFIX}_{set_id}"
    edit_form(
        form,
        lambda: {
            "paragraph": choice.paragraph,
            "year": choice.year,
            **_threshold_inputs(form, choice),
        },
        update_price_category_set,
        args={"set_id": set_id},
        loaded=(set_id, choice.version),
        batch=True,
        border=False,
        success=f"Priskategorierne for {choice.title} er gemt.",
    )


# --- Copy a year forward --------------------------------------------------------------------


def _copy_section() -> None:
    if locked(capability_of(copy_price_category_year)):
        return
    years = cached_read(set_years)
    if not years:
        st.info("Der er ingen år at kopiere fra endnu. Opret først et sæt.")
        return
    form = COPY
    form_error(form)
    cols = st.columns(3)
    if f"{form}_from" not in st.session_state:  # the newest year that can be copied forward
        st.session_state[f"{form}_from"] = next((y for y in years if y < LAST_YEAR), years[0])
    from_year = cols[0].selectbox("Fra år", years, key=f"{form}_from")
    to_key = f"{form}_to_{from_year}"
    # The year after, unless that is past the last year a set can have (the widget would
    # silently put its minimum, 2000, in its place).
    st.session_state.setdefault(to_key, min(from_year + 1, LAST_YEAR))
    to_year = cols[1].number_input(
        "Til år", min_value=FIRST_YEAR, max_value=LAST_YEAR, step=1, key=to_key
    )
    with cols[1]:
        field_error(form, "to_year")
    rate_key = f"{form}_rate"
    if rate_key not in st.session_state:
        st.session_state[rate_key] = format_number(app_settings().regulation_default_pct, 2)
    rate_text = cols[2].text_input(
        "Regulering (%)",
        key=rate_key,
        help="Grænserne ganges med (1 + regulering) og afrundes til hele øre. "
        "Standard er reguleringssatsen fra Indstillinger.",
    )
    try:
        preview = cached_read(
            copy_preview, from_year=int(from_year), to_year=int(to_year), rate_text=rate_text
        )
    except InputError as exc:
        with cols[2]:
            for message in exc.fields.values():
                st.error(message, icon="⚠️")
        return
    with cols[2]:
        field_error(form, "rate_pct")
    if int(to_year) == int(from_year):
        st.error("Vælg et andet år end det, der kopieres fra.", icon="⚠️")
        return
    st.markdown(
        f"**Det bliver oprettet:** {len(preview.frame)} sæt for {int(to_year)}, "
        f"grænserne fra {from_year} reguleret med {format_amount(preview.rate)} %."
    )
    money = [c for c in COPY_COLUMNS if c != "Paragraf"]
    show_table(preview.frame, money=money, key=f"{form}_preview")
    if preview.existing:
        st.error(
            f"{int(to_year)} har allerede sæt for {', '.join(preview.existing)}. "
            "Ret dem under **Ret sæt** i stedet, eller vælg et andet år.",
            icon="⚠️",
        )
    # Not an edit_form: the button belongs to the preview above, and the choices are kept
    # after a copy (run_save alone does not forget them).
    if st.button(
        f"Kopiér til {int(to_year)}",
        key=f"{form}_submit",
        type="primary",
        disabled=not preview.possible,
    ):
        count = len(preview.frame)
        run_save(
            form,
            lambda: call_service(
                copy_year_forward,
                from_year=int(from_year),
                to_year=int(to_year),
                rate_text=rate_text,
            ),
            f"{count} priskategorisæt er oprettet for {int(to_year)}.",
        )


# --- Page -----------------------------------------------------------------------------------

st.title("Priskategorier")
show_flash()
st.caption(
    "Priskategorierne viser, hvad en plads »normalt« koster: tre grænser for dagstaksten pr. "
    "paragraf og år deler taksterne i lav, middel, høj og ekstraordinær."
)
today = date.today()
_sets_section()
tabs = st.tabs(
    ["Kontrakter i kategorierne", "Opret sæt", "Ret sæt", "Kopiér år frem"],
    key="priskategorier_tab",
    on_change="rerun",
)
with tabs[0]:
    _bands_section(today)
with tabs[1]:
    _create_section(today)
with tabs[2]:
    _edit_section()
with tabs[3]:
    _copy_section()
