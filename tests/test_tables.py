"""A table's Danish display texts: what st.dataframe sends for show_table's lean Styler is what
pandas' own Styler with the same formats sends (pages/_ui.py, _DisplayTexts)."""

from datetime import date
from decimal import Decimal

import pandas as pd
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.elements.lib.pandas_styler_utils import marshall_styler
from streamlit.proto.ArrowData_pb2 import ArrowData

from pages._ui import _display, display_styler

FRAME = pd.DataFrame(
    {
        "Sag": ["S-1", "S-2", None, "=1+1"],
        "Beløb": [Decimal("1234.56"), None, Decimal("-0.5"), 1_000_000],
        "Stigning": [0.021, float("nan"), None, 1.0],
        "Antal": [1, 25_000, 3, 0],
        "Fra": [date(2026, 1, 31), None, date(2025, 12, 1), date(2026, 7, 4)],
        "Kvote": [1.5, 2.25, float("nan"), 0.0],  # not formatted: pandas' default text
        "Aktiv": [True, False, True, None],
    }
)
KINDS = {"money": ["Beløb"], "pct": ["Stigning"], "int": ["Antal"], "date": ["Fra"]}


def _pandas_styler(frame: pd.DataFrame):
    """The Styler show_table built before: pandas' own, with the same display functions."""
    shown = frame.copy()
    for column in KINDS["money"] + KINDS["pct"]:
        shown[column] = pd.to_numeric(shown[column], errors="coerce").astype("Float64")
    for column in KINDS["date"]:
        shown[column] = pd.to_datetime(shown[column], errors="coerce")
    styler = shown.style
    for kind, columns in KINDS.items():
        styler = styler.format(lambda v, k=kind: _display(v, k), subset=columns)
    return styler


def _sent(styler) -> tuple[pd.DataFrame, str]:
    proto = ArrowData()
    marshall_styler(proto, styler, "table")
    return convert_arrow_bytes_to_pandas_df(proto.styler.display_values), proto.styler.styles


def test_the_display_texts_are_those_of_pandas_styler():
    ours = display_styler(
        FRAME, money=KINDS["money"], pct=KINDS["pct"], ints=KINDS["int"], dates=KINDS["date"]
    )
    texts, styles = _sent(ours)
    expected_texts, expected_styles = _sent(_pandas_styler(FRAME))

    pd.testing.assert_frame_equal(expected_texts, texts)
    assert expected_styles == styles == ""
    assert ["1.234,56", "", "-0,50", "1.000.000,00"] == list(texts["Beløb"])
    assert ["31.01.2026", "", "01.12.2025", "04.07.2026"] == list(texts["Fra"])
    assert "25.000" == texts["Antal"][1]
    # The values behind the texts are unchanged and sort as numbers and dates.
    pd.testing.assert_frame_equal(_pandas_styler(FRAME).data, ours.data)


def test_an_empty_table_has_no_texts():
    empty = FRAME.iloc[0:0]
    texts, _ = _sent(display_styler(empty, money=["Beløb"], dates=["Fra"]))
    expected, _ = _sent(_pandas_styler(empty))
    pd.testing.assert_frame_equal(expected, texts)
    assert texts.empty
