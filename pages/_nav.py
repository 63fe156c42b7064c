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
        "Opslag", "Leverandører", "pages/leverandoerer.py", "leverandoerer", ":material/apartment:"
    ),
]


def page_by_title(title: str) -> PageSpec:
    return next(p for p in PAGES if p.title == title)
