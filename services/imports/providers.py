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
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models import FrameworkAgreement, Provider, ProviderCreate, ProviderKind, label
from services.audit import record_change
from services.cpr import CPR_MESSAGE, contains_cpr
from services.errors import InputError, UserError
from services.formatting import format_number
from services.imports.columns import Column, ColumnMatch, match_columns
from services.imports.parsing import DEFAULT_DATE_FORMAT, header_key, parse_cell_date, parse_percent
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
ROW = "(rækken)"  # the error table's column for a problem of the whole row
YES = {"ja", "j", "x", "sand", "true", "1"}
NO = {"nej", "n", "falsk", "false", "0"}


@dataclass(frozen=True)
class RowProblem:
    row: int  # as the user sees it in Excel
    column: str  # the file's header, or ROW
    value: str
    message: str


@dataclass(frozen=True)
class PlannedRow:
    row: int
    data: dict[str, Any]  # the input for create_provider / update_provider
    provider_id: int | None = None  # an update of this provider
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (old, new)


@dataclass(frozen=True)
class ProviderPreview:
    columns: ColumnMatch
    rows: int  # data rows read
    new: list[PlannedRow]
    updates: list[PlannedRow]
    unchanged: int  # matched rows with nothing to change
    errors: list[RowProblem]
    warnings: list[RowProblem]

    @property
    def ready(self) -> bool:
        return not self.errors and not self.columns.missing and bool(self.new or self.updates)


def _codes(enum: Iterable[Any], context: str | None = None) -> dict[str, str]:
    """Every code and Danish label of an enum, as a file may write it → the code."""
    found: dict[str, str] = {}
    for member in enum:
        for name in (member.value, label(member.value), label(member.value, context)):
            found[header_key(name)] = member.value
    return found


KINDS = _codes(ProviderKind)
FRAMEWORKS = _codes(FrameworkAgreement, "framework") | {header_key("nej"): "ingen"}


def _shown(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())[:80]


def _code(raw: Any, codes: Mapping[str, str], what: str, choices: str) -> str | None:
    if raw is None:
        return None
    code = codes.get(header_key(raw))
    if code is None:
        raise ValueError(f"Ukendt {what} »{_shown(raw)}«: skriv {choices}")
    return code


def _whole_number_text(raw: Any) -> Any:
    """An Excel number typed in a text column (a CVR or postal code) as its digits."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return raw


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
        f"ikke {_shown(raw)}"
    )


def _row_input(
    values: Mapping[str, Any], date_format: str, refund_pct: Decimal
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's input from one row's cells, and the cells that could not be read."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    readers = {
        "cvr": _whole_number_text,
        "postal_code": lambda v: (
            t.zfill(4)
            if isinstance(t := _whole_number_text(v), str) and t.isdigit() and len(t) == 3
            else t
        ),
        "kind": lambda v: _code(
            v, KINDS, "type", "Privat, Selvejende, Kommunal, Regional eller Egen drift"
        ),
        "framework": lambda v: _code(
            v, FRAMEWORKS, "aftale", "Ingen aftale, Rammeaftale eller Samarbejdsaftale"
        ),
        "framework_valid_to": lambda v: parse_cell_date(v, date_format),
        "vat_factor": lambda v: _vat_refund(v, refund_pct),
        "quality_rating": _whole_number_text,
    }
    for key, raw in values.items():
        try:
            value = readers.get(key, lambda v: v)(raw)
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if value is None:
            continue
        data["vat_refund" if key == "vat_factor" else key] = value
    data.setdefault("kind", ProviderKind.PRIVATE.value)
    data.setdefault("framework", FrameworkAgreement.NONE.value)
    if "vat_refund" not in data:
        data["vat_refund"] = data["kind"] in (ProviderKind.PRIVATE, ProviderKind.SELF_GOVERNING)
    return data, errors


def _header(match: ColumnMatch, key: str, headers: Sequence[str]) -> str:
    if key == "vat_refund":
        key = "vat_factor"
    for index, column in match.by_index.items():
        if column.key == key:
            return headers[index]
    return ROW


def preview_providers(
    *,
    session: Session,
    headers: Sequence[str],
    rows: Iterable[SourceRow],
    date_format: str = DEFAULT_DATE_FORMAT,
    update_existing: bool = False,
) -> ProviderPreview:
    """Check every row and plan what confirming would write; writes nothing."""
    match = match_columns(headers, COLUMNS)
    refund_pct = get_settings(session=session).vat_refund_pct
    errors: list[RowProblem] = []
    warnings: list[RowProblem] = []
    checked: list[tuple[int, dict[str, Any]]] = []
    count = 0
    for source in rows:
        count += 1
        raw = {c.key: source.values[i] for i, c in match.by_index.items() if i < len(source.values)}
        if any(isinstance(v, str) and contains_cpr(v) for v in source.values):
            errors.append(RowProblem(source.number, ROW, "", f"{CPR_MESSAGE} Rækken er afvist."))
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
            errors.append(RowProblem(source.number, column, _shown(value), message))
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
    return ProviderPreview(
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
) -> ProviderPreview:
    """Check the file again and write every planned row in this one transaction, or nothing:
    InputError when any row has an error (the preview names them)."""
    preview = preview_providers(
        session=session,
        headers=headers,
        rows=rows,
        date_format=date_format,
        update_existing=update_existing,
    )
    if preview.columns.missing:
        raise InputError({"_form": "Filen mangler kolonnen " + ", ".join(preview.columns.missing)})
    if preview.errors:
        raise InputError(
            {
                "_form": f"{len(preview.errors)} fejl i filen: intet er gemt. Ret "
                "rækkerne i fejltabellen og prøv igen."
            }
        )
    for planned in preview.new:
        # In-file duplicates and existing CVRs were checked above: no question left to ask.
        create_provider(session=session, data={**planned.data, "confirmed": ["cvr"]}, user=user)
    for planned in preview.updates:
        try:
            update_provider(
                session=session,
                provider_id=planned.provider_id or 0,
                data={**planned.data, "confirmed": ["cvr"]},
                user=user,
            )
        except UserError as exc:
            raise InputError({"_form": f"Række {planned.row}: {exc.message}"}) from None
    record_change(
        session=session,
        action="import",
        entity="import",
        entity_id=file_name[:50],
        changes={
            "kind": (None, KIND_NAME),
            "created": (None, len(preview.new)),
            "updated": (None, len(preview.updates)),
        },
    )
    return preview
