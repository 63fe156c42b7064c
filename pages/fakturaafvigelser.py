"""Fakturaafvigelser: check an invoice against its contract, and follow the deviation log.

Two tabs that only run when open: the log (filters, totals, one page of deviations, one
deviation's history and status form) and the invoice check (contract search, period, amount,
the expected amount with its calculation, then save).
"""

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from models import InvoiceStatus, label
from pages._ui import (
    cached_read,
    call_service,
    date_input,
    edit_form,
    export_buttons,
    field_error,
    form_error,
    form_errors,
    get_engine,
    md,
    money_input,
    pager,
    query_id,
    reset_form,
    run_save,
    select_code,
    show_flash,
    show_table,
    unknown_link,
)
from services.errors import InputError, UserError
from services.formatting import format_date, format_kr, format_number, format_pct, regulation_text
from services.invoices import (
    INVOICE_NO_CONFIRM_LABEL,
    INVOICE_NO_LOOKS_LIKE_CPR,
    InvoicePreview,
    check_invoice,
    check_verdict,
    preview_invoice_check,
    update_deviation,
)
from services.queries.deviations import (
    DEFAULT_STATUSES,
    STATUS_ORDER,
    DeviationDetail,
    DeviationFilter,
    DeviationRow,
    DeviationTotals,
    deviation_detail,
    deviation_log,
    deviation_providers,
    deviation_totals,
    find_contracts_to_check,
    quarter_options,
)

PAGE = "fakturaafvigelser"
TAB = f"{PAGE}_tab"
TAB_LOG = "Afvigelseslog"
TAB_CHECK = "Kontrollér en faktura"
SELECTED = f"{PAGE}_selected_id"
LINKED = f"{PAGE}_linked_id"  # the deviation the page's address (?id=) opened
CHECK = f"{PAGE}_check"  # the invoice check form
PREVIEW = f"{CHECK}__preview"
PAGE_SIZE = 50
EXPORT_LIMIT = 20_000

LOG_MONEY = ["Faktureret", "Forventet", "Afvigelse (kr.)"]
LOG_DATES = ["Periode fra", "Periode til"]
EXPORT_DATES = [*LOG_DATES, "Kontrolleret", "Lukket"]
LOG_PCT = ["Afvigelse (%)"]
LOG_INTS = ["Alder (dage)"]


# --- The deviation log ----------------------------------------------------------------------


def _log_frame(rows: list[DeviationRow], *, for_export: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Status": [label(r.status) for r in rows],
            "Leverandør": [r.provider for r in rows],
            "Sagsnr.": [r.case_ref for r in rows],
            "Fakturanr.": [r.invoice_no for r in rows],
            "Periode fra": [r.period_from for r in rows],
            "Periode til": [r.period_to for r in rows],
            "Afvigelse (kr.)": [r.deviation for r in rows],
            "Afvigelse (%)": [r.deviation_pct for r in rows],
            "Faktureret": [r.invoiced for r in rows],
            "Forventet": [r.expected for r in rows],
            "Ansvarlig": [r.assignee or "" for r in rows],
            "Alder (dage)": [r.age_days for r in rows],
        }
    )
    if for_export:
        frame["Kontrolleret"] = [r.checked_on for r in rows]
        frame["Lukket"] = [r.resolved_on for r in rows]
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
    ordered = tuple(s for s in STATUS_ORDER if s in statuses)
    return DeviationFilter(statuses=ordered, provider_id=provider_id, quarter=quarter)


def _show_totals(totals: DeviationTotals) -> None:
    left, middle, right = st.columns([1, 1, 2])
    left.metric("Afvigelser i udvalget", format_number(totals.count))
    middle.metric(
        "Sum af afvigelser",
        format_kr(totals.deviation_sum),
        help="Faktureret minus forventet, lagt sammen for afvigelserne i udvalget.",
    )
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
    if totals.count == 0:
        if not cached_read(deviation_providers):
            st.info(
                "Der er ingen fakturaafvigelser endnu. Kontrollér en faktura under fanen "
                f"»{TAB_CHECK}«: fakturaer over den regulerede kontraktpris føres her."
            )
        else:
            st.info(
                "Ingen afvigelser matcher filteret. Vælg flere statusser eller et andet kvartal."
            )
        return
    _show_totals(totals)
    with st.columns([1, 4])[0]:
        limit, offset = pager(totals.count, key=f"{PAGE}_page", page_size=PAGE_SIZE)
    rows = cached_read(deviation_log, filters=filters, today=today, limit=limit, offset=offset)
    frame = _log_frame(rows)
    st.caption(
        f"Viser {format_number(offset + 1)}–{format_number(offset + len(rows))} af "
        f"{format_number(totals.count)} · nyeste fakturaperiode først · vælg en række for at "
        "se historikken og ændre status"
    )
    # The key follows filter, page and rows, so a selection never points at another row.
    table_key = f"{PAGE}_log_{abs(hash((filters, offset, tuple(r.id for r in rows))))}"
    event = show_table(
        frame,
        money=LOG_MONEY,
        dates=LOG_DATES,
        pct=LOG_PCT,
        ints=LOG_INTS,
        key=table_key,
        selectable=True,
    )
    picked = event.selection.rows if event is not None else []
    if picked and picked[0] < len(rows):
        st.session_state[SELECTED] = rows[picked[0]].id
    _export_log(filters, today, rows, totals.count)


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
            if f"{form}_assignee" not in st.session_state:
                st.session_state[f"{form}_assignee"] = row.assignee or ""
            assignee = st.text_input("Ansvarlig", key=f"{form}_assignee", max_chars=100)
            field_error(form, "assignee")
        note = st.text_area(
            "Note",
            key=f"{form}_note",
            max_chars=2000,
            placeholder="Hvad er undersøgt, aftalt eller besluttet?",
            help="Skal udfyldes, når afvigelsen lukkes som Løst eller Accepteret.",
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
    is_open = row.status in DEFAULT_STATUSES
    st.badge(
        f"Status: {label(row.status)}",
        color="orange" if is_open else "green",
        icon=":material/pending:" if is_open else ":material/task_alt:",
    )
    cols = st.columns(3)
    cols[0].metric("Faktureret", format_kr(row.invoiced))
    cols[1].metric("Forventet", format_kr(row.expected))
    cols[2].metric(
        "Afvigelse",
        format_kr(row.deviation),
        delta=format_pct(row.deviation_pct) if row.deviation_pct is not None else None,
        delta_color="inverse",
    )
    if detail.resolution_note:
        st.caption("Seneste note om løsning:")
        st.text(detail.resolution_note)
    st.markdown("**Historik**")
    if detail.history:
        show_table(_history_frame(detail), key=f"{PAGE}_history_{row.id}")
    else:
        st.caption("Ingen ændringer registreret.")
    _status_form(detail)


# --- The invoice check ----------------------------------------------------------------------


def _last_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _check_data() -> dict[str, Any]:
    """What the user has entered in the check form, in the shape the service takes."""
    state = st.session_state
    return {
        "contract_id": state.get(f"{CHECK}_contract"),
        "invoice_no": state.get(f"{CHECK}_invoice_no", ""),
        "period_from": state.get(f"{CHECK}_period_from"),
        "period_to": state.get(f"{CHECK}_period_to"),
        "invoiced": state.get(f"{CHECK}_invoiced", ""),
        "assignee": state.get(f"{CHECK}_assignee") or None,
        "invoice_no_confirmed": state.get(f"{CHECK}_invoice_no_confirmed", False),
    }


def _require_contract(data: dict[str, Any]) -> None:
    if data["contract_id"] is None:
        raise InputError({"contract_id": "Vælg den kontrakt, fakturaen hører til"})


def _calculate() -> None:
    """Button callback: compute the preview before the widgets render, so errors show at once."""
    data = _check_data()
    st.session_state.pop(PREVIEW, None)
    try:
        _require_contract(data)
        preview = call_service(preview_invoice_check, data=data)
    except InputError as exc:
        st.session_state[f"{CHECK}__errors"] = exc.fields
        return
    except UserError as exc:  # e.g. a missing index rate for an index-regulated contract
        st.session_state[f"{CHECK}__errors"] = {"_form": exc.message}
        return
    st.session_state.pop(f"{CHECK}__errors", None)
    st.session_state[PREVIEW] = (data, preview)


def _check_invoice(*, session: Session, data: dict[str, Any], user: str) -> Any:
    """check_invoice, saying in words that no contract was chosen."""
    _require_contract(data)
    return check_invoice(session=session, data=data, user=user)


def _after_check(check: Any) -> None:
    """Keep contract and period for the next invoice; forget the invoice and its preview."""
    kept = ("search", "contract", "period_from", "period_to")
    reset_form(CHECK, keep=[f"{CHECK}_{field}" for field in kept])
    if check.flagged:
        st.session_state[SELECTED] = check.id


def _contract_picker() -> None:
    left, right = st.columns([2, 3])
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
        st.selectbox(
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


def _invoice_fields(today: date) -> None:
    first, last = _last_month(today)
    cols = st.columns(4)
    with cols[0]:
        st.text_input("Fakturanummer", key=f"{CHECK}_invoice_no", max_chars=50)
        field_error(CHECK, "invoice_no")
        # Only for a number that looks like a CPR number; kept once ticked (or it would be lost).
        confirm = f"{CHECK}_invoice_no_confirmed"
        if st.session_state.get(confirm) or (
            form_errors(CHECK).get("invoice_no") == INVOICE_NO_LOOKS_LIKE_CPR
        ):
            st.checkbox(INVOICE_NO_CONFIRM_LABEL, key=confirm)
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
        st.text_input(
            "Ansvarlig, hvis fakturaen afviger (valgfri)",
            key=f"{CHECK}_assignee",
            max_chars=100,
        )
        field_error(CHECK, "assignee")


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


def _check_view(today: date) -> None:
    st.caption(
        "Vælg kontrakten, perioden og det fakturerede beløb. Tryk »Beregn« for at se det "
        "forventede beløb og beregningen, og gem derefter kontrollen."
    )
    _contract_picker()
    _invoice_fields(today)
    form_error(CHECK)
    st.button("Beregn", key=f"{CHECK}_calculate", on_click=_calculate)
    data = _check_data()
    stored = st.session_state.get(PREVIEW)
    if stored is None:
        return
    shown_for, preview = stored
    if shown_for != data:
        st.info("Oplysningerne er ændret siden beregningen. Tryk »Beregn« igen.")
        return
    _show_preview(preview, data)
    flagged = preview.deviation.flagged
    if st.button("Gem kontrol", type="primary", key=f"{CHECK}_save"):
        run_save(
            CHECK,
            lambda: call_service(_check_invoice, data=data),
            success=(
                f"Faktura {md(data['invoice_no'])} er kontrolleret og ført i afvigelsesloggen."
                if flagged
                else f"Kontrollen af faktura {md(data['invoice_no'])} er gemt."
            ),
            on_success=_after_check,
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
        st.session_state[TAB] = TAB_LOG

log_tab, check_tab = st.tabs([TAB_LOG, TAB_CHECK], key=TAB, on_change="rerun")
if log_tab.open is not False:
    with log_tab:
        _log_view(today)
        if st.session_state.get(SELECTED):
            _detail_view(int(st.session_state[SELECTED]), today)
if check_tab.open is not False:
    with check_tab:
        _check_view(today)
