"""Helpers shared by the pages: engine, cached reads, Danish tables, exports and forms.

Forms follow one pattern: widgets keep their values in `st.session_state` (keys prefixed with
the page name); a save calls one service; an InputError is stored per field and shown next to
the field after a rerun, so nothing typed is lost; a conflict explains what to do.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import label
from services.errors import ConflictError, InputError, UserError
from services.exports.tables import Sheet, to_csv, to_xlsx
from services.formatting import format_amount, format_date, format_number, format_pct
from services.queries.home import dataset_kind
from services.settings import AppSettings, get_settings
from services.users import current_user

_ENGINE_KEY = "_engine"
READ_TTL = 60  # seconds a cached read may be stale for other users; writes clear at once


def set_engine(engine: Engine) -> None:
    st.session_state[_ENGINE_KEY] = engine


def ensure_entry_point() -> None:
    """Every page runs through streamlit_app.py.

    With a `pages/` folder next to the entry point, Streamlit starts in its legacy multipage
    mode and runs a page file on its own: on the first request of a fresh server (a deep link
    such as /kontrakter) and in every AppTest run after `switch_page`. st.navigation switches
    that mode off when it is called; this does the same and reruns, so the entry point prepares
    the database, shows the demo banner and routes to the page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    if _ENGINE_KEY not in st.session_state:
        st.rerun()  # a session's first run: nothing typed or clicked can be lost
    # Later runs (AppTest after switch_page) carry a click or typed value that a rerun would
    # drop, so render what the entry point adds around the page here instead.
    render_shell(st.session_state[_ENGINE_KEY])


def get_engine() -> Engine:
    """The engine the entry point prepared."""
    ensure_entry_point()
    return st.session_state[_ENGINE_KEY]


def db_key() -> str:
    """Identifies the database in cache keys (the cache is shared by all users of a server)."""
    return get_engine().url.render_as_string(hide_password=True)


def session() -> Session:
    return Session(get_engine(), expire_on_commit=False)


def user_name() -> str:
    return current_user().name


@st.cache_data(ttl=READ_TTL, show_spinner=False)
def _cached_settings(db: str) -> AppSettings:
    with session() as s:
        return get_settings(session=s)


def app_settings() -> AppSettings:
    """The working group's settings, cached like other reads and cleared on writes."""
    return _cached_settings(db_key())


def clear_caches() -> None:
    """After any write: every cached read is recomputed."""
    st.cache_data.clear()


# --- Banners and messages -------------------------------------------------------------------


def render_shell(engine: Engine) -> None:
    """What every page shows around its own content: the sidebar note and the demo banner."""
    with st.sidebar:
        st.caption("Takstkompas – køb af botilbudspladser (§107, §108, §105/§85)")
    demo_banner(engine)


def demo_banner(engine: Engine) -> None:
    """Say clearly when the database holds fictitious demo data."""
    with Session(engine) as s:
        kind = dataset_kind(session=s)
    if kind is None:
        return
    if st.session_state.get("demo_seeded_notice"):
        st.success("Databasen var ny, så den er fyldt med demodata, så du kan prøve værktøjet.")
        st.session_state["demo_seeded_notice"] = False
    size = "store testdata" if kind == "large" else "demodata"
    st.warning(
        f"**Demodata:** Takstkompas viser {size}. Alle leverandører, sager og beløb er "
        "fiktive. Indtast ikke rigtige sager, før demodata er fjernet under Indstillinger.",
        icon=":material/science:",
    )


def flash(message: str) -> None:
    """A success message shown once, after the rerun that follows a save."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    ensure_entry_point()
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")


# --- Forms ----------------------------------------------------------------------------------


def form_errors(form: str) -> dict[str, str]:
    return st.session_state.get(f"{form}__errors", {})


def field_error(form: str, field: str) -> None:
    """The Danish message for one field, right below it."""
    message = form_errors(form).get(field)
    if message:
        st.error(message, icon=":material/error:")


def form_error(form: str) -> None:
    """A message about the whole form (conflicts, duplicates)."""
    message = form_errors(form).get("_form")
    if message:
        st.error(message, icon=":material/error:")


def run_save(
    form: str,
    action: Callable[[], Any],
    success: str,
    on_success: Callable[[Any], None] | None = None,
) -> None:
    """Call a service; on success clear caches and flash; on error keep input and show why."""
    try:
        result = action()
    except InputError as exc:
        st.session_state[f"{form}__errors"] = exc.fields
        st.rerun()
    except ConflictError as exc:
        st.session_state[f"{form}__errors"] = {"_form": exc.message}
        st.rerun()
    except UserError as exc:
        st.session_state[f"{form}__errors"] = {"_form": exc.message}
        st.rerun()
    st.session_state.pop(f"{form}__errors", None)
    clear_caches()
    if on_success:
        on_success(result)
    flash(success)
    st.rerun()


def reset_form(form: str, keys: Sequence[str] = ()) -> None:
    """Forget a form's typed values, errors and loaded version."""
    prefix = f"{form}_"
    for key in list(st.session_state.keys()):
        if str(key).startswith(prefix) or key in keys:
            del st.session_state[key]


RELOAD_HELP = "Kasserer dine ændringer og viser det, der er gemt nu."


def reload_button(
    form: str, label: str = "Indlæs igen", *, always: bool = False, container: Any = st
) -> None:
    """After a conflict (or at any time, `always`): forget what was typed and show the saved
    version. Cached reads are cleared too, or the form would load the outdated copy again."""
    if not (always or "_form" in form_errors(form)):
        return
    if container.button(label, key=f"{form}__reload", help=RELOAD_HELP):
        reset_form(form)
        clear_caches()
        st.rerun()


def loaded_version(form: str, record_id: object, version: int) -> int:
    """The version of the record when the user opened it (kept across reruns)."""
    key = f"{form}__version_{record_id}"
    st.session_state.setdefault(key, version)
    return int(st.session_state[key])


def money_input(
    label_text: str, key: str, value: Decimal | None = None, help_text: str | None = None
) -> str:
    """Amounts are typed the Danish way (2.080,80) or plainly (2080.80); text keeps bad input."""
    if key not in st.session_state:
        st.session_state[key] = format_amount(value) if value is not None else ""
    return st.text_input(label_text, key=key, placeholder="fx 2.080,80", help=help_text)


def date_input(
    label_text: str,
    key: str,
    value: date | None = None,
    optional: bool = False,
    help_text: str | None = None,
) -> date | None:
    if key not in st.session_state:
        st.session_state[key] = value
    return st.date_input(
        label_text,
        key=key,
        format="DD.MM.YYYY",
        help=help_text,
        value=None if optional else "today",
        min_value=date(1990, 1, 1),
        max_value=date(2100, 12, 31),
    )


def select_code(
    label_text: str,
    options: Sequence[str],
    key: str,
    value: str | None = None,
    context: str | None = None,
    optional: bool = False,
    help_text: str | None = None,
) -> Any:
    """A selectbox over stored codes, showing their Danish labels."""
    choices: list[Any] = ([None] if optional else []) + list(options)
    if key not in st.session_state:
        st.session_state[key] = value if value in choices else choices[0]
    return st.selectbox(
        label_text,
        choices,
        key=key,
        help=help_text,
        format_func=lambda v: "—" if v is None else label(v, context),
        placeholder="—",  # a None value shows the placeholder, not "Choose an option"
    )


# --- Tables and exports ---------------------------------------------------------------------


def _display(value: Any, kind: str) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and pd.isna(value):
        return ""
    if kind == "money":
        return format_amount(value)
    if kind == "pct":
        return format_pct(value)
    if kind == "int":
        return format_number(value)
    if kind == "date":
        return format_date(value.date() if isinstance(value, pd.Timestamp) else value)
    return str(value)


def show_table(
    frame: pd.DataFrame,
    *,
    money: Sequence[str] = (),
    pct: Sequence[str] = (),
    ints: Sequence[str] = (),
    dates: Sequence[str] = (),
    links: Sequence[str] = (),
    key: str | None = None,
    height: int | None = None,
    selectable: bool = False,
    widths: Mapping[str, str] | None = None,
) -> Any:
    """A table with Danish number and date display that still sorts by the real values.

    `widths` sets a column's width ("small", "medium", "large") where the automatic width,
    taken from the first rows, would cut the text off.
    """
    shown = frame.copy()
    for column in money:  # display only: the values behind the Danish text are sortable floats
        shown[column] = pd.to_numeric(shown[column], errors="coerce").astype("Float64")
    for column in pct:
        shown[column] = pd.to_numeric(shown[column], errors="coerce").astype("Float64")
    for column in dates:
        shown[column] = pd.to_datetime(shown[column], errors="coerce")
    styler = shown.style
    for kind, columns in (("money", money), ("pct", pct), ("int", ints), ("date", dates)):
        if columns:
            styler = styler.format(lambda v, k=kind: _display(v, k), subset=list(columns))
    config: dict[str, Any] = {c: st.column_config.LinkColumn(c, display_text="Åbn") for c in links}
    for column, width in (widths or {}).items():
        config.setdefault(column, st.column_config.Column(column, width=width))
    kwargs: dict[str, Any] = {
        "hide_index": True,
        "width": "stretch",
        "column_config": config,
        "placeholder": "",  # missing values show as an empty cell, not "None"
    }
    if height:
        kwargs["height"] = height
    if selectable:
        kwargs.update(on_select="rerun", selection_mode="single-row", key=key)
    elif key:
        kwargs["key"] = key
    return st.dataframe(styler, **kwargs)


def export_buttons(
    frame: pd.DataFrame | Callable[[], pd.DataFrame],
    name: str,
    *,
    money: Sequence[str] = (),
    dates: Sequence[str] = (),
    pct: Sequence[str] = (),
    ints: Sequence[str] = (),
    key: str,
    deferred: bool = False,
) -> None:
    """Download the table as Excel and as CSV (semicolon, decimal comma).

    `deferred=True` builds the files only when a button is clicked (for long tables, where
    building the workbook on every rerun would slow the page down). `frame` may also be a
    function that builds the table, for exporting every row of a list shown a page at a time;
    it runs when clicked, outside the script (no `st.` calls, no cached reads).
    """
    stamp = date.today().strftime("%Y-%m-%d")
    make_frame = frame if callable(frame) else (lambda: frame)
    deferred = deferred or callable(frame)

    def xlsx() -> bytes:
        table = make_frame()
        return to_xlsx([Sheet(name, table, money=money, dates=dates, pct=pct, ints=ints)])

    def csv() -> bytes:
        return to_csv(make_frame(), money=money)

    left, right, _ = st.columns([1, 1, 6])
    left.download_button(
        "Excel",
        icon=":material/download:",
        data=xlsx if deferred else xlsx(),
        file_name=f"{name.lower().replace(' ', '_')}_{stamp}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        on_click="ignore",
    )
    right.download_button(
        "CSV",
        icon=":material/download:",
        data=csv if deferred else csv(),
        file_name=f"{name.lower().replace(' ', '_')}_{stamp}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )


def pager(total: int, key: str, page_size: int = 50) -> tuple[int, int]:
    """Page through a long list: returns (limit, offset) and shows where the user is."""
    pages = max(1, -(-total // page_size))
    if pages == 1:
        return page_size, 0
    page = st.number_input(f"Side (af {pages})", min_value=1, max_value=pages, step=1, key=key)
    return page_size, (int(page) - 1) * page_size
