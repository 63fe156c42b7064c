"""Sammenlign tilbud: 2–3 offers side by side for the visitation committee (SPEC 10, 4.8).

The caseworker picks the offers (here, or with "Sammenlign" in Prisopslag), a start date and
the add-ons expected with each; the page shows the regulated rates, annual amounts, what the
price contains, quality and what colleagues wrote, the 10 % rule against the visited offer, and
a weighing with the municipality's parameters. Everything is computed by
services.queries.comparison from one checked input, so the screen, the Excel file and the
printable page agree. A comparison can be saved under a case reference and reopened."""

from datetime import date
from decimal import Decimal
from typing import Any

import streamlit as st

from models import ComparisonAddon, PriceUnit, label
from models.comparison import MAX_OFFERS
from pages._ui import (
    COMPARE_QUEUE,
    app_settings,
    cached_read,
    call_service,
    date_input,
    field_error,
    form_errors,
    locked,
    money_input,
    run_save,
    session,
    show_flash,
)
from services.comparisons import check_comparison, load_comparison, saved_comparisons
from services.comparisons import save_comparison as save_comparison_service
from services.cpr import CPR_MESSAGE, contains_cpr
from services.errors import InputError, UserError
from services.formatting import format_date, format_number
from services.queries.comparison import (
    Comparison,
    build_comparison,
    comparison_frame,
    comparison_workbook,
    explanation,
    offer_choices,
    printable_html,
)
from services.rules.roles import Capability
from services.rules.weighing import PARAMETERS, PRICE, PRICE_POINTS_RULE
from services.settings import AppSettings
from services.validation import validate

FORM = "compare"
OFFERS = "cmp_offers"
START = "cmp_start"
VISITED = "cmp_visited"
CASE_REF = "cmp_case_ref"
LOADED = "cmp_loaded"  # (id, version) of the comparison reopened, saved over on Gem
ADDON_SLOTS = 2  # add-on rows per offer on the page
SCORED = [key for key in PARAMETERS if key != PRICE]
UNITS = [PriceUnit.MONTH.value, PriceUnit.DAY.value, PriceUnit.YEAR.value]
QUERY = "tilbud"  # ?tilbud=12,34: the offers to compare, from Prisopslag
VISITED_QUERY = "visiteret"  # ?visiteret=12: the one the citizen was visited to


def _key(*parts: object) -> str:
    return "cmp_" + "_".join(str(p) for p in parts)


def _from_link(choices: dict[int, str]) -> None:
    """Offers named in the address (Prisopslag's "Sammenlign") are the first selection."""
    raw = st.query_params.get(QUERY)
    if raw is None or OFFERS in st.session_state:
        return
    ids = []
    for part in str(raw).split(",")[: MAX_OFFERS * 2]:
        if part.strip().isdigit() and int(part) in choices and int(part) not in ids:
            ids.append(int(part))
    st.session_state[OFFERS] = ids[:MAX_OFFERS]
    visited = str(st.query_params.get(VISITED_QUERY, ""))
    if visited.isdigit() and int(visited) in ids:
        st.session_state[VISITED] = int(visited)


def _reopen(comparison_id: int) -> None:
    """Put a saved comparison's inputs into the page's fields (before they are drawn)."""
    with session() as s:
        row, data = load_comparison(session=s, comparison_id=comparison_id)
    for key in list(st.session_state):
        if str(key).startswith("cmp_") and key not in ("cmp_saved", COMPARE_QUEUE):
            del st.session_state[key]
    st.session_state[OFFERS] = data["offer_ids"]
    st.session_state[START] = date.fromisoformat(data["start_date"])
    st.session_state[VISITED] = data.get("visited_id")
    st.session_state[CASE_REF] = row.case_ref
    st.session_state[LOADED] = (row.id, row.version)
    slots: dict[int, int] = {}
    for addon in data.get("addons", []):
        offer_id = addon["offer_id"]
        slot = slots.get(offer_id, 0)
        if slot >= ADDON_SLOTS:
            continue
        slots[offer_id] = slot + 1
        st.session_state[_key("addon", offer_id, slot, "name")] = addon["name"]
        st.session_state[_key("addon", offer_id, slot, "price")] = format_number(
            Decimal(addon["price"]), 2
        )
        st.session_state[_key("addon", offer_id, slot, "unit")] = addon["unit"]
    for key, value in data.get("weights", {}).items():
        st.session_state[_key("weight", key)] = int(Decimal(value))
    for offer_id, scores in data.get("scores", {}).items():
        for key, value in scores.items():
            st.session_state[_key("score", offer_id, key)] = int(Decimal(value))
    for offer_id, reasons in data.get("reasons", {}).items():
        for key, value in reasons.items():
            st.session_state[_key("reason", offer_id, key)] = value or ""
    st.session_state.pop(f"{FORM}__errors", None)


def _choose(choices: dict[int, str], settings: AppSettings) -> tuple[list[int], date, Any]:
    st.multiselect(
        f"Tilbud (2–{MAX_OFFERS})",
        list(choices),
        key=OFFERS,
        format_func=lambda i: choices.get(i, f"Tilbud nr. {i}"),
        max_selections=MAX_OFFERS,
        select_all=False,
        placeholder="Søg på tilbud, leverandør eller paragraf",
        help="Vælg de tilbud, der skal lægges frem for visitationsudvalget.",
    )
    selected = [i for i in st.session_state.get(OFFERS, []) if i in choices]
    st.session_state[COMPARE_QUEUE] = selected  # Prisopslag's "Sammenlign" adds to these
    left, right = st.columns(2)
    with left:
        start = date_input(
            "Startdato",
            START,
            value=date.today(),
            help_text="Taksterne reguleres frem til denne dato, og årsbeløbet regnes fra den.",
        )
    with right:
        options: list[int | None] = [None, *selected]
        if st.session_state.get(VISITED) not in options:
            st.session_state[VISITED] = None
        st.selectbox(
            "Visiteret tilbud",
            options,
            key=VISITED,
            format_func=lambda i: "Intet valgt" if i is None else choices.get(i, str(i)),
            help=f"Det tilbud, borgeren er visiteret til. Efter § 108 og ABL § 105 må et "
            f"andet valgt tilbud højst være {format_number(settings.free_choice_limit_pct)} % "
            "dyrere (årsbeløb).",
        )
    return selected, start or date.today(), st.session_state.get(VISITED)


def _addons(selected: list[int], choices: dict[int, str]) -> list[dict[str, object]]:
    """Up to ADDON_SLOTS add-ons per offer; a row with neither name nor price is empty."""
    addons: list[dict[str, object]] = []
    with st.expander("Tillægsydelser", key="cmp_addons_open", on_change="rerun"):
        st.caption(
            "De tillægsydelser, I forventer at købe med hvert tilbud. De lægges til årsbeløbet."
        )
        for offer_id in selected:
            st.markdown(f"**{choices[offer_id]}**")
            for slot in range(ADDON_SLOTS):
                name_col, price_col, unit_col = st.columns([3, 2, 1])
                name_key = _key("addon", offer_id, slot, "name")
                price_key = _key("addon", offer_id, slot, "price")
                unit_key = _key("addon", offer_id, slot, "unit")
                st.session_state.setdefault(name_key, "")
                name = name_col.text_input("Ydelse", key=name_key, placeholder="fx Ledsagelse")
                with price_col:
                    price = money_input("Pris", key=price_key)
                st.session_state.setdefault(unit_key, PriceUnit.MONTH.value)
                unit = unit_col.selectbox(
                    "Enhed", UNITS, key=unit_key, format_func=lambda u: f"pr. {label(u)}"
                )
                if name.strip() or price.strip():
                    addon = {"offer_id": offer_id, "name": name, "price": price, "unit": unit}
                    addons.append(addon)
                    _check_addon(addon)
    return addons


def _check_addon(addon: dict[str, object]) -> None:
    """The row's problem right under it (the same limits as a contract's add-on)."""
    problems = [CPR_MESSAGE] if contains_cpr(str(addon["name"])) else []
    try:
        validate(ComparisonAddon, addon)
    except InputError as exc:
        problems += list(exc.fields.values())
    if problems:
        st.error(" ".join(dict.fromkeys(problems)), icon=":material/error:")


def _weights(settings: AppSettings) -> dict[str, object]:
    st.markdown("**Vægte** (skal give 100 tilsammen)")
    columns = st.columns(len(PARAMETERS))
    weights: dict[str, object] = {}
    for column, (key, name) in zip(columns, PARAMETERS.items(), strict=True):
        widget = _key("weight", key)
        st.session_state.setdefault(widget, int(settings.weights[key]))
        weights[key] = column.number_input(name, 0, 100, step=5, key=widget)
    total = sum(int(v) for v in weights.values())  # type: ignore[call-overload]
    if total != 100:
        st.error(
            f"Vægtene giver {format_number(total)}; de skal give 100 tilsammen.",
            icon=":material/error:",
        )
    return weights


def _scores(
    selected: list[int], choices: dict[int, str]
) -> tuple[dict[str, dict[str, object]], dict[str, dict[str, str]]]:
    """A score 0–10 with a short reason per offer and parameter (price is computed)."""
    scores: dict[str, dict[str, object]] = {}
    reasons: dict[str, dict[str, str]] = {}
    st.markdown("**Point (0–10) med en kort begrundelse**")
    st.caption(f"Pris får ikke point her, de regnes ud. {PRICE_POINTS_RULE}")
    heads = st.columns([2] + [3] * len(selected))
    heads[0].caption("Parameter")
    for head, offer_id in zip(heads[1:], selected, strict=True):
        head.caption(choices[offer_id])
    for key in SCORED:
        row = st.columns([2] + [3] * len(selected), vertical_alignment="center")
        row[0].markdown(PARAMETERS[key])
        for cell, offer_id in zip(row[1:], selected, strict=True):
            score_col, reason_col = cell.columns([1, 2])
            score = score_col.number_input(
                f"Point: {PARAMETERS[key]}",
                min_value=0,
                max_value=10,
                step=1,
                value=None,
                key=_key("score", offer_id, key),
                placeholder="0–10",
                label_visibility="collapsed",
            )
            st.session_state.setdefault(_key("reason", offer_id, key), "")
            reason = reason_col.text_input(
                f"Begrundelse: {PARAMETERS[key]}",
                key=_key("reason", offer_id, key),
                max_chars=200,
                placeholder="Begrundelse",
                label_visibility="collapsed",
            )
            if score is not None:
                scores.setdefault(str(offer_id), {})[key] = str(score)
            if reason.strip():
                reasons.setdefault(str(offer_id), {})[key] = reason
                if contains_cpr(reason):
                    reason_col.error(CPR_MESSAGE, icon=":material/error:")
    return scores, reasons


def _show(comparison: Comparison) -> None:
    frame = comparison_frame(comparison).set_index("")
    st.table(frame)
    for line in explanation(comparison):
        st.caption(line)
    if comparison.free_choice_note:
        st.info(comparison.free_choice_note)


def _downloads(comparison: Comparison, case_ref: str | None) -> None:
    stamp = date.today().strftime("%Y-%m-%d")
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        "Excel",
        icon=":material/download:",
        data=comparison_workbook(comparison, case_ref),
        file_name=f"sammenligning_{stamp}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="cmp_xlsx",
        on_click="ignore",
        help="Sammenligningen som Excel-ark: tabellen som her og tallene som tal.",
    )
    row.download_button(
        "Udskriftsvenlig side",
        icon=":material/print:",
        data=printable_html(comparison, case_ref),
        file_name=f"sammenligning_{stamp}.html",
        mime="text/html",
        key="cmp_print",
        on_click="ignore",
        help="Åbn filen i browseren og udskriv den (Ctrl+P) til visitationsudvalget.",
    )


def _save(data: dict[str, object]) -> None:
    st.subheader("Gem til sagen")
    if locked(Capability.COMPARE):
        return
    loaded = st.session_state.get(LOADED)
    st.session_state.setdefault(CASE_REF, "")
    case_col, button_col = st.columns([2, 1], vertical_alignment="bottom")
    case_col.text_input(
        "Sagsnummer",
        key=CASE_REF,
        max_chars=50,
        placeholder="fx SAG-2026-0100",
        help="Sammenligningen gemmes under sagsnummeret, så den kan åbnes igen. Skriv aldrig "
        "navn eller CPR-nummer.",
    )
    field_error(FORM, "case_ref")
    for field, message in form_errors(FORM).items():  # the save's other refusals (a conflict)
        if field != "case_ref":
            st.error(message, icon=":material/error:")
    title = "Gem ændringer" if loaded else "Gem sammenligning"
    if button_col.button(title, key="cmp_save", icon=":material/save:"):
        comparison_id, version = loaded if loaded else (None, None)

        def saved(row: Any) -> None:
            st.session_state[LOADED] = (row.id, row.version)

        run_save(
            FORM,
            lambda: call_service(
                save_comparison_service,
                data={**data, "case_ref": st.session_state[CASE_REF], "version": version},
                comparison_id=comparison_id,
            ),
            "Sammenligningen er gemt.",
            on_success=saved,
        )


def _saved_list() -> None:
    rows = cached_read(saved_comparisons)
    with st.expander(f"Gemte sammenligninger ({format_number(len(rows))})", key="cmp_saved"):
        if not rows:
            st.caption("Der er ingen gemte sammenligninger endnu.")
            return
        names = {
            row.id: f"{row.case_ref} · {row.offer_names} · start {format_date(row.start_date)}"
            for row in rows
            if row.id is not None
        }
        choice = st.selectbox("Sammenligning", list(names), format_func=names.get, key="cmp_pick")
        if st.button("Åbn", key="cmp_open", icon=":material/folder_open:") and choice:
            _reopen(choice)
            st.rerun()


def _render() -> None:
    st.title("Sammenlign tilbud")
    show_flash()
    choices = cached_read(offer_choices)
    if len(choices) < 2:
        st.info(
            "Der skal være mindst to aktive tilbud at sammenligne. Opret dem under Leverandører."
        )
        return
    settings = app_settings()
    _from_link(choices)
    _saved_list()
    selected, start, visited = _choose(choices, settings)
    if len(selected) < 2:
        st.info(
            f"Vælg 2–{MAX_OFFERS} tilbud for at se dem side om side – eller tryk "
            "»Sammenlign« ved et tilbud i Prisopslag."
        )
        return
    addons = _addons(selected, choices)
    with st.expander("Vægte og point", key="cmp_weighing_open", on_change="rerun"):
        weights = _weights(settings)
        scores, reasons = _scores(selected, choices)
    data: dict[str, object] = {
        "offer_ids": selected,
        "start_date": start,
        "visited_id": visited,
        "addons": addons,
        "weights": {k: str(v) for k, v in weights.items()},
        "scores": scores,
        "reasons": reasons,
    }
    try:
        inputs = check_comparison(data)
    except UserError as exc:  # shown next to the fields above; the table waits for a fix
        st.warning(
            "Sammenligningen vises, når felterne ovenfor er rettet. " + exc.message,
            icon=":material/warning:",
        )
        return
    with session() as s:
        comparison = build_comparison(
            session=s, inputs=inputs, settings=settings, today=date.today()
        )
    _show(comparison)
    _downloads(comparison, st.session_state.get(CASE_REF) or None)
    _save(data)


_render()
