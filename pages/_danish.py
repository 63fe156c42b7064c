"""Streamlit's own English, made Danish or hidden, for every page (`danish_streamlit`, called
from render_shell before a page draws anything, so no page has to remember it).

Where a widget takes a parameter, the pages pass it (a Danish `placeholder` on selectboxes and
multiselects, `select_all=False`, forms with `enter_to_submit=False`; tests/test_danish_ui.py
checks them). What no parameter reaches is handled here:

- Charts: Vega-Lite formats axis labels and tooltips with its own locale, English by default
  (40,000,000; "Jan 2026"). An Altair theme gives every chart the Danish locale, so an axis
  with `format=",.0f"` reads 40.000.000 and a month "jan 2026". st.altair_chart applies the
  active theme when it converts a chart.
- The file uploader's button says "Upload" and its hint "200MB per file": the same style gives
  the button a Danish word and hides the hint.
- Text fields outside a form say "Press Enter to apply" (or "Press Ctrl+Enter to apply") while
  typed in, and a date field without a date shows "dd.mm.yyyy": a static style (no user data)
  hides the first and shows "dd.mm.åååå" for the second.
"""

from typing import Any

import altair as alt
import streamlit as st

from services.formatting import MONTH_NAMES

THEME = "takstkompas"

# d3-format and d3-time-format locale definitions (Vega-Lite's `config.locale`).
DANISH_LOCALE: dict[str, Any] = {
    "number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " kr."]},
    "time": {
        "dateTime": "%A den %d. %B %Y %X",
        "date": "%d.%m.%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"],
        "shortDays": ["søn", "man", "tir", "ons", "tor", "fre", "lør"],
        "months": list(MONTH_NAMES),
        "shortMonths": [
            "jan",
            "feb",
            "mar",
            "apr",
            "maj",
            "jun",
            "jul",
            "aug",
            "sep",
            "okt",
            "nov",
            "dec",
        ],
    },
}


def _danish_theme() -> alt.theme.ThemeConfig:
    return alt.theme.ThemeConfig(config={"locale": DANISH_LOCALE})


def enable_danish_charts() -> None:
    """Make every Altair chart drawn from now on use the Danish locale (idempotent). Checks
    the active theme first: listing the registered ones reads package metadata (~2,5 ms)."""
    if alt.theme.active == THEME:
        return
    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=False)(_danish_theme)
    alt.theme.enable(THEME)


# Static CSS, no user data. Under a text field the instructions are English ("Press Enter to
# apply") and, in a form that allows Enter, "Press Ctrl+Enter to submit form"; the forms turn
# that off (enter_to_submit=False), leaving only a character count there. Outside a form the
# box is hidden: it holds the English instruction, and at most the count with it.
DANISH_WIDGETS_STYLE = (
    "<style>"
    '[data-testid="InputInstructions"]:not([data-testid="stForm"] *) { display: none; }'
    '[data-testid="stDateInputField"] [data-type="year"][data-placeholder="true"]'
    " { font-size: 0; }"
    '[data-testid="stDateInputField"] [data-type="year"][data-placeholder="true"]::after'
    ' { content: "åååå"; font-size: 0.875rem; }'
    # The file uploader: its button says "Upload" and its hint "200MB per file • XLSX, CSV";
    # the button gets a Danish word, the hint goes (each page's label states size and types).
    '[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }'
    '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
    " { display: none; }"
    '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after'
    ' { content: "Vælg fil"; }'
    "</style>"
)


def danish_streamlit() -> None:
    """Danish charts and Danish (or hidden) hints in Streamlit's widgets, once per run."""
    enable_danish_charts()
    st.html(DANISH_WIDGETS_STYLE)
