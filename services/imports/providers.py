"""Importing the provider list (SPEC 9, issue 12): a file's rows checked into a preview (new
providers, updates old → new, errors and warnings row by row), then all written in one
transaction, or none.

A provider matches an existing one by CVR number. A matched row updates it only when the user
asks for it ("opdatér eksisterende"); otherwise it is an error ("findes allerede"). Duplicates
inside the file (the same CVR twice, more than one row without a CVR) are errors on every row
involved, never merged. A CVR failing modulus 11 is a warning. A CPR-like value in any cell
refuses its row. Each row passes the same input schema as the form (models.ProviderCreate).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models import FrameworkAgreement, Provider, ProviderCreate, ProviderKind
from services.errors import InputError, UserError
from services.formatting import format_number
from services.imports.columns import Column, ColumnMatch, match_columns
from services.imports.parsing import DEFAULT_DATE_FORMAT, header_key, parse_cell_date, parse_percent
from services.imports.preview import (
    CPR_ROW,
    NO,
    ROW,
    YES,
    ImportPreview,
    PlannedRow,
    RowProblem,
    cells,
    code,
    codes,
    has_cpr,
    header_of,
    read_cells,
    record_import,
    require_ready,
    shown,
    whole_number_text,
)
from services.imports.reading import SourceRow
from services.providers import create_provider, cvr_warning, update_provider
from services.settings import get_settings
from services.unit_of_work import action
from services.validation import validate

COLUMNS: tuple[Column, ...] = (
    Column(
        "cvr",
        "CVR",
        "CVR-nummeret: 8 cifre. Leverandøren genkendes på det.",
        "12345674",
        aliases=("CVR-nummer", "CVR nr", "CVRnr"),
    ),
    Column(
        "name",
        "Navn",
        "Leverandørens navn.",
        "Bostedet Lyngly",
        required=True,
        aliases=("Leverandør", "Leverandørnavn"),
    ),
    Column(
        "kind",
        "Type",
        "Privat, Selvejende, Kommunal, Regional eller Egen drift (tom: Privat).",
        "Privat",
        aliases=("Ejerform", "Leverandørtype"),
    ),
    Column(
        "postal_code",
        "Postnr.",
        "Postnummer, 4 cifre (0800 kan skrives 800).",
        "8000",
        aliases=("Postnummer",),
    ),
    Column("city", "By", "Bynavn.", "Aarhus C"),
    Column(
        "vat_factor",
        "Momsfaktor",
        "95,4 % betyder, at kommunen får momsrefusion; 100 % "
        "at den ikke gør. Tom: efter typen (privat og selvejende får refusion).",
        "95,4%",
        aliases=("Moms-faktor", "Momsrefusion"),
    ),
    Column(
        "framework",
        "Samarbejdsaftale",
        "Ingen aftale, Rammeaftale eller Samarbejdsaftale (tom: Ingen aftale).",
        "Rammeaftale",
        aliases=("Rammeaftale", "Aftale"),
    ),
    Column(
        "framework_valid_to",
        "Aftalen gælder til",
        "Datoen i det datoformat, du vælger ved importen.",
        "31-12-2027",
        aliases=("Gælder til", "Rammeaftale gælder til"),
    ),
    Column(
        "portal_url",
        "Tilbudsportalen",
        "Link til leverandøren på Tilbudsportalen (https://…).",
        "https://tilbudsportalen.dk/",
        aliases=("Link", "URL"),
    ),
    Column(
        "contact",
        "Kontakt",
        "Telefon eller e-mail hos leverandøren (ingen borgere).",
        "kontakt@lyngly.dk",
    ),
    Column(
        "quality_rating", "Kvalitet", "Kommunens vurdering 1–5.", 4, aliases=("Kvalitetsvurdering",)
    ),
)
KIND_NAME = "Leverandører"
KINDS = codes(ProviderKind)
FRAMEWORKS = codes(FrameworkAgreement, "framework") | {header_key("nej"): "ingen"}


def _vat_refund(raw: Any, refund_pct: Decimal) -> bool | None:
    if raw is None:
        return None
    if isinstance(raw, str) and raw.strip().casefold() in YES | NO:
        return raw.strip().casefold() in YES
    factor = parse_percent(raw)
    if factor is None:
        return None
    if factor == 100:
        return False
    if factor == 100 - refund_pct:
        return True
    with_refund = format_number(100 - refund_pct, 1)
    raise ValueError(
        f"Momsfaktoren skal være {with_refund} % (med momsrefusion) eller 100 % (uden), "
        f"ikke {shown(raw)}"
    )


def _row_input(
    values: Mapping[str, Any], date_format: str, refund_pct: Decimal
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's input from one row's cells, and the cells that could not be read."""
    readers = {
        "cvr": whole_number_text,
        "postal_code": lambda v: (
            t.zfill(4)
            if isinstance(t := whole_number_text(v), str) and t.isdigit() and len(t) == 3
            else t
        ),
        "kind": lambda v: code(
            v, KINDS, "type", "Privat, Selvejende, Kommunal, Regional eller Egen drift"
        ),
        "framework": lambda v: code(
            v, FRAMEWORKS, "aftale", "Ingen aftale, Rammeaftale eller Samarbejdsaftale"
        ),
        "framework_valid_to": lambda v: parse_cell_date(v, date_format),
        "vat_factor": lambda v: _vat_refund(v, refund_pct),
        "quality_rating": whole_number_text,
    }
    data, errors = read_cells(values, readers)
    if "vat_factor" in data:
        data["vat_refund"] = data.pop("vat_factor")
    if "vat_factor" in errors:
        errors["vat_refund"] = errors.pop("vat_factor")
    data.setdefault("kind", ProviderKind.PRIVATE.value)
    data.setdefault("framework", FrameworkAgreement.NONE.value)
    if "vat_refund" not in data:
        data["vat_refund"] = data["kind"] in (ProviderKind.PRIVATE, ProviderKind.SELF_GOVERNING)
    return data, errors


def _header(match: ColumnMatch, key: str, headers: Sequence[str]) -> str:
    return header_of(match, "vat_factor" if key == "vat_refund" else key, headers)


def preview_providers(
    *,
    session: Session,
    headers: Sequence[str],
    rows: Iterable[SourceRow],
    date_format: str = DEFAULT_DATE_FORMAT,
    update_existing: bool = False,
) -> ImportPreview:
    """Check every row and plan what confirming would write; writes nothing."""
    match = match_columns(headers, COLUMNS)
    refund_pct = get_settings(session=session).vat_refund_pct
    errors: list[RowProblem] = []
    warnings: list[RowProblem] = []
    checked: list[tuple[int, dict[str, Any]]] = []
    count = 0
    for source in rows:
        count += 1
        raw = cells(source, match)
        if has_cpr(source):
            errors.append(RowProblem(source.number, ROW, "", CPR_ROW))
            continue
        data, cell_errors = _row_input(raw, date_format, refund_pct)
        try:
            valid = validate(ProviderCreate, data)
        except InputError as exc:
            cell_errors = {**exc.fields, **cell_errors}
            valid = None
        for key, message in cell_errors.items():
            column = _header(match, key, headers)
            value = raw.get("vat_factor" if key == "vat_refund" else key)
            errors.append(RowProblem(source.number, column, shown(value), message))
        if valid is None or cell_errors:
            continue
        if warning := cvr_warning(valid.cvr):
            warnings.append(
                RowProblem(source.number, _header(match, "cvr", headers), valid.cvr or "", warning)
            )
        checked.append((source.number, {**data, **valid.model_dump(include=set(data))}))
    errors += _duplicates(checked, match, headers)
    bad = {e.row for e in errors}
    plan = [(n, d) for n, d in checked if n not in bad]
    new, updates, unchanged = _match_existing(
        session, plan, update_existing, match, headers, errors
    )
    return ImportPreview(
        match, count, new, updates, unchanged, sorted(errors, key=lambda e: e.row), warnings
    )


def _duplicates(
    checked: Sequence[tuple[int, dict[str, Any]]], match: ColumnMatch, headers: Sequence[str]
) -> list[RowProblem]:
    """The same CVR on more than one row, and more than one row without a CVR."""
    by_cvr: dict[str | None, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    for number, data in checked:
        by_cvr[data.get("cvr")].append(number)
        names[number] = data.get("name", "")
    column = _header(match, "cvr", headers)
    problems = []
    for cvr, numbers in by_cvr.items():
        if len(numbers) < 2:
            continue
        for number in numbers:
            others = ", ".join(str(n) for n in numbers if n != number)
            if cvr is None:
                message = (
                    f"Flere rækker er uden CVR-nummer (også række {others}), så de kan "
                    "ikke skelnes fra hinanden. Udfyld CVR-nummeret."
                )
            elif len({names[n] for n in numbers}) > 1:
                message = (
                    f"CVR-nummeret står også i række {others} med et andet navn. Ret "
                    "filen, så hver leverandør står én gang."
                )
            else:
                message = f"Leverandøren står også i række {others}. Slet den ene række."
            problems.append(RowProblem(number, column, cvr or "", message))
    return problems


def _match_existing(
    session: Session,
    plan: Sequence[tuple[int, dict[str, Any]]],
    update_existing: bool,
    match: ColumnMatch,
    headers: Sequence[str],
    errors: list[RowProblem],
) -> tuple[list[PlannedRow], list[PlannedRow], int]:
    cvrs = sorted({d["cvr"] for _, d in plan if d.get("cvr")})
    existing: dict[str, list[Provider]] = defaultdict(list)
    for start in range(0, len(cvrs), 500):
        for provider in session.exec(
            select(Provider).where(col(Provider.cvr).in_(cvrs[start : start + 500]))
        ):
            existing[provider.cvr or ""].append(provider)
    column = _header(match, "cvr", headers)
    new: list[PlannedRow] = []
    updates: list[PlannedRow] = []
    unchanged = 0
    for number, data in plan:
        found = existing.get(data.get("cvr") or "", [])
        if not found:
            new.append(PlannedRow(number, data))
            continue
        if len(found) > 1:
            errors.append(
                RowProblem(
                    number,
                    column,
                    data["cvr"],
                    f"{len(found)} leverandører har allerede dette CVR-nummer. "
                    "Ret dem under Leverandører først.",
                )
            )
            continue
        provider = found[0]
        if not update_existing:
            errors.append(
                RowProblem(
                    number,
                    column,
                    data["cvr"],
                    f"Findes allerede (»{provider.name}«). Sæt flueben i "
                    "»Opdatér eksisterende« for at opdatere den.",
                )
            )
            continue
        current = provider.model_dump()
        changes = {k: (current.get(k), v) for k, v in data.items() if current.get(k) != v}
        if not changes:
            unchanged += 1
            continue
        full = {k: current[k] for k in ProviderCreate.model_fields if k in current}
        updates.append(
            PlannedRow(number, {**full, **data, "version": provider.version}, provider.id, changes)
        )
    return new, updates, unchanged


@action
def import_providers(
    *,
    session: Session,
    headers: Sequence[str],
    rows: Iterable[SourceRow],
    file_name: str,
    user: str,
    date_format: str = DEFAULT_DATE_FORMAT,
    update_existing: bool = False,
) -> ImportPreview:
    """Check the file again and write every planned row in this one transaction, or nothing:
    InputError when any row has an error (the preview names them)."""
    preview = preview_providers(
        session=session,
        headers=headers,
        rows=rows,
        date_format=date_format,
        update_existing=update_existing,
    )
    require_ready(preview)
    for planned in preview.new:
        # In-file duplicates and existing CVRs were checked above: no question left to ask.
        create_provider(session=session, data={**planned.data, "confirmed": ["cvr"]}, user=user)
    for planned in preview.updates:
        try:
            update_provider(
                session=session,
                provider_id=planned.record_id or 0,
                data={**planned.data, "confirmed": ["cvr"]},
                user=user,
            )
        except UserError as exc:
            raise InputError({"_form": f"Række {planned.row}: {exc.message}"}) from None
    record_import(
        session,
        kind_name=KIND_NAME,
        file_name=file_name,
        created=len(preview.new),
        updated=len(preview.updates),
    )
    return preview
