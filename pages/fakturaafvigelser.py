"""Fakturaafvigelser: check an invoice against its contract, and follow the deviation log.

Two tabs that only run when open and stay selected across saves: the log (filters incl. "Mine
sager", totals net of credit notes, one page of deviations, one deviation's history, status
form, credit notes and void) and the invoice check (an invoice or a credit note: contract
search, the invoice a credit note corrects, period, amount, the calculation, then save; below,
the contract's checks, where one registered by mistake is voided with a reason).

Fields that describe what was just saved are emptied in the browser too: every text field here
gets its first value through st.session_state (`_fresh`), so when a save forgets it, the next
run sets it again and the browser shows it empty (deleting the key alone resets the server's
copy only).
"""

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from models import InvoiceKind, InvoiceStatus, label
from pages._ui import (
    allowed,
    cached_read,
    call_service,
    confirmed_fields,
    date_input,
    edit_form,
    export_buttons,
    field_error,
    form_error,
    form_errors,
    get_engine,
    locked,
    md,
    money_input,
    pager,
    query_id,
    reset_form,
    run_save,
    section,
    select_code,
    show_flash,
    show_tab,
    show_table,
    tabs,
    unknown_link,
    user_name,
)
from services.errors import InputError, UserError
from services.formatting import (
    format_date,
    format_kr,
    format_number,
    format_pct,
    regulation_text,
    voided_text,
)
from services.invoices import (
    CLOSING_NEEDS_NOTE,
    INVOICE_NO_CONFIRM_LABEL,
    INVOICE_NO_LOOKS_LIKE_CPR,
    CreditPreview,
    InvoicePreview,
    check_invoice,
    check_status_label,
    check_verdict,
    implausible_message,
    preview_credit_note,
    preview_invoice_check,
    register_credit_note,
    update_deviation,
    void_invoice_check,
)
from services.queries.deviations import (
    DEFAULT_STATUSES,
    STATUS_ORDER,
    CheckEntry,
    DeviationDetail,
    DeviationFilter,
    DeviationRow,
    DeviationTotals,
    contract_check_count,
    contract_checks,
    deviation_detail,
    deviation_log,
    deviation_providers,
    deviation_totals,
    find_contracts_to_check,
    invoices_to_credit,
    quarter_options,
)
from services.rules.roles import capability_of

PAGE = "fakturaafvigelser"
TAB = f"{PAGE}_tab"
TAB_LOG = "Afvigelseslog"
TAB_CHECK = "Kontrollér en faktura"
SELECTED = f"{PAGE}_selected_id"
LINKED = f"{PAGE}_linked_id"  # the deviation the page's address (?id=) opened
CHECK = f"{PAGE}_check"  # the invoice check form
PREVIEW = f"{CHECK}__preview"
CHECKS_SECTION = f"{PAGE}_checks_section"
CHECKS_SELECTED = f"{PAGE}_checks_selected_id"
VOID_IN_CHECKS = f"{PAGE}_voidcheck"  # + _<id>: the void form under the contract's checks
PAGE_SIZE = 50
CHECKS_PAGE_SIZE = 25
EXPORT_LIMIT = 20_000
KINDS = [InvoiceKind.INVOICE.value, InvoiceKind.CREDIT_NOTE.value]

LOG_MONEY = ["Faktureret", "Krediteret", "Forventet", "Afvigelse (kr.)"]
LOG_DATES = ["Periode fra", "Periode til"]
EXPORT_DATES = [*LOG_DATES, "Kontrolleret", "Lukket"]
LOG_PCT = ["Afvigelse (%)"]
LOG_INTS = ["Alder (dage)"]
NET_HELP = (
    "Faktureret minus forventet, efter fakturaens kreditnotaer. Annullerede kontroller tæller "
    "ikke med."
)


def _fresh(key: str, value: Any = "") -> None:
    """A field's first value, set through st.session_state so the browser shows it (and shows
    it again after a save has forgotten the field)."""
    if key not in st.session_state:
        st.session_state[key] = value


# --- The deviation log ----------------------------------------------------------------------


def _status_text(row: DeviationRow) -> str:
    return check_status_label(
        flagged=True, under_expected=False, status=row.status, voided=row.voided
    )


def _log_frame(rows: list[DeviationRow], *, for_export: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Status": [_status_text(r) for r in rows],
            "Leverandør": [r.provider for r in rows],
            "Sagsnr.": [r.case_ref for r in rows],
            "Fakturanr.": [r.invoice_no for r in rows],
            "Periode fra": [r.period_from for r in rows],
            "Periode til": [r.period_to for r in rows],
            "Afvigelse (kr.)": [r.net_deviation for r in rows],
            "Afvigelse (%)": [r.net_pct for r in rows],
            "Faktureret": [r.invoiced for r in rows],
            "Krediteret": [r.credited for r in rows],
            "Forventet": [r.expected for r in rows],
            "Ansvarlig": [r.assignee or "" for r in rows],
            "Alder (dage)": [r.age_days for r in rows],
        }
    )
    if for_export:
        frame["Kontrolleret"] = [r.checked_on for r in rows]
        frame["Lukket"] = [r.resolved_on for r in rows]
        frame["Annullering"] = [
            voided_text(r.voided_at, r.voided_by, r.void_reason, time=True) if r.voided else ""
            for r in rows
        ]
    elif not any(r.credited for r in rows):
        frame = frame.drop(columns=["Krediteret"])  # room on a laptop screen when none is
    return frame


def _log_filters(today: date) -> DeviationFilter:
    providers = dict(cached_read(deviation_providers))
    quarters = cached_read(quarter_options, today=today)
    st.session_state.setdefault(f"{PAGE}_filter_status", list(DEFAULT_STATUSES))
    if st.session_state.get(f"{PAGE}_filter_provider") not in (None, *providers):
        del st.session_state[f"{PAGE}_filter_provider"]
    if st.session_state.get(f"{PAGE}_filter_quarter") not in (None, *quarters):
        del st.session_state[f"{PAGE}_filter_quarter"]
    left, middle, right = st.columns([5, 3, 2])
    statuses = left.multiselect(
        "Status",
        list(STATUS_ORDER),
        format_func=label,
        key=f"{PAGE}_filter_status",
        placeholder="Alle statusser",
        help="Som standard vises de åbne afvigelser. Fjern alle for at se alle statusser.",
        select_all=False,
    )
    provider_id = middle.selectbox(
        "Leverandør",
        [None, *providers],
        format_func=lambda p: "Alle leverandører" if p is None else providers[p],
        key=f"{PAGE}_filter_provider",
    )
    quarter = right.selectbox(
        "Kvartal",
        [None, *quarters],
        format_func=lambda q: "Alle kvartaler" if q is None else q.abbreviated,
        key=f"{PAGE}_filter_quarter",
        help="Kvartalet, som fakturaperioden begynder i.",
    )
    me = user_name()
    mine_col, voided_col, _ = st.columns([2, 2, 6])
    mine = mine_col.toggle(
        "Mine sager",
        key=f"{PAGE}_filter_mine",
        help=f"Kun afvigelser, hvor du ({me}) står som ansvarlig.",
    )
    include_voided = voided_col.toggle(
        "Vis annullerede",
        key=f"{PAGE}_filter_voided",
        help="Annullerede fakturakontroller vises markeret, men tælles aldrig med i summerne.",
    )
    ordered = tuple(s for s in STATUS_ORDER if s in statuses)
    return DeviationFilter(
        statuses=ordered,
        provider_id=provider_id,
        quarter=quarter,
        assignee=me if mine else None,
        include_voided=include_voided,
    )


def _show_totals(totals: DeviationTotals) -> None:
    left, middle, right = st.columns([1, 1, 2])
    left.metric("Afvigelser i udvalget", format_number(totals.count))
    middle.metric("Sum af afvigelser", format_kr(totals.deviation_sum), help=NET_HELP)
    with right:
        per_status = pd.DataFrame(
            {
                "Status": [label(s.status) for s in totals.by_status],
                "Antal": [s.count for s in totals.by_status],
                "Sum af afvigelser (kr.)": [s.deviation_sum for s in totals.by_status],
            }
        )
        show_table(
            per_status,
            money=["Sum af afvigelser (kr.)"],
            ints=["Antal"],
            key=f"{PAGE}_totals_table",
        )
    if totals.voided:
        st.caption(
            f"{format_number(totals.voided)} annullerede kontroller vises også (markeret "
            "»Annulleret«); de tælles ikke med i antal og summer."
        )


def _export_log(
    filters: DeviationFilter, today: date, rows: list[DeviationRow], total: int
) -> None:
    """Export the whole filtered log; past one page it is built only when a button is clicked."""
    kwargs: dict[str, Any] = {"money": LOG_MONEY, "dates": EXPORT_DATES, "pct": LOG_PCT}
    kwargs["ints"] = LOG_INTS
    if total <= len(rows):
        frame = _log_frame(rows, for_export=True)
        export_buttons(frame, "Fakturaafvigelser", key=f"{PAGE}_export", **kwargs)
        return
    engine = get_engine()

    def everything() -> pd.DataFrame:  # runs outside the script: no st. calls, no caches
        with Session(engine) as s:
            found = deviation_log(session=s, filters=filters, today=today, limit=EXPORT_LIMIT)
        return _log_frame(found, for_export=True)

    export_buttons(everything, "Fakturaafvigelser", key=f"{PAGE}_export", **kwargs)
    if total > EXPORT_LIMIT:
        st.caption(f"Eksporten rummer de nyeste {format_number(EXPORT_LIMIT)} afvigelser.")


def _log_view(today: date) -> None:
    filters = _log_filters(today)
    totals = cached_read(deviation_totals, filters=filters)
    if totals.shown == 0:
        if not cached_read(deviation_providers):
            st.info(
                "Der er ingen fakturaafvigelser endnu. Kontrollér en faktura under fanen "
                f"»{TAB_CHECK}«: fakturaer over den regulerede kontraktpris føres her."
            )
        elif filters.assignee is not None:
            st.info(
                f"Ingen afvigelser i filteret har dig ({md(filters.assignee)}) som ansvarlig. "
                "Slå »Mine sager« fra for at se alle."
            )
        else:
            st.info(
                "Ingen afvigelser matcher filteret. Vælg flere statusser eller et andet kvartal."
            )
        return
    _show_totals(totals)
    limit, offset = pager(totals.shown, key=f"{PAGE}_page", page_size=PAGE_SIZE)
    rows = cached_read(deviation_log, filters=filters, today=today, limit=limit, offset=offset)
    frame = _log_frame(rows)
    st.caption(
        f"Viser {format_number(offset + 1)}–{format_number(offset + len(rows))} af "
        f"{format_number(totals.shown)} · nyeste fakturaperiode først · afvigelsen er efter "
        "kreditnotaer · vælg en række for at se historikken og ændre status"
    )
    # The key follows filter, page and rows, so a selection never points at another row.
    table_key = f"{PAGE}_log_{abs(hash((filters, offset, tuple(r.id for r in rows))))}"
    event = show_table(
        frame,
        money=[c for c in LOG_MONEY if c in frame.columns],
        dates=LOG_DATES,
        pct=LOG_PCT,
        ints=LOG_INTS,
        key=table_key,
        selectable=True,
    )
    picked = event.selection.rows if event is not None else []
    if picked and picked[0] < len(rows):
        st.session_state[SELECTED] = rows[picked[0]].id
    _export_log(filters, today, rows, totals.shown)


# --- One deviation --------------------------------------------------------------------------


def _close_detail() -> None:
    st.session_state.pop(SELECTED, None)
    st.session_state.pop(LINKED, None)
    for key in [k for k in st.session_state if str(k).startswith(f"{PAGE}_log_")]:
        del st.session_state[key]


def _history_frame(detail: DeviationDetail) -> pd.DataFrame:
    def change(old: str | None, new: str) -> str:
        return f"{label(old)} → {label(new)}" if old and old != new else label(new)

    return pd.DataFrame(
        {
            "Tidspunkt": [e.at.strftime("%d.%m.%Y %H:%M") for e in detail.history],
            "Af": [e.by for e in detail.history],
            "Status": [change(e.old_status, e.new_status) for e in detail.history],
            "Ansvarlig": [e.assignee or "" for e in detail.history],
            "Note": [e.note or "" for e in detail.history],
        }
    )


def _status_form(detail: DeviationDetail) -> None:
    row = detail.row
    form = f"{PAGE}_deviation_{row.id}"

    def fields() -> dict[str, Any]:
        left, right = st.columns(2)
        with left:
            status = select_code(
                "Status",
                [s.value for s in InvoiceStatus],
                key=f"{form}_status",
                value=row.status,
            )
            field_error(form, "status")
        with right:
            _fresh(f"{form}_assignee", row.assignee or "")
            assignee = st.text_input("Ansvarlig", key=f"{form}_assignee", max_chars=100)
            field_error(form, "assignee")
        _fresh(f"{form}_note")
        note = st.text_area(
            "Note",
            key=f"{form}_note",
            max_chars=2000,
            placeholder="Hvad er undersøgt, aftalt eller besluttet?",
            help=f"{CLOSING_NEEDS_NOTE}, når du lukker afvigelsen som Løst eller Accepteret: "
            "en tidligere note tæller ikke. Feltet tømmes, når ændringen er gemt.",
        )
        field_error(form, "note")
        return {"status": status, "assignee": assignee, "note": note}

    st.markdown("**Ændr status, ansvarlig eller tilføj en note**")
    edit_form(
        form,
        fields,
        update_deviation,
        args={"check_id": row.id},
        loaded=(row.id, detail.version),
        submit="Gem ændring",
        submit_key=f"{form}_save",
        success=f"Afvigelsen på faktura {md(row.invoice_no)} er opdateret.",
    )


def _start_credit_note(contract_id: int, case_ref: str, invoice_id: int) -> None:
    """Button callback: open the check tab on a credit note for this invoice."""
    reset_form(CHECK)
    st.session_state[f"{CHECK}_kind"] = InvoiceKind.CREDIT_NOTE.value
    st.session_state[f"{CHECK}_search"] = case_ref
    st.session_state[f"{CHECK}_contract"] = contract_id
    st.session_state[f"{CHECK}_credits"] = invoice_id
    show_tab(TAB, TAB_CHECK)


def _credit_notes_table(entries: list[CheckEntry], key: str) -> None:
    frame = pd.DataFrame(
        {
            "Kreditnota": [e.invoice_no for e in entries],
            "Registreret": [e.checked_on for e in entries],
            "Beløb": [e.invoiced for e in entries],
            "Annullering": [
                voided_text(e.voided_at, e.voided_by, e.void_reason, time=True) if e.voided else ""
                for e in entries
            ],
        }
    )
    show_table(frame, money=["Beløb"], dates=["Registreret"], key=key)


def _void_form(form: str, check_id: int, version: int, what: str, success: str) -> None:
    """Void one invoice check or credit note with a reason (it stays, marked)."""

    def fields() -> dict[str, Any]:
        _fresh(f"{form}_reason")
        reason = st.text_area(
            "Begrundelse",
            key=f"{form}_reason",
            max_chars=500,
            placeholder="Fx: registreret på den forkerte kontrakt",
            help=f"Hvorfor {what} annulleres (3–500 tegn). Den bliver stående, markeret med dit "
            "navn, tidspunktet og begrundelsen, men tælles ikke med i summer og advarsler.",
        )
        field_error(form, "reason")
        return {"reason": reason}

    edit_form(
        form,
        fields,
        void_invoice_check,
        args={"check_id": check_id},
        loaded=(check_id, version),
        submit=f"Annullér {what}",
        submit_key=f"{form}_save",
        primary=False,
        success=success,
    )


def _detail_view(check_id: int, today: date) -> None:
    detail = cached_read(deviation_detail, check_id=check_id, today=today)
    st.divider()
    if detail is None:
        if st.session_state.get(LINKED) == check_id:
            unknown_link("en kendt afvigelse")
        else:
            st.warning("Afvigelsen findes ikke (måske er fakturakontrollen ikke en afvigelse).")
        _close_detail()
        return
    row = detail.row
    head, close = st.columns([5, 1])
    head.subheader(f"Faktura {md(row.invoice_no)} · {md(row.provider)}")
    close.button("Luk", key=f"{PAGE}_close_detail", on_click=_close_detail)
    st.caption(
        f"Sag {md(row.case_ref)} · periode {format_date(row.period_from)}–"
        f"{format_date(row.period_to)} · kontrolleret {format_date(row.checked_on)} · "
        f"{format_number(row.age_days)} dage"
        + (f" · lukket {format_date(row.resolved_on)}" if row.resolved_on else "")
    )
    if row.voided:
        st.warning(
            md(voided_text(row.voided_at, row.voided_by, row.void_reason, time=True))
            + ". Kontrollen tælles ikke med nogen steder.",
            icon=":material/block:",
        )
    else:
        is_open = row.status in DEFAULT_STATUSES
        st.badge(
            f"Status: {label(row.status)}",
            color="orange" if is_open else "green",
            icon=":material/pending:" if is_open else ":material/task_alt:",
        )
    cols = st.columns(4 if row.credited else 3)
    cols[0].metric("Faktureret", format_kr(row.invoiced))
    if row.credited:
        cols[-3].metric("Krediteret", format_kr(row.credited))
    cols[-2].metric("Forventet", format_kr(row.expected))
    cols[-1].metric(
        "Afvigelse",
        format_kr(row.net_deviation),
        delta=format_pct(row.net_pct) if row.net_pct is not None else None,
        delta_color="inverse",
        help=NET_HELP if row.credited else None,
    )
    if detail.resolution_note:
        st.caption("Seneste note om løsning:")
        st.text(detail.resolution_note)
    st.markdown("**Historik**")
    if detail.history:
        show_table(_history_frame(detail), key=f"{PAGE}_history_{row.id}")
    else:
        st.caption("Ingen ændringer registreret.")
    if detail.credit_notes:
        st.markdown("**Kreditnotaer**")
        _credit_notes_table(detail.credit_notes, key=f"{PAGE}_credits_{row.id}")
    if row.voided:
        return
    _status_form(detail)  # for a role that may not: a note saying which role may
    if not allowed(capability_of(check_invoice)):
        return
    st.button(
        "Registrér en kreditnota på fakturaen",
        key=f"{PAGE}_credit_{row.id}",
        icon=":material/receipt_long:",
        on_click=_start_credit_note,
        args=(row.contract_id, row.case_ref, row.id),
        help=f"Åbner fanen »{TAB_CHECK}« med kreditnota for denne faktura.",
    )
    void_form = f"{PAGE}_void_{row.id}"
    with section("Annullér fakturakontrollen", key=f"{PAGE}_voidsection", forms=[void_form]):
        st.caption(
            "Er fakturaen registreret ved en fejl (forkert kontrakt, beløb eller periode), så "
            "annullér kontrollen og registrér den rigtige. Afvigelsen bliver stående i loggen, "
            "markeret, men tælles ikke med."
        )
        _void_form(
            void_form,
            row.id,
            detail.version,
            "kontrollen",
            f"Kontrollen af faktura {md(row.invoice_no)} er annulleret.",
        )


# --- The invoice check ----------------------------------------------------------------------


def _last_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _is_credit_note() -> bool:
    return st.session_state.get(f"{CHECK}_kind") == InvoiceKind.CREDIT_NOTE.value


def _check_data() -> dict[str, Any]:
    """What the user has entered in the check form, in the shape the service takes."""
    state = st.session_state
    common = {
        "contract_id": state.get(f"{CHECK}_contract"),
        "invoice_no": state.get(f"{CHECK}_invoice_no", ""),
        "invoiced": state.get(f"{CHECK}_invoiced", ""),
        "invoice_no_confirmed": state.get(f"{CHECK}_invoice_no_confirmed", False),
    }
    if _is_credit_note():
        return {**common, "credits_id": state.get(f"{CHECK}_credits")}
    return {
        **common,
        "period_from": state.get(f"{CHECK}_period_from"),
        "period_to": state.get(f"{CHECK}_period_to"),
        "assignee": state.get(f"{CHECK}_assignee") or None,
    }


def _require_contract(data: dict[str, Any]) -> None:
    if data["contract_id"] is None:
        raise InputError({"contract_id": "Vælg den kontrakt, fakturaen hører til"})


def _preview(*, session: Session, data: dict[str, Any]) -> InvoicePreview | CreditPreview:
    """The preview of an invoice or a credit note, saying in words that no contract was chosen."""
    _require_contract(data)
    if "credits_id" in data:
        return preview_credit_note(session=session, data=data)
    return preview_invoice_check(session=session, data=data)


def _calculate() -> None:
    """Button callback: compute the preview before the widgets render, so errors show at once."""
    data = _check_data()
    st.session_state.pop(PREVIEW, None)
    st.session_state.pop(f"{CHECK}__confirm", None)
    try:
        preview = call_service(_preview, data=data)
    except InputError as exc:
        st.session_state[f"{CHECK}__errors"] = exc.fields
        return
    except UserError as exc:  # e.g. a missing index rate for an index-regulated contract
        st.session_state[f"{CHECK}__errors"] = {"_form": exc.message}
        return
    st.session_state.pop(f"{CHECK}__errors", None)
    st.session_state[PREVIEW] = (data, preview)


def _save_check(*, session: Session, data: dict[str, Any], user: str) -> Any:
    """check_invoice or register_credit_note, saying in words that no contract was chosen."""
    _require_contract(data)
    if "credits_id" in data:
        return register_credit_note(session=session, data=data, user=user)
    return check_invoice(session=session, data=data, user=user)


def _after_check(check: Any) -> None:
    """Keep the kind, contract and period for the next invoice; forget the invoice (number,
    amount, the invoice a credit note corrected) and its preview."""
    kept = ("kind", "search", "contract", "period_from", "period_to")
    reset_form(CHECK, keep=[f"{CHECK}_{field}" for field in kept])
    if check.flagged:
        st.session_state[SELECTED] = check.id


def _contract_picker() -> int | None:
    left, right = st.columns([2, 3])
    _fresh(f"{CHECK}_search")
    search = left.text_input(
        "Søg kontrakt",
        key=f"{CHECK}_search",
        placeholder="Sagsnummer eller leverandør",
        help="Skriv en del af sagsnummeret eller leverandørens navn.",
    )
    matches = cached_read(find_contracts_to_check, search=search, limit=PAGE_SIZE)
    choices = {c.id: c for c in matches.choices}
    if st.session_state.get(f"{CHECK}_contract") not in choices:
        st.session_state.pop(f"{CHECK}_contract", None)

    def describe(contract_id: int) -> str:
        c = choices[contract_id]
        return (
            f"{c.case_ref} · {c.provider} · {format_kr(c.price)} {label(c.price_unit)} "
            f"({label(c.status)})"
        )

    with right:
        contract_id = st.selectbox(
            "Kontrakt",
            list(choices),
            index=None,
            format_func=describe,
            key=f"{CHECK}_contract",
            placeholder="Vælg en kontrakt" if choices else "Ingen kontrakter matcher søgningen",
        )
        field_error(CHECK, "contract_id")
    if matches.total == 0 and not search.strip():
        st.info(
            "Der er ingen kontrakter endnu. Opret kontrakten under Kontrakter, før du "
            "kontrollerer dens fakturaer."
        )
    elif matches.total > len(matches.choices):
        st.caption(
            f"Viser {format_number(len(matches.choices))} af {format_number(matches.total)} "
            "kontrakter – skriv mere i søgefeltet for at indsnævre."
        )
    return contract_id


def _invoice_no_field(label_text: str) -> None:
    _fresh(f"{CHECK}_invoice_no")
    st.text_input(label_text, key=f"{CHECK}_invoice_no", max_chars=50)
    field_error(CHECK, "invoice_no")
    # Only for a number that looks like a CPR number; kept once ticked (or it would be lost).
    confirm = f"{CHECK}_invoice_no_confirmed"
    if st.session_state.get(confirm) or (
        form_errors(CHECK).get("invoice_no") == INVOICE_NO_LOOKS_LIKE_CPR
    ):
        st.checkbox(INVOICE_NO_CONFIRM_LABEL, key=confirm)


def _invoice_fields(today: date) -> None:
    first, last = _last_month(today)
    cols = st.columns(4)
    with cols[0]:
        _invoice_no_field("Fakturanummer")
    with cols[1]:
        date_input("Periode fra", key=f"{CHECK}_period_from", value=first)
        field_error(CHECK, "period_from")
    with cols[2]:
        date_input("Periode til", key=f"{CHECK}_period_to", value=last)
        field_error(CHECK, "period_to")
    with cols[3]:
        money_input("Faktureret beløb (kr.)", key=f"{CHECK}_invoiced")
        field_error(CHECK, "invoiced")
    with st.columns(2)[0]:
        _fresh(f"{CHECK}_assignee")
        st.text_input(
            "Ansvarlig, hvis fakturaen afviger (valgfri)",
            key=f"{CHECK}_assignee",
            max_chars=100,
        )
        field_error(CHECK, "assignee")


def _credit_fields(contract_id: int | None) -> None:
    invoices = (
        cached_read(invoices_to_credit, contract_id=contract_id) if contract_id is not None else []
    )
    choices = {i.id: i for i in invoices}
    if st.session_state.get(f"{CHECK}_credits") not in choices:
        st.session_state.pop(f"{CHECK}_credits", None)
    _fresh(f"{CHECK}_credits", None)

    def describe(invoice_id: int) -> str:
        i = choices[invoice_id]
        return (
            f"{i.invoice_no} · {format_date(i.period_from)}–{format_date(i.period_to)} · "
            f"{format_kr(i.invoiced)} · afvigelse {format_kr(i.net_deviation)}"
        )

    left, middle, right = st.columns([3, 1, 1])
    with left:
        st.selectbox(
            "Krediterer faktura",
            list(choices),
            format_func=describe,
            key=f"{CHECK}_credits",
            placeholder=(
                "Vælg den faktura, kreditnotaen retter"
                if choices
                else "Vælg først en kontrakt med kontrollerede fakturaer"
            ),
            help="Kontraktens fakturaer (nyeste periode først). Kreditnotaen får fakturaens "
            "periode og trækkes fra dens afvigelse.",
        )
        field_error(CHECK, "credits_id")
    with middle:
        _invoice_no_field("Kreditnotanummer")
    with right:
        money_input(
            "Beløb (kr.)",
            key=f"{CHECK}_invoiced",
            help_text="Kreditnotaens beløb. Det trækkes fra fakturaen, hvad enten du skriver "
            "det med eller uden minus.",
        )
        field_error(CHECK, "invoiced")


def _terms_caption(preview: InvoicePreview, data: dict[str, Any]) -> str:
    contract = preview.contract
    regulation = regulation_text(
        contract.regulation_kind,
        contract.regulation_pct,
        contract.regulation_day,
        contract.regulation_month,
    )
    text = (
        f"Kontraktpris {format_kr(contract.price)} {label(contract.price_unit)} med prisdato "
        f"{format_date(contract.price_base_date)} · regulering: {regulation} · "
        f"{format_number(preview.expected.days)} dage med forventet betaling"
    )
    period_days = (data["period_to"] - data["period_from"]).days + 1
    if preview.expected.days < period_days:
        outside = period_days - preview.expected.days
        text += (
            f" · {format_number(outside)} dage af perioden ligger uden for kontraktens "
            "løbetid og indgår ikke"
        )
    return text


def _show_preview(preview: InvoicePreview, data: dict[str, Any]) -> None:
    deviation = preview.deviation
    expected = preview.expected
    st.subheader("Beregning")
    cols = st.columns(4)
    cols[0].metric("Forventet beløb", format_kr(expected.total))
    cols[1].metric("Faktureret", format_kr(expected.total + deviation.amount))
    cols[2].metric("Afvigelse", format_kr(deviation.amount))
    cols[3].metric("Afvigelse i %", format_pct(deviation.pct) if deviation.pct is not None else "")
    st.caption(_terms_caption(preview, data))
    lines = pd.DataFrame(
        {
            "Linje": [line.what for line in expected.lines],
            "Periode": [
                f"{format_date(line.first)}–{format_date(line.last)}" for line in expected.lines
            ],
            "Dage": [line.days for line in expected.lines],
            "Pris (reguleret)": [line.price for line in expected.lines],
            "Enhed": [label(line.unit) for line in expected.lines],
            "Beløb": [line.amount for line in expected.lines],
        }
    )
    if expected.lines:
        show_table(
            lines,
            money=["Pris (reguleret)", "Beløb"],
            ints=["Dage"],
            key=f"{CHECK}_lines_table",
        )
    else:
        st.caption("Ingen dage i perioden ligger inden for kontraktens løbetid.")
    verdict = check_verdict(deviation)
    text = f"**{verdict.headline}:** {verdict.explanation}"
    if deviation.flagged:
        st.error(text, icon=":material/flag:")
    elif deviation.under_expected:
        st.info(text, icon=":material/info:")
    else:
        st.success(text, icon=":material/check_circle:")
    if preview.implausible:
        invoiced = expected.total + deviation.amount
        st.warning(
            implausible_message(invoiced, expected.total, preview.plausible_factor)
            + " Når du gemmer, bliver du bedt om at bekræfte beløbet.",
            icon=":material/warning:",
        )


def _show_credit_preview(preview: CreditPreview) -> None:
    invoice = preview.invoice
    st.subheader("Beregning")
    cols = st.columns(4)
    cols[0].metric("Fakturaens afvigelse", format_kr(preview.net_before))
    cols[1].metric("Kreditnota", format_kr(preview.amount))
    cols[2].metric("Afvigelse efter kreditnota", format_kr(preview.net_after))
    cols[3].metric("Faktureret efter kreditnota", format_kr(preview.invoiced_after))
    credited = (
        f" · allerede krediteret {format_kr(preview.credited_before)}"
        if preview.credited_before
        else ""
    )
    st.caption(
        f"Faktura {md(invoice.invoice_no)} · periode {format_date(invoice.period_from)}–"
        f"{format_date(invoice.period_to)} · faktureret {format_kr(invoice.invoiced)} · "
        f"forventet {format_kr(invoice.expected)}{credited}"
    )
    note = (
        "Kreditnotaen gemmes med fakturaens periode og trækkes fra fakturaen i forbrug og "
        "afvigelsessummer."
    )
    if invoice.flagged:
        note += (
            f" Afvigelsen (status {label(invoice.status)}) får en linje i sin historik; "
            "skift selv status i afvigelsesloggen, når sagen er afklaret."
        )
    st.info(note, icon=":material/receipt_long:")


def _save_button(data: dict[str, Any], preview: InvoicePreview | CreditPreview) -> None:
    credit = isinstance(preview, CreditPreview)
    number = md(data["invoice_no"])
    if credit:
        success = f"Kreditnota {number} er registreret."
    elif preview.deviation.flagged:
        success = f"Faktura {number} er kontrolleret og ført i afvigelsesloggen."
    else:
        success = f"Kontrollen af faktura {number} er gemt."
    label_text = "Gem kreditnota" if credit else "Gem kontrol"
    if st.button(label_text, type="primary", key=f"{CHECK}_save"):
        run_save(
            CHECK,
            lambda: call_service(_save_check, data={**data, "confirmed": confirmed_fields(CHECK)}),
            success=success,
            on_success=_after_check,
        )


def _check_view(today: date) -> None:
    if locked(capability_of(check_invoice)):
        return
    st.caption(
        "Vælg kontrakten, perioden og det fakturerede beløb. Tryk »Beregn« for at se det "
        "forventede beløb og beregningen, og gem derefter kontrollen. En kreditnota registreres "
        "mod den faktura, den retter."
    )
    _fresh(f"{CHECK}_kind", InvoiceKind.INVOICE.value)
    st.radio(
        "Bilag",
        KINDS,
        format_func=label,
        key=f"{CHECK}_kind",
        horizontal=True,
        help="En kreditnota har et negativt beløb og retter en faktura, der allerede er "
        "kontrolleret på kontrakten.",
    )
    contract_id = _contract_picker()
    if _is_credit_note():
        _credit_fields(contract_id)
    else:
        _invoice_fields(today)
    form_error(CHECK)
    st.button("Beregn", key=f"{CHECK}_calculate", on_click=_calculate)
    data = _check_data()
    stored = st.session_state.get(PREVIEW)
    if stored is not None:
        shown_for, preview = stored
        if shown_for != data:
            st.info("Oplysningerne er ændret siden beregningen. Tryk »Beregn« igen.")
        else:
            if isinstance(preview, CreditPreview):
                _show_credit_preview(preview)
            else:
                _show_preview(preview, data)
            _save_button(data, preview)
    if contract_id is not None:
        _contract_checks(contract_id)


# --- A contract's checks: look back, void a mistake -----------------------------------------


def _checks_frame(entries: list[CheckEntry]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Bilag": [label(e.kind) for e in entries],
            "Nummer": [e.invoice_no for e in entries],
            "Periode fra": [e.period_from for e in entries],
            "Periode til": [e.period_to for e in entries],
            "Kontrolleret": [e.checked_on for e in entries],
            "Beløb": [e.invoiced for e in entries],
            "Forventet": [e.expected for e in entries],
            "Status": [
                check_status_label(
                    flagged=e.flagged,
                    under_expected=False,
                    status=e.status,
                    kind=e.kind,
                    voided=e.voided,
                )
                for e in entries
            ],
        }
    )


def _contract_checks(contract_id: int) -> None:
    """The chosen contract's checks and credit notes; pick one to void it with a reason."""
    total = cached_read(contract_check_count, contract_id=contract_id)
    if total == 0:
        return
    void_forms = [
        str(k).removesuffix("__errors")
        for k in st.session_state
        if str(k).startswith(f"{VOID_IN_CHECKS}_") and str(k).endswith("__errors")
    ]
    with section("Kontraktens kontroller og kreditnotaer", key=CHECKS_SECTION, forms=void_forms):
        limit, offset = pager(total, key=f"{PAGE}_checks_page", page_size=CHECKS_PAGE_SIZE)
        entries = cached_read(contract_checks, contract_id=contract_id, limit=limit, offset=offset)
        st.caption(
            f"{format_number(total)} i alt, nyeste periode først. Vælg en række for at "
            "annullere en kontrol eller kreditnota, der er registreret ved en fejl."
        )
        key = f"{PAGE}_checks_{contract_id}_{offset}_{abs(hash(tuple(e.id for e in entries)))}"
        event = show_table(
            _checks_frame(entries),
            money=["Beløb", "Forventet"],
            dates=["Periode fra", "Periode til", "Kontrolleret"],
            key=key,
            selectable=True,
        )
        picked = event.selection.rows if event is not None else []
        if picked and picked[0] < len(entries):
            st.session_state[CHECKS_SELECTED] = entries[picked[0]].id
        chosen = next((e for e in entries if e.id == st.session_state.get(CHECKS_SELECTED)), None)
        if chosen is None:
            return
        st.markdown(f"**{label(chosen.kind)} {md(chosen.invoice_no)}**")
        if chosen.voided:
            st.caption(
                md(voided_text(chosen.voided_at, chosen.voided_by, chosen.void_reason, time=True))
            )
            return
        credit = chosen.kind == InvoiceKind.CREDIT_NOTE.value
        _void_form(
            f"{VOID_IN_CHECKS}_{chosen.id}",
            chosen.id,
            chosen.version,
            "kreditnotaen" if credit else "kontrollen",
            f"{label(chosen.kind)} {md(chosen.invoice_no)} er annulleret.",
        )


# --- Page -----------------------------------------------------------------------------------


st.title("Fakturaafvigelser")
show_flash()
today = date.today()

if "id" in st.query_params:
    linked = query_id()
    del st.query_params["id"]
    if linked is None:
        unknown_link("en kendt afvigelse")
    else:
        st.session_state[SELECTED] = st.session_state[LINKED] = linked
        show_tab(TAB, TAB_LOG)

log_tab, check_tab = tabs([TAB_LOG, TAB_CHECK], key=TAB)
if log_tab.open is not False:
    with log_tab:
        _log_view(today)
        if st.session_state.get(SELECTED):
            _detail_view(int(st.session_state[SELECTED]), today)
if check_tab.open is not False:
    with check_tab:
        _check_view(today)
