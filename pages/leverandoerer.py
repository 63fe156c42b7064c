"""Leverandører: the provider register, a provider's page, offers and the vidensbank."""

from datetime import date
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from models import FrameworkAgreement, NoteTopic, Paragraph, ProviderKind, label
from pages._ui import (
    cached_read,
    date_input,
    edit_form,
    export_buttons,
    field_error,
    form_errors,
    md,
    money_input,
    pager,
    query_id,
    select_code,
    session,
    show_flash,
    show_table,
    unknown_link,
    user_name,
)
from services.formatting import format_kr, format_number
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

SELECTED = "providers_selected_id"
LINKED = "providers_linked_id"  # the provider the page's address (?id=) opened
PAGE_SIZE = 50


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


def _create_provider() -> None:
    form = "providers_new"

    def opened(provider: Any) -> None:
        st.session_state[SELECTED] = provider.id

    with st.expander("Opret leverandør", icon=":material/add:", expanded=bool(form_errors(form))):
        edit_form(
            form,
            lambda: _provider_form(form),
            create_provider,
            batch=True,
            submit="Opret leverandør",
            success=lambda data: f"Leverandøren »{md(data['name'])}« er oprettet.",
            after_save=opened,
        )


# --- The register -----------------------------------------------------------------------------


def _register_view() -> None:
    _create_provider()
    search = st.text_input(
        "Søg", key="providers_search", placeholder="Navn, CVR-nummer, postnummer eller by"
    )
    col1, col2, col3 = st.columns([2, 2, 1])
    kinds = col1.multiselect(
        "Type", list(ProviderKind), key="providers_kinds", format_func=label, placeholder="Alle"
    )
    frameworks = col2.multiselect(
        "Aftale",
        list(FrameworkAgreement),
        key="providers_frameworks",
        format_func=lambda v: label(v, "framework"),
        placeholder="Alle",
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
        f"{offset + len(frame)} · vælg en række for at åbne leverandøren"
    )
    columns = {
        "name": "Leverandør",
        "cvr": "CVR",
        "kind": "Type",
        "city": "By",
        "framework": "Aftale",
        "quality_rating": "Kvalitet",
        "offers": "Tilbud",
        "active_contracts": "Aktive kontrakter",
        "spend_12m": "Faktureret 12 mdr. (kr.)",
        "open_deviations": "Åbne afvigelser",
    }
    shown = _labelled(frame, columns, {"kind": None, "framework": "framework"})
    event = show_table(
        shown,
        money=["Faktureret 12 mdr. (kr.)"],
        ints=["Kvalitet", "Tilbud", "Aktive kontrakter", "Åbne afvigelser"],
        key="providers_table",
        selectable=True,
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        st.session_state[SELECTED] = int(frame.iloc[rows[0]]["id"])
        st.rerun()
    export_buttons(
        shown,
        "Leverandører",
        money=["Faktureret 12 mdr. (kr.)"],
        ints=["Tilbud", "Aktive kontrakter", "Åbne afvigelser"],
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
        target_groups = st.text_input(
            "Målgrupper",
            key=key("target_groups"),
            value=initial("target_groups", ""),
            placeholder="fx Autisme, Udviklingshæmning",
        )
        field_error(form, "target_groups")
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
        "target_groups": target_groups,
        "places": places,
        "portal_url": portal_url,
        "list_rate": list_rate,
        "list_rate_year": list_rate_year,
        "negotiated_rate": negotiated_rate,
        "negotiated_from": negotiated_from,
        "active": active,
    }


def _offers_tab(provider_id: int) -> None:
    with session() as s:
        offers = list_offers(session=s, provider_id=provider_id)
    if offers:
        frame = pd.DataFrame(
            [
                {
                    "Tilbud": o.name,
                    "Paragraf": label(o.paragraph),
                    "Målgrupper": o.target_groups,
                    "Pladser": o.places,
                    "Listetakst (kr./døgn)": o.list_rate,
                    "År": str(o.list_rate_year or ""),
                    "Forhandlet (kr./døgn)": o.negotiated_rate,
                    "Gælder fra": o.negotiated_from,
                    "Aktivt": "Ja" if o.active else "Nej",
                    "Tilbudsportalen": o.portal_url,
                }
                for o in offers
            ]
        )
        money = ["Listetakst (kr./døgn)", "Forhandlet (kr./døgn)"]
        show_table(
            frame,
            money=money,
            dates=["Gælder fra"],
            ints=["Pladser"],
            links=["Tilbudsportalen"],
            key="providers_offers_table",
        )
        export_buttons(
            frame, "Tilbud", money=money, dates=["Gælder fra"], key="providers_offers_export"
        )
    else:
        st.info("Leverandøren har ingen tilbud registreret endnu.")

    new_form = f"providers_offer_new_{provider_id}"
    with st.expander("Opret tilbud", icon=":material/add:"):
        edit_form(
            new_form,
            lambda: _offer_form(new_form, provider_id),
            create_offer,
            batch=True,
            submit="Opret tilbud",
            success=lambda data: f"Tilbuddet »{md(data['name'])}« er oprettet.",
        )
    if offers:
        by_id = {o.id: o for o in offers}
        chosen = st.selectbox(
            "Ret et tilbud",
            [None, *by_id],
            key="providers_offer_edit_id",
            format_func=lambda i: "Vælg tilbud …" if i is None else by_id[i].name,
        )
        if chosen is not None:
            offer = by_id[chosen]
            form = f"providers_offer_edit_{chosen}"
            edit_form(
                form,
                lambda: _offer_form(form, provider_id, offer),
                update_offer,
                args={"offer_id": chosen},
                loaded=(chosen, offer.version),
                batch=True,
                submit="Gem tilbud",
                reload_always="Indlæs tilbuddet igen",
                success="Tilbuddet er gemt.",
            )


def _notes_tab(provider_id: int) -> None:
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
            "Noter kan ikke rettes bagefter."
        )
        return {"provider_id": provider_id, "topic": topic, "text": text}

    edit_form(
        form,
        fields,
        add_provider_note,
        batch=True,
        submit="Gem note",
        success="Noten er gemt i vidensbanken.",
    )
    with session() as s:
        notes = list_provider_notes(session=s, provider_id=provider_id, limit=100)
    if not notes:
        st.info("Ingen noter endnu. Del jeres erfaringer med leverandøren med kollegerne.")
        return
    for note in notes:
        with st.container(border=True):
            st.caption(f"{note.note_date:%d.%m.%Y} · {md(note.author)} · {label(note.topic)}")
            st.text(note.text)


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
            x=alt.X("year:O", title="År"),
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
        {"paragraph": None, "status": None},
    )
    event = show_table(
        shown,
        money=["Pris (kr.)"],
        dates=["Start", "Slut"],
        key="providers_contracts_table",
        selectable=True,
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


def _detail_view(provider_id: int) -> None:
    if st.button("Alle leverandører", icon=":material/arrow_back:", key="providers_back"):
        st.session_state.pop(SELECTED, None)
        st.query_params.clear()
        st.rerun()
    with session() as s:
        try:
            provider = get_provider(session=s, provider_id=provider_id)
        except Exception:
            if st.session_state.pop(LINKED, None) == provider_id:
                unknown_link("en kendt leverandør")
                st.query_params.pop("id", None)
            else:
                st.error("Leverandøren findes ikke længere.")
            st.session_state.pop(SELECTED, None)
            return
        figures = provider_key_figures(session=s, provider_id=provider_id, today=date.today())
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
    metrics = st.columns(4)
    metrics[0].metric(
        "Aktive kontrakter",
        format_number(figures.active_contracts),
        help=f"{figures.ended_contracts} afsluttede eller opsagte",
    )
    metrics[1].metric("Tilbud", format_number(figures.offers))
    metrics[2].metric(
        "Faktureret sidste 12 mdr.",
        format_kr(figures.spend_12m, decimals=0),
        help=f"I år: {format_kr(figures.spend_this_year)}",
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

    tabs = st.tabs(["Tilbud", "Kontrakter", "Forbrug", "Afvigelser", "Vidensbank", "Ret stamdata"])
    with tabs[0]:
        _offers_tab(provider_id)
    with tabs[1]:
        with session() as s:
            total = count_provider_contracts(session=s, provider_id=provider_id)
        _contracts_tab(provider_id, total)
    with tabs[2]:
        _spend_tab(provider_id)
    with tabs[3]:
        _deviations_tab(provider_id)
    with tabs[4]:
        _notes_tab(provider_id)
    with tabs[5]:
        form = f"providers_edit_{provider_id}"
        edit_form(
            form,
            lambda: _provider_form(form, provider),
            update_provider,
            args={"provider_id": provider_id},
            loaded=(provider_id, provider.version),
            batch=True,
            reload_always="Indlæs seneste udgave",
            success="Leverandøren er gemt.",
        )


st.title("Leverandører")
show_flash()
if "id" in st.query_params and SELECTED not in st.session_state:
    linked = query_id()
    if linked is None:
        unknown_link("en kendt leverandør")
        st.query_params.pop("id", None)
    else:
        st.session_state[SELECTED] = st.session_state[LINKED] = linked
if st.session_state.get(SELECTED):
    _detail_view(int(st.session_state[SELECTED]))
else:
    _register_view()
