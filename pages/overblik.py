"""Overblik: the size of the registers at a glance."""

from datetime import date

import streamlit as st

from pages._ui import session, show_flash
from services.formatting import format_date, format_number
from services.overview import register_counts

st.title("Overblik")
show_flash()
st.caption(f"Status pr. {format_date(date.today())}")

with session() as s:
    counts = register_counts(session=s)

if counts.providers == 0:
    st.info(
        "Der er endnu ingen data. Opret leverandører og kontrakter, eller byg demodata med "
        "`uv run python -m seed --size demo`."
    )

row1 = st.columns(3)
row1[0].metric("Leverandører", format_number(counts.providers))
row1[1].metric("Tilbud", format_number(counts.offers))
row1[2].metric(
    "Kontrakter",
    format_number(counts.contracts),
    help="Alle kontrakter i registret, også afsluttede.",
)
row2 = st.columns(3)
row2[0].metric("Aktive kontrakter", format_number(counts.active_contracts))
row2[1].metric("Fakturakontroller", format_number(counts.invoice_checks))
row2[2].metric(
    "Åbne fakturaafvigelser",
    format_number(counts.open_deviations),
    help="Fakturaer over den regulerede kontraktpris, som endnu ikke er løst eller accepteret.",
)
st.metric("Overskredne opfølgninger", format_number(counts.overdue_followups))
