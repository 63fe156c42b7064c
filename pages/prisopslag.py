"""Prisopslag: what a place costs at a provider, what we pay on current contracts, and what
colleagues know about the provider (SPEC 5.2).

The list is sorted in SQL across every matching offer ("Billigst først" by default); the
detail of the chosen offer, with the latest vidensbank notes, sits beside the list so a laptop
screen shows both."""

from datetime import date
from decimal import Decimal

import pandas as pd
import streamlit as st
from sqlmodel import Session

from models import FrameworkAgreement, Paragraph, label
from pages._ui import (
    app_settings,
    cached_read,
    compare_offer,
    export_buttons,
    get_engine,
    md,
    pager,
    show_flash,
    show_table,
)
from services.formatting import format_date, format_kr, format_number, format_pct
from services.queries.lookup import (
    CATEGORY_FILTER_OPTIONS,
    PAGE_SIZE,
    RESULT_INTS,
    RESULT_MONEY,
    SCREEN_INTS,
    SCREEN_LINKS,
    SCREEN_MONEY,
    SORT_EXPLAINED,
    SORT_LABELS,
    LookupFilters,
    OfferPrice,
    SortOrder,
    category_label,
    contract_range_detail,
    count_offers,
    export_frame,
    latest_notes,
    screen_frame,
    search_offers,
    target_group_options,
)
from services.settings import AppSettings

PAGE_KEY = "prisopslag_page"
SORT_KEY = "prisopslag_sort"
SIGNATURE_KEY = "prisopslag_filter_signature"
SEARCH_NUMBER_KEY = "prisopslag_search_number"
PROVIDER_PAGE = "pages/leverandoerer.py"
VISIBLE_ROWS = 10  # rows the table shows before it scrolls, so the detail stays beside it
# Column widths (px) that fit the key columns beside the detail at 1366 px with the sidebar
# open; a longer name is cut in its cell and shown whole in the detail.
WIDTHS: dict[str, str | int] = {
    "Nr.": 32,
    "Tilbud": 112,
    "Leverandør": 84,
    "§": 46,
    "Takst i dag": 80,
    "Netto": 78,
    "Kontrakter i dag": 140,
    "Priskategori": 104,
    "Portal": 48,
}
# The list and the detail side by side need the width Streamlit's wide layout leaves as margin
# (5rem each side) and its 6rem above the page. A static style, no user data; it goes with the
# page when the user leaves it.
PAGE_STYLE = (
    "<style>"
    '[data-testid="stMainBlockContainer"] '
    "{ padding-left: 1rem !important; padding-right: 1rem !important;"
    " padding-top: 4rem !important; }"
    "</style>"
)


def _filters() -> tuple[LookupFilters, SortOrder]:
    """The search box, the sort order and the filters; a changed search starts on page 1."""
    search_col, sort_col = st.columns([3, 1], vertical_alignment="bottom")
    text = search_col.text_input(
        "Søg",
        key="prisopslag_text",
        placeholder="Leverandør, tilbud, målgruppe, CVR-nummer eller by",
        help="Alle ord skal findes i leverandørens navn, tilbuddets navn, en målgruppe, "
        "CVR-nummeret, postnummeret eller byen.",
    )
    order = sort_col.selectbox(
        "Sortér efter",
        list(SortOrder),
        key=SORT_KEY,
        format_func=lambda o: SORT_LABELS[SortOrder(o)],
        help="Listen sorteres på tværs af alle tilbud, der passer på søgningen – ikke kun de "
        "viste rækker.",
    )
    cols = st.columns(4)
    paragraphs = cols[0].multiselect(
        "Paragraf",
        [p.value for p in Paragraph],
        key="prisopslag_paragraphs",
        format_func=label,
        placeholder="Alle",
        select_all=False,
    )
    groups = dict(cached_read(target_group_options))
    target_group = cols[1].selectbox(
        "Målgruppe",
        [None, *groups],
        key="prisopslag_target_group",
        format_func=lambda v: "Alle" if v is None else groups.get(v, "Alle"),
    )
    categories = cols[2].multiselect(
        "Priskategori",
        CATEGORY_FILTER_OPTIONS,
        key="prisopslag_categories",
        format_func=category_label,
        placeholder="Alle",
        select_all=False,
    )
    frameworks = cols[3].multiselect(
        "Samarbejdsaftale",
        [f.value for f in FrameworkAgreement],
        key="prisopslag_frameworks",
        format_func=lambda v: label(v, "framework"),
        placeholder="Alle",
        select_all=False,
    )
    include_inactive = st.checkbox("Vis også inaktive tilbud", key="prisopslag_inactive")
    filters = LookupFilters(
        text=text.strip(),
        paragraphs=tuple(paragraphs),
        target_group=target_group if target_group in groups else None,
        categories=tuple(categories),
        frameworks=tuple(frameworks),
        include_inactive=include_inactive,
    )
    order = SortOrder(order)
    if st.session_state.get(SIGNATURE_KEY) != (filters, order):
        st.session_state[SIGNATURE_KEY] = (filters, order)
        st.session_state.pop(PAGE_KEY, None)
        st.session_state[SEARCH_NUMBER_KEY] = st.session_state.get(SEARCH_NUMBER_KEY, 0) + 1
    return filters, order


def _table_key(offset: int) -> str:
    """A new table (and so a fresh selection) for every search, order and page."""
    return f"prisopslag_table_{st.session_state.get(SEARCH_NUMBER_KEY, 0)}_{offset}"


def _export(filters: LookupFilters, order: SortOrder, today: date) -> None:
    engine = get_engine()

    def make_frame() -> pd.DataFrame:
        with Session(engine) as s:
            return export_frame(session=s, filters=filters, today=today, order=order)

    export_buttons(
        make_frame, "Prisopslag", money=RESULT_MONEY, ints=RESULT_INTS, key="prisopslag_export"
    )


def _rate_source(offer: OfferPrice, settings: AppSettings) -> str:
    """Where the rate today comes from, and the list rate beside it."""
    year = f" ({offer.list_rate_year})" if offer.list_rate_year else ""
    listed = f"Listetakst {format_kr(offer.list_rate)}{year}." if offer.list_rate else ""
    if offer.negotiated_rate is None:
        return listed or "Tilbuddet har ingen takst."
    since = f" fra {format_date(offer.negotiated_from)}" if offer.negotiated_from else ""
    if offer.rate_today is None:
        how = "kan ikke reguleres til i dag (tjek datoen)"
    else:
        how = f"reguleret med {format_pct(settings.regulation_default_pct)} pr. 1. januar"
    return f"Forhandlet {format_kr(offer.negotiated_rate)}{since}, {how}. {listed}".strip()


def _money_or_dash(amount: Decimal | None) -> str:
    return format_kr(amount) if amount is not None else "—"


def _detail(offer: OfferPrice, settings: AppSettings) -> None:
    """The chosen offer: prices, facts and the provider's latest notes, compact enough to sit
    beside the list on a laptop screen (few elements, small gaps); the links last."""
    with st.container(border=True, gap="xsmall"):
        st.markdown(f"##### {md(offer.offer_name)}")
        facts = [
            offer.provider_name,
            label(offer.paragraph),
            offer.city or "",
            f"{format_number(offer.places)} pladser" if offer.places else "",
            f"CVR {offer.cvr}" if offer.cvr else "",
            label(offer.provider_kind),
            label(offer.framework, "framework")
            if offer.framework != FrameworkAgreement.NONE
            else "",
        ]
        about = " · ".join(md(f) for f in facts if f)
        if offer.target_groups:
            about += f"  \nMålgrupper: {md(offer.target_groups)}"
        st.caption(about)

        net = _money_or_dash(offer.net_after_refund)
        if offer.net_after_refund is None:
            net += " (ingen momsrefusion)"
        st.markdown(
            f"**Takst i dag:** {_money_or_dash(offer.rate_today)}  \n"
            f":gray[:small[{md(_rate_source(offer, settings))}]]  \n"
            f"**Netto efter momsrefusion:** {net}  \n"
            f"**Priskategori:** {category_label(offer.category)}  \n"
            f"**Kontrakttakster i dag:** {contract_range_detail(offer.contracts)}"
        )
        if offer.contracts.missing_index:
            st.warning(
                f"{offer.contracts.missing_index} kontrakt(er) mangler en reguleringssats "
                "(indeks) og er ikke regnet med. Tilføj satsen under Indstillinger.",
                icon="⚠️",
            )

        st.markdown("**Seneste noter i vidensbanken**")
        notes = cached_read(latest_notes, provider_id=offer.provider_id, limit=3)
        if not notes:
            st.caption("Der er ingen noter om leverandøren endnu.")
        for note_row in notes:
            st.caption(
                f"{format_date(note_row.note_date)} · {md(note_row.author)} · "
                f"{label(note_row.topic)}"
            )
            st.text(note_row.text)

        with st.container(horizontal=True, gap="small"):
            if offer.portal_url:
                st.link_button("Tilbudsportalen", offer.portal_url, icon=":material/open_in_new:")
            if st.button(
                "Leverandøren", key="prisopslag_open_provider", icon=":material/apartment:"
            ):
                st.session_state["providers_selected_id"] = offer.provider_id
                st.switch_page(PROVIDER_PAGE, query_params={"id": str(offer.provider_id)})
            if st.button(
                "Sammenlign",
                key="prisopslag_compare",
                icon=":material/compare_arrows:",
                help="Læg tilbuddet i sammenligningen (op til tre tilbud) og åbn den.",
            ):
                compare_offer(offer.offer_id)


def _caption(settings: AppSettings, today: date) -> None:
    regulation = format_pct(settings.regulation_default_pct)
    st.caption(
        f"Takst i dag: den forhandlede takst reguleret til i dag med {regulation} pr. 1. januar, "
        "ellers listetaksten. Netto er efter momsrefusion på "
        f"{format_pct(settings.vat_refund_pct)} for leverandører med momsrefusion. Kontrakter i "
        "dag: de aktive kontrakters regulerede pris i dag pr. dag, min–median–maks (antal), hele "
        f"kroner. Priskategori: takst i dag holdt op mod {today.year}-sættet for paragraffen."
    )


def _render() -> None:
    today = date.today()
    if cached_read(count_offers, filters=LookupFilters(include_inactive=True), today=today) == 0:
        st.title("Prisopslag")
        show_flash()
        st.info(
            "Der er endnu ingen tilbud at slå op i. Opret leverandører og deres tilbud under "
            "Leverandører – så kan du søge på pris, kategori og erfaringer her."
        )
        return
    settings = app_settings()
    list_col, detail_col = st.columns([3, 1], gap="xsmall")
    with list_col:
        st.title("Prisopslag")
        show_flash()
        filters, order = _filters()
        total = cached_read(count_offers, filters=filters, today=today)
        if total == 0:
            st.info("Ingen tilbud passer på søgningen. Prøv med færre ord eller filtre.")
            return
        count_col, pager_col = st.columns([1, 1], vertical_alignment="center")
        count_col.markdown(f"**{format_number(total)} tilbud passer på søgningen**")
        with pager_col:
            _limit, offset = pager(total, PAGE_KEY, page_size=PAGE_SIZE)
        offers = cached_read(
            search_offers, filters=filters, today=today, order=order, limit=PAGE_SIZE, offset=offset
        )
        st.caption(
            f"Sorteret efter {SORT_EXPLAINED[order]} på tværs af alle {format_number(total)} "
            "tilbud; Nr. er placeringen i hele listen. Et klik på en kolonneoverskrift sorterer "
            "kun de viste rækker – vælg rækkefølgen under »Sortér efter«."
        )
        event = show_table(
            screen_frame(offers),
            money=SCREEN_MONEY,
            ints=SCREEN_INTS,
            links=SCREEN_LINKS,
            key=_table_key(offset),
            selectable=True,
            always_selected=True,
            widths=WIDTHS,
            height=min(len(offers), VISIBLE_ROWS) * 35 + 38,
        )
        _caption(settings, today)
        _export(filters, order, today)

    rows = list(event.selection.rows) if event is not None else []
    with detail_col:
        if offers:
            _detail(offers[rows[0] if rows and rows[0] < len(offers) else 0], settings)


st.html(PAGE_STYLE)
_render()
