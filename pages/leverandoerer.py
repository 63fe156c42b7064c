"""Leverandører: the provider register, a provider's page, offers and the vidensbank."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from models import FrameworkAgreement, NoteTopic, Paragraph, ProviderKind, label
from pages._ui import (
    cached_read,
    compare_offer,
    date_input,
    edit_form,
    ensure_entry_point,
    export_buttons,
    field_error,
    forget_field,
    history_link,
    md,
    money_input,
    pager,
    query_id,
    reset_form,
    section,
    select_code,
    session,
    show_flash,
    show_table,
    tabs,
    unknown_link,
    user_name,
)
from services.formatting import format_kr, format_large_kr, format_number, voided_text
from services.providers import (
    add_provider_note,
    create_offer,
    create_provider,
    cvr_warning,
    get_provider,
    list_offers,
    list_provider_notes,
    update_offer,
    update_provider,
    void_provider_note,
)
from services.queries.providers import (
    ProviderFilter,
    count_provider_contracts,
    count_providers,
    provider_contracts,
    provider_deviations,
    provider_key_figures,
    provider_register,
    provider_spend_by_year,
)
from services.target_groups import offer_target_group_names, target_group_choices

SELECTED = "providers_selected_id"
LINKED = "providers_linked_id"  # the provider the page's address (?id=) opened
SEEN = "providers_qp_seen"  # the ?id= this session last opened or showed
TAB = "providers_tab"
TABS = ["Tilbud", "Kontrakter", "Forbrug", "Afvigelser", "Vidensbank", "Ret stamdata"]
NEW_PROVIDER = "providers_new"
NEW_PROVIDER_SECTION = "providers_section_new_provider"
NEW_OFFER_SECTION = "providers_section_new_offer"
OFFER_CHOICE = "providers_offer_edit_id"
VOIDING = "providers_voiding_note_id"  # the note whose void form is open
SAVED_AT = "providers_saved_at"  # the place whose save message waits to be shown there
VOIDED_NOTE = "providers_voided_note"  # SAVED_AT after a void: above the notes
PAGE_SIZE = 50
NOTES_SHOWN = 100
# Column widths in px: the register's columns side by side beside the sidebar at 1366 px.
REGISTER_WIDTHS = {
    "Leverandør": 330,
    "By": 105,
    "Tilbud": 62,
    "Noter": 58,
    "Kontrakter": 86,
    "Faktureret 12 mdr.": 130,
    "Afvigelser": 84,
}


def _labelled(
    frame: pd.DataFrame, columns: dict[str, str], codes: dict[str, str | None] | None = None
) -> pd.DataFrame:
    """Danish column names and Danish labels for stored codes."""
    shown = frame.copy()
    for column, context in (codes or {}).items():
        shown[column] = shown[column].map(lambda v, c=context: label(v, c))
    return shown[list(columns)].rename(columns=columns)


# --- The provider form (create and edit) ------------------------------------------------------


def _provider_form(form: str, provider: Any = None) -> dict[str, Any]:
    """Widgets for every provider field; returns what the user typed."""

    def key(field: str) -> str:
        return f"{form}_{field}"

    def initial(field: str, default: Any = None) -> Any:
        return getattr(provider, field) if provider is not None else default

    left, right = st.columns(2)
    with left:
        name = st.text_input("Navn *", key=key("name"), value=initial("name", ""))
        field_error(form, "name")
        cvr = st.text_input(
            "CVR-nummer",
            key=key("cvr"),
            value=initial("cvr") or "",
            help="8 cifre. Et nummer, der ikke består kontrolcifferet, gemmes med en advarsel.",
        )
        field_error(form, "cvr")
        kind = select_code(
            "Type *", list(ProviderKind), key("kind"), initial("kind", ProviderKind.PRIVATE)
        )
        field_error(form, "kind")
        postal_code = st.text_input(
            "Postnummer", key=key("postal_code"), value=initial("postal_code") or ""
        )
        field_error(form, "postal_code")
        city = st.text_input("By", key=key("city"), value=initial("city") or "")
        field_error(form, "city")
        portal_url = st.text_input(
            "Tilbudsportalen (link)",
            key=key("portal_url"),
            value=initial("portal_url") or "",
            placeholder="https://tilbudsportalen.dk/...",
        )
        field_error(form, "portal_url")
        contact = st.text_input(
            "Kontakt",
            key=key("contact"),
            value=initial("contact") or "",
            help="Funktion, telefon eller fællespostkasse – ikke borgere.",
        )
        field_error(form, "contact")
    with right:
        framework = select_code(
            "Aftale",
            list(FrameworkAgreement),
            key("framework"),
            initial("framework", FrameworkAgreement.NONE),
            context="framework",
        )
        framework_valid_to = date_input(
            "Aftalen gælder til",
            key("framework_valid_to"),
            initial("framework_valid_to"),
            optional=True,
        )
        field_error(form, "framework_valid_to")
        rating = st.selectbox(
            "Kvalitetsvurdering (1–5)",
            [None, 1, 2, 3, 4, 5],
            index=[None, 1, 2, 3, 4, 5].index(initial("quality_rating")),
            key=key("quality_rating"),
            format_func=lambda v: "Ikke vurderet" if v is None else str(v),
        )
        assessment = st.text_area(
            "Vurdering (kvalitet, uddannelsesniveau, faglige tilgange)",
            key=key("assessment"),
            value=initial("assessment") or "",
            height=120,
        )
        field_error(form, "assessment")
        vat_refund = st.checkbox(
            "Momsrefusion gælder",
            key=key("vat_refund"),
            value=initial("vat_refund", True),
            help="Normalt for private og selvejende leverandører.",
        )
        active = st.checkbox("Aktiv", key=key("active"), value=initial("active", True))
    return {
        "name": name,
        "cvr": cvr,
        "kind": kind,
        "postal_code": postal_code,
        "city": city,
        "portal_url": portal_url,
        "contact": contact,
        "framework": framework,
        "framework_valid_to": framework_valid_to,
        "quality_rating": rating,
        "assessment": assessment,
        "vat_refund": vat_refund,
        "active": active,
    }


# --- Where the page is: the open provider, its address (?id=) and where a save's result shows --


def _open_provider(provider_id: int, *, linked: bool = False) -> None:
    """Show a provider (on its first tab); the address names it, so the link can be shared."""
    st.session_state[SELECTED] = provider_id
    if linked:
        st.session_state[LINKED] = provider_id
    else:
        st.session_state.pop(LINKED, None)
    st.session_state.pop(TAB, None)
    st.session_state.pop(VOIDING, None)
    _show_in_address(provider_id)


def _close_provider() -> None:
    """Back to the register; the address names no provider."""
    st.session_state.pop(SELECTED, None)
    st.session_state.pop(LINKED, None)
    st.session_state.pop("providers_table", None)  # or the register's selection reopens it
    st.session_state[SEEN] = None
    if "id" in st.query_params:
        del st.query_params["id"]


def _show_in_address(provider_id: int) -> None:
    if st.query_params.get("id") != str(provider_id):
        st.query_params["id"] = str(provider_id)
    st.session_state[SEEN] = str(provider_id)


def _saved_at(place: str) -> Callable[[Any], None]:
    """after_save: the save's message shows at `place` (see _result_at)."""

    def remember(_: Any) -> None:
        st.session_state[SAVED_AT] = place

    return remember


def _result_at(place: str) -> None:
    """The message of a save made at `place`, shown there (where the user looks)."""
    if st.session_state.get(SAVED_AT) == place:
        st.session_state.pop(SAVED_AT)
        show_flash()


def _create_provider() -> None:
    form = NEW_PROVIDER

    def opened(provider: Any) -> None:
        _open_provider(int(provider.id))

    with section("Opret leverandør", NEW_PROVIDER_SECTION, forms=[form]):
        edit_form(
            form,
            lambda: _provider_form(form),
            create_provider,
            batch=True,
            submit="Opret leverandør",
            success=lambda data: f"Leverandøren »{md(data['name'])}« er oprettet.",
            after_save=opened,
            empty_in_browser=True,
        )


# --- The register -----------------------------------------------------------------------------


def _register_view() -> None:
    show_flash()
    _create_provider()
    search = st.text_input(
        "Søg", key="providers_search", placeholder="Navn, CVR-nummer, postnummer eller by"
    )
    col1, col2, col3 = st.columns([2, 2, 1])
    kinds = col1.multiselect(
        "Type",
        list(ProviderKind),
        key="providers_kinds",
        format_func=label,
        placeholder="Alle",
        select_all=False,
    )
    frameworks = col2.multiselect(
        "Aftale",
        list(FrameworkAgreement),
        key="providers_frameworks",
        format_func=lambda v: label(v, "framework"),
        placeholder="Alle",
        select_all=False,
    )
    active_only = col3.toggle("Kun aktive", value=True, key="providers_active_only")
    filters = ProviderFilter(
        search=search, kinds=tuple(kinds), frameworks=tuple(frameworks), active_only=active_only
    )
    total = cached_read(count_providers, filters=filters)
    if total == 0:
        st.info("Ingen leverandører matcher. Ret søgningen, eller opret en leverandør ovenfor.")
        return
    limit, offset = pager(total, "providers_page", PAGE_SIZE)
    frame = cached_read(
        provider_register, filters=filters, today=date.today(), limit=PAGE_SIZE, offset=offset
    )
    st.caption(
        f"{format_number(total)} leverandører · viser {offset + 1}–"
        f"{offset + len(frame)} · vælg en række for at åbne leverandøren · Kontrakter: aktive, "
        "Afvigelser: åbne fakturaafvigelser, beløb i kr."
    )
    columns = {
        "name": "Leverandør",
        "cvr": "CVR",
        "kind": "Type",
        "city": "By",
        "framework": "Aftale",
        "quality_rating": "Kvalitet",
        "offers": "Tilbud",
        "notes": "Noter",
        "active_contracts": "Kontrakter",
        "spend_12m": "Faktureret 12 mdr.",
        "open_deviations": "Afvigelser",
    }
    exported = _labelled(frame, columns, {"kind": None, "framework": "framework"})
    # On screen the columns that fit beside the sidebar at 1366 px with a provider name of 48
    # characters uncut; CVR, type, agreement and quality rating are on the provider's page and
    # in the export (and type and agreement are filters above).
    shown = exported.drop(columns=["CVR", "Type", "Aftale", "Kvalitet"])
    counts = ["Tilbud", "Noter", "Kontrakter", "Afvigelser"]
    event = show_table(
        shown,
        money=["Faktureret 12 mdr."],
        ints=counts,
        key="providers_table",
        selectable=True,
        widths=REGISTER_WIDTHS,
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        _open_provider(int(frame.iloc[rows[0]]["id"]))
        st.rerun()
    export_buttons(
        exported,
        "Leverandører",
        money=["Faktureret 12 mdr."],
        ints=["Kvalitet", *counts],
        key="providers_export",
    )


# --- One provider -----------------------------------------------------------------------------


def _offer_form(form: str, provider_id: int, offer: Any = None) -> dict[str, Any]:
    def key(field: str) -> str:
        return f"{form}_{field}"

    def initial(field: str, default: Any = None) -> Any:
        return getattr(offer, field) if offer is not None else default

    left, right = st.columns(2)
    with left:
        name = st.text_input("Tilbuddets navn *", key=key("name"), value=initial("name", ""))
        field_error(form, "name")
        paragraph = select_code(
            "Paragraf *", list(Paragraph), key("paragraph"), initial("paragraph", Paragraph.SEL108)
        )
        groups = cached_read(target_group_choices, offer_id=initial("id"))
        target_group_ids = st.multiselect(
            "Målgrupper",
            groups.options,
            default=[i for i in groups.selected if i in groups.options],
            key=key("target_group_ids"),
            format_func=lambda i: groups.names.get(i, ""),
            placeholder="Vælg fra listen (Indstillinger → Målgrupper)",
            select_all=False,
        )
        field_error(form, "target_group_ids")
        places = st.number_input(
            "Pladser",
            min_value=0,
            max_value=10000,
            step=1,
            key=key("places"),
            value=initial("places"),
        )
        portal_url = st.text_input(
            "Tilbudsportalen (link)", key=key("portal_url"), value=initial("portal_url") or ""
        )
        field_error(form, "portal_url")
    with right:
        list_rate = money_input("Listetakst pr. døgn (kr.)", key("list_rate"), initial("list_rate"))
        field_error(form, "list_rate")
        list_rate_year = st.number_input(
            "Listetakstens år",
            min_value=2000,
            max_value=2100,
            step=1,
            key=key("list_rate_year"),
            value=initial("list_rate_year", date.today().year),
        )
        field_error(form, "list_rate_year")
        negotiated_rate = money_input(
            "Forhandlet takst pr. døgn (kr.)", key("negotiated_rate"), initial("negotiated_rate")
        )
        field_error(form, "negotiated_rate")
        negotiated_from = date_input(
            "Forhandlet takst gælder fra",
            key("negotiated_from"),
            initial("negotiated_from"),
            optional=True,
        )
        field_error(form, "negotiated_from")
        active = st.checkbox("Aktivt", key=key("active"), value=initial("active", True))
    return {
        "provider_id": provider_id,
        "name": name,
        "paragraph": paragraph,
        "target_group_ids": target_group_ids,
        "places": places,
        "portal_url": portal_url,
        "list_rate": list_rate,
        "list_rate_year": list_rate_year,
        "negotiated_rate": negotiated_rate,
        "negotiated_from": negotiated_from,
        "active": active,
    }


def _compare_choice(offers: list[Any]) -> None:
    """Put one of the provider's active offers into Sammenlign tilbud."""
    names = {o.id: o.name for o in offers if o.active and o.id is not None}
    if not names:
        return
    pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    pick = pick_col.selectbox(
        "Sammenlign et tilbud med andre",
        list(names),
        key="providers_compare_pick",
        format_func=lambda i: names.get(i, ""),
        help="Åbner Sammenlign tilbud med dette tilbud (og de tilbud, du allerede har lagt i "
        "sammenligningen, op til tre).",
    )
    if button_col.button("Sammenlign", key="providers_compare", icon=":material/compare_arrows:"):
        compare_offer(pick)


def _offers_tab(provider_id: int) -> None:
    with session() as s:
        offers = list_offers(session=s, provider_id=provider_id)
        groups = offer_target_group_names(session=s, offer_ids=[o.id for o in offers if o.id])
    if offers:
        frame = pd.DataFrame(
            [
                {
                    "Tilbud": o.name,
                    "Paragraf": label(o.paragraph, "short"),
                    "Målgrupper": groups.get(o.id or 0, ""),
                    "Pladser": o.places,
                    "Listetakst": o.list_rate,
                    "År": str(o.list_rate_year or ""),
                    "Forhandlet": o.negotiated_rate,
                    "Gælder fra": o.negotiated_from,
                    "Aktivt": "Ja" if o.active else "Nej",
                    "Tilbudsportalen": o.portal_url,
                }
                for o in offers
            ]
        )
        money = ["Listetakst", "Forhandlet"]
        # On screen what fits beside the sidebar at 1366 px, none cut off; places and the
        # active flag are in the export and the offer's form (an inactive offer is marked).
        shown = frame.assign(
            Tilbud=[o.name if o.active else f"{o.name} (inaktivt)" for o in offers]
        ).rename(columns={"Tilbudsportalen": "Link"})
        show_table(
            shown.drop(columns=["Pladser", "Aktivt"]),
            money=money,
            dates=["Gælder fra"],
            links=["Link"],
            key="providers_offers_table",
        )
        st.caption(
            "Takster i kr. pr. døgn; den forhandlede takst gælder fra datoen. Link: "
            "Tilbudsportalen. Pladser og status står i eksporten."
        )
        export_buttons(
            frame,
            "Tilbud",
            money=money,
            dates=["Gælder fra"],
            ints=["Pladser"],
            key="providers_offers_export",
        )
        _compare_choice(offers)
    else:
        st.info("Leverandøren har ingen tilbud registreret endnu.")

    new_form = f"providers_offer_new_{provider_id}"
    with section("Opret tilbud", NEW_OFFER_SECTION, forms=[new_form]):
        _result_at(new_form)
        edit_form(
            new_form,
            lambda: _offer_form(new_form, provider_id),
            create_offer,
            batch=True,
            submit="Opret tilbud",
            success=lambda data: f"Tilbuddet »{md(data['name'])}« er oprettet.",
            after_save=_saved_at(new_form),
            empty_in_browser=True,
        )
    if offers:
        by_id = {o.id: o for o in offers}
        _result_at(OFFER_CHOICE)
        chosen = st.selectbox(
            "Ret et tilbud",
            [None, *by_id],
            key=OFFER_CHOICE,
            format_func=lambda i: "Vælg tilbud …" if i is None else by_id[i].name,
        )
        if chosen is not None:
            offer = by_id[chosen]
            form = f"providers_offer_edit_{chosen}"

            def edited(result: Any) -> None:  # done: the choice is forgotten, the table shows it
                forget_field(OFFER_CHOICE)
                _saved_at(OFFER_CHOICE)(result)

            edit_form(
                form,
                lambda: _offer_form(form, provider_id, offer),
                update_offer,
                args={"offer_id": chosen},
                loaded=(chosen, offer.version),
                batch=True,
                submit="Gem tilbud",
                reload_always="Indlæs tilbuddet igen",
                success=lambda data: f"Tilbuddet »{md(data['name'])}« er gemt.",
                after_save=edited,
            )


def _notes_tab(provider_id: int, notes_in_force: int, *, with_notes: bool) -> None:
    """The note form (always drawn: typing survives a look at another tab) and, `with_notes`,
    the notes themselves, newest first."""
    form = f"providers_note_{provider_id}"

    def fields() -> dict[str, Any]:
        st.markdown("**Ny note i vidensbanken**")
        left, right = st.columns([1, 3])
        topic = left.selectbox("Emne", list(NoteTopic), key=f"{form}_topic", format_func=label)
        text = right.text_area(
            "Note",
            key=f"{form}_text",
            height=100,
            placeholder="Erfaringer med leverandøren – ingen navne eller CPR-numre på borgere.",
        )
        field_error(form, "text")
        st.caption(
            f"Noten dateres {date.today():%d.%m.%Y} og underskrives af {md(user_name())}. "
            "Noter kan ikke rettes bagefter, kun annulleres med en begrundelse."
        )
        return {"provider_id": provider_id, "topic": topic, "text": text}

    _result_at(form)
    edit_form(
        form,
        fields,
        add_provider_note,
        batch=True,
        submit="Gem note",
        success="Noten er gemt i vidensbanken.",
        after_save=_saved_at(form),
        empty_in_browser=True,
    )
    if not with_notes:
        return
    with session() as s:
        notes = list_provider_notes(session=s, provider_id=provider_id, limit=NOTES_SHOWN)
    _result_at(VOIDED_NOTE)
    if not notes:
        st.info("Ingen noter endnu. Del jeres erfaringer med leverandøren med kollegerne.")
        return
    voided = sum(1 for note in notes if note.voided_at is not None)
    st.caption(
        f"{format_number(notes_in_force)} {'note' if notes_in_force == 1 else 'noter'} i "
        "vidensbanken, nyeste først"
        + (f" (de {NOTES_SHOWN} nyeste vises)" if len(notes) == NOTES_SHOWN else "")
        + (f" · {format_number(voided)} annulleret: vist, men tæller ikke med" if voided else "")
    )
    for note in notes:
        _note_card(note)


def _note_card(note: Any) -> None:
    """One note, signed and dated; a voided note marked with who voided it, when and why."""
    with st.container(border=True):
        head, action = st.columns([5, 1], vertical_alignment="center")
        head.caption(f"{note.note_date:%d.%m.%Y} · {md(note.author)} · {label(note.topic)}")
        if note.voided_at is not None:
            voided = voided_text(note.voided_at, note.voided_by, note.void_reason)
            st.caption(f":material/block: {md(voided)}")
            st.text(note.text)
            return
        st.text(note.text)
        if st.session_state.get(VOIDING) != note.id:
            if action.button(
                "Annullér",
                key=f"providers_void_open_{note.id}",
                icon=":material/block:",
                help="Annullér noten, hvis den er skrevet ved en fejl. Den bevares, markeret.",
            ):
                st.session_state[VOIDING] = note.id
                st.rerun()
            return
        _void_note_form(note)


def _void_note_form(note: Any) -> None:
    form = f"providers_void_note_{note.id}"

    def fields() -> dict[str, Any]:
        reason = st.text_area(
            "Hvorfor annulleres noten? *",
            key=f"{form}_reason",
            height=80,
            placeholder="Fx skrevet om den forkerte leverandør",
        )
        field_error(form, "reason")
        st.caption(
            "Noten bliver stående, markeret som annulleret med din begrundelse, og tæller ikke "
            "længere med."
        )
        return {"reason": reason}

    def voided(result: Any) -> None:
        st.session_state.pop(VOIDING, None)
        _saved_at(VOIDED_NOTE)(result)

    edit_form(
        form,
        fields,
        void_provider_note,
        args={"note_id": note.id},
        loaded=(note.id, note.version),
        batch=True,
        submit="Annullér noten",
        success="Noten er annulleret. Den vises stadig, markeret, men tæller ikke med.",
        after_save=voided,
    )
    if st.button("Fortryd", key=f"{form}__cancel"):
        st.session_state.pop(VOIDING, None)
        reset_form(form)
        st.rerun()


def _spend_tab(provider_id: int) -> None:
    with session() as s:
        spend = provider_spend_by_year(session=s, provider_id=provider_id)
    if spend.empty:
        st.info("Der er ingen fakturakontroller for leverandøren endnu.")
        return
    chart_data = spend.assign(
        invoiced=spend["invoiced"].astype(float), year=spend["year"].astype(str)
    )
    chart = (
        alt.Chart(chart_data)
        .mark_bar(color="#1f5f8b")
        .encode(
            x=alt.X("year:O", title="År", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("invoiced:Q", title="Faktureret (kr.)", axis=alt.Axis(format=",.0f")),
            tooltip=[
                alt.Tooltip("year:O", title="År"),
                alt.Tooltip("invoiced:Q", title="Faktureret (kr.)", format=",.2f"),
                alt.Tooltip("invoices:Q", title="Fakturaer"),
            ],
        )
        .properties(height=260)
    )
    st.altair_chart(chart, width="stretch")
    frame = spend.rename(
        columns={"year": "År", "invoiced": "Faktureret (kr.)", "invoices": "Fakturaer"}
    )
    frame["År"] = frame["År"].astype(str)
    show_table(frame, money=["Faktureret (kr.)"], ints=["Fakturaer"], key="providers_spend")


def _contracts_tab(provider_id: int, total: int) -> None:
    if total == 0:
        st.info("Leverandøren har ingen kontrakter.")
        return
    limit, offset = pager(total, f"providers_contracts_page_{provider_id}", PAGE_SIZE)
    with session() as s:
        frame = provider_contracts(session=s, provider_id=provider_id, limit=limit, offset=offset)
    frame["unit"] = frame["price_unit"].map(label)
    shown = _labelled(
        frame,
        {
            "case_ref": "Sagsnummer",
            "offer": "Tilbud",
            "paragraph": "Paragraf",
            "status": "Status",
            "start_date": "Start",
            "end_date": "Slut",
            "price": "Pris (kr.)",
            "unit": "Enhed",
        },
        {"paragraph": "short", "status": None},
    )
    event = show_table(
        shown,
        money=["Pris (kr.)"],
        dates=["Start", "Slut"],
        key="providers_contracts_table",
        selectable=True,
        widths={"Slut": 100, "Pris (kr.)": 110},  # sized for values the first rows lack
    )
    rows = event.selection.rows if event is not None else []
    st.caption("Vælg en kontrakt for at åbne den under Kontrakter.")
    if rows:
        st.session_state["contracts_selected_id"] = int(frame.iloc[rows[0]]["id"])
        st.switch_page("pages/kontrakter.py")


def _deviations_tab(provider_id: int) -> None:
    with session() as s:
        frame = provider_deviations(session=s, provider_id=provider_id)
    if frame.empty:
        st.success("Ingen fakturaafvigelser registreret for leverandøren.")
        return
    shown = _labelled(
        frame,
        {
            "invoice_no": "Faktura",
            "case_ref": "Sagsnummer",
            "period_from": "Fra",
            "period_to": "Til",
            "invoiced": "Faktureret (kr.)",
            "expected": "Forventet (kr.)",
            "deviation": "Afvigelse (kr.)",
            "deviation_pct": "Afvigelse (%)",
            "status": "Status",
        },
        {"status": None},
    )
    money = ["Faktureret (kr.)", "Forventet (kr.)", "Afvigelse (kr.)"]
    show_table(
        shown,
        money=money,
        pct=["Afvigelse (%)"],
        dates=["Fra", "Til"],
        key="providers_deviations_table",
    )
    export_buttons(
        shown,
        "Fakturaafvigelser",
        money=money,
        dates=["Fra", "Til"],
        pct=["Afvigelse (%)"],
        key="providers_deviations_export",
    )


def _key_amount(amount: Decimal) -> str:
    """An amount short enough for a key figure beside three others at 1366 px: in millions
    from a million ("1,19 mia. kr.", never "1.192.392.23…")."""
    return format_large_kr(amount) if abs(amount) >= 1_000_000 else format_kr(amount, decimals=0)


def _detail_view(provider_id: int) -> None:
    if st.button("Alle leverandører", icon=":material/arrow_back:", key="providers_back"):
        _close_provider()
        st.rerun()
    with session() as s:
        try:
            provider = get_provider(session=s, provider_id=provider_id)
        except Exception:
            show_flash()
            if st.session_state.get(LINKED) == provider_id:
                unknown_link("en kendt leverandør")
            else:
                st.error("Leverandøren findes ikke længere.")
            _close_provider()
            return
        figures = provider_key_figures(session=s, provider_id=provider_id, today=date.today())
    _show_in_address(provider_id)
    st.subheader(md(provider.name))
    facts = [label(provider.kind)]
    if provider.cvr:
        facts.append(f"CVR {md(provider.cvr)}")
    if provider.city:
        facts.append(md(f"{provider.postal_code or ''} {provider.city}".strip()))
    if provider.framework != FrameworkAgreement.NONE:
        until = (
            f" til {provider.framework_valid_to:%d.%m.%Y}" if provider.framework_valid_to else ""
        )
        facts.append(f"{label(provider.framework, 'framework')}{until}")
    if provider.quality_rating:
        facts.append(f"Kvalitet {provider.quality_rating}/5")
    if not provider.active:
        facts.append("Inaktiv")
    st.caption(" · ".join(facts))
    if warning := cvr_warning(provider.cvr):
        st.warning(warning)
    if provider.portal_url:
        st.link_button("Se på Tilbudsportalen", provider.portal_url, icon=":material/open_in_new:")
    history_link("provider", provider_id)
    metrics = st.columns(4)
    metrics[0].metric(
        "Aktive kontrakter",
        format_number(figures.active_contracts),
        help=f"{figures.ended_contracts} afsluttede eller opsagte",
    )
    metrics[1].metric("Tilbud", format_number(figures.offers))
    metrics[2].metric(
        "Faktureret sidste 12 mdr.",
        _key_amount(figures.spend_12m),
        help=f"I alt {format_kr(figures.spend_12m)} I år: {format_kr(figures.spend_this_year)}",
    )
    metrics[3].metric(
        "Åbne afvigelser",
        format_number(figures.open_deviations),
        help=f"I alt {format_kr(figures.open_deviation_amount)} over forventet",
    )
    if provider.assessment:
        with st.container(border=True):
            st.caption("Vurdering")
            st.text(provider.assessment)

    # The tab where the user acted stays selected after a save. Tabs with forms are always drawn
    # (typing there survives a look at another tab); the others only when selected.
    drawn = tabs(TABS, TAB)
    offers_tab, contracts_tab, spend_tab, deviations_tab, notes_tab, edit_tab = drawn
    with next((tab for tab in drawn if tab.open), offers_tab):
        result = st.container()  # a save's message not shown at its form shows here
    with offers_tab:
        _offers_tab(provider_id)
    if contracts_tab.open is not False:
        with contracts_tab:
            with session() as s:
                total = count_provider_contracts(session=s, provider_id=provider_id)
            _contracts_tab(provider_id, total)
    if spend_tab.open is not False:
        with spend_tab:
            _spend_tab(provider_id)
    if deviations_tab.open is not False:
        with deviations_tab:
            _deviations_tab(provider_id)
    with notes_tab:
        _notes_tab(provider_id, figures.notes, with_notes=notes_tab.open is not False)
    with edit_tab:
        form = f"providers_edit_{provider_id}"
        _result_at(form)
        edit_form(
            form,
            lambda: _provider_form(form, provider),
            update_provider,
            args={"provider_id": provider_id},
            loaded=(provider_id, provider.version),
            batch=True,
            reload_always="Indlæs seneste udgave",
            success="Leverandøren er gemt.",
            after_save=_saved_at(form),
        )
    with result:
        st.session_state.pop(SAVED_AT, None)
        show_flash()


ensure_entry_point()
st.title("Leverandører")
# The address (?id=42) opens a provider: a shared link, or a link from another page. An id this
# session already acted on is the provider on screen (or one the user closed since).
requested = st.query_params.get("id")
if requested is not None and requested != st.session_state.get(SEEN):
    st.session_state[SEEN] = requested
    linked = query_id()
    if linked is None:
        unknown_link("en kendt leverandør")
        del st.query_params["id"]
    else:
        _open_provider(linked, linked=True)
if st.session_state.get(SELECTED):
    _detail_view(int(st.session_state[SELECTED]))
else:
    _register_view()
