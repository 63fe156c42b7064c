"""Prisopslag: what a place costs at a provider, what we pay on current contracts, and what
colleagues know about the provider (SPEC 5.2)."""

from datetime import date

import pandas as pd
import streamlit as st
from sqlmodel import Session

from models import FrameworkAgreement, Paragraph, label
from pages._ui import (
    app_settings,
    cached_read,
    export_buttons,
    get_engine,
    md,
    pager,
    show_flash,
    show_table,
)
from services.formatting import format_amount, format_date, format_kr, format_number, format_pct
from services.queries.lookup import (
    CATEGORY_FILTER_OPTIONS,
    PAGE_SIZE,
    RESULT_INTS,
    RESULT_MONEY,
    SCREEN_COLUMNS,
    LookupFilters,
    OfferPrice,
    category_label,
    count_offers,
    export_frame,
    latest_notes,
    results_frame,
    search_offers,
    target_group_options,
)
from services.settings import AppSettings

PAGE_KEY = "prisopslag_page"
SIGNATURE_KEY = "prisopslag_filter_signature"
SEARCH_NUMBER_KEY = "prisopslag_search_number"
PROVIDER_PAGE = "pages/leverandoerer.py"


def _filters() -> LookupFilters:
    """The search box and filters; a changed search starts again on page 1."""
    text = st.text_input(
        "Søg",
        key="prisopslag_text",
        placeholder="Leverandør, tilbud, CVR-nummer eller by",
        help="Alle ord skal findes i leverandørens navn, tilbuddets navn, CVR-nummer eller by.",
    )
    cols = st.columns(4)
    paragraphs = cols[0].multiselect(
        "Paragraf",
        [p.value for p in Paragraph],
        key="prisopslag_paragraphs",
        format_func=label,
        placeholder="Alle",
    )
    target_group = cols[1].selectbox(
        "Målgruppe",
        [None, *cached_read(target_group_options)],
        key="prisopslag_target_group",
        format_func=lambda v: "Alle" if v is None else v,
    )
    categories = cols[2].multiselect(
        "Priskategori",
        CATEGORY_FILTER_OPTIONS,
        key="prisopslag_categories",
        format_func=category_label,
        placeholder="Alle",
    )
    frameworks = cols[3].multiselect(
        "Samarbejdsaftale",
        [f.value for f in FrameworkAgreement],
        key="prisopslag_frameworks",
        format_func=lambda v: label(v, "framework"),
        placeholder="Alle",
    )
    include_inactive = st.checkbox("Vis også inaktive tilbud", key="prisopslag_inactive")
    filters = LookupFilters(
        text=text.strip(),
        paragraphs=tuple(paragraphs),
        target_group=target_group,
        categories=tuple(categories),
        frameworks=tuple(frameworks),
        include_inactive=include_inactive,
    )
    if st.session_state.get(SIGNATURE_KEY) != filters:
        st.session_state[SIGNATURE_KEY] = filters
        st.session_state.pop(PAGE_KEY, None)
        st.session_state[SEARCH_NUMBER_KEY] = st.session_state.get(SEARCH_NUMBER_KEY, 0) + 1
    return filters


def _table_key(offset: int) -> str:
    """A new table (and so no stale row selection) for every search and page."""
    return f"prisopslag_table_{st.session_state.get(SEARCH_NUMBER_KEY, 0)}_{offset}"


def _export(filters: LookupFilters, today: date) -> None:
    engine = get_engine()

    def make_frame() -> pd.DataFrame:
        with Session(engine) as s:
            return export_frame(session=s, filters=filters, today=today)

    export_buttons(
        make_frame, "Prisopslag", money=RESULT_MONEY, ints=RESULT_INTS, key="prisopslag_export"
    )


def _contract_text(offer: OfferPrice) -> str:
    c = offer.contracts
    if c.count == 0:
        return "Ingen aktive kontrakter på tilbuddet."
    if c.count == 1:
        return f"{format_kr(c.low)} pr. dag (1 aktiv kontrakt)"
    return (
        f"{format_amount(c.low)} – {format_amount(c.median)} – {format_kr(c.high)} pr. dag "
        f"(min – median – maks af {format_number(c.count)} aktive kontrakter)"
    )


def _detail(offer: OfferPrice, settings: AppSettings) -> None:
    """The selected offer: prices, facts, link and the provider's latest notes."""
    with st.container(border=True):
        st.markdown(f"#### {md(offer.offer_name)} · {md(offer.provider_name)}")
        facts = [
            label(offer.paragraph),
            f"CVR {offer.cvr}" if offer.cvr else "",
            offer.city or "",
            label(offer.provider_kind),
            label(offer.framework, "framework"),
            f"{format_number(offer.places)} pladser" if offer.places else "",
        ]
        st.caption(md(" · ".join(f for f in facts if f)))
        if offer.target_groups:
            st.caption(f"Målgrupper: {md(offer.target_groups)}")

        cols = st.columns(4)
        list_help = f"Fra Tilbudsportalen, {offer.list_rate_year}" if offer.list_rate_year else None
        cols[0].metric(
            "Listetakst pr. dag",
            format_kr(offer.list_rate) if offer.list_rate is not None else "—",
            help=list_help,
        )
        negotiated_help = None
        if offer.negotiated_rate is not None:
            negotiated_help = (
                f"Forhandlet {format_kr(offer.negotiated_rate)}"
                + (f" fra {format_date(offer.negotiated_from)}" if offer.negotiated_from else "")
                + f", reguleret med {format_pct(settings.regulation_default_pct)} pr. 1. januar."
            )
        cols[1].metric(
            "Forhandlet takst i dag",
            format_kr(offer.negotiated_today) if offer.negotiated_today is not None else "—",
            help=negotiated_help,
        )
        cols[2].metric("Priskategori", category_label(offer.category))
        cols[3].metric(
            "Netto efter momsrefusion",
            format_kr(offer.net_after_refund) if offer.net_after_refund is not None else "—",
            help=f"Takst i dag fratrukket momsrefusion på {format_pct(settings.vat_refund_pct)} "
            "(private og selvejende leverandører).",
        )
        st.write("**Kontrakttakster i dag:** " + _contract_text(offer))
        if offer.contracts.missing_index:
            st.warning(
                f"{offer.contracts.missing_index} kontrakt(er) mangler en reguleringssats "
                "(indeks) og er ikke regnet med. Tilføj satsen under Indstillinger.",
                icon="⚠️",
            )

        buttons = st.columns([1, 1, 3])
        if offer.portal_url:
            buttons[0].link_button("Åbn på Tilbudsportalen", offer.portal_url)
        if buttons[1].button("Åbn leverandøren", key="prisopslag_open_provider"):
            st.session_state["providers_selected_id"] = offer.provider_id
            st.switch_page(PROVIDER_PAGE, query_params={"id": str(offer.provider_id)})

        st.markdown("**Seneste noter i vidensbanken**")
        notes = cached_read(latest_notes, provider_id=offer.provider_id, limit=3)
        if not notes:
            st.caption("Der er ingen noter om leverandøren endnu.")
        for note in notes:
            st.caption(f"{format_date(note.note_date)} · {md(note.author)} · {label(note.topic)}")
            st.text(note.text)


def _caption(settings: AppSettings, today: date) -> None:
    regulation = format_pct(settings.regulation_default_pct)
    st.caption(
        f"Forhandlet takst er reguleret til i dag med {regulation} pr. 1. januar. "
        "Kontrakttakster er dagsækvivalenten af de aktive kontrakters regulerede "
        f"pris i dag (min – median – maks). Priskategori: forhandlet takst, ellers listetakst, "
        f"holdt op mod {today.year}-sættet for paragraffen. Netto er efter momsrefusion på "
        f"{format_pct(settings.vat_refund_pct)} for leverandører med momsrefusion."
    )


def _render() -> None:
    today = date.today()
    if cached_read(count_offers, filters=LookupFilters(include_inactive=True), today=today) == 0:
        st.info(
            "Der er endnu ingen tilbud at slå op i. Opret leverandører og deres tilbud under "
            "Leverandører – så kan du søge på pris, kategori og erfaringer her."
        )
        return
    filters = _filters()
    total = cached_read(count_offers, filters=filters, today=today)
    if total == 0:
        st.info("Ingen tilbud passer på søgningen. Prøv med færre ord eller filtre.")
        return
    settings = app_settings()
    count_col, pager_col = st.columns([3, 1], vertical_alignment="bottom")
    count_col.markdown(f"**{format_number(total)} tilbud passer på søgningen**")
    with pager_col:
        _limit, offset = pager(total, PAGE_KEY, page_size=PAGE_SIZE)
    offers = cached_read(
        search_offers, filters=filters, today=today, limit=PAGE_SIZE, offset=offset
    )
    frame = results_frame(offers)[SCREEN_COLUMNS]
    event = show_table(
        frame,
        money=RESULT_MONEY,
        ints=RESULT_INTS,
        links=["Tilbudsportalen"],
        key=_table_key(offset),
        selectable=True,
        height=min(len(frame), PAGE_SIZE) * 35 + 38,
    )
    _caption(settings, today)
    _export(filters, today)

    rows = list(event.selection.rows) if event is not None else []
    if rows and rows[0] < len(offers):
        _detail(offers[rows[0]], settings)
    else:
        st.info("Vælg en række i tabellen for at se detaljer og kollegernes noter om leverandøren.")


st.title("Prisopslag")
show_flash()
_render()
