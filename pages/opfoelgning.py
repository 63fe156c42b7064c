"""Opfølgning: due and overdue follow-ups, the year's plan, recording outcomes with SMART goals."""

from collections.abc import Callable
from datetime import date
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from sqlmodel import Session

from models import (
    FollowUpAction,
    FollowUpKind,
    GoalStatus,
    GoalType,
    Paragraph,
    Progression,
    SupportNeedChange,
    label,
)
from pages._ui import (
    allowed,
    app_settings,
    cached_read,
    date_input,
    edit_form,
    ensure_entry_point,
    export_buttons,
    field_error,
    md,
    pager,
    query_id,
    reset_form,
    section,
    select_code,
    show_flash,
    show_tab,
    show_table,
    tabs,
    unknown_link,
    user_name,
)
from services.errors import InputError
from services.followups import (
    assign_followup,
    list_goals,
    next_followup_text,
    plan_followup,
    record_followup,
    update_goal,
)
from services.formatting import MONTH_NAMES, format_date, format_number, format_pct
from services.queries.followups import (
    DUE_SOON,
    OVERDUE,
    FollowupCounts,
    OnTimeFigures,
    OpenFollowup,
    active_goal_count,
    assignee_choices,
    count_followup_worklist,
    find_contracts_to_follow_up,
    find_open_followups,
    followup_counts,
    followup_worklist,
    get_open_followup,
    month_plan,
    on_time_figures,
    provider_choices,
)
from services.rules.roles import capability_of
from services.settings import AppSettings

PAGE_SIZE = 50
SELECTED = "opfoelgning_selected_id"  # the open follow-up whose outcome is being recorded
LINKED = "opfoelgning_linked_id"  # the follow-up the page's address (?id=) opened
TABLE_GENERATION = "opfoelgning_table_gen"  # bumped after a save so old row selections go
LAST_PICK = "opfoelgning_last_pick"
NEXT_MESSAGE = "opfoelgning_next_message"
RECORD = "opfoelgning_record"
ASSIGN = "opfoelgning_assign"  # a new responsible person for the open follow-up
EXTRA = "opfoelgning_extra"  # planning an extra follow-up by hand
EXTRA_SECTION = "opfoelgning_section_extra"
WORKLIST_TAB = "opfoelgning_worklist_tab"
WORKLIST_TAB_KINDS = "opfoelgning_worklist_tab_kinds"  # last run's tab labels → list kind
OTHER_PERSON = "\x00anden"  # the choice "Anden person …" (no name can hold a NUL)
FLASH_AT = "opfoelgning_flash_at"  # the part of the page whose save the flash message is about
RECORD_PART = "record"
EXTRA_PART = "extra"
KINDS = (OVERDUE, DUE_SOON)  # the work lists, in tab order
GOAL_SLOTS = 3  # the issue: up to three SMART goals per follow-up
HORIZONS = [30, 60, 90]
PLAN_STATES = {  # column → Danish legend text and colour, in stacking order
    "on_time": ("Udført til tiden", "#2e7d32"),
    "late": ("Udført for sent", "#f9a825"),
    "overdue": ("Overskredet", "#c62828"),
    "upcoming": ("Kommende", "#90a4ae"),
}


# --- Helpers ----------------------------------------------------------------------------------


def _select(followup_id: int | None) -> None:
    """Open a follow-up in the record form; a new choice starts with empty forms."""
    if st.session_state.get(SELECTED) != followup_id:
        reset_form(RECORD)
        reset_form(ASSIGN)
    st.session_state[SELECTED] = followup_id
    st.session_state.pop(LINKED, None)


def _close() -> None:
    """Leave the record form; row selections in the lists are cleared too."""
    _select(None)
    st.session_state[TABLE_GENERATION] = st.session_state.get(TABLE_GENERATION, 0) + 1


def _filter_args(filters: tuple[Any, ...]) -> dict[str, Any]:
    """The page's filters (paragraphs, provider, "Mine sager") as the read services take them."""
    paragraphs, provider_id, assignee = filters
    return {"paragraphs": paragraphs, "provider_id": provider_id, "assignee": assignee}


def _saved_in(part: str) -> Callable[[Any], None]:
    """An edit_form `after_save`: the save's message shows in `part`, where the user acted."""

    def after_save(_result: Any) -> None:
        st.session_state[FLASH_AT] = part

    return after_save


def _flash_in(part: str) -> None:
    """The message of a save made in `part` of the page, shown there."""
    if st.session_state.get(FLASH_AT) == part:
        del st.session_state[FLASH_AT]
        show_flash()


def _assignee_box(
    label_text: str, key: str, value: str | None, help_text: str, *, other: bool = False
) -> str:
    """A responsible person picked by name: the current one, the user, or anyone who already
    has follow-ups (one spelling each, so "Mine sager" finds them); with `other`, also
    OTHER_PERSON, for which the caller asks for the name."""
    names = [value, user_name(), *cached_read(assignee_choices)]
    options = list(dict.fromkeys(n for n in names if n)) + ([OTHER_PERSON] if other else [])
    if st.session_state.get(key) not in options:
        st.session_state[key] = value or user_name()
    return str(
        st.selectbox(
            label_text,
            options,
            key=key,
            format_func=lambda n: "Anden person …" if n == OTHER_PERSON else n,
            help=help_text,
            placeholder="Vælg en person …",
        )
    )


def _followup_caption(f: OpenFollowup) -> str:
    return (
        f"{f.case_ref} · {f.provider} · {label(f.paragraph)} · "
        f"forfald {format_date(f.due_date)} · {label(f.kind)}"
    )


# --- Filters and key figures ------------------------------------------------------------------


def _filters() -> tuple[tuple[str, ...], int | None, str | None]:
    providers = dict(cached_read(provider_choices))
    left, middle, right = st.columns([2, 3, 1], vertical_alignment="bottom")
    paragraphs = left.multiselect(
        "Paragraf",
        [str(p) for p in Paragraph],
        key="opfoelgning_filter_paragraphs",
        format_func=label,
        placeholder="Alle paragraffer",
        select_all=False,
    )
    provider_id = middle.selectbox(
        "Leverandør",
        [None, *providers],
        key="opfoelgning_filter_provider",
        format_func=lambda i: "Alle leverandører" if i is None else providers.get(i, "?"),
        placeholder="Alle leverandører",
    )
    mine = right.toggle(
        "Mine sager",
        key="opfoelgning_filter_mine",
        help=f"Kun opfølgninger, hvor du ({md(user_name())}) står som ansvarlig.",
    )
    return tuple(sorted(paragraphs)), provider_id, user_name() if mine else None


def _key_figures(counts: FollowupCounts, on_time: OnTimeFigures) -> None:
    cols = st.columns(4)
    cols[0].metric(
        "Udført til tiden (12 mdr.)",
        "–" if on_time.share_on_time is None else format_pct(on_time.share_on_time, 0),
        help=(
            f"Af de {format_number(on_time.due)} opfølgninger med forfald "
            f"{format_date(on_time.period_from)}–{format_date(on_time.period_to)} er "
            f"{format_number(on_time.on_time)} udført senest på forfaldsdatoen, "
            f"{format_number(on_time.late)} for sent og {format_number(on_time.not_done)} "
            "endnu ikke."
        ),
    )
    cols[1].metric(
        "Overskredne",
        format_number(counts.overdue),
        help="Åbne opfølgninger med forfaldsdato før i dag.",
    )
    cols[2].metric("Forfalder inden for 30 dage", format_number(counts.due_next_30))
    cols[3].metric(
        "Åbne opfølgninger i alt",
        format_number(counts.open),
        help=f"{format_number(counts.done_last_12_months)} er udført de seneste 12 måneder.",
    )


# --- Work lists -------------------------------------------------------------------------------

WORKLIST_HEADERS = {
    "case_ref": "Sagsnummer",
    "provider": "Leverandør",
    "paragraph": "Paragraf",
    "due_date": "Forfaldsdato",
    "days_overdue": "Dage overskredet",
    "days_until_due": "Dage til forfald",
    "kind": "Type",
    "assignee": "Ansvarlig",
    "contract_status": "Kontraktstatus",
}


def _shown_worklist(frame: pd.DataFrame, kind: str, *, export: bool = False) -> pd.DataFrame:
    """Danish headers and labels. On screen the table is narrow enough for a laptop: short
    paragraph labels and no contract status; the export has both in full."""
    drop = {"days_until_due" if kind == OVERDUE else "days_overdue"}
    if not export:
        drop.add("contract_status")
    columns = {k: v for k, v in WORKLIST_HEADERS.items() if k not in drop}
    shown = frame.copy()
    for column in ("kind", "contract_status"):
        shown[column] = shown[column].map(label)
    shown["paragraph"] = shown["paragraph"].map(lambda p: label(p, None if export else "short"))
    shown["assignee"] = shown["assignee"].fillna("")
    return shown[list(columns)].rename(columns=columns)


def _worklist_tab(
    kind: str, total: int, today: date, horizon: int, filters: tuple[Any, ...]
) -> None:
    if total == 0:
        mine = " af dine sager" if filters[2] is not None else ""
        st.info(
            f"Ingen overskredne opfølgninger{mine} – flot."
            if kind == OVERDUE
            else f"Ingen opfølgninger{mine} forfalder de næste {horizon} dage."
        )
        return
    paragraphs, provider_id, assignee = filters
    # A new list gets a fresh page and selection.
    view = f"{horizon}_{'-'.join(paragraphs)}_{provider_id}_{assignee is not None}"
    key = f"opfoelgning_{kind}_page_{view}"
    pages = max(1, -(-total // PAGE_SIZE))
    if st.session_state.get(key, 1) > pages:  # the list shrank since the page was chosen
        st.session_state[key] = pages
    limit, offset = pager(total, key, PAGE_SIZE)
    worklist = {"kind": kind, "today": today, "horizon_days": horizon, **_filter_args(filters)}
    frame = cached_read(followup_worklist, **worklist, limit=limit, offset=offset).rows
    st.caption(
        f"{format_number(total)} opfølgninger · viser {offset + 1}–{offset + len(frame)} · "
        "vælg en række for at registrere udfaldet"
    )
    shown = _shown_worklist(frame, kind)
    ints = ["Dage overskredet" if kind == OVERDUE else "Dage til forfald"]
    generation = st.session_state.get(TABLE_GENERATION, 0)
    event = show_table(
        shown,
        dates=["Forfaldsdato"],
        ints=ints,
        key=f"opfoelgning_{kind}_table_{generation}_{view}_{offset}",
        selectable=True,
    )
    rows = event.selection.rows if event is not None else []
    last_pick = f"{LAST_PICK}_{kind}"
    if rows and rows[0] < len(frame):
        pick = (generation, view, offset, int(frame.iloc[rows[0]]["followup_id"]))
        if st.session_state.get(last_pick) != pick:  # only a new click opens a follow-up
            st.session_state[last_pick] = pick
            _select(pick[-1])
    else:
        st.session_state.pop(last_pick, None)
    name = "Overskredne opfølgninger" if kind == OVERDUE else "Kommende opfølgninger"
    everything = cached_read(followup_worklist, **worklist, limit=None, offset=0).rows
    export_buttons(
        _shown_worklist(everything, kind, export=True),
        name,
        dates=["Forfaldsdato"],
        ints=ints,
        key=f"opfoelgning_{kind}_export",
    )


def _worklists(today: date, filters: tuple[Any, ...]) -> None:
    st.subheader("Arbejdsliste")
    horizon = st.radio(
        "Kommende: forfalder inden for",
        HORIZONS,
        key="opfoelgning_horizon",
        horizontal=True,
        format_func=lambda d: f"{d} dage",
    )
    worklist = {"today": today, "horizon_days": horizon, **_filter_args(filters)}
    totals = {kind: cached_read(count_followup_worklist, kind=kind, **worklist) for kind in KINDS}
    labels = {
        OVERDUE: f"Overskredne ({format_number(totals[OVERDUE])})",
        DUE_SOON: f"Forfalder inden for {horizon} dage ({format_number(totals[DUE_SOON])})",
    }
    for kind, tab in _worklist_tabs(labels).items():
        if tab.open:  # only the list on screen is read and drawn
            with tab:
                _worklist_tab(kind, totals[kind], today, horizon, filters)


def _worklist_tabs(labels: dict[str, str]) -> dict[str, Any]:
    """The work lists' tabs by kind. Their labels carry counts and the horizon, which a save or
    a filter changes; the list the user is on stays selected all the same."""
    previous: dict[str, str] = st.session_state.get(WORKLIST_TAB_KINDS, {})
    kind = previous.get(st.session_state.get(WORKLIST_TAB, ""))
    if kind in labels:
        show_tab(WORKLIST_TAB, labels[kind])
    st.session_state[WORKLIST_TAB_KINDS] = {text: kind for kind, text in labels.items()}
    return dict(zip(labels, tabs(list(labels.values()), WORKLIST_TAB), strict=True))


# --- Recording an outcome ---------------------------------------------------------------------


def _search_followup() -> None:
    """Find an open follow-up by (part of) its case reference."""
    left, right = st.columns([1, 2])
    case_ref = left.text_input(
        "Søg på sagsnummer",
        key="opfoelgning_search_case",
        placeholder="fx SAG-2024-0042",
        help="Viser de åbne opfølgninger for sager, hvis sagsnummer indeholder teksten.",
    )
    if not case_ref.strip():
        return
    found = {f.followup_id: f for f in cached_read(find_open_followups, case_ref=case_ref)}
    if not found:
        right.info("Ingen åbne opfølgninger på et sagsnummer, der indeholder teksten.")
        return
    chosen = right.selectbox(
        "Åben opfølgning",
        list(found),
        key="opfoelgning_search_pick",
        placeholder="Vælg en opfølgning …",
        format_func=lambda i: _followup_caption(found[i]) if i in found else "?",
    )
    if right.button("Registrér udfald for denne", key="opfoelgning_pick"):
        _select(chosen)
        st.rerun()


def _goal_status_list(contract_id: int, settings: AppSettings) -> int:
    """The contract's active goals, each with a status change; returns the active count."""
    active = cached_read(active_goal_count, contract_id=contract_id)
    goals = [g.model_dump() for g in cached_read(list_goals, contract_id=contract_id)]
    active_goals = [g for g in goals if g["status"] == GoalStatus.ACTIVE]
    st.markdown(
        f"**Aktive SMART-mål** ({active} af højst {settings.max_active_goals})",
    )
    if not active_goals:
        st.caption("Kontrakten har ingen aktive mål.")
        return active
    for goal in active_goals:
        _goal_form(goal)
    return active


def _goal_form(goal: dict[str, Any]) -> None:
    """One active goal; only its status is changed here."""
    form = f"opfoelgning_goal_{goal['id']}"
    with st.container(border=True):
        text_col, status_col, button_col = st.columns([4, 2, 1], vertical_alignment="bottom")
        with text_col:
            st.markdown(f"**{md(goal['theme'])}** · {label(goal['goal_type'])}")
            st.text(goal["text"])
            details = []
            if goal["measure"]:
                details.append(f"Måles: {md(goal['measure'])}")
            if goal["deadline"]:
                details.append(f"Frist: {format_date(goal['deadline'])}")
            if details:
                st.caption(" · ".join(details))

        def fields() -> dict[str, Any]:
            status = status_col.selectbox(
                "Status",
                list(GoalStatus),
                key=f"{form}_status",
                format_func=label,
                placeholder="Vælg status …",
            )
            kept = {k: goal[k] for k in ("theme", "goal_type", "text", "measure", "deadline")}
            return kept | {"status": status}

        edit_form(
            form,
            fields,
            update_goal,
            args={"goal_id": goal["id"]},
            loaded=(goal["id"], goal["version"]),
            submit="Gem",
            submit_key=f"{form}_save",
            primary=False,
            button_place=lambda: button_col,
            success=lambda data: f"Målet er sat til »{label(data['status'])}«.",
            after_save=_saved_in(RECORD_PART),
        )


def _goal_rows(themes: tuple[str, ...], slots: int) -> list[dict[str, Any]]:
    """Up to `slots` SMART goal rows; a row left empty is not a goal."""
    goals = []
    for number in range(1, slots + 1):
        prefix = f"goal{number}_"

        def key(field: str, prefix: str = prefix) -> str:
            return f"{RECORD}_{prefix}{field}"

        with st.container(border=True):
            st.markdown(f"**Nyt mål {number}**")
            left, right = st.columns(2)
            theme = left.selectbox(
                "Tema (VUM)",
                [None, *themes],
                key=key("theme"),
                placeholder="Vælg tema …",
                format_func=lambda t: "Vælg tema …" if t is None else t,
            )
            with left:
                field_error(RECORD, f"{prefix}theme")
            with right:
                goal_type = select_code(
                    "Måltype", list(GoalType), key("goal_type"), GoalType.DEVELOP
                )
                field_error(RECORD, f"{prefix}goal_type")
            text = st.text_area(
                "Mål (specifikt og målbart)",
                key=key("text"),
                height=68,
                placeholder="fx Tager selv medicin morgen og aften",
            )
            field_error(RECORD, f"{prefix}text")
            left, right = st.columns(2)
            with left:
                measure = st.text_input(
                    "Hvordan måles det",
                    key=key("measure"),
                    placeholder="fx Medicinskema, ugentligt",
                )
                field_error(RECORD, f"{prefix}measure")
            with right:
                deadline = date_input("Frist", key("deadline"), optional=True)
                field_error(RECORD, f"{prefix}deadline")
        if theme is None and not text.strip() and not measure.strip() and deadline is None:
            continue
        goals.append(
            {
                "theme": theme,
                "goal_type": goal_type,
                "text": text,
                "measure": measure,
                "deadline": deadline,
            }
        )
    return goals


def _record(*, session: Session, followup_id: int, data: dict[str, Any], user: str) -> Any:
    """record_followup with the new goal rows, which the record form returns in its data."""
    values = dict(data)
    goals = values.pop("goals")
    return record_followup(
        session=session, followup_id=followup_id, data=values, goals=goals, user=user
    )


def _record_form(followup: OpenFollowup, settings: AppSettings) -> None:
    today = date.today()

    def key(field: str) -> str:
        return f"{RECORD}_{field}"

    with st.container(border=True):
        head, button = st.columns([5, 1], vertical_alignment="center")
        head.markdown(f"**{md(followup.case_ref)}** · {md(followup.provider)}")
        head.caption(
            f"{label(followup.paragraph)} · forfald {format_date(followup.due_date)} · "
            f"{label(followup.kind)} · kontrakt {label(followup.contract_status).lower()}"
            + (
                f" til {format_date(followup.contract_end)}"
                if followup.contract_end is not None
                else ""
            )
        )
        if button.button("Luk", key="opfoelgning_close", help="Vælg en anden opfølgning"):
            _close()
            st.rerun()
        if followup.due_date < today:
            st.caption(f"Overskredet med {format_number((today - followup.due_date).days)} dage.")
        _assign_form(followup)

        active = _goal_status_list(followup.contract_id, settings)

        def fields() -> dict[str, Any]:
            st.markdown("**Udfald**")
            left, middle, right = st.columns(3)
            with left:
                done_date = date_input("Udført den *", key("done_date"), today)
                field_error(RECORD, "done_date")
                done_by = st.text_input("Udført af *", key=key("done_by"), value=user_name())
                field_error(RECORD, "done_by")
            with middle:
                kind = select_code(
                    "Type *", list(FollowUpKind), key("kind"), FollowUpKind(followup.kind)
                )
                field_error(RECORD, "kind")
                progression = st.selectbox(
                    "Progression *",
                    list(Progression),
                    index=None,
                    key=key("progression"),
                    format_func=label,
                    placeholder="Vælg progression …",
                )
                field_error(RECORD, "progression")
            with right:
                support_need = select_code(
                    "Ændring i støttebehov *",
                    list(SupportNeedChange),
                    key("support_need_change"),
                    SupportNeedChange.UNCHANGED,
                )
                field_error(RECORD, "support_need_change")
                action = select_code(
                    "Handling *",
                    list(FollowUpAction),
                    key("action"),
                    FollowUpAction.CONTINUE,
                    help_text=(
                        "»Genforhandl« og støttebehov »Ned« sætter kontraktens "
                        "genforhandlingsdato, hvis den ikke er sat."
                    ),
                )
                field_error(RECORD, "action")
            note = st.text_area(
                "Notat",
                key=key("note"),
                height=90,
                help="Ingen navne, CPR-numre eller helbredsoplysninger – sagen er pseudonym.",
            )
            field_error(RECORD, "note")
            next_col, _ = st.columns([1, 2])
            with next_col:
                next_assignee = _assignee_box(
                    "Ansvarlig for næste opfølgning",
                    key("next_assignee"),
                    followup.assignee,
                    "Den, der får ansvaret for den opfølgning, kadencen planlægger efter denne.",
                )
                field_error(RECORD, "next_assignee")

            slots = min(GOAL_SLOTS, max(0, settings.max_active_goals - active))
            st.markdown("**Nye SMART-mål** (tomme rækker gemmes ikke)")
            field_error(RECORD, "goals")
            if slots == 0:
                st.caption(
                    f"Kontrakten har allerede {active} aktive mål (højst "
                    f"{settings.max_active_goals}). Sæt et mål til opnået, ikke opnået eller "
                    "opgivet ovenfor for at sætte nye."
                )
            goals = _goal_rows(settings.vum_themes, slots)
            return {
                "done_date": done_date,
                "done_by": done_by,
                "kind": kind,
                "progression": progression,
                "support_need_change": support_need,
                "action": action,
                "note": note,
                "next_assignee": next_assignee,
                "goals": goals,
            }

        def done(result: Any) -> None:
            recorded, upcoming = result
            st.session_state[NEXT_MESSAGE] = next_followup_text(
                recorded=recorded, upcoming=upcoming, contract_end=followup.contract_end
            )
            st.session_state[FLASH_AT] = RECORD_PART
            _close()
            for search in ("opfoelgning_search_case", "opfoelgning_search_pick"):
                st.session_state.pop(search, None)

        edit_form(
            RECORD,
            fields,
            _record,
            args={"followup_id": followup.followup_id},
            loaded=(followup.followup_id, followup.version),
            batch=True,
            border=False,
            submit="Gem opfølgning",
            submit_key="opfoelgning_record_save",
            success=f"Opfølgningen på {md(followup.case_ref)} er registreret.",
            after_save=done,
        )


def _assign_form(followup: OpenFollowup) -> None:
    """Who is responsible for the open follow-up ("Mine sager"), changed on its own."""
    box_col, button_col, _ = st.columns([2, 1, 2], vertical_alignment="bottom")

    def fields() -> dict[str, Any]:
        with box_col:
            assignee = _assignee_box(
                "Ansvarlig",
                f"{ASSIGN}_assignee",
                followup.assignee,
                "Den, der har ansvaret for opfølgningen. »Mine sager« viser dem, du har.",
                other=True,
            )
            if assignee == OTHER_PERSON:
                assignee = st.text_input(
                    "Navn på den nye ansvarlige", key=f"{ASSIGN}_other", max_chars=100
                )
            field_error(ASSIGN, "assignee")
        return {"assignee": assignee}

    def saved(_result: Any) -> None:
        # What is typed in the outcome form stays, and is saved on top of the new version;
        # the next follow-up goes to the new responsible person unless the user says otherwise.
        st.session_state.pop(f"{RECORD}__version_{followup.followup_id}", None)
        st.session_state.pop(f"{RECORD}_next_assignee", None)
        st.session_state[FLASH_AT] = RECORD_PART

    edit_form(
        ASSIGN,
        fields,
        assign_followup,
        args={"followup_id": followup.followup_id},
        loaded=(followup.followup_id, followup.version),
        submit="Skift ansvarlig",
        submit_key=f"{ASSIGN}_save",
        primary=False,
        button_place=lambda: button_col,
        success=lambda data: (
            f"{md(data['assignee'])} er nu ansvarlig for opfølgningen på {md(followup.case_ref)}."
        ),
        after_save=saved,
    )


def _record_section() -> None:
    st.subheader("Registrér udfald")
    _flash_in(RECORD_PART)
    message = st.session_state.pop(NEXT_MESSAGE, None)
    if message:
        st.info(md(message), icon=":material/event:")
    settings = app_settings()
    selected = st.session_state.get(SELECTED)
    followup = (
        cached_read(get_open_followup, followup_id=int(selected)) if selected is not None else None
    )
    if selected is not None and followup is None:
        if st.session_state.get(LINKED) == selected:
            unknown_link("en åben opfølgning")
        else:
            st.warning("Opfølgningen er allerede registreret eller findes ikke længere.")
        _select(None)
    if followup is None:
        st.caption("Vælg en opfølgning i arbejdslisten ovenfor, eller søg på sagsnummer.")
        _search_followup()
        return
    _record_form(followup, settings)


# --- The year's plan --------------------------------------------------------------------------


def _plan_chart(frame: pd.DataFrame) -> alt.Chart:
    long = frame.melt(
        id_vars=["month"], value_vars=list(PLAN_STATES), var_name="state", value_name="count"
    )
    long["Måned"] = long["month"].map(lambda m: MONTH_NAMES[m - 1][:3])
    long["Status"] = long["state"].map(lambda s: PLAN_STATES[s][0])
    long["order"] = long["state"].map(list(PLAN_STATES).index)
    legend = [text for text, _ in PLAN_STATES.values()]
    colours = [colour for _, colour in PLAN_STATES.values()]
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(
                "Måned:N",
                sort=[m[:3] for m in MONTH_NAMES],
                title=None,
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("count:Q", title="Opfølgninger", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "Status:N",
                scale=alt.Scale(domain=legend, range=colours),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("Måned:N"),
                alt.Tooltip("Status:N"),
                alt.Tooltip("count:Q", title="Antal"),
            ],
        )
        .properties(height=280)
    )


def _year_plan(today: date, filters: tuple[Any, ...]) -> None:
    st.subheader("Årsplan")
    years = list(range(today.year - 2, today.year + 2))
    year_col, _ = st.columns([1, 4])
    year = year_col.selectbox(
        "År",
        years,
        index=years.index(today.year),
        key="opfoelgning_plan_year",
        placeholder="Vælg år …",
    )
    frame = cached_read(month_plan, year=year, today=today, **_filter_args(filters))
    if int(frame["planned"].sum()) == 0:
        st.info(f"Der er ingen opfølgninger med forfald i {year}.")
        return
    st.altair_chart(_plan_chart(frame), width="stretch")
    shown = frame.assign(month=frame["month"].map(lambda m: MONTH_NAMES[m - 1].capitalize()))
    totals = frame.drop(columns="month").sum()
    shown.loc[len(shown)] = ["I alt", *[int(v) for v in totals]]
    shown = shown.rename(
        columns={
            "month": "Måned",
            "planned": "Planlagt",
            "done": "Udført",
            "on_time": "Til tiden",
            "late": "For sent",
            "overdue": "Overskredet",
            "upcoming": "Kommende",
        }
    )
    ints = [c for c in shown.columns if c != "Måned"]
    show_table(shown, ints=ints, key="opfoelgning_plan_table", height=35 * (len(shown) + 1) + 3)
    st.caption(
        "Efter forfaldsmåned. »Til tiden« er udført senest på forfaldsdatoen; »Overskredet« er "
        "ikke udført og forfaldet før i dag."
    )
    export_buttons(shown, f"Opfølgningsplan {year}", ints=ints, key="opfoelgning_plan_export")


# --- Planning an extra follow-up --------------------------------------------------------------


def _plan(*, session: Session, data: dict[str, Any], user: str) -> Any:
    """plan_followup, saying in words that no contract was chosen (not as a type error)."""
    if data["contract_id"] is None:
        raise InputError({"contract_id": "Vælg en kontrakt"})
    return plan_followup(session=session, data=data, user=user)


def _plan_extra() -> None:
    if not allowed(capability_of(plan_followup)):
        return  # only an action: not offered to a role that may not plan
    with section(":material/add: Planlæg en ekstra opfølgning", EXTRA_SECTION, forms=[EXTRA]):
        _flash_in(EXTRA_PART)
        st.caption(
            "Ud over de opfølgninger, kadencen planlægger, fx ved en henvendelse fra "
            "leverandøren eller et tilsyn."
        )
        case_ref = st.text_input(
            "Søg kontrakt på sagsnummer", key=f"{EXTRA}_case", placeholder="fx SAG-2024-0042"
        )
        contracts = {c[0]: c for c in cached_read(find_contracts_to_follow_up, case_ref=case_ref)}
        if case_ref.strip() and not contracts:
            st.info("Ingen kontrakter har et sagsnummer, der indeholder teksten.")

        def fields() -> dict[str, Any]:
            contract_id = st.selectbox(
                "Kontrakt *",
                [None, *contracts],
                key=f"{EXTRA}_contract_id",
                placeholder="Søg først på sagsnummer …",
                format_func=lambda i: (
                    "Søg først på sagsnummer …"
                    if i is None
                    else f"{contracts[i][1]} · {contracts[i][2]} · {label(contracts[i][3])}"
                    if i in contracts
                    else "?"
                ),
            )
            field_error(EXTRA, "contract_id")
            left, middle, right = st.columns(3)
            with left:
                due_date = date_input("Forfaldsdato *", f"{EXTRA}_due_date", date.today())
                field_error(EXTRA, "due_date")
            with middle:
                kind = select_code("Type *", list(FollowUpKind), f"{EXTRA}_kind")
                field_error(EXTRA, "kind")
            with right:
                assignee = _assignee_box(
                    "Ansvarlig *",
                    f"{EXTRA}_assignee",
                    None,
                    "Den, der har ansvaret for at gennemføre opfølgningen.",
                )
                field_error(EXTRA, "assignee")
            note = st.text_input("Notat", key=f"{EXTRA}_note")
            field_error(EXTRA, "note")
            return {
                "contract_id": contract_id,
                "due_date": due_date,
                "kind": kind,
                "assignee": assignee,
                "note": note,
            }

        edit_form(
            EXTRA,
            fields,
            _plan,
            batch=True,
            border=False,
            submit="Planlæg opfølgning",
            submit_key=f"{EXTRA}_save",
            primary=False,
            success=lambda data: (
                f"Opfølgningen er planlagt til {format_date(data['due_date'])} med "
                f"{md(data['assignee'])} som ansvarlig."
            ),
            after_save=_saved_in(EXTRA_PART),
        )


# --- The page ---------------------------------------------------------------------------------

st.title("Opfølgning")
if FLASH_AT in st.session_state:
    ensure_entry_point()  # the message of a save shows where the user saved, further down
else:
    show_flash()
st.caption(
    "Opfølgning med hver placering: progression, ændret støttebehov og SMART-mål i "
    "VUM-temaerne. Når et udfald gemmes, planlægges den næste opfølgning efter kadencen."
)

requested = st.query_params.get("id")  # a link from another page: ?id=<follow-up id>
if requested is not None and st.session_state.get(f"{LAST_PICK}_url") != requested:
    st.session_state[f"{LAST_PICK}_url"] = requested
    linked = query_id()
    if linked is None:
        unknown_link("en åben opfølgning")
    else:
        _select(linked)
        st.session_state[LINKED] = linked

today = date.today()
filters = _filters()
counts = cached_read(followup_counts, today=today, **_filter_args(filters))
on_time = cached_read(on_time_figures, today=today, **_filter_args(filters))
if counts.open == 0 and on_time.due == 0 and counts.done_last_12_months == 0:
    st.info(
        "Der er endnu ingen opfølgninger"
        + (" for det valgte filter." if any(filters) else ".")
        + " Den første opfølgning planlægges automatisk, når en aktiv kontrakt oprettes "
        "under Kontrakter, og du kan planlægge en ekstra opfølgning nederst på siden."
    )
_key_figures(counts, on_time)
_worklists(today, filters)
_record_section()
_year_plan(today, filters)
_plan_extra()
if FLASH_AT in st.session_state:  # the part it belonged to was not drawn: never lose it
    del st.session_state[FLASH_AT]
    show_flash()
