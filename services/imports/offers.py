"""Importing offers (SPEC 9, issue 12): a file's rows checked into a preview (new offers,
updates old → new, errors row by row), then all written in one transaction, or none.

An offer belongs to a provider that exists already, found by its CVR number (an import of offers
never creates a provider). It matches an existing offer by provider and name, ignoring case and
spacing; a matched row updates it only when the user asks for it ("opdatér eksisterende"),
otherwise it is an error ("findes allerede"). The same offer twice in the file is an error on
every row involved. Target groups are picked from the maintained list by name (ignoring case and
spacing); a name not on the list is an error, never a new group. A CPR-like value in any cell
refuses its row. Each row passes the same input schema as the form (models.OfferCreate) and the
same checks as services.providers.create_offer.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from models import Offer, OfferCreate, Paragraph, Provider, TargetGroup
from services.errors import InputError
from services.imports.columns import Column, ColumnMatch, match_columns
from services.imports.parsing import DEFAULT_DATE_FORMAT, parse_amount, parse_cell_date
from services.imports.preview import (
    CPR_ROW,
    ROW,
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
    yes_no,
)
from services.imports.reading import SourceRow
from services.providers import check_offer, create_offer, update_offer
from services.target_groups import current_target_group_ids, danish_sort_key, target_group_key
from services.unit_of_work import action
from services.validation import validate

COLUMNS: tuple[Column, ...] = (
    Column(
        "cvr",
        "CVR",
        "Leverandørens CVR-nummer: 8 cifre. Leverandøren skal findes i Takstkompas i forvejen "
        "(opret den under Leverandører eller ved at importere leverandørlisten).",
        "12345674",
        required=True,
        aliases=("CVR-nummer", "CVR nr", "CVRnr", "Leverandørens CVR"),
    ),
    Column(
        "provider_name",
        "Leverandør",
        "Kun nødvendig, når flere leverandører har samme CVR-nummer: leverandørens navn, som "
        "det står i Takstkompas.",
        "Bostedet Lyngly",
        aliases=("Leverandørnavn",),
    ),
    Column(
        "name",
        "Tilbud",
        "Tilbuddets navn. Et tilbud genkendes på leverandør og navn (store og små bogstaver "
        "og mellemrum tæller ikke).",
        "Huset ved Åen",
        required=True,
        aliases=("Tilbudsnavn", "Navn"),
    ),
    Column(
        "paragraph",
        "Paragraf",
        "§107, §108 eller §105 (almen bolig + §85); koderne SEL107, SEL108 og ABL105 "
        "genkendes også.",
        "§108",
        required=True,
        aliases=("§", "Lovgrundlag"),
    ),
    Column(
        "target_groups",
        "Målgrupper",
        "En eller flere målgrupper fra listen under Indstillinger, adskilt af semikolon eller "
        "komma. En målgruppe, der ikke står på listen, er en fejl: importen opretter ingen nye "
        "målgrupper. Tom: tilbuddet får ingen (et eksisterende beholder sine).",
        "Udviklingshæmning; Autisme",
        aliases=("Målgruppe",),
    ),
    Column("places", "Pladser", "Antal pladser, et helt tal.", 12, aliases=("Antal pladser",)),
    Column(
        "list_rate",
        "Listetakst",
        "Dagstaksten fra Tilbudsportalen i kr., skrevet på dansk (1.850,00).",
        "1.850,00",
        aliases=("Dagstakst", "Takst"),
    ),
    Column(
        "list_rate_year",
        "Takstår",
        "Året, listetaksten gælder for (skal udfyldes, når der er en listetakst).",
        2026,
        aliases=("Listetakst år", "Takst år"),
    ),
    Column(
        "negotiated_rate",
        "Forhandlet takst",
        "Den forhandlede dagstakst i kr., skrevet på dansk (1.790,00).",
        "1.790,00",
        aliases=("Forhandlet dagstakst",),
    ),
    Column(
        "negotiated_from",
        "Forhandlet fra",
        "Datoen, den forhandlede takst gælder fra (skal udfyldes, når der er en forhandlet "
        "takst), i det datoformat, du vælger ved importen.",
        "01-01-2026",
        aliases=("Forhandlet takst gælder fra", "Gælder fra"),
    ),
    Column(
        "portal_url",
        "Tilbudsportalen",
        "Link til tilbuddet på Tilbudsportalen (https://…).",
        "https://tilbudsportalen.dk/",
        aliases=("Link", "URL"),
    ),
    Column(
        "active",
        "Aktiv",
        "Ja eller nej. Tom: ja for et nyt tilbud; et eksisterende beholder sin.",
        "ja",
        aliases=("I brug",),
    ),
)
KIND_NAME = "Tilbud"
PARAGRAPHS = codes(Paragraph, "short")
PARAGRAPH_CHOICES = "§107, §108 eller §105"
NO_PROVIDER = (
    "Ingen leverandør har CVR-nummeret {cvr}. Opret leverandøren først (under Leverandører "
    "eller ved at importere leverandørlisten)."
)
CVR_FORMAT = "CVR-nummer skal være 8 cifre og må ikke starte med 0"
NOT_WHOLE = "»{text}« er ikke et helt tal"
# The form's fields an import may set, and the order the preview shows them in.
OFFER_FIELDS = (
    "provider_id",
    "name",
    "paragraph",
    "places",
    "list_rate",
    "list_rate_year",
    "negotiated_rate",
    "negotiated_from",
    "portal_url",
    "active",
)


def name_key(name: Any) -> str:
    """A name as an import matches it (an offer's, a contract's case reference, a provider's
    without a CVR number): case and spacing ignored."""
    return target_group_key(str(name))


def whole_number(raw: Any) -> int | None:
    """A whole number from a cell (places, a year, days): ValueError (Danish) otherwise."""
    number = parse_amount(raw)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(NOT_WHOLE.format(text=shown(raw)))
    return int(number)


def cvr_digits(raw: Any) -> str | None:
    """A CVR number as the provider form stores it (8 digits, "DK" and spaces dropped)."""
    text = whole_number_text(raw)
    if text is None:
        return None
    digits = str(text).replace(" ", "").replace("-", "")
    if digits.upper().startswith("DK"):
        digits = digits[2:]
    if len(digits) != 8 or not digits.isdigit() or digits[0] == "0":
        raise ValueError(CVR_FORMAT)
    return digits


@dataclass
class ProviderIndex:
    """The providers by CVR number (read once per file: a few hundred small rows)."""

    by_cvr: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> "ProviderIndex":
        found: dict[str, list[tuple[int, str]]] = defaultdict(list)
        query = select(Provider.id, Provider.cvr, Provider.name).where(col(Provider.cvr) != None)  # noqa: E711
        for provider_id, cvr, name in session.exec(query.order_by(col(Provider.id))):
            found[cvr or ""].append((provider_id or 0, name))
        return cls(dict(found))

    def find(self, cvr: str, provider_name: Any) -> tuple[int, str]:
        """The provider's id and name; ValueError (Danish) naming why there is none."""
        found = self.by_cvr.get(cvr, [])
        if not found:
            raise ValueError(NO_PROVIDER.format(cvr=cvr))
        if len(found) == 1:
            return found[0]
        if provider_name is not None:
            named = [p for p in found if name_key(p[1]) == name_key(provider_name)]
            if len(named) == 1:
                return named[0]
        names = ", ".join(f"»{n}«" for _, n in found[:3])
        raise ValueError(
            f"{len(found)} leverandører har CVR-nummeret {cvr} ({names}). Skriv leverandørens "
            "navn i kolonnen »Leverandør«, som det står i Takstkompas, så det er klart, "
            "hvilken der menes."
        )


def resolve_provider(
    index: ProviderIndex, data: dict[str, Any], errors: dict[str, str]
) -> int | None:
    """The row's provider from its CVR (and name) cells, which leave `data`; a cell that does
    not name one gets its Danish error."""
    raw_name = data.pop("provider_name", None)
    if "cvr" in errors:
        return None
    try:
        cvr = cvr_digits(data.pop("cvr", None))
    except ValueError as exc:
        errors["cvr"] = str(exc)
        return None
    if cvr is None:
        errors["cvr"] = "Skal udfyldes: leverandørens CVR-nummer"
        return None
    try:
        return index.find(cvr, raw_name)[0]
    except ValueError as exc:
        errors["cvr"] = str(exc)
        return None


def _names(raw: Any) -> list[str] | None:
    """The target group names of one cell, separated by semicolons or commas."""
    if raw is None:
        return None
    names = [" ".join(n.split()) for n in str(raw).replace(";", ",").split(",")]
    return [n for n in names if n] or None


@dataclass
class _Groups:
    """The maintained target group list, by name as matched."""

    by_key: dict[str, TargetGroup]

    @classmethod
    def load(cls, session: Session) -> "_Groups":
        return cls({g.name_key: g for g in session.exec(select(TargetGroup))})

    def ids(self, names: Sequence[str]) -> list[int]:
        """The groups' ids; ValueError (Danish) naming every name not on the list."""
        unknown = [n for n in names if target_group_key(n) not in self.by_key]
        if unknown:
            quoted = ", ".join(f"»{shown(n)}«" for n in unknown)
            what = "Ukendt målgruppe" if len(unknown) == 1 else "Ukendte målgrupper"
            raise ValueError(
                f"{what} {quoted}. Målgrupperne vælges fra listen under Indstillinger, og "
                "importen opretter ingen nye: ret navnet, eller bed en administrator tilføje "
                "målgruppen."
            )
        ids: list[int] = []
        for name in names:
            group_id = self.by_key[target_group_key(name)].id or 0
            if group_id not in ids:
                ids.append(group_id)
        return ids

    def inactive(self, ids: Iterable[int], current: Iterable[int]) -> str | None:
        """The message for an inactive group the offer did not already have."""
        kept = set(current)
        names = sorted(
            (g.name for g in self.by_key.values() if g.id in set(ids) - kept and not g.active),
            key=danish_sort_key,
        )
        if not names:
            return None
        return f"Målgruppen »{names[0]}« er ikke længere i brug og kan ikke vælges. Vælg en anden."

    def text(self, ids: Iterable[int]) -> str:
        names = {g.id: g.name for g in self.by_key.values()}
        return ", ".join(sorted((names.get(i, str(i)) for i in ids), key=danish_sort_key))


def _row_input(
    values: Mapping[str, Any], date_format: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's input from one row's cells, and the cells that could not be read."""
    readers = {
        "cvr": whole_number_text,
        "paragraph": lambda v: code(v, PARAGRAPHS, "paragraf", PARAGRAPH_CHOICES),
        "target_groups": _names,
        "places": whole_number,
        "list_rate": parse_amount,
        "list_rate_year": whole_number,
        "negotiated_rate": parse_amount,
        "negotiated_from": lambda v: parse_cell_date(v, date_format),
        "active": yes_no,
    }
    return read_cells(values, readers)


@dataclass(frozen=True)
class _Row:
    number: int
    key: tuple[int, str]  # provider id, offer name as matched
    data: dict[str, Any]  # the row's input for create_offer
    names: list[str] | None  # target group names given (None: the cell is empty)
    raw: dict[str, Any]  # the cells as read, for the error table


def preview_offers(
    *,
    session: Session,
    headers: Sequence[str],
    rows: Iterable[SourceRow],
    date_format: str = DEFAULT_DATE_FORMAT,
    update_existing: bool = False,
) -> ImportPreview:
    """Check every row and plan what confirming would write; writes nothing."""
    match = match_columns(headers, COLUMNS)
    providers = ProviderIndex.load(session)
    groups = _Groups.load(session)
    errors: list[RowProblem] = []
    checked: list[_Row] = []
    count = 0
    for source in rows:
        count += 1
        if has_cpr(source):
            errors.append(RowProblem(source.number, ROW, "", CPR_ROW))
            continue
        raw = cells(source, match)
        data, cell_errors = _row_input(raw, date_format)
        provider_id = resolve_provider(providers, data, cell_errors)
        names = data.pop("target_groups", None)
        group_ids: list[int] = []
        if names is not None and "target_groups" not in cell_errors:
            try:
                group_ids = groups.ids(names)
            except ValueError as exc:
                cell_errors["target_groups"] = str(exc)
        if provider_id is not None:
            data["provider_id"] = provider_id
        if names is not None:
            data["target_group_ids"] = group_ids
        try:
            valid = validate(OfferCreate, data)
        except InputError as exc:
            cell_errors = {**exc.fields, **cell_errors}
        else:
            data = {**data, **valid.model_dump(include=set(data))}
        for key, column in _COLUMN_OF.items():
            if column in cell_errors:
                cell_errors.pop(key, None)  # the cell's own error says it better
        for key, message in cell_errors.items():
            errors.append(_problem(source.number, key, message, raw, match, headers))
        if provider_id is not None and data.get("name"):
            checked.append(
                _Row(source.number, (provider_id, name_key(data["name"])), data, names, raw)
            )
    errors += _duplicates(checked, match, headers)
    bad = {e.row for e in errors}
    new, updates, unchanged = _match_existing(
        session,
        [r for r in checked if r.number not in bad],
        groups,
        update_existing,
        match,
        headers,
        errors,
    )
    return ImportPreview(
        match, count, new, updates, unchanged, sorted(errors, key=lambda e: e.row), []
    )


# The form's field → the column that holds it.
_COLUMN_OF = {"provider_id": "cvr", "target_group_ids": "target_groups"}


def _problem(
    number: int,
    key: str,
    message: str,
    raw: Mapping[str, Any],
    match: ColumnMatch,
    headers: Sequence[str],
) -> RowProblem:
    column = _COLUMN_OF.get(key, key)
    return RowProblem(number, header_of(match, column, headers), shown(raw.get(column)), message)


def _duplicates(
    checked: Sequence[_Row], match: ColumnMatch, headers: Sequence[str]
) -> list[RowProblem]:
    """The same offer (provider and name) on more than one row."""
    by_key: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row in checked:
        by_key[row.key].append(row.number)
    column = header_of(match, "name", headers)
    problems = []
    for row in checked:
        numbers = by_key[row.key]
        if len(numbers) < 2:
            continue
        others = ", ".join(str(n) for n in numbers if n != row.number)
        problems.append(
            RowProblem(
                row.number,
                column,
                shown(row.data.get("name")),
                f"Tilbuddet står også i række {others} (samme leverandør og navn). Slet den "
                "ene række, eller ret navnet.",
            )
        )
    return problems


def _offer_errors(data: Mapping[str, Any]) -> dict[str, str]:
    """What services.providers.create_offer and update_offer refuse beyond a cell's own value
    (a list rate without its year), checked on the whole input the write will get."""
    try:
        valid = validate(OfferCreate, data)
    except InputError as exc:
        return exc.fields
    return check_offer(valid)


def _existing(session: Session, provider_ids: Iterable[int]) -> dict[tuple[int, str], list[Offer]]:
    """The offers of these providers by provider and name as matched."""
    ids = sorted(set(provider_ids))
    found: dict[tuple[int, str], list[Offer]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        query = select(Offer).where(col(Offer.provider_id).in_(ids[start : start + 500]))
        for offer in session.exec(query.order_by(col(Offer.id))):
            found[(offer.provider_id, name_key(offer.name))].append(offer)
    return found


def _match_existing(
    session: Session,
    plan: Sequence[_Row],
    groups: _Groups,
    update_existing: bool,
    match: ColumnMatch,
    headers: Sequence[str],
    errors: list[RowProblem],
) -> tuple[list[PlannedRow], list[PlannedRow], int]:
    existing = _existing(session, (r.key[0] for r in plan))
    headers_of = {c.key: c.header for c in COLUMNS}
    name_column = header_of(match, "name", headers)
    new: list[PlannedRow] = []
    updates: list[PlannedRow] = []
    unchanged = 0
    for row in plan:
        found = existing.get(row.key, [])
        shown_name = shown(row.data.get("name"))
        if not found:
            if message := groups.inactive(row.data.get("target_group_ids", []), ()):
                errors.append(
                    _problem(row.number, "target_groups", message, row.raw, match, headers)
                )
            elif found_errors := _offer_errors(row.data):
                errors += [
                    _problem(row.number, k, m, row.raw, match, headers)
                    for k, m in found_errors.items()
                ]
            else:
                new.append(PlannedRow(row.number, row.data))
            continue
        if len(found) > 1:
            errors.append(
                RowProblem(
                    row.number,
                    name_column,
                    shown_name,
                    f"Leverandøren har allerede {len(found)} tilbud med dette navn. Ret dem "
                    "under Leverandører først.",
                )
            )
            continue
        offer = found[0]
        if not update_existing:
            errors.append(
                RowProblem(
                    row.number,
                    name_column,
                    shown_name,
                    f"Findes allerede (»{offer.name}«). Sæt flueben i »Opdatér eksisterende« "
                    "for at opdatere det.",
                )
            )
            continue
        current_groups = current_target_group_ids(session=session, offer_id=offer.id or 0)
        wanted = row.data.get("target_group_ids", current_groups)
        if message := groups.inactive(wanted, current_groups):
            errors.append(_problem(row.number, "target_groups", message, row.raw, match, headers))
            continue
        current = offer.model_dump()
        # The name is what matched: written as it differs only in case and spacing, it stays.
        row_data = {**row.data, "name": offer.name}
        changes: dict[str, tuple[Any, Any]] = {}
        for key in OFFER_FIELDS:
            if key in row_data and key != "provider_id" and current.get(key) != row_data[key]:
                changes[headers_of[key]] = (
                    shown_value(current.get(key)),
                    shown_value(row_data[key]),
                )
        if set(wanted) != set(current_groups):
            changes[headers_of["target_groups"]] = (
                groups.text(current_groups) or "–",
                groups.text(wanted) or "–",
            )
        if not changes:
            unchanged += 1
            continue
        full = {k: current[k] for k in OFFER_FIELDS}
        data = {**full, **row_data, "target_group_ids": list(wanted), "version": offer.version}
        if found_errors := _offer_errors(data):
            errors += [
                _problem(row.number, k, m, row.raw, match, headers) for k, m in found_errors.items()
            ]
            continue
        updates.append(PlannedRow(row.number, data, offer.id, changes))
    return new, updates, unchanged


@action
def import_offers(
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
    preview = preview_offers(
        session=session,
        headers=headers,
        rows=rows,
        date_format=date_format,
        update_existing=update_existing,
    )
    return write_planned(
        session,
        preview,
        kind_name=KIND_NAME,
        file_name=file_name,
        create=lambda planned: create_offer(session=session, data=planned.data, user=user),
        update=lambda planned: update_offer(
            session=session, offer_id=planned.record_id or 0, data=planned.data, user=user
        ),
    )
