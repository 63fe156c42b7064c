"""Helpers shared by the pages: engine, cached reads, Danish tables, exports and forms.

Reads go through `cached_read` (one cache for every read service), writes through
`call_service` (a fresh session and the signed-in user). Forms go through `edit_form`:
widgets keep their values in `st.session_state` (keys prefixed with the form's name); a save
calls one service; an InputError is stored per field and shown next to the field after a
rerun, so nothing typed is lost; a conflict explains what to do and offers to reload.
"""

import inspect
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import label
from models.types import DATE_MAX, DATE_MIN
from pages._danish import danish_streamlit
from services.demo_data import dataset_kind
from services.errors import ConfirmationNeeded, ConflictError, InputError, UserError
from services.exports.tables import Sheet, to_csv, to_xlsx
from services.formatting import format_amount, format_date, format_number, format_pct
from services.markdown import markdown_literal
from services.rules.roles import LOWEST_ROLE, Capability, capability_of, may
from services.settings import AppSettings, get_settings
from services.unit_of_work import ROLE
from services.users import User

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
    if _ENGINE_KEY not in st.session_state or not _may_open_running_page():
        # A session's first run (nothing typed or clicked can be lost), or a page the user may
        # not open (signed out, no role, or not theirs): the entry point decides, not the page.
        st.rerun()
    # Later runs (AppTest after switch_page) carry a click or typed value that a rerun would
    # drop, so render what the entry point adds around the page here instead.
    render_shell(st.session_state[_ENGINE_KEY])


def _may_open_running_page() -> bool:
    """Whether the user of this session may see the page file running on its own."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.util import calc_hash

    from pages._nav import PAGES
    from services.rules.roles import may

    ctx = get_script_run_ctx()
    running = ctx.page_script_hash if ctx is not None else None
    role = current_user().role
    for spec in PAGES:  # a page run on its own has its file name's hash
        if calc_hash(spec.url_path) == running:
            return may(role, spec.capability)
    return False


def get_engine() -> Engine:
    """The engine the entry point prepared."""
    ensure_entry_point()
    return st.session_state[_ENGINE_KEY]


def db_key() -> str:
    """Identifies the database in cache keys (the cache is shared by all users of a server)."""
    return get_engine().url.render_as_string(hide_password=True)


def session() -> Session:
    return Session(get_engine(), expire_on_commit=False)


def current_user() -> User:
    """Who is working in this script run: the one seam every page and write asks
    (pages._auth: the signed-in user, or local mode's user)."""
    from pages._auth import signed_in_user

    return signed_in_user()


def user_name() -> str:
    return current_user().name


def allowed(capability: Capability | None) -> bool:
    """Whether the user's role has `capability` (None: nothing needed); for a part of a page
    that is only an action and is left out for a role that may not take it."""
    return capability is None or may(current_user().role, capability)


COMPARE_PAGE = "pages/sammenlign.py"
COMPARE_QUEUE = "cmp_queue"  # offers put aside for Sammenlign tilbud (kept across pages)


def compare_offer(offer_id: int) -> None:
    """Put an offer into the comparison (the latest three) and open Sammenlign tilbud."""
    queue = [i for i in st.session_state.get(COMPARE_QUEUE, []) if i != offer_id]
    queue = [*queue, offer_id][-3:]
    st.session_state[COMPARE_QUEUE] = queue
    st.session_state.pop("cmp_offers", None)  # the page starts from the queue
    st.switch_page(COMPARE_PAGE, query_params={"tilbud": ",".join(str(i) for i in queue)})


def history_link(entity: str, record_id: int) -> None:
    """For an admin: the record's whole history in Revisionsspor (?hvad=…&id=…)."""
    if allowed(Capability.ADMINISTER):
        st.page_link(
            "pages/revisionsspor.py",
            label="Se postens historik i revisionssporet",
            icon=":material/history:",
            query_params={"hvad": entity, "id": str(record_id)},
        )


def locked(capability: Capability | None) -> bool:
    """True, with a short note in place of the form, when the user's role lacks `capability`
    (None: nothing needed)."""
    if allowed(capability):
        return False
    role = current_user().role
    st.caption(
        f":material/lock: Kræver rollen {label(LOWEST_ROLE[capability])} eller højere. "
        f"Du er logget ind som {label(role) or 'bruger uden rolle'}."
    )
    return True


# --- Reads and writes -----------------------------------------------------------------------

T = TypeVar("T")


def _read(
    db: str, name: str, arguments: tuple[tuple[str, Any], ...], _fn: Callable[..., Any]
) -> Any:
    """Behind cached_read. The cache key is `db`, `name` and `arguments`; Streamlit does not
    hash `_fn` (leading underscore), its qualified `name` stands for it."""
    with session() as s:
        return _fn(session=s, **dict(arguments))


# st.cache_data fixes the spinner text per decorated function. Every text gets its own
# wrapper of `_read`; being the same function, they all share one cache.
_READERS: dict[str, Callable[..., Any]] = {}


def _reader(spinner: str | None) -> Callable[..., Any]:
    text = spinner or ""
    if text not in _READERS:
        _READERS[text] = st.cache_data(ttl=READ_TTL, show_spinner=text or False)(_read)
    return _READERS[text]


def cached_read(fn: Callable[..., T], /, *, spinner: str | None = None, **kwargs: Any) -> T:
    """`fn(session=…, **kwargs)` for a read service, cached for every user of the database.

    Keyed by the database, the function and its keyword arguments, which must be hashable
    (tuples and frozen dataclasses, not lists). An entry is at most READ_TTL seconds old;
    clear_caches() drops them all after a write. `spinner` is shown while a missing entry is
    computed.
    """
    if "<" in fn.__qualname__:  # lambdas and local functions share names: no cache key
        raise TypeError(f"cached_read needs a module-level service, not {fn.__qualname__}")
    arguments = tuple(sorted(kwargs.items()))
    try:
        hash(arguments)
    except TypeError as exc:
        raise TypeError(f"cached_read({fn.__qualname__}): arguments must be hashable") from exc
    name = f"{fn.__module__}.{fn.__qualname__}"
    return _reader(spinner)(db_key(), name, arguments, fn)


def app_settings() -> AppSettings:
    """The working group's settings, cached like other reads and cleared on writes."""
    return cached_read(get_settings)


def clear_caches() -> None:
    """After any write: every cached read is recomputed."""
    st.cache_data.clear()


def call_service(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a service in a fresh session, as the signed-in user when it takes a `user`."""
    if "user" in inspect.signature(fn).parameters:
        kwargs["user"] = user_name()
    with session() as s:
        s.info[ROLE] = current_user().role  # every action checks it (services.rules.roles)
        return fn(session=s, **kwargs)


# --- User text and links -------------------------------------------------------------------

# Record ids are INTEGER columns: 32 bits on PostgreSQL, so a larger number is no record's id.
MAX_ID = 2**31 - 1
_ID_TEXT = re.compile(r"[0-9]{1,10}")


def md(text: object) -> str:
    """User text for a call that renders Markdown (st.markdown, st.subheader, st.caption,
    st.success, metric and widget labels, tab and expander labels, radio options …): shown
    exactly as typed, never as an image, a link, formatting, an icon or a formula.

    Line breaks become spaces (a heading or caption is one line; the browser shows a run of
    spaces as one anyway). Selectbox and multiselect options are plain text: pass them as is.
    A block of user text (a note) is better shown with st.text.
    """
    return markdown_literal(text)  # one escaping, shared with service messages


def parse_id(text: object) -> int | None:
    """A record id given from outside (a link): ASCII digits only, 1 to MAX_ID, else None."""
    if not isinstance(text, str) or not _ID_TEXT.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def query_id(name: str = "id") -> int | None:
    """The record id in the page's address (`?id=42`); None when absent or not an id."""
    return parse_id(st.query_params.get(name))


def unknown_link(what: str) -> None:
    """The page's address names no record it can show: say so instead of failing."""
    st.warning(f"Linket peger ikke på {what}.", icon=":material/link_off:")


# --- Banners and messages -------------------------------------------------------------------


def render_shell(engine: Engine) -> None:
    """What every page shows around its own content: the sidebar note and the demo banner."""
    empty_fields_in_browser()  # before the page draws its forms
    with st.sidebar:
        st.caption("Takstkompas – køb af botilbudspladser (§107, §108, §105/§85)")
    table_toolbar_hidden()
    danish_streamlit()
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

# The fields of the form being drawn whose errors are shown next to them (see edit_form).
_SHOWN_FIELDS: ContextVar[tuple[str, set[str]] | None] = ContextVar("shown_fields", default=None)


def form_errors(form: str) -> dict[str, str]:
    return st.session_state.get(f"{form}__errors", {})


CONFIRM_LABEL = "Ja, det er rigtigt: gem alligevel"


def field_error(form: str, field: str) -> None:
    """The Danish message for one field, right below it; for a plausible mistake
    (ConfirmationNeeded) a checkbox to confirm it, read by `confirmed_fields`."""
    shown = _SHOWN_FIELDS.get()
    if shown is not None and shown[0] == form:
        shown[1].add(field)
    message = form_errors(form).get(field)
    if message:
        if field in st.session_state.get(f"{form}__confirm", ()):
            st.warning(message, icon=":material/warning:")
            st.checkbox(CONFIRM_LABEL, key=f"{form}__confirm_{field}")
        else:
            st.error(message, icon=":material/error:")


def confirmed_fields(form: str) -> list[str]:
    """The fields whose plausibility warning the user has confirmed (the data's `confirmed`)."""
    return [
        field
        for field in st.session_state.get(f"{form}__confirm", ())
        if st.session_state.get(f"{form}__confirm_{field}") is True
    ]


def form_error(form: str) -> None:
    """A message about the whole form (conflicts, duplicates)."""
    message = form_errors(form).get("_form")
    if message:
        st.error(message, icon=":material/error:")


def _unshown_errors(form: str, shown: Collection[str]) -> None:
    """Messages for fields the form does not show (should not happen, but never hide them)."""
    for field, message in form_errors(form).items():
        if field != "_form" and field not in shown:
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
    except ConfirmationNeeded as exc:
        # Keep the confirmations already ticked for fields that still need them.
        st.session_state[f"{form}__errors"] = exc.fields
        st.session_state[f"{form}__confirm"] = list(exc.fields)
        st.rerun()
    except InputError as exc:
        st.session_state[f"{form}__errors"] = exc.fields
        st.session_state.pop(f"{form}__confirm", None)
        st.rerun()
    except ConflictError as exc:
        st.session_state[f"{form}__errors"] = {"_form": exc.message}
        st.rerun()
    except UserError as exc:
        st.session_state[f"{form}__errors"] = {"_form": exc.message}
        st.rerun()
    st.session_state.pop(f"{form}__errors", None)
    st.session_state.pop(f"{form}__confirm", None)
    clear_caches()
    if on_success:
        on_success(result)
    flash(success)
    st.rerun()


_EMPTIED_IN_BROWSER = "_ui_emptied_fields"
_SEEDED = "_ui_seeded_fields"  # widgets whose first value a helper sets through session_state
# Widget values that st.session_state may set (not buttons, uploads or grids).
_SETTABLE_VALUES = {
    "string_value",
    "bool_value",
    "int_value",
    "double_value",
    "string_array_value",
    "int_array_value",
    "double_array_value",
}


def _drawn_default(key: str) -> tuple[bool, Any]:
    """The default the widget under `key` was drawn with (its `value=`/`index=`), if any."""
    from streamlit.runtime.state.session_state_proxy import get_session_state

    state = get_session_state()._state  # no public API: WidgetMetadata holds the default
    widget_id = state.get_widget_id_from_key(key)
    metadata = state.get_widget_metadata(widget_id) if widget_id else None
    if metadata is None or metadata.value_type not in _SETTABLE_VALUES:
        return False, None
    return True, metadata.deserializer(None)


def reset_form(form: str, keep: Collection[str] = (), *, in_browser: bool = False) -> None:
    """Forget a form's typed values, errors and loaded versions, except the keys in `keep`.

    `in_browser`: also empty the fields the browser shows, for a form that creates something.
    Deleting a widget's key resets it on the server only: the browser keeps showing (and sends
    again) what was typed, unless the next run sets the key before drawing the widget. So the
    defaults the widgets were drawn with are set at the start of the next run
    (`empty_fields_in_browser`). Not for a form showing a stored record (its defaults are the
    record as it was before the save), nor for fields the page seeds through st.session_state
    itself (the _ui helpers money_input, date_input and select_code mark theirs)."""
    prefix = f"{form}_"
    for key in list(st.session_state.keys()):
        if str(key).startswith(prefix) and key not in keep:
            forget_field(str(key), in_browser=in_browser)


def forget_field(key: str, *, in_browser: bool = True) -> None:
    """Forget one widget's value; `in_browser`: the browser shows its default again too (see
    reset_form), e.g. the choice that opened a form whose record is now saved."""
    if key not in st.session_state:
        return
    seeded = st.session_state.get(_SEEDED, set())
    if key in seeded:  # its helper seeds it again before drawing it, which the browser shows
        seeded.discard(key)
        in_browser = False
    settable, default = _drawn_default(key) if in_browser else (False, None)
    del st.session_state[key]
    if settable:
        emptied = st.session_state.get(_EMPTIED_IN_BROWSER, {})
        st.session_state[_EMPTIED_IN_BROWSER] = {**emptied, key: default}


def _seed(key: str, value: Any) -> None:
    """A widget's first value, set through st.session_state (which the browser shows)."""
    st.session_state[key] = value
    st.session_state.setdefault(_SEEDED, set()).add(key)


def empty_fields_in_browser() -> None:
    """Before any widget is drawn: give the fields a save emptied (reset_form `in_browser`)
    their defaults through st.session_state, which tells the browser to show them."""
    for key, default in st.session_state.pop(_EMPTIED_IN_BROWSER, {}).items():
        if key not in st.session_state:
            st.session_state[key] = default


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


def edit_form(
    form: str,
    fields: Callable[[], Mapping[str, Any]],
    service: Callable[..., Any],
    *,
    success: str | Callable[[Mapping[str, Any]], str],
    args: Mapping[str, Any] | None = None,
    loaded: tuple[object, int] | None = None,
    submit: str = "Gem ændringer",
    submit_key: str | None = None,
    primary: bool = True,
    batch: bool = False,
    border: bool = True,
    reload: bool | None = None,
    reload_always: str | None = None,
    keep: Collection[str] = (),
    after_save: Callable[[Any], None] | None = None,
    button_place: Callable[[], Any] | None = None,
    empty_in_browser: bool = False,
    capability: Capability | None = None,
) -> None:
    """One form's whole cycle: draw it, save it through one service, show what went wrong.

    `fields` draws the widgets (keys `{form}_<field>`, `field_error` below each) and returns
    what was typed. On save the service gets it as `data=` through call_service, with `args`
    and, for a form that edits a stored record, the `version` of `loaded` (the record's id
    and version when first shown, kept until the form is forgotten).

    An InputError shows each message at its field (one the form has no place for, below the
    fields); a conflict or other refusal shows at the top with the reload button (`reload`,
    by default on forms with a `loaded` record; `reload_always`: the label of a reload
    button shown at all times). A save flashes `success` (a text, or made from the data),
    clears the caches, forgets the form's keys except the fields in `keep`, calls
    `after_save` with the service's result and reruns: the page stays where it was, on the
    same tab.

    `empty_in_browser`: for a form that creates something (a note, a new record): after a save
    the browser shows its fields with their defaults again, not what was just saved (see
    reset_form; not for fields a page seeds through st.session_state itself).

    `capability`: what the user's role must allow for the form to be shown (default: what the
    service needs, services.rules.roles.WRITE_CAPABILITY; give it for a page's own wrapper);
    without it a short note says which role may.

    `batch`: the widgets are in an `st.form` named `form`, so typing does not rerun the page.
    `button_place` returns the container for the save button (not with `batch`).
    """
    # A form the user's role may not save is not offered (the service refuses it too).
    if locked(capability if capability is not None else capability_of(service)):
        return
    version = loaded_version(form, *loaded) if loaded is not None else None
    form_error(form)
    if reload_always is not None:
        reload_button(form, reload_always, always=True)
    elif loaded is not None if reload is None else reload:
        reload_button(form)  # only after a form-level error
    shown: set[str] = set()
    token = _SHOWN_FIELDS.set((form, shown))
    button_type = "primary" if primary else "secondary"
    key = submit_key or f"{form}__save"
    try:
        if batch:
            with st.form(form, border=border, enter_to_submit=False):
                data = dict(fields())
                _unshown_errors(form, shown)
                submitted = st.form_submit_button(submit, type=button_type, key=key)
        else:
            data = dict(fields())
            _unshown_errors(form, shown)
            place = button_place() if button_place is not None else st
            submitted = place.button(submit, type=button_type, key=key)
    finally:
        _SHOWN_FIELDS.reset(token)
    if not submitted:
        return
    if version is not None:
        data["version"] = version
    data["confirmed"] = confirmed_fields(form)

    def saved(result: Any) -> None:
        reset_form(form, keep={f"{form}_{field}" for field in keep}, in_browser=empty_in_browser)
        if after_save is not None:
            after_save(result)

    run_save(
        form,
        lambda: call_service(service, **(args or {}), data=data),
        success if isinstance(success, str) else success(data),
        on_success=saved,
    )


# --- Tabs and sections that stay where the user acted -------------------------------------


def tabs(labels: Sequence[str], key: str) -> Sequence[Any]:
    """Tabs that keep the selected tab across saves and reruns (the selection is widget state
    under `key`), so a save's result or error shows on the tab where the user acted. A hidden
    tab's `.open` is False: its content need not be drawn."""
    if st.session_state.get(key) not in labels:
        st.session_state.pop(key, None)
    return st.tabs(list(labels), key=key, on_change="rerun")


def show_tab(key: str, label: str) -> None:
    """Select a tab of `tabs(…, key)` on the next run (before the tabs are drawn)."""
    st.session_state[key] = label


def section(label: str, key: str, *, forms: Collection[str] = (), expanded: bool = False) -> Any:
    """A collapsible section that remembers whether it is open, and opens by itself when one of
    its `forms` has an error to show (an error in a closed section would be hidden)."""
    if any(form_errors(form) for form in forms):
        st.session_state[key] = True
    elif key not in st.session_state:
        st.session_state[key] = expanded
    return st.expander(label, key=key, on_change="rerun")


def money_input(
    label_text: str, key: str, value: Decimal | None = None, help_text: str | None = None
) -> str:
    """Amounts are typed the Danish way (2.080,80) or plainly (2080.80); text keeps bad input."""
    if key not in st.session_state:
        _seed(key, format_amount(value) if value is not None else "")
    return st.text_input(label_text, key=key, placeholder="fx 2.080,80", help=help_text)


def date_input(
    label_text: str,
    key: str,
    value: date | None = None,
    optional: bool = False,
    help_text: str | None = None,
) -> date | None:
    if key not in st.session_state:
        _seed(key, value)
    return st.date_input(
        label_text,
        key=key,
        format="DD.MM.YYYY",
        help=help_text,
        value=None if optional else "today",
        min_value=DATE_MIN,  # what the services accept: a stored date always fits
        max_value=DATE_MAX,
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
        _seed(key, value if value in choices else choices[0])
    return st.selectbox(
        label_text,
        choices,
        key=key,
        help=help_text,
        format_func=lambda v: "—" if v is None else label(v, context),
        placeholder="—",  # a None value shows the placeholder, not "Choose an option"
    )


@contextmanager
def progress_bar(text: Callable[[int], str], total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar for long work (an import, a batch of e-invoices): the callback takes how
    much is done; `text` says it in Danish. Gone when the work is done."""
    bar = st.empty()
    total = max(total, 1)

    def show(done: int) -> None:
        bar.progress(min(done / total, 1.0), text=text(done))

    try:
        yield show
    finally:
        bar.empty()


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


def _body_texts(styler: Styler, formats: Mapping[str, Callable[[Any], str]]) -> dict[str, Any]:
    """What st.dataframe reads of a Styler: each body cell's id and display text.

    st.dataframe sends a Styler's cells as their values plus a display text each, and gets the
    texts by calling the Styler's `_translate` and reading the id and display value of every
    body cell. pandas' own `_translate` builds the whole HTML model (headers, classes,
    attributes, styles) for that, which took most of a table's time per click; this builds only
    the body cells, the formatted columns by `formats`, the others by pandas' default. No
    styles: the app sets none. tests/test_tables.py holds what Streamlit sends equal to pandas'
    own Styler with the same formats.
    """
    body = []
    for index, name in enumerate(styler.data.columns):
        show = formats.get(name) or styler._display_funcs[(0, index)]
        body.append(
            [
                {"id": f"row{row}_col{index}", "display_value": show(value)}
                for row, value in enumerate(styler.data.iloc[:, index])
            ]
        )
    return {"body": body}


def display_styler(
    frame: pd.DataFrame,
    *,
    money: Sequence[str] = (),
    pct: Sequence[str] = (),
    ints: Sequence[str] = (),
    dates: Sequence[str] = (),
) -> Styler:
    """`frame` with Danish display texts for its money, percent, whole-number and date columns;
    the values behind the texts stay sortable (money and percent as floats, dates as dates)."""
    shown = frame.copy()
    for column in money:  # display only: the values behind the Danish text are sortable floats
        shown[column] = pd.to_numeric(shown[column], errors="coerce").astype("Float64")
    for column in pct:
        shown[column] = pd.to_numeric(shown[column], errors="coerce").astype("Float64")
    for column in dates:
        shown[column] = pd.to_datetime(shown[column], errors="coerce")
    formats: dict[str, Callable[[Any], str]] = {}
    for kind, columns in (("money", money), ("pct", pct), ("int", ints), ("date", dates)):
        for column in columns:
            formats[column] = lambda v, k=kind: _display(v, k)
    styler = Styler(shown)
    # On this object only (Streamlit accepts a Styler by its exact class, not a subclass).
    styler._translate = lambda *args, **kwargs: _body_texts(styler, formats)  # type: ignore[method-assign]
    return styler


def show_table(
    frame: pd.DataFrame,
    *,
    money: Sequence[str] = (),
    pct: Sequence[str] = (),
    ints: Sequence[str] = (),
    dates: Sequence[str] = (),
    links: Sequence[str] = (),
    key: str | None = None,
    height: int | str | None = None,
    selectable: bool = False,
    widths: Mapping[str, str | int] | None = None,
    pinned: Sequence[str] = (),
    always_selected: bool = False,
) -> Any:
    """A table with Danish number and date display that still sorts by the real values.

    `widths` sets a column's width ("small", "medium", "large" or pixels) where the automatic
    width, taken from the first rows, would cut the text off. `height` in pixels, or "content"
    for every row without a scroll box of its own. `pinned` columns stay in view when the
    table scrolls sideways. The table's own toolbar is hidden (table_toolbar_hidden).
    """
    styler = display_styler(frame, money=money, pct=pct, ints=ints, dates=dates)
    config: dict[str, Any] = {c: st.column_config.LinkColumn(c, display_text="Åbn") for c in links}
    for column in {*(widths or {}), *pinned}:
        config.setdefault(
            column,
            st.column_config.Column(
                column, width=(widths or {}).get(column), pinned=True if column in pinned else None
            ),
        )
    kwargs: dict[str, Any] = {
        "hide_index": True,
        "width": "stretch",
        "column_config": config,
        "placeholder": "",  # missing values show as an empty cell, not "None"
    }
    if height:
        kwargs["height"] = height
    if selectable:  # `always_selected`: one row is always chosen, the first to begin with
        mode = "single-row-required" if always_selected else "single-row"
        kwargs.update(on_select="rerun", selection_mode=mode, key=key)
    elif key:
        kwargs["key"] = key
    return st.dataframe(styler, **kwargs)


# The tables' own toolbar is English ("Search", "Fullscreen", "Show/hide columns", "Clear
# selection") and its "Download as CSV" writes raw cell text, past the neutralised exports.
# The download is switched off where Streamlit supports it, client.disableDataExport in
# .streamlit/config.toml; no option hides or translates the rest, so this static style (no user
# data) hides the toolbar of every table. The pages' own search, sort and export buttons stand
# in for it.
TABLE_TOOLBAR_STYLE = (
    "<style>"
    '[data-testid="stDataFrame"] [data-testid="stElementToolbar"] { display: none !important; }'
    "</style>"
)


def table_toolbar_hidden() -> None:
    """Hide the tables' English toolbar (once per run, from render_shell)."""
    st.html(TABLE_TOOLBAR_STYLE)


def export_buttons(
    frame: pd.DataFrame | Callable[[], pd.DataFrame],
    name: str,
    *,
    money: Sequence[str] = (),
    dates: Sequence[str] = (),
    pct: Sequence[str] = (),
    ints: Sequence[str] = (),
    key: str,
    deferred: bool = True,
) -> None:
    """Download the table as Excel and as CSV (semicolon, decimal comma), in one click.

    The files are built only when a button is clicked (building a workbook on every click of
    the page cost more than the page's own queries): the button shows a spinner until the file
    is ready, then the browser saves it. `deferred=False` builds them with the page. `frame`
    may also be a function that builds the table, for exporting every row of a list shown a
    page at a time; it runs when clicked, outside the script (no `st.` calls, no cached reads).
    """
    stamp = date.today().strftime("%Y-%m-%d")
    make_frame = frame if callable(frame) else (lambda: frame)
    deferred = deferred or callable(frame)

    def xlsx() -> bytes:
        table = make_frame()
        return to_xlsx([Sheet(name, table, money=money, dates=dates, pct=pct, ints=ints)])

    def csv() -> bytes:
        return to_csv(make_frame(), money=money)

    building = " Filen bygges, når du klikker; knappen viser, at der arbejdes." if deferred else ""
    file_stem = f"{name.lower().replace(' ', '_')}_{stamp}"
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        "Excel",
        icon=":material/download:",
        data=xlsx if deferred else xlsx(),
        file_name=f"{file_stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        on_click="ignore",
        help=f"Hent tabellen som Excel-ark.{building}",
    )
    row.download_button(
        "CSV",
        icon=":material/download:",
        data=csv if deferred else csv(),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        help=f"Hent tabellen som CSV (semikolon og decimalkomma).{building}",
    )


def _page_number(value: object) -> int:
    """The page kept in session state, as a whole number (1 when missing or unreadable)."""
    try:
        return int(str(value))
    except ValueError:
        return 1


def _turn_to(key: str, page: int) -> None:
    st.session_state[key] = page


def pager(total: int, key: str, page_size: int = 50) -> tuple[int, int]:
    """Page through a long list: "Forrige"/"Næste" and "Side x af y"; returns (limit, offset).

    The page number (from 1) is kept in `st.session_state[key]`, so a page may set it (1: back
    to the start) or remove it when its list changes; past the last page (the list shrank) the
    last page shows.
    """
    pages = max(1, -(-total // page_size))
    page = min(max(_page_number(st.session_state.get(key)), 1), pages)
    st.session_state[key] = page
    if pages == 1:
        return page_size, 0
    # Wraps rather than cuts a button off in a narrow column.
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.button(
        "Forrige",
        key=f"{key}_previous",
        icon=":material/chevron_left:",
        disabled=page == 1,
        on_click=_turn_to,
        args=(key, page - 1),
    )
    row.markdown(
        f"Side {format_number(page)} af {format_number(pages)}", width="content", wrap=False
    )
    row.button(
        "Næste",
        key=f"{key}_next",
        icon=":material/chevron_right:",
        icon_position="right",
        disabled=page == pages,
        on_click=_turn_to,
        args=(key, page + 1),
    )
    return page_size, (page - 1) * page_size
