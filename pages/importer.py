"""Import (SPEC 9, issue 12): bring a municipality's own registers in from Excel or CSV.

One flow: download the template → upload the file → choose the sheet, the date format and,
for CSV, the separator → see the preview (rows to create, rows that update an existing record
old → new, and a row-by-row error table with the row number Excel shows) → confirm: every row
is written in one transaction, or none. The kinds (services.imports.kinds) are those the
user's role may import."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from pages._ui import (
    allowed,
    cached_read,
    call_service,
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
from services.errors import UserError
from services.formatting import format_number
from services.imports.kinds import ImportKind, example_file, header_test, kinds_for
from services.imports.parsing import DATE_FORMATS, DEFAULT_DATE_FORMAT, SEPARATORS
from services.imports.preview import ImportPreview
from services.imports.reading import (
    MAX_FILE_MB,
    FileError,
    SourceTable,
    is_excel,
    read_csv,
    read_excel,
    sheet_names,
)
from services.imports.templates import template_workbook

FORM = "import"
KIND = "import_kind"
FILE = "import_file"  # (name, bytes) of the uploaded file, kept while the user works on it
UPLOAD = "import_upload"
SHEET, DATES, SEPARATOR, UPDATE = (
    "import_sheet",
    "import_dates",
    "import_separator",
    "import_update",
)
# The message gets the room: it says what to fix.
WIDTHS: dict[str, str | int] = {"Række": 60, "Kolonne": 130, "Værdi": 130, "Besked": "large"}
UPLOADS = "import_uploads"  # a new uploader after a confirmed import: the file is forgotten


def _keep_upload() -> None:
    uploaded = st.session_state.get(f"{UPLOAD}_{st.session_state.get(UPLOADS, 0)}")
    if uploaded is None:
        st.session_state.pop(FILE, None)
        return
    st.session_state[FILE] = (uploaded.name, uploaded.getvalue())
    for key in (SHEET, SEPARATOR):
        st.session_state.pop(key, None)
    st.session_state.pop(f"{FORM}__errors", None)


def _template(kind: ImportKind) -> None:
    left, right = st.columns([1, 2], vertical_alignment="center")
    with left:
        _template_button(kind)
    if kind.example is None or cached_read(dataset_kind) != "demo":
        return
    example = cached_read(example_file, key=kind.key, today=date.today())  # not every click
    if example is None:
        return
    name, what, data = example
    with right:
        st.download_button(
            "Hent eksempelfil",
            icon=":material/lightbulb:",
            data=data,
            file_name=name,
            key="import_example",
            on_click="ignore",
            help=f"Prøv importen med {what}. Findes kun, mens demodata er i databasen.",
        )


def _template_button(kind: ImportKind) -> None:
    st.download_button(
        "Hent skabelon (Excel)",
        icon=":material/download:",
        data=lambda: template_workbook(kind.columns, kind.name),  # built when clicked
        file_name=f"skabelon_{kind.key}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="import_template",
        on_click="ignore",
        help="Overskrifter, en eksempelrække og et ark, der forklarer hver kolonne.",
    )


def _table(kind: ImportKind, name: str, data: bytes) -> SourceTable:
    """The chosen sheet, or the CSV with its separator (sniffed, changeable)."""
    if is_excel(name):
        sheets = sheet_names(data)
        if len(sheets) > 1:
            st.selectbox("Ark", sheets, key=SHEET)
        return read_excel(data, st.session_state.get(SHEET) or sheets[0], header_test(kind))
    table, sniffed, encoding = read_csv(data, st.session_state.get(SEPARATOR), header_test(kind))
    st.session_state.setdefault(SEPARATOR, sniffed)
    st.selectbox(
        "Skilletegn",
        list(SEPARATORS),
        key=SEPARATOR,
        format_func=lambda s: SEPARATORS[s],
        help=f"Fundet ud fra filen. Tegnsæt: {encoding}.",
    )
    return table


def _problems_frame(problems: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Række": [p.row for p in problems],
            "Kolonne": [p.column for p in problems],
            "Værdi": [p.value for p in problems],
            "Besked": [p.message for p in problems],
        }
    )


def _show(preview: ImportPreview, *, updates: bool) -> None:
    columns = preview.columns
    if columns.missing:
        st.error(f"Filen mangler kolonnen {', '.join(columns.missing)}.", icon=":material/error:")
    if columns.unknown:
        st.caption("Kolonner, der ikke bruges: " + ", ".join(columns.unknown))
    if columns.repeated:
        st.caption(
            "Kolonner, der står to gange (den første bruges): " + ", ".join(columns.repeated)
        )
    counts = [
        ("Rækker i filen", preview.rows),
        ("Nye", preview.creates),
        *([("Opdateres", len(preview.updates))] if updates else []),
        ("Fejl", preview.error_count),
    ]
    for place, (name, value) in zip(st.columns(len(counts)), counts, strict=True):
        place.metric(name, format_number(value))
    if preview.figures:
        extra = st.columns(len(preview.figures))
        for place, (name, value) in zip(extra, preview.figures, strict=True):
            place.metric(name, value)
    if preview.summary:
        st.markdown(md(preview.summary))
    if preview.unchanged:
        st.caption(f"{format_number(preview.unchanged)} rækker er uændrede og springes over.")
    if preview.errors:
        st.markdown(
            "**Fejl** – ret dem i filen og indlæs den igen; intet gemmes, før alle er rettet."
        )
        show_table(
            _problems_frame(preview.errors), ints=["Række"], key="import_errors", widths=WIDTHS
        )
        if preview.more_errors:
            st.caption(
                f"Kun de første {format_number(len(preview.errors))} fejl vises; filen har "
                f"{format_number(preview.error_count)} i alt."
            )
    if preview.warnings:
        st.markdown("**Advarsler** – gemmes alligevel")
        show_table(
            _problems_frame(preview.warnings), ints=["Række"], key="import_warnings", widths=WIDTHS
        )
    if preview.updates:
        st.markdown("**Opdateringer** (gammel → ny)")
        rows = [
            {"Række": u.row, "Felt": field, "Gammel": str(old or "–"), "Ny": str(new or "–")}
            for u in preview.updates
            for field, (old, new) in u.changes.items()
        ]
        show_table(pd.DataFrame(rows), ints=["Række"], key="import_updates")


def _confirm(kind: ImportKind, name: str, data: bytes, preview: ImportPreview) -> None:
    if locked(kind.capability):
        return
    for message in form_errors(FORM).values():
        st.error(message, icon=":material/error:")
    if not preview.ready:
        return
    label = f"Importér {format_number(preview.creates)} nye"
    if kind.update_help is not None:
        label += f" og opdatér {format_number(len(preview.updates))}"
    if st.button(label, key="import_confirm", type="primary", icon=":material/upload:"):

        def done(_: Any) -> None:
            st.session_state.pop(FILE, None)
            st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1

        def write() -> Any:
            table = _read(kind, name, data)
            with _progress(kind, table, "Gemmer") as progress:
                return call_service(
                    kind.write,
                    headers=table.headers,
                    rows=table.rows,
                    **progress,
                    file_name=name,
                    date_format=st.session_state[DATES],
                    update_existing=kind.update_help is not None
                    and bool(st.session_state.get(UPDATE)),
                )

        run_save(
            FORM,
            write,
            f"Importen er gemt: {format_number(preview.creates)} nye "
            + (
                f"og {format_number(len(preview.updates))} opdaterede {kind.noun}."
                if kind.update_help is not None
                else f"{kind.noun}."
            ),
            on_success=done,
        )


@contextmanager
def _progress(kind: ImportKind, table: SourceTable, doing: str) -> Iterator[dict[str, Any]]:
    """A progress bar for a kind that streams many rows, gone when the work is done."""
    if not kind.streams:
        yield {}
        return
    total = max(table.size_hint or 0, 1)

    def text(done: int) -> str:
        return f"{doing} række {format_number(done)} af ca. {format_number(total)} …"

    with progress_bar(text, total) as show:
        yield {"progress": show}


def _read(kind: ImportKind, name: str, data: bytes) -> SourceTable:
    """The file again as the options say (reading does not draw anything)."""
    if is_excel(name):
        sheet = st.session_state.get(SHEET) or sheet_names(data)[0]
        return read_excel(data, sheet, header_test(kind))
    return read_csv(data, st.session_state.get(SEPARATOR), header_test(kind))[0]


def _render() -> None:
    st.title("Import")
    show_flash()
    st.caption(
        "Hent jeres eget register ind fra Excel (.xlsx) eller CSV. Intet gemmes, før du har "
        "set forhåndsvisningen og bekræftet; så gemmes alle rækker samlet – eller ingen."
    )
    kinds = {k.key: k for k in kinds_for(allowed)}
    if not kinds:
        st.info("Din rolle må ikke importere noget.")
        return
    st.selectbox(
        "Hvad importeres",
        list(kinds),
        key=KIND,
        format_func=lambda key: kinds[key].name,
        on_change=lambda: st.session_state.pop(f"{FORM}__errors", None),
    )
    kind = kinds[st.session_state.get(KIND) or next(iter(kinds))]
    _template(kind)
    st.file_uploader(
        f"Fil (.xlsx eller .csv, højst {MAX_FILE_MB} MB)",
        type=["xlsx", "csv"],
        key=f"{UPLOAD}_{st.session_state.get(UPLOADS, 0)}",
        on_change=_keep_upload,
    )
    if FILE not in st.session_state:
        st.info("Vælg en fil for at se, hvad den indeholder, før noget gemmes.")
        return
    name, data = st.session_state[FILE]
    left, right = st.columns(2)
    with left:
        st.session_state.setdefault(DATES, DEFAULT_DATE_FORMAT)
        st.selectbox(
            "Datoformat i filen",
            list(DATE_FORMATS),
            key=DATES,
            help="Datoer skrevet som tekst læses i dette format; Excels egne datoer læses, "
            "som de er.",
        )
    with right:
        try:
            table = _table(kind, name, data)
        except FileError as exc:
            st.error(str(exc), icon=":material/error:")
            return
    if kind.update_help is not None:
        st.checkbox("Opdatér eksisterende", key=UPDATE, help=kind.update_help)
    try:
        with session() as s, _progress(kind, table, "Kontrollerer") as progress:
            preview = kind.preview(
                session=s,
                headers=table.headers,
                rows=table.rows,
                **progress,
                date_format=st.session_state[DATES],
                update_existing=kind.update_help is not None and bool(st.session_state.get(UPDATE)),
            )
    except FileError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    except UserError as exc:
        st.error(exc.message, icon=":material/error:")
        return
    st.subheader(f"Forhåndsvisning af {name}")
    _show(preview, updates=kind.update_help is not None)
    _confirm(kind, name, data, preview)


_render()
