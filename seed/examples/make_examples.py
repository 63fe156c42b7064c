"""Writes the demo's example files: `uv run python -m seed.examples.make_examples`.

One function per file, each deterministic (the same cells every time; the committed files are
checked against them by tests/test_import_provider_list.py). Add a file by adding its writer to
EXAMPLES.

- leverandoerliste.xlsx: a municipality's provider list of 40 providers with some of the traps
  real lists have. Accepted as the form would: a CVR typed as a number or with "DK", 0800
  typed as 800, double and trailing spaces in names, a sole trader's own name, VAT factors as
  Excel percentages, as 100 and left empty, dates as Excel dates and serial numbers, an empty
  row, a column the import does not know. Refused, with the default date format DD-MM-ÅÅÅÅ:
  `95.4%` (row 9), the same CVR under two names (rows 14 and 31), a quality of 7 (row 18), a
  CPR number in a remark (row 23) and a US date `12/31/2027` (row 27, accepted when MM/DD/ÅÅÅÅ
  is chosen). Row 12's CVR fails the check digit: a warning.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

EXAMPLES_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Percent:
    """A number Excel shows as a percentage: 0.954 as 95,4 %."""

    fraction: float
    number_format: str = "0.0%"


PROVIDER_HEADERS = (
    "CVR",
    "Navn",
    "Type",
    "Postnr.",
    "By",
    "Momsfaktor",
    "Samarbejdsaftale",
    "Aftalen gælder til",
    "Tilbudsportalen",
    "Kontakt",
    "Kvalitet",
    "Bemærkning",
)
_TP = "https://tilbudsportalen.dk/tilbud/"
# One tuple per row, from row 2 on (the comments give the row numbers); None is an empty row.
# fmt: off
PROVIDER_ROWS: tuple[tuple[Any, ...] | None, ...] = (
    # 2–8: a CVR as a number and with "DK", 0800 and 800, a double space, a sole trader,
    # percentages as Excel shows them, 100 as a number, a serial number as the date (row 4)
    ("25988000", "Bostedet Egelunden", "Privat", "8000", "Aarhus C", "95,4%", "Rammeaftale",
     date(2027, 12, 31), f"{_TP}41872", "86 12 34 56", 4, None),
    (52880483, "Opholdsstedet Kildebakken", "Privat", "8600", "Silkeborg", Percent(0.954),
     "Rammeaftale", date(2027, 6, 30), f"{_TP}41903", "kontakt@kildebakken.dk", 5, None),
    ("38215876", "Den selvejende institution Fjordglimt", "Selvejende", "8700", "Horsens", None,
     "Samarbejdsaftale", 46752, None, "75 62 11 00", 3, None),
    ("95592988", "Botilbud Lærkereden", "Kommunal", "7100", "Vejle", "100%", None, None,
     f"{_TP}42017", "76 81 50 00", 4, None),
    ("DK48601278", "Bostedet  Skovbrynet", "Privat", "0800", "Høje-Taastrup", "95,4 %",
     "Rammeaftale", date(2026, 12, 31), None, "kontakt@skovbrynet.dk", 3, None),
    ("96542925", "Hansen, Jens (enkeltmandsvirksomhed)", "Privat", 800, "Høje-Taastrup",
     "95,4%", "Ingen aftale", None, None, "20 30 40 50", None, "Enkeltmandsvirksomhed"),
    ("63522449", "Specialbotilbuddet Solsikken", "Regional", "8900", "Randers C", 100,
     "Rammeaftale", date(2028, 3, 31), f"{_TP}42210", "78 47 00 00", 5, None),
    # 9: 95.4% written the English way → error
    ("87244482", "Bofællesskabet Bakkehuset", "Selvejende", "8800", "Viborg", "95.4%", None,
     None, None, "kontakt@bakkehuset.dk", 4, None),
    # 10–11: own operation; a trailing space
    ("93524993", "Egen drift: Bocenter Engkanten", "Egen drift", "7400", "Herning", None, None,
     None, None, "96 28 28 28", None, None),
    ("71310167", "Bostedet Åbrinken ", "Privat", "6000", "Kolding", "95,4%", "Samarbejdsaftale",
     date(2027, 9, 30), f"{_TP}42388", "kontakt@aabrinken.dk", 4, None),
    # 12: the CVR fails the check digit → warning
    ("21302114", "Opholdsstedet Lindely", "Privat", "5000", "Odense C", "95,4%", None, None,
     None, "66 13 13 72", 3, "Ny leder pr. 1. marts"),
    ("37183296", "Hjemmet Havblik", "Privat", "4000", "Roskilde", Percent(0.954), "Rammeaftale",
     date(2026, 10, 31), f"{_TP}42501", "46 31 30 00", 4, None),
    # 14: the same CVR as row 31 under another name → error on both
    ("46109392", "Lyngly ApS", "Privat", "9000", "Aalborg", "95,4%", "Rammeaftale",
     date(2027, 12, 31), None, "kontakt@lyngly.dk", 4, None),
    ("36821744", "Botilbuddet Møllegården", "Privat", "8660", "Skanderborg", "95,4%", None,
     None, f"{_TP}42644", "87 94 77 77", 5, None),
    ("44911442", "Bocenter Rosenhaven", "Kommunal", "8300", "Odder", "100", None, None, None,
     "87 80 33 33", 3, None),
    # 17: an empty row
    None,
    # 18: a quality of 7 → error
    ("75171986", "Fonden Granly", "Selvejende", "8500", "Grenaa", None, "Samarbejdsaftale",
     date(2028, 12, 31), f"{_TP}42790", "kontakt@granly.dk", 7, "Tilsyn 2025 gik godt"),
    ("79145394", "Bostedet Birkely", "Privat", "7500", "Holstebro", "95,4%", "Rammeaftale",
     date(2027, 4, 30), None, "97 42 00 00", 4, None),
    ("22973827", "Opholdsstedet Bøgely", "Privat", "6700", "Esbjerg", "95,4%", None, None,
     f"{_TP}42811", "kontakt@boegely.dk", 2, "Forhandling i gang"),
    ("57949368", "Bocenter Søholm", "Kommunal", "4700", "Næstved", Percent(1, "0%"), None, None,
     None, "55 88 55 88", 4, None),
    ("60466696", "Bostedet Stenhøj", "Privat", "3400", "Hillerød", "95,4%", None, None, None,
     "48 20 50 00", 3, None),
    # 23: a CPR number in the remark → the row is refused
    ("96741219", "Botilbuddet Kastanjegården", "Privat", "4200", "Slagelse", "95,4%",
     "Rammeaftale", 46934, f"{_TP}42937", "kontakt@kastanjegaarden.dk", 4,
     "Borger 010190-1234 flytter ind 1. maj"),
    ("53760716", "Nielsen, Mette", "Privat", "8400", "Ebeltoft", None, None, None, None,
     "30 40 50 60", None, None),
    ("16071552", "Bofællesskabet Hyldebo", "Selvejende", "8680", "Ry", "95,4%", None, None,
     None, "kontakt@hyldebo.dk", 4, None),
    ("97004064", "Bostedet Pilehuset", "Privat", "8740", "Brædstrup", "95,4%", "Rammeaftale",
     date(2027, 5, 31), None, "75 75 12 12", 5, None),
    # 27: a US date → error unless MM/DD/ÅÅÅÅ is chosen
    ("79370789", "Opholdsstedet Tranebo", "Privat", "8850", "Bjerringbro", "95,4%",
     "Rammeaftale", "12/31/2027", f"{_TP}43015", "kontakt@tranebo.dk", 3, None),
    ("46615522", "Regionens botilbud Mosegården", "Regional", "8240", "Risskov", "100%",
     "Samarbejdsaftale", date(2027, 12, 31), None, "78 47 10 00", 4, None),
    ("33447159", "Bostedet Klitgården", "Privat", "8260", "Viby J", "95,4%", None, None, None,
     "86 14 14 14", 4, None),
    ("77998284", "Hjemmet Vibeholm", "Privat", "7000", "Fredericia", Percent(0.954), None,
     None, None, "kontakt@vibeholm.dk", 3, None),
    # 31: the same CVR as row 14
    ("46109392", "Bostedet Lyngly", "Privat", "9000", "Aalborg", "95,4%", "Rammeaftale",
     date(2027, 12, 31), f"{_TP}43102", "kontakt@lyngly.dk", 4, None),
    ("18578530", "Botilbud Ravnsborg", "Kommunal", "8450", "Hammel", "100%", None, None, None,
     "87 13 50 00", None, None),
    ("38942204", "Bostedet Lyngbakken", "Privat", "8370", "Hadsten", "95,4%", "Rammeaftale",
     date(2026, 12, 31), f"{_TP}43240", "86 98 00 00", 4, None),
    ("17735063", "Opholdsstedet  Elmehøj", "Privat", "8410", "Rønde", "95,4%", None, None,
     None, "kontakt@elmehoej.dk", 5, None),
    ("48863507", "Egen drift: Boligerne Nøddehaven", "Egen drift", "8550", "Ryomgård", None,
     None, None, None, "87 91 91 91", None, None),
    ("88598717", "Bostedet Kløvermarken", "Privat", "7300", "Jelling", "95,4%", None, None,
     None, "75 87 20 20", 4, None),
    ("84477168", "Fonden Agerhuset", "Selvejende", "8653", "Them", "95,4%", "Rammeaftale",
     date(2028, 6, 30), f"{_TP}43377", "kontakt@agerhuset.dk", 4, None),
    ("12227450", "Bostedet Strandlyst", "Privat", "0900", "København C", "95,4%", None, None,
     None, "33 66 33 66", 3, None),
    ("47155703", "Botilbuddet Udsigten", "Privat", "8000", "Aarhus C", "95,4%", None, None,
     None, "kontakt@udsigten.dk", 4, None),
    ("98297510", "Bostedet Regnbuen", "Privat", "8000", "Aarhus C", "95,4%", "Rammeaftale",
     date(2027, 12, 31), f"{_TP}43412", "kontakt@regnbuen.dk", 4, None),
    ("11531334", "Opholdsstedet Fuglsang", "Privat", "8600", "Silkeborg", "95,4%", None, None,
     None, "86 80 80 80", 3, None),
    ("39774682", "Bofællesskabet Valmuen", "Selvejende", "8700", "Horsens", "95,4%",
     "Samarbejdsaftale", date(2027, 3, 1), None, "kontakt@valmuen.dk", 4, None),
)
# fmt: on


def _sheet(workbook: Workbook, title: str, headers: Sequence[str], rows: Sequence[Any]) -> None:
    """A sheet as a municipality keeps it: bold headers, dates shown DD-MM-YYYY."""
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row or (), start=1):
            if value is None:
                continue
            cell = sheet.cell(row=number, column=column)
            if isinstance(value, Percent):
                cell.value = value.fraction
                cell.number_format = value.number_format
            elif isinstance(value, date):
                cell.value = datetime.combine(value, datetime.min.time())
                cell.number_format = "dd-mm-yyyy"
            else:
                cell.value = value
    for letter in "ABCDEFGHIJKL":
        sheet.column_dimensions[letter].width = 22
    sheet.freeze_panes = "A2"


def write_provider_example(path: Path) -> None:
    """The demo's provider list (leverandoerliste.xlsx)."""
    workbook = Workbook()
    _sheet(workbook, "Leverandører", PROVIDER_HEADERS, PROVIDER_ROWS)
    workbook.save(path)


# File name → its writer.
EXAMPLES: dict[str, Callable[[Path], None]] = {
    "leverandoerliste.xlsx": write_provider_example,
}


def main() -> None:
    for name, write in EXAMPLES.items():
        write(EXAMPLES_DIR / name)
        print(EXAMPLES_DIR / name)


if __name__ == "__main__":
    main()
