"""Kontrakter: register with filters and alerts, contract page, create/edit, renegotiation."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from models import (
    CHECKLIST_ITEMS,
    AlertKind,
    ContractStatus,
    NightCover,
    Paragraph,
    PriceCategory,
    PriceChangeReason,
    PriceUnit,
    RegulationKind,
    label,
)
from pages._ui import (
    app_settings,
    cached_read,
    date_input,
    edit_form,
    ensure_entry_point,
    export_buttons,
    field_error,
    form_errors,
    get_engine,
    history_link,
    locked,
    md,
    money_input,
    pager,
    query_id,
    reset_form,
    section,
    select_code,
    show_flash,
    show_table,
    tabs,
    unknown_link,
)
from services.contracts import (
    add_addon,
    annual_effect,
    create_contract,
    delete_draft_contract,
    offer_choices,
    offer_terms,
    register_price_change,
    update_addon,
    update_contract,
    void_addon,
    void_price_change,
)
from services.errors import InputError, UserError
from services.formatting import (
    MONTH_NAMES,
    format_amount,
    format_date,
    format_kr,
    format_number,
    format_pct,
    regulation_text,
    voided_text,
)
from services.invoices import check_status_label
from services.queries.providers import provider_names
from services.queries.register import (
    EXPORT_CAP,
    OPENING_FILTERS,
    SORT_ORDERS,
    ContractDetail,
    RegisterFilters,
    contract_detail,
    contract_invoice_checks,
    register_counts,
    register_export,
    register_rows,
)
from services.rules.alerts import ALERTS, AlertHorizons, alert_short_labels
from services.rules.roles import capability_of
from services.settings import AppSettings

PAGE_SIZE = 25  # register rows per page, all shown without scrolling inside the table
CHECKS_PAGE_SIZE = 25
SELECTED = "contracts_selected_id"
LINKED = "contracts_linked_id"  # the contract the page's address (?id=) opened
# Sentinels for "no alert filter" and "no offer" (a None value would show a placeholder).
ALL = ""
NO_OFFER = 0
QP_SEEN = "contracts_qp_seen"  # the ?id= the page last acted on
TAB = "contracts_tab"  # the contract page's selected tab
TAB_LABELS = (
    "Overblik",
    "Prishistorik og genforhandling",
    "Tillægsydelser",
    "Opfølgning og mål",
    "Fakturakontroller",
    "Redigér",
)
NEW_FORM = "contracts_new"
EDIT_FORM = "contracts_edit"
RENEG_FORM = "contracts_reneg"
ADDON_FORM = "contracts_addon"
ADDON_EDIT_FORM = "contracts_addonedit"
ADDON_VOID_FORM = "contracts_addonvoid"
CHANGE_VOID_FORM = "contracts_changevoid"
DELETE_FORM = "contracts_delete"
DETAIL_FORMS = (
    EDIT_FORM,
    RENEG_FORM,
    ADDON_FORM,
    ADDON_EDIT_FORM,
    ADDON_VOID_FORM,
    CHANGE_VOID_FORM,
    DELETE_FORM,
)
PARAGRAPH_SHORT = {"SEL107": "§107", "SEL108": "§108", "ABL105": "§105/§85"}
# Filter widgets keep their values while the user is on a contract's page and back.
KEPT_KEYS = (
    "contracts_filter_search",
    "contracts_filter_status",
    "contracts_filter_paragraph",
    "contracts_filter_provider",
    "contracts_filter_alert",
    "contracts_sort",
    "contracts_page",
)


# --- Small helpers --------------------------------------------------------------------------


def _label(value: object) -> str:
    """Danish label of a code in a table cell; empty for a missing value."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return label(value)


def _codes(enum: Any) -> list[str]:
    return [member.value for member in enum]


def _open_contract(contract_id: int) -> None:
    """Show a contract; its id goes in the page's address (?id=), so the link can be shared."""
    st.session_state[SELECTED] = contract_id
    st.session_state.pop(LINKED, None)
    st.session_state[QP_SEEN] = str(contract_id)
    st.query_params["id"] = str(contract_id)


def _forget_contract() -> None:
    """Back to the register: the open contract, its forms and its tab are forgotten."""
    st.session_state.pop(SELECTED, None)
    st.session_state.pop(LINKED, None)
    st.session_state.pop("contracts_editing_id", None)
    _forget_contract_forms()
    st.session_state.pop("contracts_last_price_change", None)


def _close_contract() -> None:
    _forget_contract()
    st.session_state[QP_SEEN] = None
    if "id" in st.query_params:
        del st.query_params["id"]


def _follow_address() -> None:
    """Keep the open contract and the address's ?id= in step both ways: a changed address (a
    shared link, the browser's back button, the menu) opens that contract or the register; an
    open contract puts its id in the address."""
    requested = st.query_params.get("id")
    if requested != st.session_state.get(QP_SEEN):
        st.session_state[QP_SEEN] = requested
        if requested is None:
            _forget_contract()
        else:
            linked = query_id()
            if linked is None:
                unknown_link("en kendt kontrakt")
            else:
                if linked != st.session_state.get(SELECTED):
                    _forget_contract()
                st.session_state[SELECTED] = st.session_state[LINKED] = linked
    selected = st.session_state.get(SELECTED)
    if selected is not None and st.query_params.get("id") != str(selected):
        st.query_params["id"] = str(selected)
        st.session_state[QP_SEEN] = str(selected)


def _reset_page() -> None:
    st.session_state.pop("contracts_page", None)


# --- The contract form (create and edit) ----------------------------------------------------


def _contract_form(
    form: str, current: dict[str, Any] | None, settings: AppSettings
) -> dict[str, Any]:
    """All contract fields with Danish labels; returns what the user entered."""
    c = current or {}
    k = f"{form}_"

    def err(field: str) -> None:
        field_error(form, field)

    providers = cached_read(provider_names)
    st.markdown("##### Sag og leverandør")
    left, right = st.columns(2)
    with left:
        if f"{k}case_ref" not in st.session_state:
            st.session_state[f"{k}case_ref"] = c.get("case_ref", "")
        st.text_input(
            "Sagsnummer",
            key=f"{k}case_ref",
            max_chars=50,
            help="Kommunens sagsreference, fx SAG-2026-0142. Må ikke være et CPR-nummer – "
            "Takstkompas indeholder ingen personoplysninger.",
        )
        err("case_ref")
        if st.session_state.get(f"{k}provider_id") not in providers:
            st.session_state[f"{k}provider_id"] = c.get("provider_id")
        provider_id = st.selectbox(
            "Leverandør",
            list(providers),
            key=f"{k}provider_id",
            format_func=lambda pid: providers.get(pid, "?"),
            placeholder="Vælg leverandør – skriv for at søge",
        )
        err("provider_id")
        new = current is None
        offers = (
            cached_read(
                offer_choices,
                provider_id=provider_id,
                include_id=c.get("offer_id") or None,
                # Choosing an offer chooses its provider, which narrows this list: same labels.
                name_provider=new,
            )
            # A new contract may start from the offer: every provider's offers to pick from.
            if provider_id is not None or new
            else {}
        )
        if st.session_state.get(f"{k}offer_id") not in offers:
            st.session_state[f"{k}offer_id"] = (
                c.get("offer_id") if c.get("offer_id") in offers else NO_OFFER
            )
        st.selectbox(
            "Tilbud",
            [NO_OFFER, *offers],
            key=f"{k}offer_id",
            format_func=lambda oid: "Intet tilbud valgt" if oid == NO_OFFER else offers[oid],
            help=(
                "Vælg tilbuddet, så udfyldes leverandør, paragraf og pris (forhandlet takst, "
                "ellers listetaksten) fra det. Du kan rette dem bagefter."
                if new
                else "Kun den valgte leverandørs tilbud vises."
            ),
            on_change=_fill_from_offer if new else None,
            args=(form,) if new else None,
        )
        err("offer_id")
        filled = st.session_state.get(f"{k}_from_offer")
        if new and filled and filled == st.session_state.get(f"{k}offer_id"):
            st.caption(st.session_state.get(f"{k}_from_offer_text", ""))
    with right:
        select_code(
            "Paragraf", _codes(Paragraph), key=f"{k}paragraph", value=_str(c.get("paragraph"))
        )
        err("paragraph")
        select_code(
            "Status",
            _codes(ContractStatus),
            key=f"{k}status",
            value=_str(c.get("status")) or ContractStatus.ACTIVE.value,
        )
        err("status")
        select_code(
            "Visiteret priskategori",
            _codes(PriceCategory),
            key=f"{k}visitation_category",
            value=_str(c.get("visitation_category")),
            optional=True,
            help_text="Priskategorien, da sagen blev visiteret. Ligger prisen i dag over den, "
            "vises en advarsel.",
        )
        err("visitation_category")

    d1, d2, d3 = st.columns(3)
    with d1:
        date_input("Startdato", key=f"{k}start_date", value=c.get("start_date"))
        err("start_date")
    with d2:
        date_input("Slutdato", key=f"{k}end_date", value=c.get("end_date"), optional=True)
        err("end_date")
    with d3:
        date_input(
            "Genforhandlingsdato",
            key=f"{k}renegotiation_date",
            value=c.get("renegotiation_date"),
            optional=True,
        )
        err("renegotiation_date")

    st.markdown("##### Pris og regulering")
    p1, p2, p3 = st.columns(3)
    with p1:
        money_input("Pris (kr.)", key=f"{k}price", value=c.get("price"))
        err("price")
    with p2:
        select_code(
            "Prisenhed",
            _codes(PriceUnit),
            key=f"{k}price_unit",
            value=_str(c.get("price_unit")) or PriceUnit.DAY.value,
        )
        err("price_unit")
    with p3:
        date_input(
            "Prisens basisdato",
            key=f"{k}price_base_date",
            value=c.get("price_base_date"),
            optional=True,
            help_text="Datoen prisen er aftalt pr. Tom: startdatoen.",
        )
        err("price_base_date")
    r1, r2, r3, r4 = st.columns(4)
    with r1:
        select_code(
            "Regulering",
            _codes(RegulationKind),
            key=f"{k}regulation_kind",
            value=_str(c.get("regulation_kind")) or RegulationKind.FIXED_PCT.value,
            context="regulation",
        )
        err("regulation_kind")
    with r2:
        if f"{k}regulation_pct" not in st.session_state:
            pct = c.get("regulation_pct", settings.regulation_default_pct)
            st.session_state[f"{k}regulation_pct"] = format_pct(pct).removesuffix(" %")
        st.text_input(
            "Reguleringssats (%)",
            key=f"{k}regulation_pct",
            help="Bruges ved fast procent, fx 2,00.",
        )
        err("regulation_pct")
    with r3:
        st.session_state.setdefault(f"{k}regulation_month", int(c.get("regulation_month", 1)))
        st.selectbox(
            "Reguleringsmåned",
            list(range(1, 13)),
            key=f"{k}regulation_month",
            format_func=lambda m: MONTH_NAMES[m - 1],
        )
        err("regulation_month")
    with r4:
        st.session_state.setdefault(f"{k}regulation_day", int(c.get("regulation_day", 1)))
        st.number_input(
            "Reguleringsdag", min_value=1, max_value=31, step=1, key=f"{k}regulation_day"
        )
        err("regulation_day")

    st.markdown("##### Opsigelse")
    n1, n2 = st.columns([1, 3])
    with n1:
        st.session_state.setdefault(f"{k}notice_days", str(c.get("notice_days", 90)))
        st.text_input("Opsigelsesvarsel (dage)", key=f"{k}notice_days")
        err("notice_days")
    with n2:
        st.session_state.setdefault(f"{k}notice_text", c.get("notice_text") or "")
        st.text_input(
            "Opsigelsesvilkår",
            key=f"{k}notice_text",
            max_chars=1000,
            help="Fx 'løbende måned + 3 måneder'.",
        )
        err("notice_text")

    st.markdown("##### Standardkontrakt og tjekliste")
    st.session_state.setdefault(f"{k}standard_contract", bool(c.get("standard_contract")))
    st.checkbox("Standardkontrakt anvendt", key=f"{k}standard_contract")
    err("standard_contract")
    check_cols = st.columns(2)
    for index, (field, text) in enumerate(CHECKLIST_ITEMS.items()):
        st.session_state.setdefault(f"{k}{field}", bool(c.get(field)))
        with check_cols[index % 2]:
            st.checkbox(text, key=f"{k}{field}")
            err(field)

    st.markdown("##### Ydelsesbeskrivelse – hvad prisen indeholder")
    s1, s2 = st.columns(2)
    with s1:
        hours = c.get("support_hours_per_week")
        st.session_state.setdefault(
            f"{k}support_hours_per_week",
            "" if hours is None else format_number(hours, 1),
        )
        st.text_input("Støttetimer pr. uge", key=f"{k}support_hours_per_week")
        err("support_hours_per_week")
    with s2:
        select_code(
            "Nattevagt",
            _codes(NightCover),
            key=f"{k}night_cover",
            value=_str(c.get("night_cover")),
            context="night_cover",
            optional=True,
        )
        err("night_cover")
    i1, i2 = st.columns(2)
    with i1:
        st.session_state.setdefault(f"{k}included", c.get("included") or "")
        st.text_area("Indeholdt i prisen", key=f"{k}included", max_chars=2000, height=90)
        err("included")
    with i2:
        st.session_state.setdefault(f"{k}excluded", c.get("excluded") or "")
        st.text_area("Ikke indeholdt i prisen", key=f"{k}excluded", max_chars=2000, height=90)
        err("excluded")
    st.session_state.setdefault(f"{k}notes", c.get("notes") or "")
    st.text_area("Noter", key=f"{k}notes", max_chars=4000, height=90)
    err("notes")

    state = st.session_state
    return {
        "case_ref": state[f"{k}case_ref"],
        "provider_id": state[f"{k}provider_id"],
        "offer_id": state[f"{k}offer_id"] or None,
        "paragraph": state[f"{k}paragraph"],
        "status": state[f"{k}status"],
        "visitation_category": state[f"{k}visitation_category"],
        "start_date": state[f"{k}start_date"],
        "end_date": state[f"{k}end_date"],
        "renegotiation_date": state[f"{k}renegotiation_date"],
        "price": state[f"{k}price"],
        "price_unit": state[f"{k}price_unit"],
        "price_base_date": state[f"{k}price_base_date"],
        "regulation_kind": state[f"{k}regulation_kind"],
        "regulation_pct": state[f"{k}regulation_pct"],
        "regulation_month": state[f"{k}regulation_month"],
        "regulation_day": state[f"{k}regulation_day"],
        "notice_days": state[f"{k}notice_days"],
        "notice_text": state[f"{k}notice_text"],
        "standard_contract": state[f"{k}standard_contract"],
        **{field: state[f"{k}{field}"] for field in CHECKLIST_ITEMS},
        # An empty optional number is "not given" (the schema does not map "" to None).
        "support_hours_per_week": state[f"{k}support_hours_per_week"].strip() or None,
        "night_cover": state[f"{k}night_cover"],
        "included": state[f"{k}included"],
        "excluded": state[f"{k}excluded"],
        "notes": state[f"{k}notes"],
    }


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _fill_from_offer(form: str) -> None:
    """A new contract bought on an offer takes its provider, paragraph and daily rate (the
    negotiated rate from its date, else the list rate) – as a proposal the user may change."""
    k = f"{form}_"
    offer_id = st.session_state.get(f"{k}offer_id")
    if not offer_id:
        st.session_state.pop(f"{k}_from_offer", None)
        return
    terms = cached_read(offer_terms, offer_id=int(offer_id))
    st.session_state[f"{k}provider_id"] = terms.provider_id
    st.session_state[f"{k}paragraph"] = terms.paragraph.value
    if terms.price is None:
        text = "Tilbuddet har ingen takst: udfyld prisen selv."
    else:
        st.session_state[f"{k}price"] = format_amount(terms.price)
        st.session_state[f"{k}price_unit"] = PriceUnit.DAY.value
        st.session_state[f"{k}price_base_date"] = terms.price_base_date
        rate = "forhandlede takst" if terms.negotiated else "listetakst"
        since = (
            f" pr. {format_date(terms.price_base_date)}, som reguleringen regnes fra"
            if terms.price_base_date
            else ""
        )
        text = (
            f"Leverandør, paragraf og pris er hentet fra tilbuddet: dets {rate} "
            f"{format_kr(terms.price)} pr. dag{since}. Ret dem, hvis kontrakten siger andet."
        )
    st.session_state[f"{k}_from_offer"] = offer_id
    st.session_state[f"{k}_from_offer_text"] = text


# --- The register ---------------------------------------------------------------------------


def _filters(providers: dict[int, str]) -> RegisterFilters:
    c1, c2, c3, c4 = st.columns([2, 3, 2, 3])
    search = c1.text_input("Søg sagsnummer", key="contracts_filter_search", on_change=_reset_page)
    # The register opens on the live contracts; emptied, the filter shows every status.
    st.session_state.setdefault("contracts_filter_status", list(OPENING_FILTERS.statuses))
    statuses = c2.multiselect(
        "Status",
        _codes(ContractStatus),
        key="contracts_filter_status",
        format_func=label,
        placeholder="Alle",
        on_change=_reset_page,
        select_all=False,
    )
    paragraphs = c3.multiselect(
        "Paragraf",
        _codes(Paragraph),
        key="contracts_filter_paragraph",
        format_func=label,
        placeholder="Alle",
        on_change=_reset_page,
        select_all=False,
    )
    if st.session_state.get("contracts_filter_provider") not in providers:
        st.session_state["contracts_filter_provider"] = None
    provider_id = c4.selectbox(
        "Leverandør",
        list(providers),
        key="contracts_filter_provider",
        format_func=lambda pid: providers.get(pid, "?"),
        placeholder="Alle leverandører – skriv for at søge",
        on_change=_reset_page,
    )
    return RegisterFilters(
        statuses=tuple(statuses),
        paragraphs=tuple(paragraphs),
        provider_id=provider_id,
        search=search or "",
    )


def _register_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Danish columns and labels for the register rows on screen."""
    return pd.DataFrame(
        {
            "Sagsnummer": rows["case_ref"],
            "Leverandør": rows["provider_name"],
            "Advarsler": rows["alerts"].map(alert_short_labels),
            "Pris i dag": rows["price_today"],
            "Enhed": rows["price_unit"].map(_label),
            "Priskategori": rows["category"].map(lambda v: label(v) if v else "Ingen kategori"),
            "Paragraf": rows["paragraph"].map(PARAGRAPH_SHORT),
            "Status": rows["status"].map(_label),
            "Startdato": rows["start_date"],
            "Slutdato": rows["end_date"],
            "Genforhandling": rows["renegotiation_date"],
            "Opsigelsesfrist": rows["notice_deadline"],
            "Tjekliste": rows["checked"].map(lambda n: f"{n}/{len(CHECKLIST_ITEMS)}"),
            "Overskredne opfølgninger": rows["overdue_followups"],
            "Åbne afvigelser": rows["open_deviations"],
        }
    )


# Widths (px) the register's columns need at 1366 px: the automatic width is taken from the
# first rows and the header, so a larger amount, "Ekstraordinær" or a long alert further down
# was cut off.
REGISTER_WIDTHS: dict[str, str | int] = {
    "Sagsnummer": 130,
    "Leverandør": 200,
    "Advarsler": 260,
    "Pris i dag": 120,
    "Enhed": 90,
    "Priskategori": 120,
    "Paragraf": 80,
    "Status": 80,
    "Startdato": 100,
    "Slutdato": 100,
    "Genforhandling": 125,
    "Opsigelsesfrist": 125,
    "Tjekliste": 85,
    "Overskredne opfølgninger": 190,
    "Åbne afvigelser": 125,
}
REGISTER_DATES = ["Startdato", "Slutdato", "Genforhandling", "Opsigelsesfrist"]
EXPORT_MONEY = ["Aftalt pris"]
SLOW_EXPORT_ROWS = 1_000  # past this many rows the Excel file takes a noticeable while
EXPORT_INTS = [
    "Opsigelsesvarsel (dage)",
    "Tjekliste (af 8)",
    "Overskredne opfølgninger",
    "Åbne afvigelser",
]


def _export_table(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Sagsnummer": rows["case_ref"],
            "Leverandør": rows["provider_name"],
            "Paragraf": rows["paragraph"].map(_label),
            "Status": rows["status"].map(_label),
            "Startdato": rows["start_date"],
            "Slutdato": rows["end_date"],
            "Aftalt pris": rows["price"],
            "Enhed": rows["price_unit"].map(_label),
            "Visiteret priskategori": rows["visitation_category"].map(_label),
            "Genforhandling": rows["renegotiation_date"],
            "Opsigelsesvarsel (dage)": rows["notice_days"],
            "Opsigelsesfrist": rows["notice_deadline"],
            "Tjekliste (af 8)": rows["checked"],
            "Overskredne opfølgninger": rows["overdue_followups"],
            "Åbne afvigelser": rows["open_deviations"],
            "Advarsler": rows["alerts"].map(alert_short_labels),
        }
    )


def _export_register(
    filters: RegisterFilters, today: date, horizons: AlertHorizons, matching: int
) -> None:
    """The whole filtered register to Excel or CSV in one click: the file is built when a
    button is clicked (the button shows a spinner meanwhile), not on every run of the page."""
    engine = get_engine()

    def everything() -> pd.DataFrame:  # runs outside the script: no st. calls, no caches
        with Session(engine) as s:
            rows = register_export(session=s, filters=filters, today=today, horizons=horizons)
        return _export_table(rows)

    exported = min(matching, EXPORT_CAP)
    notes = [
        f"Eksportér hele den filtrerede liste ({format_number(exported)} kontrakter, med den "
        "aftalte pris)."
    ]
    if matching > EXPORT_CAP:
        notes.append(
            f"De første {format_number(EXPORT_CAP)} af {format_number(matching)} kommer med."
        )
    if exported > SLOW_EXPORT_ROWS:
        notes.append(
            "Filen bygges, når du klikker: det tager nogle sekunder, og knappen viser en ring, "
            "til filen hentes."
        )
    st.caption(" ".join(notes))
    export_buttons(
        everything,
        "Kontrakter",
        money=EXPORT_MONEY,
        dates=REGISTER_DATES,
        ints=EXPORT_INTS,
        key="contracts_export",
    )


def _show_register(settings: AppSettings, today: date) -> None:
    providers = cached_read(provider_names)
    horizons = settings.horizons
    filters = _filters(providers)
    counts = cached_read(register_counts, filters=filters, today=today, horizons=horizons)

    a1, a2 = st.columns([3, 2])
    if st.session_state.get("contracts_filter_alert") not in ALERTS:
        st.session_state["contracts_filter_alert"] = ALL
    alert = a1.selectbox(
        "Advarsel",
        [ALL, *(kind.value for kind in ALERTS)],
        key="contracts_filter_alert",
        placeholder="Alle kontrakter",
        format_func=lambda kind: (
            "Alle kontrakter"
            if kind == ALL
            else f"{ALERTS[kind].label} ({format_number(counts.by_alert.get(kind, 0))})"
        ),
        on_change=_reset_page,
    )
    if st.session_state.get("contracts_sort") not in SORT_ORDERS:
        st.session_state["contracts_sort"] = OPENING_FILTERS.sort
    sort = a2.selectbox(
        "Sortering",
        list(SORT_ORDERS),
        key="contracts_sort",
        placeholder="Vælg sortering",
        format_func=SORT_ORDERS.get,
        on_change=_reset_page,
    )
    filters = RegisterFilters(
        statuses=filters.statuses,
        paragraphs=filters.paragraphs,
        provider_id=filters.provider_id,
        search=filters.search,
        alert=alert or None,
        sort=sort,
    )

    metrics = st.columns(len(ALERTS) + 1)
    metrics[0].metric(
        "Kontrakter", format_number(counts.total), help="Kontrakter, der matcher filtrene."
    )
    for column, rule in zip(metrics[1:], ALERTS.values(), strict=True):
        column.metric(
            rule.short_label,
            format_number(counts.by_alert.get(rule.kind, 0)),
            help=f"{rule.label}: {rule.help(horizons)}. Vælg den under Advarsel for at se dem.",
        )

    matching = counts.by_alert.get(alert, counts.total) if alert else counts.total
    if alert:
        st.caption(f"{ALERTS[AlertKind(alert)].label}: {ALERTS[AlertKind(alert)].help(horizons)}.")
    if counts.total == 0:
        if not providers:
            st.info(
                "Der er endnu ingen kontrakter. Opret først en leverandør under Leverandører, "
                "og opret derefter kontrakten under 'Ny kontrakt'."
            )
        else:
            st.info(
                "Ingen kontrakter matcher. Ryd filtrene, eller opret en kontrakt under "
                "'Ny kontrakt'."
            )
        return
    if matching == 0:
        st.info("Ingen kontrakter har den valgte advarsel med de valgte filtre.")
        return

    limit, offset = pager(matching, "contracts_page", PAGE_SIZE)
    rows = cached_read(
        register_rows,
        filters=filters,
        today=today,
        horizons=horizons,
        limit=limit,
        offset=offset,
    )
    first, last = offset + 1, offset + len(rows)
    st.caption(
        f"Viser {format_number(first)}–{format_number(last)} af {format_number(matching)} "
        "kontrakter. Pris i dag er den regulerede grundpris. Klik på en række for at åbne "
        "kontrakten."
    )
    event = show_table(
        _register_table(rows),
        money=["Pris i dag"],
        ints=["Overskredne opfølgninger", "Åbne afvigelser"],
        dates=REGISTER_DATES,
        key="contracts_table",
        height="content",  # every row of the page, no scroll box inside the page
        widths=REGISTER_WIDTHS,
        pinned=["Sagsnummer"],
        selectable=True,
    )
    selected_rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if selected_rows and selected_rows[0] < len(rows):
        _open_contract(int(rows["id"].iloc[selected_rows[0]]))
        st.rerun()

    o1, o2 = st.columns([4, 1], vertical_alignment="bottom")
    names = dict(zip(rows["id"], rows["case_ref"] + " – " + rows["provider_name"], strict=True))
    if st.session_state.get("contracts_open_choice") not in names:
        st.session_state.pop("contracts_open_choice", None)
    choice = o1.selectbox(
        "Åbn kontrakt",
        list(names),
        key="contracts_open_choice",
        placeholder="Vælg kontrakt",
        format_func=lambda cid: names.get(cid, "?"),
    )
    if o2.button("Åbn", key="contracts_open", width="stretch") and choice is not None:
        _open_contract(int(choice))
        st.rerun()

    _export_register(filters, today, horizons, matching)


def _show_new(settings: AppSettings) -> None:
    if not cached_read(provider_names):
        st.info("Opret først en leverandør under Leverandører – en kontrakt hører til en.")
        return

    def fields() -> dict[str, Any]:
        data = _contract_form(NEW_FORM, None, settings)
        if form_errors(NEW_FORM):
            st.error("Kontrakten er ikke gemt. Ret de markerede felter.", icon="⚠️")
        return data

    edit_form(
        NEW_FORM,
        fields,
        create_contract,
        submit="Opret kontrakt",
        submit_key="contracts_create",
        success=lambda data: f"Kontrakten {md(data['case_ref'])} er oprettet.",
        after_save=lambda contract: _open_contract(int(contract.id)),
    )


# --- One contract ---------------------------------------------------------------------------


def _show_metrics(detail: ContractDetail) -> None:
    c = detail.contract
    unit = str(c["price_unit"])
    if detail.price_error:
        st.warning(detail.price_error, icon="⚠️")
    top = st.columns(3)
    top[0].metric(
        f"Pris i dag ({label(unit)})",
        format_kr(detail.price_today) if detail.price_today is not None else "–",
        help="Den regulerede grundpris i dag: seneste prisændring (eller aftalt pris) med "
        "de reguleringer, der er sket siden.",
    )
    top[1].metric(
        "Pr. døgn",
        format_kr(detail.daily_today) if detail.daily_today is not None else "–",
        help="Dagsækvivalent: månedspris × 12 / 365, årspris / 365.",
    )
    top[2].metric(
        "Årligt beløb",
        format_kr(detail.annual_today) if detail.annual_today is not None else "–",
        help="Grundprisen i dag for et helt år (365 dage).",
    )
    if detail.annual_with_addons is not None and detail.annual_with_addons != detail.annual_today:
        st.caption(f"Inkl. aktive tillægsydelser: {format_kr(detail.annual_with_addons)} om året.")
    visitation = c.get("visitation_category")
    bottom = st.columns(3)
    bottom[0].metric(
        "Priskategori i dag",
        label(detail.category) if detail.category else "Ingen kategori",
        help="Prisens dagsækvivalent i årets priskategorier for paragraffen. 'Ingen kategori': "
        "der er ingen priskategorier for året.",
    )
    bottom[1].metric(
        "Visiteret priskategori",
        label(visitation) if visitation else "Ikke angivet",
        help="Kategorien, da sagen blev visiteret.",
    )
    bottom[2].metric(
        "Opsigelsesfrist",
        format_date(detail.notice_deadline) if detail.notice_deadline else "–",
        help=f"Slutdato minus {c['notice_days']} dages varsel. Uden slutdato: ingen frist.",
    )
    if detail.over_visitation:
        st.warning(
            f"Over visiteret priskategori: prisen ligger i dag i kategorien "
            f"{label(detail.category)}, men sagen er visiteret til {label(visitation)}.",
            icon="📈",
        )


def _show_overview(detail: ContractDetail) -> None:
    c = detail.contract
    alerts = [a for a in detail.alerts if a.kind != AlertKind.CATEGORY]  # shown beside the price
    if alerts:
        st.markdown("##### Advarsler")
        for alert in alerts:
            due = f" ({format_date(alert.due)})" if alert.due else ""
            st.warning(f"{alert.text}{due}", icon="🔔")
    else:
        st.success("Ingen advarsler på kontrakten.", icon="✅")

    left, right = st.columns(2)
    with left:
        st.markdown("##### Tjekliste for standardkontrakt")
        st.progress(
            float(detail.completeness),
            text=f"{detail.checked} af {len(CHECKLIST_ITEMS)} punkter "
            f"({format_pct(detail.completeness * 100, 0)})",
        )
        for field, text in CHECKLIST_ITEMS.items():
            st.checkbox(
                text, value=bool(c.get(field)), disabled=True, key=f"contracts_view_{field}"
            )
        st.caption(
            "Standardkontrakt anvendt: "
            + ("ja" if c.get("standard_contract") else "nej")
            + ". Ret tjeklisten under Redigér."
        )
    with right:
        st.markdown("##### Ydelsesbeskrivelse")
        hours = c.get("support_hours_per_week")
        spec = [
            (
                "Støttetimer pr. uge",
                format_number(hours, 1) if hours is not None else "Ikke angivet",
            ),
            ("Nattevagt", label(c.get("night_cover"), "night_cover") or "Ikke angivet"),
            ("Indeholdt i prisen", c.get("included") or "Ikke angivet"),
            ("Ikke indeholdt i prisen", c.get("excluded") or "Ikke angivet"),
            ("Opsigelse", c.get("notice_text") or f"{c['notice_days']} dages varsel"),
            ("Regulering", _regulation_text(c)),
            ("Genforhandlingsdato", format_date(c.get("renegotiation_date")) or "Ikke fastsat"),
        ]
        if c.get("notes"):
            spec.append(("Noter", c["notes"]))
        st.markdown("\n".join(f"- **{name}:** {md(value)}" for name, value in spec))
        if hours is None and not c.get("included"):
            st.caption("Prisens indhold er ikke specificeret.")


def _regulation_text(c: dict[str, Any]) -> str:
    return regulation_text(
        c["regulation_kind"],
        c["regulation_pct"],
        int(c["regulation_day"]),
        int(c["regulation_month"]),
    )


def _void_text(row: Any) -> str:
    """For a voided row "Annulleret 12.03.2026 af Anne: <reason>", else empty."""
    voided_at = row["voided_at"]
    if voided_at is None or pd.isna(voided_at):
        return ""
    return voided_text(
        pd.Timestamp(voided_at).to_pydatetime(), row["voided_by"], row["void_reason"]
    )


def _voided(frame: pd.DataFrame) -> pd.Series:
    return frame["voided_at"].notna()


def _void_notes(frame: pd.DataFrame, what: Any) -> None:
    """Below a table: who voided each voided row, when and why (user text, escaped)."""
    for _, row in frame[_voided(frame)].iterrows():
        st.caption(f":material/block: {md(what(row))}: {md(_void_text(row))}")


def _void_form(
    form: str,
    rows: pd.DataFrame,
    describe: Any,
    service: Any,
    id_arg: str,
    *,
    what: str,
    submit: str,
    after_save: Any = None,
) -> None:
    """Pick one of `rows` (not voided) and void it with a reason (kept, marked, counted
    nowhere). Nothing is picked beforehand: voiding the wrong row by accident is what this
    must not allow. The version shown is the one the service checks."""
    if locked(capability_of(service)):
        return
    choices = {int(row["id"]): describe(row) for _, row in rows.iterrows()}
    if st.session_state.get(f"{form}_id") not in choices:
        st.session_state[f"{form}_id"] = None
    chosen = st.selectbox(
        what,
        list(choices),
        key=f"{form}_id",
        format_func=lambda i: choices.get(i, "?"),
        placeholder="Vælg den, der skal annulleres",
    )
    field_error(form, "id")
    version = int(rows.loc[rows["id"] == chosen, "version"].iloc[0]) if chosen is not None else None

    def fields() -> dict[str, Any]:
        st.session_state.setdefault(f"{form}_reason", "")
        st.text_area(
            "Begrundelse",
            key=f"{form}_reason",
            max_chars=500,
            height=80,
            placeholder="fx Registreret på den forkerte kontrakt",
            help="Hvorfor posten annulleres (3–500 tegn). Den bevares og vises som annulleret, "
            "men tæller ikke med i priser, beløb og advarsler.",
        )
        field_error(form, "reason")
        # The version on screen now: the row as the user sees it when choosing to void it.
        return {"reason": st.session_state[f"{form}_reason"], "version": version}

    def void(*, session: Any, data: Mapping[str, Any], user: str) -> Any:
        if chosen is None:
            raise InputError({"id": f"Vælg først, hvad der skal annulleres ({what.lower()})."})
        return service(session=session, data=data, user=user, **{id_arg: chosen})

    edit_form(
        form,
        fields,
        void,
        submit=submit,
        submit_key=f"{form}_save",
        primary=False,
        success=f"{what} er annulleret.",
        after_save=after_save,
    )


def _change_text(row: Any, unit: str) -> str:
    return (
        f"{format_date(row['effective_date'])}: {format_kr(row['new_price'])} {label(unit)} "
        f"({label(row['reason'])})"
    )


def _show_price_history(detail: ContractDetail, contract_id: int) -> None:
    c = detail.contract
    unit = str(c["price_unit"])
    history = detail.price_history
    table = pd.DataFrame(
        {
            "Gælder fra": history["effective_date"],
            "Gammel pris": history["old_price"],
            "Ny pris": history["new_price"],
            "Enhed": label(unit),
            "Årsag": history["reason"].map(
                lambda r: "Aftalt grundpris" if r == "grundpris" else label(r)
            ),
            "Årlig effekt": history["annual_effect"],
            "Note": history["note"].fillna(""),
            "Annulleret": history.apply(_void_text, axis=1) if len(history) else [],
        }
    )
    effects = history["annual_effect"].dropna()
    total_effect = sum(effects, Decimal(0))
    summary = ""
    if len(effects):
        word = "besparelse" if total_effect < 0 else "merudgift"
        summary = f" Samlet årlig {word} af prisændringerne: {format_kr(abs(total_effect))}"
    voided = int(_voided(history).sum())
    if voided:
        summary += f" {voided} annulleret prisændring(er) vises, men tæller ikke med i prisen."
    st.caption("Årlig effekt: negativ er en besparelse, positiv en merudgift." + summary)
    # On screen a voided change is marked in its row and explained below the table (a column
    # of its own would push the note out of sight at 1366 px); the export has the column.
    shown = table.drop(columns="Annulleret")
    shown["Årsag"] = shown["Årsag"].where(~_voided(history), shown["Årsag"] + " (annulleret)")
    show_table(
        shown,
        money=["Gammel pris", "Ny pris", "Årlig effekt"],
        dates=["Gælder fra"],
        key="contracts_history_table",
        widths={"Årsag": 190},
    )
    _void_notes(history, lambda row: f"Prisændringen pr. {format_date(row['effective_date'])}")
    export_buttons(
        table,
        "Prishistorik",
        money=["Gammel pris", "Ny pris", "Årlig effekt"],
        dates=["Gælder fra"],
        key="contracts_history_export",
    )

    result = st.session_state.get("contracts_last_price_change")
    if result and result["contract_id"] == contract_id:
        effect = result["effect"]
        r = st.columns(3)
        per = label(result["unit"])
        r[0].metric(f"Gammel pris ({per})", format_kr(result["old"]) if result["old"] else "–")
        r[1].metric(f"Ny pris ({per})", format_kr(result["new"]))
        r[2].metric("Årlig besparelse" if effect < 0 else "Årlig merudgift", format_kr(abs(effect)))

    st.markdown("##### Registrér genforhandling")
    st.caption(
        "Den gamle pris gemmes automatisk som prisen i kraft på datoen. Reguleringen løber "
        "videre fra den nye pris."
    )

    def fields() -> dict[str, Any]:
        g1, g2, g3 = st.columns(3)
        with g1:
            date_input("Gælder fra", key=f"{RENEG_FORM}_effective_date", value=date.today())
            field_error(RENEG_FORM, "effective_date")
        with g2:
            money_input(f"Ny pris (kr. {label(unit)})", key=f"{RENEG_FORM}_new_price")
            field_error(RENEG_FORM, "new_price")
        with g3:
            select_code(
                "Årsag",
                _codes(PriceChangeReason),
                key=f"{RENEG_FORM}_reason",
                value=PriceChangeReason.RENEGOTIATION.value,
            )
            field_error(RENEG_FORM, "reason")
        st.session_state.setdefault(f"{RENEG_FORM}_note", "")
        st.text_area("Note", key=f"{RENEG_FORM}_note", max_chars=2000, height=80)
        field_error(RENEG_FORM, "note")
        return {
            "effective_date": st.session_state[f"{RENEG_FORM}_effective_date"],
            "new_price": st.session_state[f"{RENEG_FORM}_new_price"],
            "reason": st.session_state[f"{RENEG_FORM}_reason"],
            "note": st.session_state[f"{RENEG_FORM}_note"],
        }

    def saved(change: Any) -> None:
        st.session_state["contracts_last_price_change"] = {
            "contract_id": contract_id,
            "old": change.old_price,
            "new": change.new_price,
            "unit": unit,
            "effect": annual_effect(change, unit),
        }

    edit_form(
        RENEG_FORM,
        fields,
        register_price_change,
        args={"contract_id": contract_id},
        submit="Registrér genforhandling",
        submit_key="contracts_reneg_save",
        success="Prisændringen er registreret.",
        after_save=saved,
    )

    changes = history[history["id"].notna() & ~_voided(history)]
    if not changes.empty:
        with section(
            "Annullér en fejlregistreret prisændring",
            key="contracts_section_changevoid",
            forms=[CHANGE_VOID_FORM],
        ):
            st.caption(
                "Prisændringen bevares og vises som annulleret, men kontraktens pris beregnes, "
                "som om den aldrig var registreret. Bagefter kan den rigtige ændring "
                "registreres – også på samme dato."
            )
            _void_form(
                CHANGE_VOID_FORM,
                changes,
                lambda row: _change_text(row, unit),
                void_price_change,
                "price_change_id",
                what="Prisændringen",
                submit="Annullér prisændringen",
                # The saving shown for the last renegotiation may be the voided one.
                after_save=lambda _: st.session_state.pop("contracts_last_price_change", None),
            )


def _addon_text(row: Any) -> str:
    until = f"–{format_date(row['valid_to'])}" if row["valid_to"] is not None else ""
    return (
        f"{row['name']}: {format_kr(row['price'])} {label(row['unit'])}, "
        f"fra {format_date(row['valid_from'])}{until}"
    )


def _addon_fields(form: str, contract_id: int, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """The add-on's fields (new, or the one being edited: `current`)."""
    c = current or {}
    if f"{form}_name" not in st.session_state:
        st.session_state[f"{form}_name"] = c.get("name", "")
    st.text_input("Navn", key=f"{form}_name", max_chars=200, placeholder="fx Ekstra 1:1-støtte")
    field_error(form, "name")
    a1, a2, a3, a4 = st.columns(4)
    with a1:
        money_input("Pris (kr.)", key=f"{form}_price", value=c.get("price"))
        field_error(form, "price")
    with a2:
        select_code(
            "Enhed",
            _codes(PriceUnit),
            key=f"{form}_unit",
            value=_str(c.get("unit")) or PriceUnit.MONTH.value,
        )
        field_error(form, "unit")
    with a3:
        date_input("Gælder fra", key=f"{form}_valid_from", value=c.get("valid_from", date.today()))
        field_error(form, "valid_from")
    with a4:
        date_input(
            "Gælder til",
            key=f"{form}_valid_to",
            value=c.get("valid_to"),
            optional=True,
            help_text="Sidste dag, tillægget gælder. Tom: løbende.",
        )
        field_error(form, "valid_to")
    return {
        "contract_id": contract_id,
        "name": st.session_state[f"{form}_name"],
        "price": st.session_state[f"{form}_price"],
        "unit": st.session_state[f"{form}_unit"],
        "valid_from": st.session_state[f"{form}_valid_from"],
        "valid_to": st.session_state[f"{form}_valid_to"],
    }


def _show_addons(detail: ContractDetail, contract_id: int) -> None:
    addons = detail.addons
    if addons.empty:
        st.info("Kontrakten har ingen tillægsydelser.")
    else:
        table = pd.DataFrame(
            {
                "Tillægsydelse": addons["name"],
                "Aftalt pris": addons["price"],
                "Pris i dag": addons["price_today"],
                "Enhed": addons["unit"].map(_label),
                "Gælder fra": addons["valid_from"],
                "Gælder til": addons["valid_to"],
                "Annulleret": addons.apply(_void_text, axis=1),
            }
        )
        voided = int(_voided(addons).sum())
        money = ["Aftalt pris", "Pris i dag"]
        shown = table.drop(columns="Annulleret")
        shown["Tillægsydelse"] = shown["Tillægsydelse"].where(
            ~_voided(addons), shown["Tillægsydelse"] + " (annulleret)"
        )
        show_table(
            shown,
            money=money,
            dates=["Gælder fra", "Gælder til"],
            key="contracts_addons_table",
            widths={"Tillægsydelse": "large"},
        )
        _void_notes(addons, lambda row: f"Tillægsydelsen {row['name']}")
        st.caption(
            "Pris i dag er reguleret som grundprisen; tom for tillæg, der ikke gælder i dag"
            + (" eller er annulleret." if voided else ".")
        )
        export_buttons(
            table,
            "Tillægsydelser",
            money=money,
            dates=["Gælder fra", "Gælder til"],
            key="contracts_addons_export",
        )
    st.markdown("##### Tilføj tillægsydelse")
    st.caption("Tillæg reguleres som kontraktens grundpris.")
    edit_form(
        ADDON_FORM,
        lambda: _addon_fields(ADDON_FORM, contract_id, None),
        add_addon,
        submit="Tilføj tillægsydelse",
        submit_key="contracts_addon_save",
        primary=False,
        success="Tillægsydelsen er tilføjet.",
    )

    current = addons[~_voided(addons)] if not addons.empty else addons
    if current.empty:
        return
    choices = {int(row["id"]): _addon_text(row) for _, row in current.iterrows()}
    with section(
        "Ret eller afslut en tillægsydelse",
        key="contracts_section_addonedit",
        forms=[ADDON_EDIT_FORM],
    ):
        st.caption("Afslut et tillæg ved at sætte den sidste dag, det gælder, under 'Gælder til'.")
        picked = st.session_state.get("contracts_addonpick")
        if picked not in choices:
            picked = st.session_state["contracts_addonpick"] = next(iter(choices))
        picked = st.selectbox(
            "Tillægsydelse",
            list(choices),
            key="contracts_addonpick",
            format_func=lambda i: choices.get(i, "?"),
        )
        if st.session_state.get("contracts_addonpick_for") != picked:
            reset_form(ADDON_EDIT_FORM)  # another add-on: its own values, not the last one's
            st.session_state["contracts_addonpick_for"] = picked
        row = current.loc[current["id"] == picked].iloc[0]
        edit_form(
            ADDON_EDIT_FORM,
            lambda: _addon_fields(ADDON_EDIT_FORM, contract_id, row.to_dict()),
            update_addon,
            args={"addon_id": picked},
            loaded=(picked, int(row["version"])),
            submit="Gem tillægsydelsen",
            submit_key="contracts_addonedit_save",
            primary=False,
            success="Tillægsydelsen er gemt.",
        )
    with section(
        "Annullér en fejlregistreret tillægsydelse",
        key="contracts_section_addonvoid",
        forms=[ADDON_VOID_FORM],
    ):
        st.caption(
            "Tillægget bevares og vises som annulleret, men tæller ikke med i forventede "
            "beløb, nøgletal og advarsler. Et tillæg, der blot er ophørt, afsluttes i stedet."
        )
        _void_form(
            ADDON_VOID_FORM,
            current,
            _addon_text,
            void_addon,
            "addon_id",
            what="Tillægsydelsen",
            submit="Annullér tillægsydelsen",
        )


def _show_followups(detail: ContractDetail) -> None:
    followups = detail.followups
    st.markdown("##### Opfølgninger")
    if followups.empty:
        st.info("Der er ingen opfølgninger på kontrakten.")
    else:
        if detail.overdue_followups:
            st.warning(
                f"{detail.overdue_followups} opfølgning(er) er overskredet. Registrér dem under "
                "Opfølgning.",
                icon="⏰",
            )
        table = pd.DataFrame(
            {
                "Frist": followups["due_date"],
                "Type": followups["kind"].map(_label),
                "Udført": followups["done_date"],
                "Ansvarlig": followups["assignee"].fillna(""),
                "Udført af": followups["done_by"].fillna(""),
                "Progression": followups["progression"].map(_label),
                "Støttebehov": followups["support_need_change"].map(_label),
                "Handling": followups["action"].map(_label),
                "Overskredet": followups["overdue"].map(lambda v: "Ja" if v else ""),
                "Note": followups["note"].fillna(""),
            }
        )
        # On screen the overdue ones are those the warning counts: a past due date and not
        # done (the export says it per row); the names get the room they need at 1366 px.
        show_table(
            table.drop(columns="Overskredet"),
            dates=["Frist", "Udført"],
            key="contracts_followups_table",
            widths={
                "Frist": 88,
                "Type": 100,
                "Udført": 88,
                "Ansvarlig": 130,
                "Udført af": 130,
                "Progression": 95,
                "Støttebehov": 92,
                "Handling": 105,
            },
        )
        export_buttons(
            table, "Opfølgninger", dates=["Frist", "Udført"], key="contracts_followups_export"
        )
    st.markdown("##### SMART-mål")
    goals = detail.goals
    if goals.empty:
        st.info("Der er ingen mål på kontrakten endnu. Mål sættes, når en opfølgning registreres.")
    else:
        table = pd.DataFrame(
            {
                "Tema": goals["theme"],
                "Måltype": goals["goal_type"].map(_label),
                "Mål": goals["text"],
                "Måles ved": goals["measure"].fillna(""),
                "Frist": goals["deadline"],
                "Status": goals["status"].map(_label),
            }
        )
        show_table(table, dates=["Frist"], key="contracts_goals_table")
        export_buttons(table, "SMART-mål", dates=["Frist"], key="contracts_goals_export")


def _check_status(row: pd.Series) -> str:
    return check_status_label(
        flagged=bool(row["flagged"]),
        under_expected=bool(row["under_expected"]),
        status=row["status"],
        kind=row["kind"],
        voided=pd.notna(row["voided_at"]),
    )


def _checks_table(checks: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Fakturanr.": checks["invoice_no"],
            "Periode fra": checks["period_from"],
            "Periode til": checks["period_to"],
            "Kontrolleret": checks["checked_on"],
            "Faktureret": checks["invoiced"],
            "Forventet": checks["expected"],
            "Afvigelse": checks["deviation"],
            "Afvigelse %": checks["deviation_pct"],
            "Status": checks.apply(_check_status, axis=1) if not checks.empty else [],
            "Ansvarlig": checks["assignee"].fillna(""),
            "Annullering": checks.apply(_void_text, axis=1) if not checks.empty else [],
        }
    )


def _show_invoice_checks(detail: ContractDetail, contract_id: int) -> None:
    total = detail.invoice_checks
    if total == 0:
        st.info("Der er ingen fakturakontroller på kontrakten.")
        return
    if detail.open_deviations:
        st.warning(f"{detail.open_deviations} åben(e) fakturaafvigelse(r).", icon="🧾")
    limit, offset = pager(total, "contracts_checks_page", CHECKS_PAGE_SIZE)
    checks = cached_read(
        contract_invoice_checks, contract_id=contract_id, limit=limit, offset=offset
    )
    st.caption(
        f"Viser {format_number(offset + 1)}–{format_number(offset + len(checks))} af "
        f"{format_number(total)} kontroller, nyeste periode først. Kreditnotaer har negative "
        "beløb; annullerede kontroller tæller ikke med nogen steder (annullér under "
        "Fakturaafvigelser)."
    )
    money = ["Faktureret", "Forventet", "Afvigelse"]
    dates = ["Periode fra", "Periode til", "Kontrolleret"]
    show_table(
        _checks_table(checks),
        money=money,
        pct=["Afvigelse %"],
        dates=dates,
        key="contracts_checks_table",
    )
    export_buttons(
        _checks_table(
            cached_read(contract_invoice_checks, contract_id=contract_id, limit=total, offset=0)
        ),
        "Fakturakontroller",
        money=money,
        pct=["Afvigelse %"],
        dates=dates,
        key="contracts_checks_export",
    )


def _show_edit(detail: ContractDetail, contract_id: int, settings: AppSettings) -> None:
    c = detail.contract

    def fields() -> dict[str, Any]:
        data = _contract_form(EDIT_FORM, c, settings)
        if set(form_errors(EDIT_FORM)) - {"_form"}:
            st.error("Ændringerne er ikke gemt. Ret de markerede felter.", icon="⚠️")
        return data

    edit_form(
        EDIT_FORM,
        fields,
        update_contract,
        args={"contract_id": contract_id},
        loaded=(contract_id, int(c["version"])),
        submit_key="contracts_edit_save",
        success="Kontrakten er gemt.",
    )
    if c["status"] == ContractStatus.DRAFT.value:
        _show_delete_draft(c, contract_id)


def _show_delete_draft(c: Mapping[str, Any], contract_id: int) -> None:
    """A draft (never in force) can be deleted, with what hangs under it, after an explicit
    confirmation; a contract that has been in force is ended instead."""
    with section("Slet kladden", key="contracts_section_delete", forms=[DELETE_FORM]):
        st.warning(
            f"Kladden {md(c['case_ref'])} slettes helt, med dens tillægsydelser, "
            "prisændringer, opfølgninger og mål. Det kan ikke fortrydes (sletningen står i "
            "revisionssporet).",
            icon=":material/delete:",
        )

        def fields() -> dict[str, Any]:
            st.session_state.setdefault(f"{DELETE_FORM}_sure", False)
            st.checkbox(
                f"Ja, slet kladden {c['case_ref']} og alt, hvad der hører til",
                key=f"{DELETE_FORM}_sure",
            )
            field_error(DELETE_FORM, "sure")
            return {"sure": st.session_state[f"{DELETE_FORM}_sure"]}

        def delete(*, session: Any, data: Mapping[str, Any], user: str) -> None:
            if not data.get("sure"):
                raise InputError({"sure": "Sæt flueben for at bekræfte sletningen."})
            delete_draft_contract(session=session, contract_id=contract_id, data=data, user=user)

        edit_form(
            DELETE_FORM,
            fields,
            delete,
            loaded=(contract_id, int(c["version"])),
            submit="Slet kladden",
            submit_key="contracts_delete_save",
            primary=False,
            success=f"Kladden {md(c['case_ref'])} er slettet.",
            after_save=lambda _: _close_contract(),
            capability=capability_of(delete_draft_contract),
        )


def _show_contract(contract_id: int, settings: AppSettings, today: date) -> None:
    if st.button("Tilbage til registret", key="contracts_back", icon=":material/arrow_back:"):
        _close_contract()
        st.rerun()
    history_link("contract", contract_id)
    try:
        detail = cached_read(
            contract_detail, contract_id=contract_id, today=today, horizons=settings.horizons
        )
    except UserError as exc:
        if st.session_state.get(LINKED) == contract_id:
            unknown_link("en kendt kontrakt")
        else:
            st.warning(exc.message)
        show_flash()
        return
    if st.session_state.get("contracts_editing_id") != contract_id:
        _forget_contract_forms()
        st.session_state["contracts_editing_id"] = contract_id
    c = detail.contract
    st.subheader(f"Sag {md(c['case_ref'])}")
    parts = [
        md(detail.provider_name),
        label(c["paragraph"]),
        f"Status: {label(c['status'])}",
        (
            f"{format_date(c['start_date'])}–{format_date(c['end_date'])}"
            if c["end_date"]
            else f"fra {format_date(c['start_date'])} (ingen slutdato)"
        ),
    ]
    if detail.offer_name:
        parts.insert(1, f"Tilbud: {md(detail.offer_name)}")
    st.caption(" · ".join(parts))
    _show_metrics(detail)
    shown = st.session_state.get(TAB, TAB_LABELS[0])
    panes = tabs(TAB_LABELS, key=TAB)
    draw = (
        lambda: _show_overview(detail),
        lambda: _show_price_history(detail, contract_id),
        lambda: _show_addons(detail, contract_id),
        lambda: _show_followups(detail),
        lambda: _show_invoice_checks(detail, contract_id),
        lambda: _show_edit(detail, contract_id, settings),
    )
    for name, pane, content in zip(TAB_LABELS, panes, draw, strict=True):
        with pane:
            if name == shown:
                show_flash()  # a save's message on the tab where the user saved
            content()


def _forget_contract_forms() -> None:
    """Another contract is shown: no form, section or tab of the last one carries over."""
    for form in DETAIL_FORMS:
        reset_form(form)
    for key in list(st.session_state.keys()):
        if str(key).startswith(("contracts_section_", "contracts_addonpick")):
            del st.session_state[key]
    st.session_state.pop("contracts_checks_page", None)
    st.session_state.pop(TAB, None)


# --- Page -----------------------------------------------------------------------------------

st.title("Kontrakter")
ensure_entry_point()  # before the address is read: a first run may rerun through the entry

for kept in KEPT_KEYS:
    if kept in st.session_state:
        st.session_state[kept] = st.session_state[kept]

_follow_address()
if st.session_state.get(SELECTED) is None:
    show_flash()  # on the contract page the message shows on the tab where the user acted

settings_now = app_settings()
today_now = date.today()
selected_id = st.session_state.get(SELECTED)
if selected_id is not None:
    _show_contract(int(selected_id), settings_now, today_now)
else:
    view = st.radio(
        "Visning",
        ["Register", "Ny kontrakt"],
        horizontal=True,
        key="contracts_view",
        label_visibility="collapsed",
    )
    if view == "Ny kontrakt":
        _show_new(settings_now)
    else:
        _show_register(settings_now, today_now)
