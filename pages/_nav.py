"""The pages in navigation order: one list for the entry point, the tests and the README check."""

from dataclasses import dataclass
from pathlib import PurePosixPath

from services.rules.roles import Capability


@dataclass(frozen=True)
class PageSpec:
    section: str
    title: str
    path: str
    icon: str
    # What a user's role must allow to see the page (services.rules.roles); the actions on it
    # are checked on their own when saved.
    capability: Capability = Capability.READ

    @property
    def url_path(self) -> str:
        """The page's address: its file name without `.py` (pages/kontrakter.py → kontrakter).
        HOME is served at "/" and reached from this address too."""
        return PurePosixPath(self.path).stem


PAGES: list[PageSpec] = [
    PageSpec("Ledelse", "Overblik", "pages/overblik.py", ":material/dashboard:"),
    PageSpec(
        "Ledelse",
        "Kvartalsrapport",
        "pages/kvartalsrapport.py",
        ":material/event_note:",
    ),
    PageSpec("Opslag", "Prisopslag", "pages/prisopslag.py", ":material/search:"),
    PageSpec("Opslag", "Sammenlign tilbud", "pages/sammenlign.py", ":material/compare_arrows:"),
    PageSpec("Opslag", "Leverandører", "pages/leverandoerer.py", ":material/apartment:"),
    PageSpec("Aftaler", "Kontrakter", "pages/kontrakter.py", ":material/contract:"),
    PageSpec(
        "Aftaler",
        "Priskategorier",
        "pages/priskategorier.py",
        ":material/straighten:",
    ),
    PageSpec(
        "Aftaler",
        "Import",
        "pages/importer.py",
        ":material/upload_file:",
        Capability.CHECK_INVOICES,  # registers need PROCURE: services.imports.kinds
    ),
    PageSpec(
        "Opfølgning og kontrol",
        "Opfølgning",
        "pages/opfoelgning.py",
        ":material/handshake:",
    ),
    PageSpec(
        "Opfølgning og kontrol",
        "Fakturaafvigelser",
        "pages/fakturaafvigelser.py",
        ":material/receipt_long:",
    ),
    PageSpec(
        "Opfølgning og kontrol",
        "E-fakturaer",
        "pages/efakturaer.py",
        ":material/mark_email_read:",
        Capability.CHECK_INVOICES,
    ),
    PageSpec(
        "Administration",
        "Indstillinger",
        "pages/indstillinger.py",
        ":material/settings:",
        Capability.ADMINISTER,
    ),
    PageSpec(
        "Administration",
        "Brugere",
        "pages/brugere.py",
        ":material/group:",
        Capability.ADMINISTER,
    ),
    PageSpec(
        "Administration",
        "Revisionsspor",
        "pages/revisionsspor.py",
        ":material/history:",
        Capability.ADMINISTER,
    ),
]


# The page at the app's root ("/"); its own address (/overblik) leads there too.
HOME = PAGES[0]


def page_by_title(title: str) -> PageSpec:
    return next(p for p in PAGES if p.title == title)
