"""Kontrakter: register with filters and alerts, contract page, create/edit, renegotiation."""

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

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
    export_buttons,
    field_error,
    form_errors,
    md,
    money_input,
    pager,
    query_id,
    reset_form,
    select_code,
    show_flash,
    show_table,
    unknown_link,
)
from services.contracts import (
    add_addon,
    annual_effect,
    create_contract,
    register_price_change,
    update_contract,
)
from services.errors import UserError
from services.formatting import (
    MONTH_NAMES,
    format_date,
    format_kr,
    format_number,
    format_pct,
    regulation_text,
)
from services.invoices import check_status_label
from services.queries.providers import provider_names
from services.queries.register import (
    EXPORT_CAP,
    SORT_ORDERS,
    ContractDetail,
    RegisterFilters,
    contract_detail,
    contract_invoice_checks,
    offer_names,
    register_counts,
    register_export,
    register_rows,
)
from services.rules.alerts import ALERTS, alert_short_labels
from services.settings import AppSettings

PAGE_SIZE = 50
CHECKS_PAGE_SIZE = 25
SELECTED = "contracts_selected_id"
LINKED = "contracts_linked_id"  # the contract the page's address (?id=) opened
# Sentinels for "no alert filter" and "no offer" (a None value would show a placeholder).
ALL = ""
NO_OFFER = 0
NEW_FORM = "contracts_new"
EDIT_FORM = "contracts_edit"
RENEG_FORM = "contracts_reneg"
ADDON_FORM = "contracts_addon"
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


def _price_text(amount: Decimal | None, unit: str) -> str:
    if amount is None:
        return "–"
    return f"{format_kr(amount)} {label(unit)}"


def _open_contract(contract_id: int) -> None:
    st.session_state[SELECTED] = contract_id
    st.session_state.pop(LINKED, None)
    st.session_state["contracts_qp_seen"] = str(contract_id)
    st.query_params["id"] = str(contract_id)


def _close_contract() -> None:
    st.session_state.pop(SELECTED, None)
    st.session_state.pop(LINKED, None)
    st.session_state["contracts_qp_seen"] = None
    if "id" in st.query_params:
        del st.query_params["id"]
    for form in (EDIT_FORM, RENEG_FORM, ADDON_FORM):
        reset_form(form)
    st.session_state.pop("contracts_last_price_change", None)


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
        offers = (
            cached_read(offer_names, provider_id=provider_id) if provider_id is not None else {}
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
            help="Kun den valgte leverandørs tilbud vises.",
        )
        err("offer_id")
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


# --- The register ---------------------------------------------------------------------------


def _filters(providers: dict[int, str]) -> RegisterFilters:
    c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
    search = c1.text_input("Søg sagsnummer", key="contracts_filter_search", on_change=_reset_page)
    statuses = c2.multiselect(
        "Status",
        _codes(ContractStatus),
        key="contracts_filter_status",
        format_func=label,
        placeholder="Alle",
        on_change=_reset_page,
    )
    paragraphs = c3.multiselect(
        "Paragraf",
        _codes(Paragraph),
        key="contracts_filter_paragraph",
        format_func=label,
        placeholder="Alle",
        on_change=_reset_page,
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
            "Paragraf": rows["paragraph"].map(PARAGRAPH_SHORT),
            "Status": rows["status"].map(_label),
            "Pris i dag": rows["price_today"],
            "Enhed": rows["price_unit"].map(_label),
            "Priskategori": rows["category"].map(lambda v: label(v) if v else "Ingen kategori"),
            "Startdato": rows["start_date"],
            "Slutdato": rows["end_date"],
            "Genforhandling": rows["renegotiation_date"],
            "Opsigelsesfrist": rows["notice_deadline"],
            "Tjekliste": rows["checked"].map(lambda n: f"{n}/{len(CHECKLIST_ITEMS)}"),
            "Overskredne opfølgninger": rows["overdue_followups"],
            "Åbne afvigelser": rows["open_deviations"],
        }
    )


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
        format_func=lambda kind: (
            "Alle kontrakter"
            if kind == ALL
            else f"{ALERTS[kind].label} ({format_number(counts.by_alert.get(kind, 0))})"
        ),
        on_change=_reset_page,
    )
    st.session_state.setdefault("contracts_sort", "nyeste")
    sort = a2.selectbox(
        "Sortering",
        list(SORT_ORDERS),
        key="contracts_sort",
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

    pages = max(1, -(-matching // PAGE_SIZE))
    if int(st.session_state.get("contracts_page", 1)) > pages:
        st.session_state["contracts_page"] = 1
    with st.columns([1, 4])[0]:
        limit, offset = pager(matching, "contracts_page", PAGE_SIZE)
    rows = cached_read(
        register_rows,
        filters=filters,
        today=today,
        horizons=horizons,
        limit=PAGE_SIZE,
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
        dates=["Startdato", "Slutdato", "Genforhandling", "Opsigelsesfrist"],
        key="contracts_table",
        height=565,
        widths={"Advarsler": "medium", "Slutdato": "small", "Opsigelsesfrist": "small"},
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
        format_func=lambda cid: names.get(cid, "?"),
    )
    if o2.button("Åbn", key="contracts_open", width="stretch") and choice is not None:
        _open_contract(int(choice))
        st.rerun()

    signature = (filters, today)
    if st.session_state.get("contracts_export_for") == signature:
        frame = cached_read(
            register_export,
            spinner="Henter hele listen …",
            filters=filters,
            today=today,
            horizons=horizons,
        )
        if matching > EXPORT_CAP:
            st.caption(f"Eksporten indeholder de første {format_number(EXPORT_CAP)} kontrakter.")
        export_buttons(
            _export_table(frame),
            "Kontrakter",
            money=["Aftalt pris"],
            dates=["Startdato", "Slutdato", "Genforhandling", "Opsigelsesfrist"],
            ints=[
                "Opsigelsesvarsel (dage)",
                "Tjekliste (af 8)",
                "Overskredne opfølgninger",
                "Åbne afvigelser",
            ],
            key="contracts_export",
        )
    elif st.button(
        f"Eksportér listen ({format_number(min(matching, EXPORT_CAP))} kontrakter)",
        key="contracts_prepare_export",
        help="Hele den filtrerede liste til Excel eller CSV (med den aftalte pris).",
    ):
        st.session_state["contracts_export_for"] = signature
        st.rerun()


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
        }
    )
    effects = history["annual_effect"].dropna()
    total_effect = sum(effects, Decimal(0))
    summary = ""
    if len(effects):
        word = "besparelse" if total_effect < 0 else "merudgift"
        summary = f" Samlet årlig {word} af prisændringerne: {format_kr(abs(total_effect))}."
    st.caption("Årlig effekt: negativ er en besparelse, positiv en merudgift." + summary)
    show_table(
        table,
        money=["Gammel pris", "Ny pris", "Årlig effekt"],
        dates=["Gælder fra"],
        key="contracts_history_table",
    )
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
        r[0].metric("Gammel pris", _price_text(result["old"], result["unit"]))
        r[1].metric("Ny pris", _price_text(result["new"], result["unit"]))
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
            }
        )
        money = ["Aftalt pris", "Pris i dag"]
        show_table(
            table, money=money, dates=["Gælder fra", "Gælder til"], key="contracts_addons_table"
        )
        st.caption(
            "Pris i dag er reguleret som grundprisen; tom for tillæg, der ikke gælder i dag."
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

    def fields() -> dict[str, Any]:
        st.session_state.setdefault(f"{ADDON_FORM}_name", "")
        st.text_input(
            "Navn", key=f"{ADDON_FORM}_name", max_chars=200, placeholder="fx Ekstra 1:1-støtte"
        )
        field_error(ADDON_FORM, "name")
        a1, a2, a3, a4 = st.columns(4)
        with a1:
            money_input("Pris (kr.)", key=f"{ADDON_FORM}_price")
            field_error(ADDON_FORM, "price")
        with a2:
            select_code(
                "Enhed", _codes(PriceUnit), key=f"{ADDON_FORM}_unit", value=PriceUnit.MONTH.value
            )
            field_error(ADDON_FORM, "unit")
        with a3:
            date_input("Gælder fra", key=f"{ADDON_FORM}_valid_from", value=date.today())
            field_error(ADDON_FORM, "valid_from")
        with a4:
            date_input("Gælder til", key=f"{ADDON_FORM}_valid_to", optional=True)
            field_error(ADDON_FORM, "valid_to")
        return {
            "contract_id": contract_id,
            "name": st.session_state[f"{ADDON_FORM}_name"],
            "price": st.session_state[f"{ADDON_FORM}_price"],
            "unit": st.session_state[f"{ADDON_FORM}_unit"],
            "valid_from": st.session_state[f"{ADDON_FORM}_valid_from"],
            "valid_to": st.session_state[f"{ADDON_FORM}_valid_to"],
        }

    edit_form(
        ADDON_FORM,
        fields,
        add_addon,
        submit="Tilføj tillægsydelse",
        submit_key="contracts_addon_save",
        primary=False,
        success="Tillægsydelsen er tilføjet.",
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
                "Udført af": followups["done_by"].fillna(""),
                "Progression": followups["progression"].map(_label),
                "Støttebehov": followups["support_need_change"].map(_label),
                "Handling": followups["action"].map(_label),
                "Overskredet": followups["overdue"].map(lambda v: "Ja" if v else ""),
                "Note": followups["note"].fillna(""),
            }
        )
        show_table(table, dates=["Frist", "Udført"], key="contracts_followups_table")
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
                "Deadline": goals["deadline"],
                "Status": goals["status"].map(_label),
            }
        )
        show_table(table, dates=["Deadline"], key="contracts_goals_table")
        export_buttons(table, "SMART-mål", dates=["Deadline"], key="contracts_goals_export")


def _check_status(row: pd.Series) -> str:
    return check_status_label(
        flagged=bool(row["flagged"]),
        under_expected=bool(row["under_expected"]),
        status=row["status"],
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
        }
    )


def _show_invoice_checks(detail: ContractDetail, contract_id: int) -> None:
    total = detail.invoice_checks
    if total == 0:
        st.info("Der er ingen fakturakontroller på kontrakten.")
        return
    if detail.open_deviations:
        st.warning(f"{detail.open_deviations} åben(e) fakturaafvigelse(r).", icon="🧾")
    with st.columns([1, 4])[0]:
        limit, offset = pager(total, "contracts_checks_page", CHECKS_PAGE_SIZE)
    checks = cached_read(
        contract_invoice_checks, contract_id=contract_id, limit=limit, offset=offset
    )
    st.caption(
        f"Viser {format_number(offset + 1)}–{format_number(offset + len(checks))} af "
        f"{format_number(total)} kontroller, nyeste periode først."
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


def _show_contract(contract_id: int, settings: AppSettings, today: date) -> None:
    if st.button("← Tilbage til registret", key="contracts_back"):
        _close_contract()
        st.rerun()
    try:
        detail = cached_read(
            contract_detail, contract_id=contract_id, today=today, horizons=settings.horizons
        )
    except UserError as exc:
        if st.session_state.get(LINKED) == contract_id:
            unknown_link("en kendt kontrakt")
        else:
            st.warning(exc.message)
        return
    if st.session_state.get("contracts_editing_id") != contract_id:
        for form in (EDIT_FORM, RENEG_FORM, ADDON_FORM):
            reset_form(form)
        st.session_state.pop("contracts_checks_page", None)
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
    tabs = st.tabs(
        [
            "Overblik",
            "Prishistorik og genforhandling",
            "Tillægsydelser",
            "Opfølgning og mål",
            "Fakturakontroller",
            "Redigér",
        ]
    )
    with tabs[0]:
        _show_overview(detail)
    with tabs[1]:
        _show_price_history(detail, contract_id)
    with tabs[2]:
        _show_addons(detail, contract_id)
    with tabs[3]:
        _show_followups(detail)
    with tabs[4]:
        _show_invoice_checks(detail, contract_id)
    with tabs[5]:
        _show_edit(detail, contract_id, settings)


# --- Page -----------------------------------------------------------------------------------

st.title("Kontrakter")
show_flash()

for kept in KEPT_KEYS:
    if kept in st.session_state:
        st.session_state[kept] = st.session_state[kept]

requested = st.query_params.get("id")
if requested is not None and requested != st.session_state.get("contracts_qp_seen"):
    st.session_state["contracts_qp_seen"] = requested
    linked = query_id()
    if linked is None:
        unknown_link("en kendt kontrakt")
    else:
        st.session_state[SELECTED] = st.session_state[LINKED] = linked

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
