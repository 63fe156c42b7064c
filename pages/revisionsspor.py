"""Revisionsspor (admin): every change in the tool, who made it and when, old → new (SPEC 8).
Filtered by who, kind of record, record id and period; paged; exported to Excel and CSV."""

from datetime import date

import pandas as pd
import streamlit as st
from sqlmodel import Session

from pages._ui import (
    cached_read,
    date_input,
    export_buttons,
    get_engine,
    pager,
    query_id,
    show_flash,
    show_table,
)
from services.queries.audit import (
    ENTITY_LABELS,
    AuditFilters,
    audit_choices,
    audit_count,
    audit_events,
)

PAGE_KEY = "audit_page"
EXPORT_CAP = 50_000  # events in one export; a narrower filter gets the rest
ALL = ""


def _reset_page() -> None:
    st.session_state[PAGE_KEY] = 1


def _from_link(entities: tuple[str, ...]) -> None:
    """A record's page links here with ?hvad=contract&id=42: its history, once."""
    entity, record = st.query_params.get("hvad"), query_id("id")
    if entity is None and record is None:
        return
    if entity in entities:
        st.session_state["audit_entity"] = entity
    if record is not None:
        st.session_state["audit_entity_id"] = str(record)
    st.session_state.pop("audit_who", None)
    _reset_page()
    st.query_params.clear()


def _filters() -> AuditFilters:
    whos, entities = cached_read(audit_choices)
    _from_link(entities)
    c1, c2, c3 = st.columns([2, 2, 1])
    who = c1.selectbox(
        "Hvem",
        [ALL, *whos],
        key="audit_who",
        format_func=lambda w: "Alle" if w == ALL else w,
        on_change=_reset_page,
    )
    entity = c2.selectbox(
        "Hvad",
        [ALL, *entities],
        key="audit_entity",
        format_func=lambda e: "Alt" if e == ALL else ENTITY_LABELS.get(e, e),
        on_change=_reset_page,
    )
    entity_id = c3.text_input(
        "Id",
        key="audit_entity_id",
        max_chars=50,
        placeholder="fx 42",
        help="Postens nummer, fx en kontrakts id fra dens adresse (?id=42).",
        on_change=_reset_page,
    )
    d1, d2, _ = st.columns([1, 1, 3])
    with d1:
        first = date_input("Fra", key="audit_first", optional=True)
    with d2:
        last = date_input("Til", key="audit_last", optional=True)
    if (first, last) != st.session_state.get("audit_period"):  # another period: page 1
        st.session_state["audit_period"] = (first, last)
        _reset_page()
    return AuditFilters(
        who=who or None,
        entity=entity or None,
        entity_id=entity_id.strip() or None,
        first=first if isinstance(first, date) else None,
        last=last if isinstance(last, date) else None,
    )


st.title("Revisionsspor")
show_flash()
st.caption(
    "Hver ændring i Takstkompas: hvem, hvornår, hvad og fra hvad til hvad. Sporet kan ikke "
    "rettes eller slettes fra værktøjet. Tidspunkter er dansk tid."
)
filters = _filters()
total = cached_read(audit_count, filters=filters)
if total == 0:
    st.info("Ingen ændringer passer på filtrene.")
else:
    limit, offset = pager(total, PAGE_KEY)
    events = cached_read(audit_events, filters=filters, limit=limit, offset=offset)
    st.caption(f"Viser {offset + 1}–{offset + len(events)} af {total} ændringer, nyeste først.")
    show_table(events, key="audit_table", widths={"Ændringer": "large"})
    if total > EXPORT_CAP:
        st.caption(f"Eksporten rummer de nyeste {EXPORT_CAP} ændringer; filtrér for resten.")
    engine = get_engine()

    def everything() -> pd.DataFrame:  # runs when clicked, outside the script: no st. calls
        with Session(engine) as s:
            return audit_events(session=s, filters=filters, limit=EXPORT_CAP, full=True)

    export_buttons(everything, "Revisionsspor", key="audit_export")
