"""Importing contracts with an add-on (SPEC 9, issue 12): a file's rows checked into a preview
(new contracts, updates old → new, errors row by row), then all written in one transaction, or
none.

A contract belongs to a provider that exists already, found by its CVR number, and optionally to
one of its offers, found by name. It matches an existing contract by case reference (ignoring
case and spacing); a matched row updates it only when the user asks for it ("opdatér
eksisterende"), otherwise it is an error ("findes allerede"). The same case reference twice in
the file is an error on every row involved.

A row may carry one add-on (tillægsydelse) in its add-on columns. It is added to the contract
after the contract is written; on an existing contract an add-on in force with the same name is
updated instead of added twice. A contract with more add-ons gets the others on its page (or by
importing the file again with the next add-on and "opdatér eksisterende").

Each row passes the same checks as the form: the input schemas (ContractCreate,
ContractAddonCreate) and what services.contracts.create_contract and add_addon refuse. A price
the form would ask the user to confirm (unusually high) is an error here, with the form's
message: an import cannot ask, and such a price is saved through the form. A CPR-like value in
any cell refuses its row.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from models import (
    Contract,
    ContractAddon,
    ContractAddonCreate,
    ContractCreate,
    ContractStatus,
    Offer,
    PriceCategory,
    PriceUnit,
    Provider,
    RegulationKind,
)
from services.contracts import (
    add_addon,
    ask_if_implausible,
    check_contract,
    contract_input,
    create_contract,
    raw_date_errors,
    update_addon,
    update_contract,
)
from services.errors import ConfirmationNeeded, InputError
from services.imports.columns import Column, ColumnMatch, match_columns
from services.imports.offers import (
    PARAGRAPH_CHOICES,
    PARAGRAPHS,
    ProviderIndex,
    name_key,
    resolve_provider,
    whole_number,
)
from services.imports.parsing import (
    DEFAULT_DATE_FORMAT,
    header_key,
    parse_amount,
    parse_cell_date,
    parse_percent,
)
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
)
from services.imports.reading import SourceRow
from services.rules.voiding import not_voided_sql
from services.settings import get_settings
from services.unit_of_work import action
from services.validation import validate

DATE_NOTE = "i det datoformat, du vælger ved importen"
COLUMNS: tuple[Column, ...] = (
    Column(
        "case_ref",
        "Sagsnummer",
        "Kommunens sagsnummer for anbringelsen (aldrig et CPR-nummer eller et navn). "
        "Kontrakten genkendes på det.",
        "SAG-2026-0001",
        required=True,
        aliases=("Sagsnr.", "Sagsnr", "Sagsreference", "Sag"),
    ),
    Column(
        "cvr",
        "CVR",
        "Leverandørens CVR-nummer: 8 cifre. Leverandøren skal findes i Takstkompas i forvejen.",
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
        "offer",
        "Tilbud",
        "Tilbuddets navn hos leverandøren, som det står i Takstkompas (kan være tom).",
        "Huset ved Åen",
        aliases=("Tilbudsnavn",),
    ),
    Column(
        "paragraph",
        "Paragraf",
        "§107, §108 eller §105 (almen bolig + §85). Tom: tilbuddets paragraf.",
        "§108",
        aliases=("§", "Lovgrundlag"),
    ),
    Column(
        "start_date",
        "Startdato",
        f"Kontraktens første dag, {DATE_NOTE}.",
        "01-03-2026",
        required=True,
        aliases=("Start", "Kontraktstart"),
    ),
    Column(
        "end_date",
        "Slutdato",
        f"Kontraktens sidste dag, {DATE_NOTE} (tom: løbende).",
        None,
        aliases=("Slut", "Kontraktslut"),
    ),
    Column(
        "price",
        "Pris",
        "Prisen i kr., skrevet på dansk (2.080,80), pr. prisenheden.",
        "2.080,80",
        required=True,
        aliases=("Takst", "Kontraktpris"),
    ),
    Column(
        "price_unit",
        "Prisenhed",
        "Dag, Måned eller År (tom: dag).",
        "dag",
        aliases=("Enhed", "Pris pr."),
    ),
    Column(
        "price_base_date",
        "Prisdato",
        f"Datoen, prisen er aftalt pr. – reguleringen regnes derfra – {DATE_NOTE} "
        "(tom: startdatoen).",
        "01-03-2026",
        aliases=("Pris gælder fra", "Prisens dato"),
    ),
    Column(
        "regulation_kind",
        "Regulering",
        "Fast procent, Indeks eller Ingen (tom: fast procent).",
        "Fast procent",
        aliases=("Reguleringsform",),
    ),
    Column(
        "regulation_pct",
        "Reguleringsprocent",
        "Den faste regulering om året, fx 2,00 % (tom: standardreguleringen fra Indstillinger).",
        "2,00%",
        aliases=("Reguleringssats", "Regulering i procent"),
    ),
    Column(
        "notice_days",
        "Opsigelsesvarsel (dage)",
        "Opsigelsesvarslet i dage, et helt tal (tom: 90).",
        90,
        aliases=("Opsigelsesvarsel", "Varsel"),
    ),
    Column(
        "status",
        "Status",
        "Kladde, Aktiv, Opsagt eller Afsluttet (tom: aktiv).",
        "Aktiv",
    ),
    Column(
        "visitation_category",
        "Priskategori ved visitation",
        "Lav, Middel, Høj eller Ekstraordinær: kategorien, da sagen blev bevilget (kan være tom).",
        "Middel",
        aliases=("Visitationskategori", "Priskategori"),
    ),
    Column(
        "addon_name",
        "Tillæg",
        "Én tillægsydelse pr. række (kan være tom): dens navn. Har kontrakten flere, så tilføj "
        "de øvrige på kontraktens side under Kontrakter, eller importér igen med det næste "
        "tillæg og »Opdatér eksisterende«. Et tillæg med samme navn på kontrakten opdateres.",
        "Ekstra støtte",
        aliases=("Tillægsydelse",),
    ),
    Column(
        "addon_price",
        "Tillæg pris",
        "Tillæggets pris i kr., skrevet på dansk (4.500,00).",
        "4.500,00",
        aliases=("Tillægspris",),
    ),
    Column(
        "addon_unit",
        "Tillæg enhed",
        "Dag, Måned eller År (tom: måned).",
        "måned",
        aliases=("Tillægsenhed",),
    ),
    Column(
        "addon_valid_from",
        "Tillæg gælder fra",
        f"Tillæggets første dag, {DATE_NOTE} (tom: kontraktens startdato).",
        "01-03-2026",
    ),
    Column(
        "addon_valid_to",
        "Tillæg gælder til",
        f"Tillæggets sidste dag, {DATE_NOTE} (tom: løbende).",
        None,
    ),
)
KIND_NAME = "Kontrakter"
UNITS = codes(PriceUnit) | {header_key(k): v for k, v in {"døgn": "dag", "md": "maaned"}.items()}
UNIT_CHOICES = "dag, måned eller år"
REGULATIONS = codes(RegulationKind, "regulation") | {header_key("fast"): "fast_pct"}
REGULATION_CHOICES = "Fast procent, Indeks eller Ingen"
STATUSES = codes(ContractStatus)
STATUS_CHOICES = "Kladde, Aktiv, Opsagt eller Afsluttet"
CATEGORIES = codes(PriceCategory)
CATEGORY_CHOICES = "Lav, Middel, Høj eller Ekstraordinær"
CONFIRM_IN_FORM = " Er beløbet rigtigt, så gem det under Kontrakter, hvor du kan bekræfte det."
# The add-on's field → its column, and the contract's fields kept in another column.
ADDON_COLUMNS = {
    "name": "addon_name",
    "price": "addon_price",
    "unit": "addon_unit",
    "valid_from": "addon_valid_from",
    "valid_to": "addon_valid_to",
}
_COLUMN_OF = {"provider_id": "cvr", "offer_id": "offer"}
CONTRACT_FIELDS = tuple(ContractCreate.model_fields)


def _row_input(
    values: Mapping[str, Any], date_format: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The row's input from its cells, and the cells that could not be read."""

    def day(value: Any) -> Any:
        return parse_cell_date(value, date_format)

    def unit(value: Any) -> str | None:
        return code(value, UNITS, "prisenhed", UNIT_CHOICES)

    readers = {
        "case_ref": whole_number_text,
        "cvr": whole_number_text,
        "offer": whole_number_text,
        "paragraph": lambda v: code(v, PARAGRAPHS, "paragraf", PARAGRAPH_CHOICES),
        "start_date": day,
        "end_date": day,
        "price": parse_amount,
        "price_unit": unit,
        "price_base_date": day,
        "regulation_kind": lambda v: code(v, REGULATIONS, "regulering", REGULATION_CHOICES),
        "regulation_pct": parse_percent,
        "notice_days": whole_number,
        "status": lambda v: code(v, STATUSES, "status", STATUS_CHOICES),
        "visitation_category": lambda v: code(v, CATEGORIES, "priskategori", CATEGORY_CHOICES),
        "addon_name": whole_number_text,
        "addon_price": parse_amount,
        "addon_unit": unit,
        "addon_valid_from": day,
        "addon_valid_to": day,
    }
    return read_cells(values, readers)


@dataclass
class _Lookups:
    """What the rows are matched against, read once per file."""

    providers: ProviderIndex
    contracts: dict[str, list[int]]  # case reference as matched → contract ids
    offers: dict[int, dict[str, list[Offer]]]  # provider → offer name as matched → offers

    @classmethod
    def load(cls, session: Session) -> "_Lookups":
        contracts: dict[str, list[int]] = defaultdict(list)
        for contract_id, case_ref in session.exec(select(Contract.id, Contract.case_ref)):
            contracts[name_key(case_ref)].append(contract_id or 0)
        return cls(ProviderIndex.load(session), dict(contracts), {})

    def offer(self, session: Session, provider_id: int, name: Any) -> Offer:
        """The provider's offer of this name; ValueError (Danish) when there is not one."""
        if provider_id not in self.offers:
            found: dict[str, list[Offer]] = defaultdict(list)
            for offer in session.exec(select(Offer).where(Offer.provider_id == provider_id)):
                found[name_key(offer.name)].append(offer)
            self.offers[provider_id] = dict(found)
        offers = self.offers[provider_id].get(name_key(name), [])
        if not offers:
            raise ValueError(
                f"Leverandøren har intet tilbud, der hedder »{shown(name)}«. Opret tilbuddet "
                "først (under Leverandører eller ved at importere tilbud), eller lad feltet "
                "stå tomt."
            )
        if len(offers) > 1:
            raise ValueError(
                f"Leverandøren har {len(offers)} tilbud, der hedder »{shown(name)}«. Ret dem "
                "under Leverandører først, eller lad feltet stå tomt."
            )
        return offers[0]


def _confirmation_as_error(exc: ConfirmationNeeded) -> dict[str, str]:
    return {key: message + CONFIRM_IN_FORM for key, message in exc.fields.items()}


def _contract_errors(
    session: Session, values: Mapping[str, Any], row: Contract | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The input create_contract (row None) or update_contract would get, and what they would
    refuse or ask about: the same steps in the same order."""
    values = contract_input(values)
    try:
        valid = validate(ContractCreate, values, raw_date_errors(values))
    except InputError as exc:
        return values, exc.fields
    if errors := check_contract(session, valid):
        return values, errors
    if row is None or (valid.price, valid.price_unit) != (row.price, row.price_unit):
        try:
            ask_if_implausible(session, {}, "price", valid.price, valid.price_unit)
        except ConfirmationNeeded as exc:
            return values, _confirmation_as_error(exc)
    return {**values, **valid.model_dump(include=set(values))}, {}


def _addon_errors(
    session: Session, values: Mapping[str, Any], row: ContractAddon | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The input add_addon (row None) or update_addon would get, and what they would refuse
    or ask about (a new contract has no id yet: the check uses a stand-in)."""
    checked = {**values, "contract_id": values.get("contract_id") or 1}
    try:
        valid = validate(ContractAddonCreate, checked)
    except InputError as exc:
        return dict(values), exc.fields
    if valid.valid_to is not None and valid.valid_to < valid.valid_from:
        return dict(values), {"valid_to": "Slutdatoen skal ligge efter startdatoen"}
    if row is None or (valid.price, valid.unit) != (row.price, row.unit):
        try:
            ask_if_implausible(session, {}, "price", valid.price, valid.unit)
        except ConfirmationNeeded as exc:
            return dict(values), _confirmation_as_error(exc)
    return {**values, **valid.model_dump(include=set(values) - {"contract_id"})}, {}


def _addon_of(session: Session, contract_id: int, name: Any) -> ContractAddon | None:
    """The contract's add-on in force with this name (ignoring case and spacing)."""
    addons = session.exec(
        select(ContractAddon)
        .where(ContractAddon.contract_id == contract_id, not_voided_sql(ContractAddon))
        .order_by(col(ContractAddon.id))
    )
    return next((a for a in addons if name_key(a.name) == name_key(name)), None)


@dataclass(frozen=True)
class _Row:
    number: int
    case_key: str
    case_ref: str


class _Preview:
    """One file's check: the rows planned so far and the problems found."""

    def __init__(
        self,
        session: Session,
        match: ColumnMatch,
        headers: Sequence[str],
        update_existing: bool,
    ) -> None:
        self.session = session
        self.match = match
        self.headers = headers
        self.update_existing = update_existing
        self.lookups = _Lookups.load(session)
        self.default_pct = get_settings(session=session).regulation_default_pct
        self.header_by_key = {c.key: c.header for c in COLUMNS}
        self.errors: list[RowProblem] = []
        self.new: list[PlannedRow] = []
        self.updates: list[PlannedRow] = []
        self.unchanged: list[int] = []
        self.rows: list[_Row] = []

    def problem(self, number: int, key: str, message: str, raw: Mapping[str, Any]) -> None:
        column = _COLUMN_OF.get(key, key)
        header = header_of(self.match, column, self.headers)
        value = shown(raw.get(column)) if header != ROW else ""
        self.errors.append(RowProblem(number, header, value, message))

    def check(self, source: SourceRow, date_format: str) -> None:
        if has_cpr(source):
            self.errors.append(RowProblem(source.number, ROW, "", CPR_ROW))
            return
        raw = cells(source, self.match)
        data, cell_errors = _row_input(raw, date_format)
        addon = {
            field: data.pop(column) for field, column in ADDON_COLUMNS.items() if column in data
        }
        provider_id = resolve_provider(self.lookups.providers, data, cell_errors)
        offer_name = data.pop("offer", None)
        if provider_id is not None:
            data["provider_id"] = provider_id
            if offer_name is not None:
                try:
                    offer = self.lookups.offer(self.session, provider_id, offer_name)
                except ValueError as exc:
                    cell_errors["offer"] = str(exc)
                else:
                    data["offer_id"] = offer.id
                    if "paragraph" not in data and "paragraph" not in cell_errors:
                        data["paragraph"] = offer.paragraph
        case_ref = data.get("case_ref")
        found = self.lookups.contracts.get(name_key(case_ref), []) if case_ref else []
        if case_ref is not None:
            self.rows.append(_Row(source.number, name_key(case_ref), shown(case_ref)))
        if len(found) > 1:
            cell_errors.setdefault(
                "case_ref",
                f"{len(found)} kontrakter har allerede dette sagsnummer. Ret dem under "
                "Kontrakter først.",
            )
        existing = self.session.get(Contract, found[0]) if len(found) == 1 else None
        if existing is not None and not self.update_existing:
            cell_errors.setdefault(
                "case_ref",
                f"Findes allerede (kontrakten med sagsnummer »{existing.case_ref}«). Sæt "
                "flueben i »Opdatér eksisterende« for at opdatere den.",
            )
        self._plan(source.number, raw, data, addon, existing, cell_errors)

    def _plan(
        self,
        number: int,
        raw: Mapping[str, Any],
        data: dict[str, Any],
        addon: dict[str, Any],
        existing: Contract | None,
        cell_errors: Mapping[str, str],
    ) -> None:
        current = existing.model_dump() if existing is not None else {}
        if existing is None:
            values = {"regulation_pct": self.default_pct, **data}
        else:
            # The case reference is what matched: as it differs only in case and spacing, the
            # stored one stays.
            data["case_ref"] = existing.case_ref
            values = {**{k: current[k] for k in CONTRACT_FIELDS}, **data}
        contract, errors = _contract_errors(self.session, values, existing)
        # A cell's own error says it better than the schema's ("Skal udfyldes") on its field.
        errors = {
            key: message
            for key, message in errors.items()
            if _COLUMN_OF.get(key, key) not in cell_errors
        }
        if "start_date" in errors and "price_base_date" not in data:
            errors.pop("price_base_date", None)  # empty: it is the start date
        errors = {**cell_errors, **errors}
        planned_addon, addon_changes = self._plan_addon(
            number, raw, addon, contract, existing, cell_errors
        )
        for key, message in errors.items():
            self.problem(number, key, message, raw)
        if errors or planned_addon is False:
            return
        if existing is None:
            self.new.append(PlannedRow(number, {"contract": contract, "addon": planned_addon}))
            return
        changes = {
            self.header_by_key[_COLUMN_OF.get(key, key)]: self._shown_pair(
                key, current.get(key), contract[key]
            )
            for key in data
            if key in CONTRACT_FIELDS and current.get(key) != contract[key]
        }
        contract_changed = bool(changes)
        changes |= addon_changes
        if not changes:
            self.unchanged.append(number)
            return
        write = {**contract, "version": existing.version} if contract_changed else None
        self.updates.append(
            PlannedRow(number, {"contract": write, "addon": planned_addon}, existing.id, changes)
        )

    def _plan_addon(
        self,
        number: int,
        raw: Mapping[str, Any],
        addon: dict[str, Any],
        contract: Mapping[str, Any],
        existing: Contract | None,
        cell_errors: Mapping[str, str],
    ) -> tuple[dict[str, Any] | None | bool, dict[str, tuple[str, str]]]:
        """The add-on to write (None: none; False: it has errors) and its changes."""
        if any(column in cell_errors for column in ADDON_COLUMNS.values()):
            return False, {}  # reported with the row's cells
        if not addon:
            return None, {}
        if "name" not in addon:
            self.errors.append(
                RowProblem(
                    number,
                    header_of(self.match, "addon_name", self.headers),
                    "",
                    "Skriv tillæggets navn: de andre tillægskolonner er udfyldt.",
                )
            )
            return False, {}
        row = None
        if existing is not None:
            row = _addon_of(self.session, existing.id or 0, addon["name"])
        if row is None:
            if "valid_from" not in addon and not contract.get("start_date"):
                return False, {}  # from the contract's start, whose error says it
            values = {"unit": PriceUnit.MONTH.value, "valid_from": contract.get("start_date")}
            values |= addon
            if existing is not None:
                values["contract_id"] = existing.id
        else:
            kept = row.model_dump(
                include={"contract_id", "price", "unit", "valid_from", "valid_to"}
            )
            values = {**kept, **addon, "name": row.name, "version": row.version}
        checked, errors = _addon_errors(self.session, values, row)
        for key, message in errors.items():
            column = ADDON_COLUMNS.get(key, ROW)
            self.errors.append(
                RowProblem(
                    number,
                    header_of(self.match, column, self.headers),
                    shown(raw.get(column)),
                    message,
                )
            )
        if errors:
            return False, {}
        if row is None:
            return checked, {self.header_by_key["addon_name"]: ("–", checked["name"])}
        changes = {
            self.header_by_key[column]: (
                shown_value(getattr(row, key)),
                shown_value(checked[key]),
            )
            for key, column in ADDON_COLUMNS.items()
            if key in addon and getattr(row, key) != checked[key]
        }
        if not changes:
            return None, {}
        return {**checked, "id": row.id}, changes

    def _shown_pair(self, key: str, old: Any, new: Any) -> tuple[str, str]:
        if key == "provider_id":
            return self._name(Provider, old), self._name(Provider, new)
        if key == "offer_id":
            return self._name(Offer, old), self._name(Offer, new)
        return shown_value(old), shown_value(new)

    def _name(self, table: type[Provider] | type[Offer], row_id: Any) -> str:
        row = self.session.get(table, row_id) if row_id else None
        return str(getattr(row, "name", "–"))

    def duplicates(self) -> None:
        """The same case reference on more than one row: an error on every one of them."""
        by_key: dict[str, list[int]] = defaultdict(list)
        for row in self.rows:
            by_key[row.case_key].append(row.number)
        column = header_of(self.match, "case_ref", self.headers)
        for row in self.rows:
            numbers = by_key[row.case_key]
            if len(numbers) > 1:
                others = ", ".join(str(n) for n in numbers if n != row.number)
                self.errors.append(
                    RowProblem(
                        row.number,
                        column,
                        row.case_ref,
                        f"Sagsnummeret står også i række {others}. Hver kontrakt må stå én "
                        "gang i filen.",
                    )
                )

    def result(self, count: int) -> ImportPreview:
        self.duplicates()
        bad = {e.row for e in self.errors}
        return ImportPreview(
            self.match,
            count,
            [p for p in self.new if p.row not in bad],
            [p for p in self.updates if p.row not in bad],
            sum(n not in bad for n in self.unchanged),
            sorted(self.errors, key=lambda e: e.row),
            [],
        )


def preview_contracts(
    *,
    session: Session,
    headers: Sequence[str],
    rows: Iterable[SourceRow],
    date_format: str = DEFAULT_DATE_FORMAT,
    update_existing: bool = False,
) -> ImportPreview:
    """Check every row and plan what confirming would write; writes nothing."""
    preview = _Preview(session, match_columns(headers, COLUMNS), headers, update_existing)
    count = 0
    for source in rows:
        count += 1
        preview.check(source, date_format)
    return preview.result(count)


@action
def import_contracts(
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
    preview = preview_contracts(
        session=session,
        headers=headers,
        rows=rows,
        date_format=date_format,
        update_existing=update_existing,
    )

    def create(planned: PlannedRow) -> None:
        contract = create_contract(session=session, data=planned.data["contract"], user=user)
        _write_addon(session, contract.id or 0, planned.data["addon"], user)

    def update(planned: PlannedRow) -> None:
        if planned.data["contract"] is not None:
            update_contract(
                session=session,
                contract_id=planned.record_id or 0,
                data=planned.data["contract"],
                user=user,
            )
        _write_addon(session, planned.record_id or 0, planned.data["addon"], user)

    return write_planned(
        session, preview, kind_name=KIND_NAME, file_name=file_name, create=create, update=update
    )


def _write_addon(
    session: Session, contract_id: int, addon: Mapping[str, Any] | None, user: str
) -> None:
    if addon is None:
        return
    values = {k: v for k, v in addon.items() if k != "id"}
    values["contract_id"] = contract_id
    if "id" in addon:
        update_addon(session=session, addon_id=addon["id"], data=values, user=user)
    else:
        add_addon(session=session, data=values, user=user)
