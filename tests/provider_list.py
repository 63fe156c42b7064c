"""A provider list as a Danish municipality keeps it (issue 12): about 450 rows with the traps
real lists have, as an .xlsx and as a Windows-1252 semicolon CSV, and the exact error and
warning tables the import preview must give, row by row.

Every line is built from a Spec: the provider the row stands for, how each cell is written
(a CVR as a number, `95,4 %` as an Excel percentage, a date as an Excel date, a serial number
or US text) and, for a trap, the problems it was made to cause. The expected tables are worked
out from those specs with the messages written out here, never by asking the importer.

The workbook is the list as the municipality keeps it: dates as Excel dates, as serial numbers
and as US text (MM/DD/YYYY, pasted from an English system). The CSV is the same list exported
by that system: every date is MM/DD/YYYY text and every number its text. With the date format
MM/DD/ÅÅÅÅ both give the same tables; with the default DD-MM-ÅÅÅÅ every date written as text
is an error as well (`03/04/2027` too: it is never read as 3 April).

Deterministic: one seeded random.Random, no network, no clock.
"""

import csv
import io
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from openpyxl import Workbook
from stdnum.dk import cvr as stdnum_cvr

from seed.vocabulary import NAME_STEMS, TOWNS

XLSX = "xlsx"
CSV = "csv"
US_DATES = "MM/DD/ÅÅÅÅ"
DEFAULT_DATES = "DD-MM-ÅÅÅÅ"

# The municipality's own headers: the template's names or their aliases, and one column the
# import does not know (it is ignored, but its cells are checked for CPR numbers too).
HEADERS = (
    "CVR-nummer",
    "Leverandør",
    "Type",
    "Postnr.",
    "By",
    "Momsfaktor",
    "Samarbejdsaftale",
    "Gælder til",
    "Tilbudsportalen",
    "Kontakt",
    "Kvalitet",
    "Bemærkning",
)
(CVR, NAME, KIND, POSTAL, CITY, VAT, FRAMEWORK, VALID_TO, PORTAL, CONTACT, QUALITY, REMARK) = (
    HEADERS
)
ROW = "(rækken)"

# The Danish messages, written out (a changed wording must show up here).
CPR_ROW = (
    "Feltet ligner et CPR-nummer. Takstkompas må ikke indeholde CPR-numre – fjern det. "
    "Rækken er afvist."
)
MODULUS_WARNING = (
    "CVR-nummeret består ikke kontrolcifferet (modulus 11). Tjek det i CVR-registret – det er "
    "gemt, da nogle registrerede numre ikke består kontrollen."
)
NO_CVR = (
    "Flere rækker er uden CVR-nummer (også række {others}), så de kan ikke skelnes fra "
    "hinanden. Udfyld CVR-nummeret."
)
SAME_CVR_OTHER_NAME = (
    "CVR-nummeret står også i række {others} med et andet navn. Ret filen, så hver leverandør "
    "står én gang."
)
SAME_PROVIDER = "Leverandøren står også i række {others}. Slet den ene række."
EXISTS = "Findes allerede (»{name}«). Sæt flueben i »Opdatér eksisterende« for at opdatere den."
DATE_ERROR = "»{text}« er ikke en dato i formatet DD-MM-ÅÅÅÅ"
POINT_PERCENT = "»95.4« er ikke et tal skrevet på dansk. Mente du 95,4?"
WRONG_FACTOR = "Momsfaktoren skal være 95,4 % (med momsrefusion) eller 100 % (uden), ikke {text}"
QUALITY_TOO_HIGH = "Må ikke være større end 5"
LINK = "Linket skal starte med https://"
UNKNOWN_KIND = "Ukendt type »{text}«: skriv Privat, Selvejende, Kommunal, Regional eller Egen drift"
CVR_TOO_LONG = "Må højst være 20 tegn"
NAME_MISSING = "Skal udfyldes"

# How the list writes a type → the stored code.
KINDS = {
    "Privat": "privat",
    "privat": "privat",
    "Selvejende": "selvejende",
    "Kommunal": "kommunal",
    "Regional": "regional",
    "Egen drift": "egen",
    None: "privat",
}
REFUND_KINDS = {"privat", "selvejende"}
FRAMEWORKS = {
    "Rammeaftale": "rammeaftale",
    "Samarbejdsaftale": "samarbejdsaftale",
    "Ingen aftale": "ingen",
    "Nej": "ingen",
    None: "ingen",
}
PREFIXES = {
    "privat": ("Bostedet", "Opholdsstedet", "Botilbuddet", "Hjemmet"),
    "selvejende": ("Den selvejende institution", "Bofællesskabet", "Fonden"),
    "kommunal": ("Botilbud", "Bocenter", "Boligerne"),
    "regional": ("Specialbotilbuddet", "Regionens botilbud"),
    "egen": ("Bocenter", "Botilbuddet", "Boligerne"),
}
# Postal codes with a leading zero, which Excel turns into 800 unless the cell is text.
ZERO_TOWNS = (("0800", "Høje-Taastrup"), ("0900", "København C"))
REMARKS = (
    "Ny leder pr. 1. marts",
    "Tilsynsrapport modtaget",
    "Venteliste",
    "Afventer ny takst",
    "Kun for borgere over 25 år",
    "Ring før besøg",
    "Forhandling i gang",
)
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Problem:
    row: int  # as Excel shows it
    column: str  # the file's header, or ROW
    value: str  # the cell as the error table shows it
    message: str


@dataclass(frozen=True)
class Percent:
    """A number formatted as a percentage in Excel: 0.954 shown as 95,4 %."""

    fraction: float
    number_format: str
    shown: str  # as Danish Excel shows it and writes it into a CSV


@dataclass(frozen=True)
class Spec:
    """One provider row: the values as the list writes them, and the problems it must give."""

    cvr: str | None
    name: str  # as written: double spaces and trailing spaces kept
    kind: str | None = "Privat"
    cvr_style: str = "text"  # text | number (an Excel number) | dk ("DK12345674") | spaced
    postal_code: str | None = None
    postal_style: str = "text"  # text | number (0800 typed as 800)
    city: str | None = None
    vat: str | int | Percent | None = None
    framework: str | None = None
    valid_to: date | None = None
    date_style: str = "date"  # date (an Excel date) | serial | text (MM/DD/YYYY)
    portal_url: str | None = None
    contact: str | None = None
    quality: int | None = None
    remark: str | None = None
    # Problems whatever the date format: (column, value shown, message).
    errors: tuple[tuple[str, str, str], ...] = ()
    cpr: bool = False  # a cell holds a CPR-like number: the row is refused

    @property
    def cvr_fails_modulus(self) -> bool:
        return self.cvr is not None and not stdnum_cvr.is_valid(self.cvr)

    def stored(self) -> dict[str, Any] | None:
        """The provider the row gives, as the form would store it (None when it is refused)."""
        if self.errors or self.cpr:
            return None
        kind = KINDS[self.kind]
        return {
            "cvr": self.cvr,
            "name": self.name.strip(),  # as ProviderCreate keeps it: inner spaces stay
            "kind": kind,
            "postal_code": self.postal_code,
            "city": self.city,
            "vat_refund": _vat_refund(self.vat, kind),
            "framework": FRAMEWORKS[self.framework],
            "framework_valid_to": self.valid_to,
            "portal_url": self.portal_url,
            "contact": self.contact,
            "quality_rating": self.quality,
        }

    def cells(self, kind: str) -> tuple[Any, ...]:
        """The row's cells in the workbook (kind XLSX) or the CSV (kind CSV)."""
        values: dict[str, Any] = {
            CVR: self._cvr_cell(kind),
            NAME: self.name,
            KIND: self.kind,
            POSTAL: self._postal_cell(kind),
            CITY: self.city,
            VAT: self._vat_cell(kind),
            FRAMEWORK: self.framework,
            VALID_TO: self._date_cell(kind),
            PORTAL: self.portal_url,
            CONTACT: self.contact,
            QUALITY: self.quality if kind == XLSX or self.quality is None else str(self.quality),
            REMARK: self.remark,
        }
        return tuple(values[h] for h in HEADERS)

    def _cvr_cell(self, kind: str) -> Any:
        if self.cvr is None:
            return None
        if self.cvr_style == "number":
            return int(self.cvr) if kind == XLSX else self.cvr
        if self.cvr_style == "dk":
            return f"DK{self.cvr}"
        if self.cvr_style == "spaced":
            return " ".join(self.cvr[i : i + 2] for i in range(0, 8, 2))
        return self.cvr

    def _postal_cell(self, kind: str) -> Any:
        if self.postal_code is None or self.postal_style == "text":
            return self.postal_code
        number = int(self.postal_code)
        return number if kind == XLSX else str(number)

    def _vat_cell(self, kind: str) -> Any:
        if isinstance(self.vat, Percent):
            return self.vat if kind == XLSX else self.vat.shown
        if isinstance(self.vat, int) and kind == CSV:
            return str(self.vat)
        return self.vat

    def _date_cell(self, kind: str) -> Any:
        if self.valid_to is None:
            return None
        if kind == CSV or self.date_style == "text":
            return us_date(self.valid_to)
        if self.date_style == "serial":
            return (self.valid_to - _EXCEL_EPOCH).days
        return datetime.combine(self.valid_to, datetime.min.time())


@dataclass(frozen=True)
class Note:
    """A line that is no provider: a note typed below the list (in the first column)."""

    text: str
    errors: tuple[tuple[str, str, str], ...]

    def cells(self, kind: str) -> tuple[Any, ...]:
        return (self.text,) + (None,) * (len(HEADERS) - 1)


Line = Spec | Note | None  # None: an empty line


@dataclass(frozen=True)
class ProviderList:
    lines: tuple[Line, ...]  # the lines below the header, which is row 1
    # In a changed variant: row → the changes the preview must show, header → (old, new).
    changes: dict[int, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    def numbered(self) -> Iterator[tuple[int, Line]]:
        return enumerate(self.lines, start=2)

    def xlsx(self) -> bytes:
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = "Leverandører"
        sheet.append(HEADERS)
        for number, line in self.numbered():
            if line is None:
                continue
            for column, value in enumerate(line.cells(XLSX), start=1):
                if value is None:
                    continue
                cell = sheet.cell(row=number, column=column)
                if isinstance(value, Percent):
                    cell.value = value.fraction
                    cell.number_format = value.number_format
                else:
                    cell.value = value
                    if isinstance(value, datetime):
                        cell.number_format = "dd-mm-yyyy"
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def csv(self) -> bytes:
        """As Excel saves "CSV (semikolonsepareret)": Windows-1252, CRLF, `;;;` for empty."""
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADERS)
        for _, line in self.numbered():
            cells = (None,) * len(HEADERS) if line is None else line.cells(CSV)
            writer.writerow(["" if v is None else v for v in cells])
        return buffer.getvalue().encode("cp1252")  # strict: the list holds no other characters

    def file(self, kind: str) -> bytes:
        return self.xlsx() if kind == XLSX else self.csv()

    def rows(self) -> int:
        """The data rows the import reads (empty lines are skipped)."""
        return sum(line is not None for line in self.lines)

    def problems(
        self, kind: str, date_format: str = US_DATES
    ) -> tuple[list[Problem], list[Problem]]:
        """The error and the warning table the preview must give on an empty database."""
        errors: list[Problem] = []
        warnings: list[Problem] = []
        checked: list[tuple[int, dict[str, Any]]] = []
        for number, line in self.numbered():
            if line is None:
                continue
            if isinstance(line, Spec) and line.cpr:
                errors.append(Problem(number, ROW, "", CPR_ROW))
                continue
            row_errors = [Problem(number, *e) for e in line.errors]
            written_date = line.cells(kind)[HEADERS.index(VALID_TO)]
            if date_format == DEFAULT_DATES and isinstance(written_date, str):
                # Every date this list writes as text is MM/DD/YYYY.
                message = DATE_ERROR.format(text=written_date)
                row_errors.append(Problem(number, VALID_TO, written_date, message))
            errors += row_errors
            stored = line.stored() if isinstance(line, Spec) else None
            if row_errors or stored is None:
                continue
            assert isinstance(line, Spec)
            if line.cvr_fails_modulus:
                warnings.append(Problem(number, CVR, stored["cvr"], MODULUS_WARNING))
            checked.append((number, stored))
        errors += _duplicates(checked)
        return sorted(errors, key=_order), sorted(warnings, key=_order)

    def providers(self) -> list[dict[str, Any]]:
        """The providers a clean list stores, in file order."""
        found = [line.stored() for line in self.lines if isinstance(line, Spec)]
        return [p for p in found if p is not None]

    def clean(self) -> "ProviderList":
        """The list once the municipality has deleted every row with an error (MM/DD/ÅÅÅÅ)."""
        errors, _ = self.problems(XLSX)
        bad = {e.row for e in errors}
        return ProviderList(tuple(line for n, line in self.numbered() if n not in bad))

    def changed(self, seed: int = 7, count: int = 6) -> "ProviderList":
        """A clean list a month later: `count` rows with a new city, quality or VAT factor."""
        rng = random.Random(seed)
        numbered = [(n, line) for n, line in self.numbered() if isinstance(line, Spec)]
        lines = list(self.lines)
        changes: dict[int, dict[str, tuple[Any, Any]]] = {}
        for index, (number, spec) in enumerate(rng.sample(numbered, count)):
            before = spec.stored()
            assert before is not None
            what = ("city", "quality_rating", "vat_refund")[index % 3]
            if what == "city":
                town = rng.choice([t for t in TOWNS if t[1] != spec.city])
                new = replace(spec, postal_code=town[0], postal_style="text", city=town[1])
            elif what == "quality_rating":
                new = replace(spec, quality=1 + (spec.quality or 0) % 5)
            else:
                new = replace(spec, vat="100%" if before["vat_refund"] else "95,4%")
            after = new.stored()
            assert after is not None
            changes[number] = {
                CHANGE_HEADERS[k]: (_shown_change(k, before[k]), _shown_change(k, v))
                for k, v in after.items()
                if before[k] != v
            }
            lines[number - 2] = new
        return ProviderList(tuple(lines), changes)


# The fields a changed variant changes → the template's header the preview names them by.
CHANGE_HEADERS = {
    "postal_code": "Postnr.",
    "city": "By",
    "quality_rating": "Kvalitet",
    "vat_refund": "Momsfaktor",
}


def _shown_change(field: str, value: Any) -> str:
    """A value as the preview's table of changes shows it: Danish, the VAT refund as its factor."""
    if value is None:
        return "–"
    if field == "vat_refund":
        return "95,4 %" if value else "100 %"
    return str(value)


def us_date(day: date) -> str:
    return f"{day.month:02d}/{day.day:02d}/{day.year}"


def _order(problem: Problem) -> tuple[int, str, str]:
    return problem.row, problem.column, problem.message


def _vat_refund(written: str | int | Percent | None, kind: str) -> bool:
    if written is None:
        return kind in REFUND_KINDS
    text = written.shown if isinstance(written, Percent) else str(written)
    return {"95,4%": True, "95,4 %": True, "100%": False, "100 %": False, "100": False}[text]


def _duplicates(checked: Sequence[tuple[int, dict[str, Any]]]) -> list[Problem]:
    rows: dict[str | None, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    for number, stored in checked:
        rows[stored["cvr"]].append(number)
        names[number] = stored["name"]
    problems = []
    for cvr, numbers in rows.items():
        if len(numbers) < 2:
            continue
        for number in numbers:
            others = ", ".join(str(n) for n in numbers if n != number)
            if cvr is None:
                message = NO_CVR.format(others=others)
            elif len({names[n] for n in numbers}) > 1:
                message = SAME_CVR_OTHER_NAME.format(others=others)
            else:
                message = SAME_PROVIDER.format(others=others)
            problems.append(Problem(number, CVR, cvr or "", message))
    return problems


# --- Building the list ---------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.cvrs: set[str] = set()
        self.names: set[str] = set()

    def cvr(self, *, valid: bool = True) -> str:
        while True:
            number = str(self.rng.randint(10_000_000, 99_999_999))
            if stdnum_cvr.is_valid(number) == valid and number not in self.cvrs:
                self.cvrs.add(number)
                return number

    def name(self, kind: str, city: str) -> str:
        prefix = self.rng.choice(PREFIXES[kind])
        stem = self.rng.choice(NAME_STEMS)
        for name in (f"{prefix} {stem}", f"{prefix} {stem} {city}", f"{prefix} {stem} II"):
            if name not in self.names:
                self.names.add(name)
                return name
        return self.name(kind, city)

    def day(self) -> date:
        return date(2026, 1, 1) + timedelta(days=self.rng.randrange(4 * 365))

    def provider(self, **overrides: Any) -> Spec:
        """An ordinary row, written the many ways a real list writes them."""
        rng = self.rng
        kind = rng.choices(
            ["Privat", "Selvejende", "Kommunal", "Regional", "Egen drift", "privat", None],
            weights=[50, 18, 10, 5, 8, 4, 5],
        )[0]
        postal_code, city = rng.choice(TOWNS) if rng.random() > 0.03 else rng.choice(ZERO_TOWNS)
        refund = KINDS[kind] in REFUND_KINDS
        vat: str | int | Percent | None = rng.choice(
            ["95,4%", "95,4 %", Percent(0.954, "0.0%", "95,4%"), None]
            if refund
            else ["100%", 100, "100", Percent(1, "0%", "100%"), None]
        )
        framework = rng.choices(
            ["Rammeaftale", "Samarbejdsaftale", "Ingen aftale", "Nej", None],
            weights=[35, 20, 15, 5, 25],
        )[0]
        has_date = FRAMEWORKS[framework] != "ingen" and rng.random() < 0.9
        code = KINDS[kind]
        if "name" in overrides:
            self.names.add(overrides["name"].strip())
        spec = Spec(
            cvr=self.cvr() if "cvr" not in overrides else None,
            name=overrides.get("name") or self.name(code, city),
            kind=kind,
            cvr_style=rng.choices(["text", "number"], weights=[7, 3])[0],
            postal_code=postal_code,
            postal_style="number" if postal_code.startswith("0") and rng.random() < 0.5 else "text",
            city=city,
            vat=vat,
            framework=framework,
            valid_to=self.day() if has_date else None,
            date_style=rng.choice(["date", "serial", "text"]),
            portal_url=(
                f"https://tilbudsportalen.dk/tilbud/{rng.randint(10000, 99999)}"
                if rng.random() < 0.6
                else None
            ),
            contact=self.contact(city),
            quality=rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5, None, None]),
            remark=rng.choice(REMARKS) if rng.random() < 0.15 else None,
        )
        return replace(spec, **overrides)

    def contact(self, city: str) -> str | None:
        choice = self.rng.random()
        if choice < 0.45:
            digits = str(self.rng.randint(20_000_000, 99_999_999))
            return " ".join(digits[i : i + 2] for i in range(0, 8, 2))
        if choice < 0.85:
            town = city.split()[0].lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
            return f"kontakt@{town}-bosted.dk"
        return None


def build_provider_list(seed: int = 12, size: int = 450) -> ProviderList:
    """The list with every trap; `size` data rows in all (the note and empty lines aside)."""
    make = _Builder(seed)
    traps: list[Spec] = []

    def trap(**overrides: Any) -> Spec:
        spec = make.provider(**overrides)
        traps.append(spec)
        return spec

    # The same CVR entity running several places under other names (three rows, and a pair
    # next to each other), and the same provider entered twice.
    for names in (
        ("Lyngly ApS", "Bostedet Lyngly", "Bostedet Lyngly Nord"),
        ("Fonden Kildehuset", "Kildehuset"),
        ("Bostedet Havgården", "Bostedet Havgården"),
    ):
        cvr = make.cvr()
        for name in names:
            trap(cvr=cvr, name=name, kind="Privat")
    # Places of the municipality's own operation, without a CVR number of their own.
    for stem in ("Granly", "Søholm", "Lindely", "Engkanten"):
        trap(cvr=None, name=f"Bocenter {stem}", kind="Egen drift", vat=None)
    # CVR numbers that fail the check digit: a warning, imported all the same.
    for _ in range(5):
        trap(cvr=make.cvr(valid=False))
    # CVR numbers written with "DK" and with spaces: accepted as the 8 digits.
    trap(cvr_style="dk")
    trap(cvr_style="spaced")
    # VAT factors written the English way, and a factor that is neither 95,4 nor 100.
    trap(kind="Privat", vat="95.4%", errors=((VAT, "95.4%", POINT_PERCENT),))
    trap(kind="Selvejende", vat="95.4 %", errors=((VAT, "95.4 %", POINT_PERCENT),))
    trap(kind="Privat", vat="95%", errors=((VAT, "95%", WRONG_FACTOR.format(text="95%")),))
    # A quality of 7 on the 1-5 scale.
    trap(quality=7, errors=((QUALITY, "7", QUALITY_TOO_HIGH),))
    # A link without https://, and a type the list made up.
    url = "www.tilbudsportalen.dk/tilbud/48213"
    trap(portal_url=url, errors=((PORTAL, url, LINK),))
    trap(kind="ApS", vat="95,4%", errors=((KIND, "ApS", UNKNOWN_KIND.format(text="ApS")),))
    # A CPR number in a remark and in a sole trader's contact: the row is refused.
    trap(remark="Borger 010190-1234 flytter ind 1. maj", cpr=True)
    trap(name="Opholdsstedet Mølleåen", contact="Karen Nielsen 0101901234", cpr=True)
    # Sole traders under their own names: a name is not a CPR number.
    trap(name="Hansen, Jens (enkeltmandsvirksomhed)", kind="Privat")
    trap(name="Opholdsstedet Bakkely v/ Karen Nielsen", kind="Privat")
    trap(name="Nielsen, Mette", kind="Privat")
    # Names with double and trailing spaces: accepted, the trailing ones dropped.
    spaced = ("Bostedet  Udsigten", "Botilbuddet Ådalen  ", "Hjemmet   Valmuen", "Fonden Tranebo ")
    for text in spaced:
        trap(name=text, kind="Selvejende" if text.startswith("Fonden") else "Privat")
    # 0800 as text and as the number Excel makes of it.
    trap(postal_code="0800", postal_style="text", city="Høje-Taastrup")
    trap(postal_code="0800", postal_style="number", city="Høje-Taastrup")
    # US dates with a day of 12 or less (read as 4 March only when MM/DD/ÅÅÅÅ is chosen),
    # and one with a day above 12; an Excel date and a serial number.
    trap(framework="Rammeaftale", valid_to=date(2027, 3, 4), date_style="text")
    trap(framework="Rammeaftale", valid_to=date(2026, 12, 1), date_style="text")
    trap(framework="Samarbejdsaftale", valid_to=date(2027, 12, 31), date_style="text")
    trap(framework="Rammeaftale", valid_to=date(2028, 6, 30), date_style="date")
    trap(framework="Rammeaftale", valid_to=date(2026, 9, 30), date_style="serial")

    ordinary = [make.provider() for _ in range(size - len(traps))]
    # The traps spread over the list in a shuffled order; the first two rows (the same CVR,
    # other names) stay next to each other.
    blocks: list[list[Line]] = [[traps[0], traps[1]]]
    blocks.extend([spec] for spec in traps[2:])
    make.rng.shuffle(blocks)
    lines: list[Line] = list(ordinary)
    step = len(ordinary) // len(blocks)
    for index in reversed(range(len(blocks))):
        position = 3 + index * step
        lines[position:position] = blocks[index]
    lines.insert(80, None)
    lines.insert(200, None)
    lines.insert(201, None)
    lines.append(None)
    note = "Listen vedligeholdes af Visitation og Indkøb, senest opdateret 03.02.2026"
    lines.append(Note(note, ((CVR, note, CVR_TOO_LONG), (NAME, "", NAME_MISSING))))
    return ProviderList(tuple(lines))
