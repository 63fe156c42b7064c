"""The pages in navigation order: one list for the entry point, the tests and the README check."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    section: str
    title: str
    path: str
    url_path: str
    icon: str


PAGES: list[PageSpec] = [
    PageSpec("Ledelse", "Overblik", "pages/overblik.py", "overblik", ":material/dashboard:"),
    PageSpec(
        "Ledelse",
        "Kvartalsrapport",
        "pages/kvartalsrapport.py",
        "kvartalsrapport",
        ":material/event_note:",
    ),
    PageSpec("Opslag", "Prisopslag", "pages/prisopslag.py", "prisopslag", ":material/search:"),
    PageSpec(
        "Opslag", "Leverandører", "pages/leverandoerer.py", "leverandoerer", ":material/apartment:"
    ),
    PageSpec("Aftaler", "Kontrakter", "pages/kontrakter.py", "kontrakter", ":material/contract:"),
    PageSpec(
        "Aftaler",
        "Priskategorier",
        "pages/priskategorier.py",
        "priskategorier",
        ":material/straighten:",
    ),
    PageSpec(
        "Opfølgning og kontrol",
        "Opfølgning",
        "pages/opfoelgning.py",
        "opfoelgning",
        ":material/handshake:",
    ),
    PageSpec(
        "Opfølgning og kontrol",
        "Fakturaafvigelser",
        "pages/fakturaafvigelser.py",
        "fakturaafvigelser",
        ":material/receipt_long:",
    ),
    PageSpec(
        "Administration",
        "Indstillinger",
        "pages/indstillinger.py",
        "indstillinger",
        ":material/settings:",
    ),
]


def page_by_title(title: str) -> PageSpec:
    return next(p for p in PAGES if p.title == title)
