"""Danish everywhere a user reads (issue 10, item 11): no Streamlit English where a parameter
turns it off, no "Decimal('0')", no "kr..", Danish numbers in every chart.

The pages' widget calls are checked in the source (a page added later is checked too), and
every page is run through AppTest on the demo and an empty database and its elements read.
What no parameter reaches (the date placeholder, "Press Enter to apply") is styled in
pages/_danish.py and checked in the browser (tests/test_browser.py).
"""

import ast
import inspect
import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from pydantic import BaseModel, ValidationError
from streamlit.testing.v1 import AppTest

import models.contract
import models.followup
import models.invoice
import models.provider
import models.reference
from models.contract import ContractCreate
from pages._danish import DANISH_LOCALE, DANISH_WIDGETS_STYLE
from pages._nav import PAGES
from services.errors import _danish_message, input_error_from
from tests.pagetest import run_page

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "pages").glob("*.py")) + [ROOT / "streamlit_app.py"]
# Text no page may show: Python's repr of an amount, a doubled full stop after "kr.", and the
# English Streamlit writes itself when a page leaves a parameter out.
NOT_DANISH = ["Decimal(", "kr..", "Choose an option", "Choose options", "No options to select"]
# The tabs drawn only when open: each is opened once.
TABS = {
    "Overblik": ("overview_tab", ["Økonomi", "Fordeling", "Kontrol og opfølgning"]),
    "Kvartalsrapport": (
        "quarterly_tab",
        ["Frister", "Advarsler", "Opfølgninger", "Dyreste sager", "Leverandører", "Besparelser"],
    ),
}


def _calls(name: str) -> Iterator[tuple[str, ast.Call]]:
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and func.attr == name:
                yield f"{path.name}:{node.lineno}", node


def _keyword(call: ast.Call, name: str) -> Any:
    value = next((k.value for k in call.keywords if k.arg == name), None)
    return value.value if isinstance(value, ast.Constant) else value


def test_every_multiselect_hides_select_all_and_has_a_danish_placeholder():
    calls = list(_calls("multiselect"))
    assert calls
    assert [] == [where for where, call in calls if _keyword(call, "select_all") is not False]
    assert [] == [where for where, call in calls if _keyword(call, "placeholder") is None]


def test_every_form_submits_only_with_its_button():
    # Enter does not submit a half-typed form, and Streamlit's "Press Ctrl+Enter to submit
    # form" is not shown.
    calls = list(_calls("form"))
    assert calls
    assert [] == [where for where, call in calls if _keyword(call, "enter_to_submit") is not False]


def test_the_style_hides_input_hints_outside_forms_and_writes_the_year_in_danish():
    assert '[data-testid="InputInstructions"]:not([data-testid="stForm"] *)' in (
        DANISH_WIDGETS_STYLE
    )
    assert 'content: "åååå"' in DANISH_WIDGETS_STYLE
    assert "{" not in DANISH_WIDGETS_STYLE.split("<style>")[0]  # static: nothing formatted in


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None) or {}
    for child in children.values():
        yield from _nodes(child)


def _strings(message: Message) -> Iterator[str]:
    for _, value in message.ListFields():
        repeated = not isinstance(value, str | bytes | Message) and hasattr(value, "__len__")
        for item in value if repeated else [value]:
            if isinstance(item, str):
                yield item
            elif isinstance(item, Message):
                yield from _strings(item)


def _elements(at: AppTest) -> list[Any]:
    return [n for root in (at.main, at.sidebar) for n in _nodes(root) if hasattr(n, "proto")]


def _shows_a_choice(proto: Any) -> bool:
    """Whether a selectbox shows an option, not its placeholder (what the browser draws: the
    value set by the script, else the default; none without options)."""
    if not proto.options:
        return False
    return bool(proto.raw_value) if proto.set_value else proto.HasField("default")


def _problems(at: AppTest) -> list[str]:
    """What on the page is not Danish: English placeholders, select-all, repr text, charts."""
    found = []
    for element in _elements(at):
        proto = element.proto
        kind = type(proto).__name__
        if kind == "Selectbox" and not _shows_a_choice(proto) and not proto.placeholder.strip():
            found.append(f"selectbox {proto.label!r} shows Streamlit's English placeholder")
        if kind == "MultiSelect":
            if proto.select_all:
                found.append(f"multiselect {proto.label!r} offers 'Select all'")
            if not proto.placeholder.strip():
                found.append(f"multiselect {proto.label!r} has no Danish placeholder")
        if kind.endswith("VegaLiteChart"):
            locale = json.loads(proto.spec).get("config", {}).get("locale")
            if locale != DANISH_LOCALE:
                found.append(f"a chart without the Danish locale: {locale}")
        if isinstance(proto, Message):
            for text in _strings(proto):
                found += [f"{kind}: {bad!r} in {text!r}" for bad in NOT_DANISH if bad in text]
    return found


def _pages_and_tabs(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, AppTest]]:
    for spec in PAGES:
        at = run_page(url, spec.path, monkeypatch)
        yield spec.title, at
        key, tabs = TABS.get(spec.title, ("", []))
        for tab in tabs:
            at.session_state[key] = tab
            at.run()
            assert not at.exception, [e.value for e in at.exception]
            yield f"{spec.title} › {tab}", at


@pytest.mark.parametrize("database", ["demo_db", "empty_db"])
def test_every_page_is_danish(database, request, monkeypatch):
    url = request.getfixturevalue(database)
    problems = {where: _problems(at) for where, at in _pages_and_tabs(url, monkeypatch)}
    assert {} == {where: found for where, found in problems.items() if found}


def test_the_charts_were_checked(demo_db, monkeypatch):
    at = run_page(demo_db, "pages/overblik.py", monkeypatch)
    at.session_state["overview_tab"] = "Økonomi"
    at.run()
    charts = [e for e in _elements(at) if type(e.proto).__name__.endswith("VegaLiteChart")]
    assert charts
    assert not _problems(at)


# --- Validation messages: Danish numbers, never Python's repr ---------------------------------


def _message(schema: type[BaseModel], field: str, value: object) -> str:
    try:
        schema.model_validate({field: value})
    except ValidationError as exc:
        return input_error_from(exc).fields[field]
    raise AssertionError(f"{field}={value!r} was accepted")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("price", "0", "Skal være større end 0"),  # was "Skal være større end Decimal('0')"
        ("price", "-5", "Skal være større end 0"),
        ("support_hours_per_week", "200", "Må ikke være større end 168"),
        ("support_hours_per_week", "1,25", "Højst én decimal"),
        ("regulation_pct", "25", "Må ikke være større end 20"),
        ("regulation_pct", "2,0005", "Højst 3 decimaler"),
        ("notice_days", "5000", "Må ikke være større end 3.650"),
        ("notice_days", "-1", "Må ikke være mindre end 0"),
        ("regulation_day", "0", "Må ikke være mindre end 1"),
        ("notes", "x" * 4001, "Må højst være 4.000 tegn"),
    ],
)
def test_contract_limits_are_written_the_danish_way(field, value, expected):
    assert expected == _message(ContractCreate, field, value)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "greater_than_equal", "ctx": {"ge": Decimal("100000")}}, "100.000"),
        ({"type": "less_than", "ctx": {"lt": Decimal("20.5")}}, "20,5"),
        ({"type": "less_than_equal", "ctx": {"le": 1.5}}, "1,5"),
        ({"type": "greater_than", "ctx": {"gt": date(2026, 11, 22)}}, "22.11.2026"),
        ({"type": "greater_than", "ctx": {"gt": Decimal("-10")}}, "-10"),
    ],
)
def test_any_limit_is_a_danish_number_or_date(error, expected):
    message = _danish_message(error)
    assert message.endswith(expected), message
    assert "Decimal" not in message and "datetime" not in message


HOSTILE = ["", "0", "-1", "1,255", "2,0005", "abc", "99999999999999", "1e5", "NaN", 0, -1, 1.5]


def _input_schemas() -> Iterator[type[BaseModel]]:
    """Every input schema (…Create, …Update, …Input) of the aggregates: not the tables."""
    for module in (
        models.contract,
        models.provider,
        models.invoice,
        models.followup,
        models.reference,
    ):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            table = getattr(cls, "__table__", None) is not None
            if issubclass(cls, BaseModel) and cls.__module__ == module.__name__ and not table:
                yield cls


@pytest.mark.parametrize("schema", list(_input_schemas()), ids=lambda c: c.__name__)
def test_no_input_schema_answers_in_english_or_python(schema):
    for value in HOSTILE:
        try:
            schema.model_validate(dict.fromkeys(schema.model_fields, value))
        except ValidationError as exc:
            for field, message in input_error_from(exc).fields.items():
                assert "Decimal(" not in message and "Input should" not in message, (
                    field,
                    value,
                    message,
                )
                assert not re.search(r"\d,\d{3}\b", message), (field, value, message)  # 1,000
