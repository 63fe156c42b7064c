"""Importing the provider list (SPEC 9, issue 12): a file's rows checked into a preview (new
providers, updates old → new, errors and warnings row by row), then all written in one
transaction, or none.

A provider matches an existing one by CVR number; a row without a CVR matches an existing
provider without a CVR by name (ignoring case and spacing), and when more than one has that name
the row must give the CVR. A matched row updates it only when the user asks for it ("opdatér
eksisterende"); otherwise it is an error ("findes allerede"). On an update an empty cell keeps
the stored value; the defaults (Privat, no agreement, VAT refund by type) are for new providers.
Duplicates inside the file (the same CVR twice, more than one row without a CVR) are errors on
every row involved, never merged. A CVR failing modulus 11 is a warning. A CPR-like value in any
cell refuses its row. Each row passes the same input schema as the form (models.ProviderCreate).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models import FrameworkAgreement, Provider, ProviderCreate, ProviderKind
from services.errors import InputError
from services.formatting import format_number
from services.imports.columns import Column, ColumnMatch, match_columns
from services.imports.offers import name_key
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
    shown,
    shown_value,
    whole_number_text,
    write_planned,
)
from services.imports.reading import SourceRow
from services.providers import VAT_REFUND_KINDS, create_provider, cvr_warning, update_provider
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
        "Privat, Selvejende, Kommunal, Regional eller Egen drift. Tom: Privat for en ny "
        "leverandør; en eksisterende beholder sin.",
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
        "at den ikke gør. Tom: efter typen (privat og selvejende får refusion) for en ny "
        "leverandør, og når rækken ændrer typen; ellers beholder en eksisterende sin.",
        "95,4%",
        aliases=("Moms-faktor", "Momsrefusion"),
    ),
    Column(
        "framework",
        "Samarbejdsaftale",
        "Ingen aftale, Rammeaftale eller Samarbejdsaftale. Tom: Ingen aftale for en ny "
        "leverandør; en eksisterende beholder sin.",
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
    return data, errors


def _new_provider(data: Mapping[str, Any]) -> dict[str, Any]:
    """A new provider's input: an empty type, agreement or VAT factor gets its default."""
    values: dict[str, Any] = {
        "kind": ProviderKind.PRIVATE.value,
        "framework": FrameworkAgreement.NONE.value,
        **data,
    }
    values.setdefault("vat_refund", values["kind"] in VAT_REFUND_KINDS)
    return values


def _updated_provider(data: Mapping[str, Any], provider: Provider) -> dict[str, Any]:
    """An existing provider's new values from a row: an empty cell keeps the stored value,
    except that an empty VAT factor follows a type the row changes (as for a new provider)."""
    values = dict(data)
    if "vat_refund" not in values and values.get("kind", provider.kind) != provider.kind:
        values["vat_refund"] = values["kind"] in VAT_REFUND_KINDS
    return values


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
        session, plan, update_existing, match, headers, errors, refund_pct
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


def _shown_change(key: str, value: Any, refund_pct: Decimal) -> str:
    """A value as the preview's table of changes shows it (the VAT refund as its factor)."""
    if key == "vat_refund":
        return f"{format_number(100 - refund_pct, 1)} %" if value else "100 %"
    return shown_value(value, "framework" if key == "framework" else None)


class _Existing:
    """The providers the rows may match: by CVR, and those without a CVR by name as matched."""

    def __init__(self, session: Session, plan: Sequence[tuple[int, dict[str, Any]]]) -> None:
        cvrs = sorted({d["cvr"] for _, d in plan if d.get("cvr")})
        self.by_cvr: dict[str, list[Provider]] = defaultdict(list)
        for start in range(0, len(cvrs), 500):
            for provider in session.exec(
                select(Provider).where(col(Provider.cvr).in_(cvrs[start : start + 500]))
            ):
                self.by_cvr[provider.cvr or ""].append(provider)
        self.by_name: dict[str, list[Provider]] = defaultdict(list)
        if any(not d.get("cvr") for _, d in plan):
            query = select(Provider).where(col(Provider.cvr) == None)  # noqa: E711
            for provider in session.exec(query.order_by(col(Provider.id))):
                self.by_name[name_key(provider.name)].append(provider)

    def find(self, data: Mapping[str, Any]) -> list[Provider]:
        if data.get("cvr"):
            return self.by_cvr.get(data["cvr"], [])
        return self.by_name.get(name_key(data["name"]), [])


def _match_existing(
    session: Session,
    plan: Sequence[tuple[int, dict[str, Any]]],
    update_existing: bool,
    match: ColumnMatch,
    headers: Sequence[str],
    errors: list[RowProblem],
    refund_pct: Decimal,
) -> tuple[list[PlannedRow], list[PlannedRow], int]:
    existing = _Existing(session, plan)
    cvr_column = _header(match, "cvr", headers)
    name_column = _header(match, "name", headers)
    header_by_key = {c.key: c.header for c in COLUMNS} | {"vat_refund": "Momsfaktor"}
    new: list[PlannedRow] = []
    updates: list[PlannedRow] = []
    unchanged = 0
    for number, data in plan:
        found = existing.find(data)
        if not found:
            new.append(PlannedRow(number, _new_provider(data)))
            continue
        cvr = data.get("cvr")
        # A row is named by what matched it: its CVR number, or its name when it has none.
        column, value = (cvr_column, cvr) if cvr else (name_column, shown(data["name"]))
        if len(found) > 1:
            message = (
                f"{len(found)} leverandører har allerede dette CVR-nummer. Ret dem under "
                "Leverandører først."
                if cvr
                else f"{len(found)} leverandører uden CVR-nummer hedder allerede sådan. Udfyld "
                "CVR-nummeret, så det er klart, hvilken der menes."
            )
            errors.append(RowProblem(number, column, value, message))
            continue
        provider = found[0]
        if not update_existing:
            errors.append(
                RowProblem(
                    number,
                    column,
                    value,
                    f"Findes allerede (»{provider.name}«). Sæt flueben i "
                    "»Opdatér eksisterende« for at opdatere den.",
                )
            )
            continue
        row_data = _updated_provider(data, provider)
        if not cvr:
            # The name is what matched: as it differs only in case and spacing, it stays.
            row_data["name"] = provider.name
        current = provider.model_dump()
        changes = {
            header_by_key[key]: (
                _shown_change(key, current.get(key), refund_pct),
                _shown_change(key, new_value, refund_pct),
            )
            for key, new_value in row_data.items()
            if current.get(key) != new_value
        }
        if not changes:
            unchanged += 1
            continue
        full = {k: current[k] for k in ProviderCreate.model_fields if k in current}
        updates.append(
            PlannedRow(
                number, {**full, **row_data, "version": provider.version}, provider.id, changes
            )
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
    # In-file duplicates and existing CVRs were checked above: no question left to ask.
    return write_planned(
        session,
        preview,
        kind_name=KIND_NAME,
        file_name=file_name,
        create=lambda planned: create_provider(
            session=session, data={**planned.data, "confirmed": ["cvr"]}, user=user
        ),
        update=lambda planned: update_provider(
            session=session,
            provider_id=planned.record_id or 0,
            data={**planned.data, "confirmed": ["cvr"]},
            user=user,
        ),
    )
