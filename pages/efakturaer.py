"""E-fakturaer (SPEC 4.9, 9; issue 13): OIOUBL and Peppol invoices straight into the check.

Upload XML files or a zip → each file is read, matched to provider, contract and period, and
checked like a typed invoice (expected amount, deviation, flagged) → fix a match the file left
open (the contract, the period) or leave a file out → save the chosen ones as invoice checks in
one transaction; a flagged one lands in the deviation log with status `ny`."""

import hashlib
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from pages._ui import (
    cached_read,
    call_service,
    date_input,
    form_errors,
    locked,
    md,
    progress_bar,
    run_save,
    session,
    show_flash,
    show_table,
)
from services.demo_data import dataset_kind
from services.einvoice.batch import (
    LEFT_OUT,
    BatchCheck,
    BatchFile,
    Fix,
    check_batch,
    contract_options,
    read_batch,
    save_einvoices,
)
from services.einvoice.examples import einvoice_examples
from services.einvoice.reader import MAX_ZIP_BYTES, MAX_ZIP_ENTRIES
from services.formatting import format_date, format_number
from services.imports.examples import last_month
from services.rules.roles import Capability

FORM = "einvoice"
FILES = "einvoice_files"  # [(name, bytes)] of the upload, kept while the user works on it
BATCH = "einvoice_batch"  # (digest of the upload, [BatchFile]): read and matched once
FIXES = "einvoice_fixes"  # {file number: Fix}
UPLOAD = "einvoice_upload"
UPLOADS = "einvoice_uploads"  # a new uploader after a save: the files are forgotten
CHOSEN = "einvoice_chosen"  # the file being fixed
FIX_FORM = "einvoice_fix"
SAVES = "Gemmes"
WIDTHS: dict[str, str | int] = {"Nr.": 50, "Besked": 420}


def _forget_work() -> None:
    """The upload's batch, fixes and fix fields (their file numbers mean the old upload's)."""
    for key in list(st.session_state):
        if str(key).startswith(FIX_FORM) or key in (FILES, BATCH, FIXES, CHOSEN):
            del st.session_state[key]
    st.session_state.pop(f"{FORM}__errors", None)


def _keep_upload() -> None:
    uploaded = st.session_state.get(f"{UPLOAD}_{st.session_state.get(UPLOADS, 0)}") or []
    _forget_work()
    if uploaded:
        st.session_state[FILES] = [(u.name, u.getvalue()) for u in uploaded]


def _forget_upload(_: Any = None) -> None:
    _forget_work()
    st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1


def _digest(files: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode("utf-8", "replace"))
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


@contextmanager
def _progress(total: int, doing: str) -> Iterator[Any]:
    """A progress bar for a batch of more than a few files, gone when the work is done."""
    if total < 50:
        yield None
        return
    with progress_bar(
        lambda done: f"{doing} {format_number(done)} af ca. {format_number(total)} filer …", total
    ) as show:
        yield show


def _batch(files: list[tuple[str, bytes]]) -> list[BatchFile]:
    """The upload read and matched (once per upload: kept in the session)."""
    digest = _digest(files)
    kept = st.session_state.get(BATCH)
    if kept is not None and kept[0] == digest:
        return list(kept[1])
    with session() as s, _progress(_count_hint(files), "Læser") as progress:
        batch = read_batch(session=s, files=files, progress=progress)
    st.session_state[BATCH] = (digest, batch)
    return batch


def _count_hint(files: list[tuple[str, bytes]]) -> int:
    """About how many invoices the upload holds (a zip's entries counted, not unpacked)."""
    total = 0
    for name, data in files:
        if data[:4] == b"PK\x03\x04" or name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    total += len(archive.infolist())
            except zipfile.BadZipFile:
                total += 1
        else:
            total += 1
    return total


def _examples() -> None:
    if cached_read(dataset_kind) != "demo":
        return
    today = date.today()
    data = cached_read(einvoice_examples, today=today)  # made once, not on every click
    st.download_button(
        "Hent eksempelfiler (zip)",
        icon=":material/lightbulb:",
        data=data,
        file_name=f"e-fakturaer_{last_month(today)[0]:%Y-%m}.zip",
        mime="application/zip",
        key="einvoice_example",
        on_click="ignore",
        help="Seks e-fakturaer fra sidste måned til demoens kontrakter: OIOUBL 2.1 og Peppol "
        "BIS 3, en afvigelse, en kreditnota, en uden kontraktreference og en fra en ukendt "
        "leverandør. Findes kun, mens demodata er i databasen.",
    )


def _period_text(period: tuple[date, date] | None) -> str | None:
    return None if period is None else f"{format_date(period[0])}–{format_date(period[1])}"


def _status(message: str | None) -> str:
    return SAVES if message is None else LEFT_OUT if message == LEFT_OUT else "Gemmes ikke"


def _frame(check: BatchCheck) -> pd.DataFrame:
    lines = check.lines
    return pd.DataFrame(
        {
            "Nr.": [line.number for line in lines],
            "Status": [_status(line.message) for line in lines],
            "Fakturanr.": [line.invoice_no for line in lines],
            "Leverandør": [line.provider_name for line in lines],
            "Kontrakt": [line.case_ref for line in lines],
            "Periode": [_period_text(line.period) for line in lines],
            "Nettobeløb": [line.net_amount for line in lines],
            "Forventet": [line.expected for line in lines],
            "Afvigelse": [line.deviation for line in lines],
            "Over grænsen": ["Ja" if line.flagged else "" for line in lines],
            "Besked": [line.message or SAVES for line in lines],
            "Type": [line.kind for line in lines],
            "Kontrakt fundet ved": [line.how for line in lines],
            "Fil": [line.name for line in lines],
        }
    )


def _show(check: BatchCheck) -> None:
    lines = check.lines
    saved = sum(line.saved for line in lines)
    figures = dict(check.preview.figures)
    counts = [
        ("Filer", format_number(len(lines))),
        ("Gemmes", format_number(saved)),
        ("Afvigelser", figures.get("Afvigelser", "0")),
        ("Kreditnotaer", figures.get("Kreditnotaer", "0")),
        ("Gemmes ikke", format_number(len(lines) - saved)),
    ]
    for place, (name, value) in zip(st.columns(len(counts)), counts, strict=True):
        place.metric(name, value)
    if check.preview.summary:
        st.markdown(md(check.preview.summary))
    show_table(
        _frame(check),
        money=["Nettobeløb", "Forventet", "Afvigelse"],
        ints=["Nr."],
        key="einvoice_table",
        widths=WIDTHS,
        pinned=["Nr."],
    )
    unsaved = [line for line in lines if line.message not in (None, LEFT_OUT)]
    if unsaved:
        st.markdown(
            "**Gemmes ikke:**\n"
            + "\n".join(
                "- " + md(f"{line.number}. {line.invoice_no or line.name}: {line.message}")
                for line in unsaved
            )
        )


def _contract_label(options: dict[int, str], value: int | None) -> str:
    return "Som fundet i fakturaen" if value is None else options.get(value, str(value))


def _fix(batch: list[BatchFile], check: BatchCheck) -> None:
    """Give one file the contract or period it lacks, or leave it out."""
    readable = [f for f in batch if f.match is not None]
    if not readable or locked(Capability.CHECK_INVOICES):
        return
    st.subheader("Ret en fil")
    by_number = {f.number: f for f in readable}
    messages = {line.number: line.message for line in check.lines}
    open_first = [f.number for f in readable if messages.get(f.number) not in (None, LEFT_OUT)]
    if st.session_state.get(CHOSEN) not in by_number:
        st.session_state[CHOSEN] = (open_first or [readable[0].number])[0]
    st.selectbox(
        "Fil",
        list(by_number),
        key=CHOSEN,
        # The label stays the same after a fix: the browser keeps a choice by its text.
        format_func=lambda n: f"{n}. {by_number[n].name}",
        help="Den første fil, der ikke kan gemmes, står valgt.",
    )
    file = by_number[st.session_state[CHOSEN]]
    if message := messages.get(file.number):
        st.caption(f":material/info: {md(message)}")
    match = file.match
    assert match is not None
    fixes: dict[int, Fix] = st.session_state.setdefault(FIXES, {})
    fix = fixes.get(file.number, Fix())
    with session() as s:
        candidates = contract_options(session=s, match=match)
    options = {
        c.id: f"{c.case_ref} ({format_date(c.start_date)}–"
        f"{format_date(c.end_date) if c.end_date else 'løbende'})"
        for c in candidates
    }
    prefix = f"{FIX_FORM}_{file.number}"
    errors = form_errors(FIX_FORM)
    with st.form(f"{FIX_FORM}_form_{file.number}", border=True, enter_to_submit=False):
        st.selectbox(
            "Kontrakt",
            [None, *options],
            index=([None, *options].index(fix.contract_id) if fix.contract_id in options else 0),
            key=f"{prefix}_contract",
            format_func=lambda v: _contract_label(options, v),
            help=f"Kontrakterne hos leverandøren med CVR {match.supplier_cvr}, dem i kraft først."
            if match.supplier_cvr
            else None,
            disabled=not options,
        )
        period = fix.period or match.period
        left, right = st.columns(2)
        with left:
            date_input(
                "Periode fra",
                f"{prefix}_from",
                period[0] if period else None,
                optional=True,
                help_text="Fakturaens første dag. Tom: som i fakturaen.",
            )
            if "period_from" in errors:
                st.error(errors["period_from"], icon=":material/error:")
        with right:
            date_input(
                "Periode til",
                f"{prefix}_to",
                period[1] if period else None,
                optional=True,
                help_text="Fakturaens sidste dag.",
            )
        st.checkbox("Medtag ved gem", value=fix.include, key=f"{prefix}_include")
        if st.form_submit_button("Anvend", icon=":material/done:"):
            _apply(file.number, prefix)


def _apply(number: int, prefix: str) -> None:
    start = st.session_state.get(f"{prefix}_from")
    end = st.session_state.get(f"{prefix}_to")
    if (start is None) != (end is None):
        st.session_state[f"{FIX_FORM}__errors"] = {
            "period_from": "Angiv både første og sidste dag – eller ingen af dem."
        }
        st.rerun()
    st.session_state.pop(f"{FIX_FORM}__errors", None)
    st.session_state.setdefault(FIXES, {})[number] = Fix(
        contract_id=st.session_state.get(f"{prefix}_contract"),
        period=(start, end) if start is not None and end is not None else None,
        include=bool(st.session_state.get(f"{prefix}_include", True)),
    )
    st.rerun()


def _save(batch: list[BatchFile], check: BatchCheck, names: str) -> None:
    if locked(Capability.CHECK_INVOICES):
        return
    for message in form_errors(FORM).values():
        st.error(message, icon=":material/error:")
    count = check.preview.counted
    if not check.ready:
        if check.preview.error_count:
            st.warning(
                "Nogle af de valgte filer har fejl (se Besked). Ret dem, eller fravælg dem "
                "under »Ret en fil«; intet gemmes, før alle valgte kan gemmes.",
                icon=":material/warning:",
            )
        return
    fixes = dict(st.session_state.get(FIXES, {}))
    if st.button(
        f"Gem {format_number(count)} som fakturakontroller",
        key="einvoice_save",
        type="primary",
        icon=":material/save:",
    ):
        flagged = dict(check.preview.figures).get("Afvigelser", "0")

        def write() -> Any:
            with _progress(count, "Gemmer") as progress:
                return call_service(
                    save_einvoices,
                    files=batch,
                    fixes=fixes,
                    upload_name=names,
                    progress=progress,
                )

        run_save(
            FORM,
            write,
            f"{format_number(count)} e-fakturaer er gemt som fakturakontroller; {flagged} med "
            "afvigelse over grænsen står nu i afvigelsesloggen under Fakturaafvigelser.",
            on_success=_forget_upload,
        )


def _render() -> None:
    st.title("E-fakturaer")
    show_flash()
    st.caption(
        "Indlæs leverandørernes elektroniske fakturaer (OIOUBL 2.x, OIOUBL 3 eller Peppol BIS 3) "
        "som XML-filer eller en zip-fil. Hver faktura matches med leverandør (CVR), kontrakt og "
        "periode og kontrolleres som en indtastet faktura. Intet gemmes, før du trykker Gem."
    )
    _examples()
    # The server refuses a larger upload before the reader sees it (server.maxUploadSize).
    upload_mb = min(int(st.get_option("server.maxUploadSize")), MAX_ZIP_BYTES // 2**20)
    st.file_uploader(
        f"Filer (.xml eller .zip; højst {upload_mb} MB pr. fil og "
        f"{format_number(MAX_ZIP_ENTRIES)} fakturaer pr. zip)",
        type=["xml", "zip"],
        accept_multiple_files=True,
        key=f"{UPLOAD}_{st.session_state.get(UPLOADS, 0)}",
        on_change=_keep_upload,
    )
    files: list[tuple[str, bytes]] | None = st.session_state.get(FILES)
    if not files:
        st.info("Vælg en eller flere e-fakturaer for at se, hvordan de passer med kontrakterne.")
        return
    batch = _batch(files)
    fixes = st.session_state.get(FIXES, {})
    with session() as s, _progress(len(batch), "Kontrollerer") as progress:
        check = check_batch(session=s, files=batch, fixes=fixes, progress=progress)
    _show(check)
    _fix(batch, check)
    _save(batch, check, ", ".join(name for name, _ in files))


_render()
