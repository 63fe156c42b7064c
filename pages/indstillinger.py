"""Indstillinger: the working group's defaults, index rates, budgets and removing demo data."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from models import Paragraph, label
from pages._ui import (
    app_settings,
    cached_read,
    call_service,
    clear_caches,
    edit_form,
    export_buttons,
    field_error,
    flash,
    loaded_version,
    md,
    money_input,
    reset_form,
    select_code,
    show_flash,
    show_table,
    tabs,
)
from services.demo_data import dataset_kind, remove_demo_data
from services.formatting import format_amount, format_kr, format_number, format_pct
from services.reference import index_rates, list_budgets, save_budget, save_regulation_rate
from services.rules.weighing import PARAMETERS
from services.settings import (
    DEFAULT_VUM_THEMES,
    SETTING_LIMITS,
    AppSettings,
    setting_versions,
    update_settings,
)
from services.target_groups import (
    TargetGroupRow,
    create_target_group,
    merge_target_groups,
    target_group_overview,
    update_target_group,
)

# --- The numeric settings, by section ---------------------------------------------------------


@dataclass(frozen=True)
class SettingField:
    key: str
    unit: str  # "pct", "factor", "kr", "months", "days", "count"
    help: str


SECTIONS: dict[str, tuple[str, list[SettingField]]] = {
    "regulation": (
        "Regulering og tolerance",
        [
            SettingField(
                "regulation_default_pct",
                "pct",
                "Den årlige prisregulering, nye kontrakter får som standard (fast procent, "
                "1. januar).",
            ),
            SettingField(
                "tolerance_kr",
                "kr",
                "En faktura er en afvigelse, når den ligger mere end den største af de to "
                "tolerancer over det forventede beløb.",
            ),
            SettingField(
                "tolerance_pct",
                "pct",
                "Procent af det forventede beløb. 0 % betyder, at alt ud over den aftalte "
                "regulering er en afvigelse.",
            ),
            SettingField(
                "vat_refund_pct",
                "pct",
                "Den del af prisen, kommunen får refunderet ved private og selvejende "
                "leverandører: nettopris = pris × (1 − refusion).",
            ),
            SettingField(
                "large_case_threshold",
                "kr",
                "Sager med en årlig udgift over grænsen tælles som dyre sager i Overblik og "
                "Kvartalsrapport.",
            ),
        ],
    ),
    "followup": (
        "Opfølgning",
        [
            SettingField(
                "followup_first_months",
                "months",
                "Den første opfølgning planlægges så mange måneder efter kontraktens start.",
            ),
            SettingField("followup_sel107_months", "months", "Derefter hver N. måned for §107."),
            SettingField("followup_sel108_months", "months", "Derefter hver N. måned for §108."),
            SettingField(
                "followup_abl105_months", "months", "Derefter hver N. måned for §105 + §85."
            ),
            SettingField(
                "followup_high_max_months",
                "months",
                "Når sagens priskategori er høj eller ekstraordinær, følges der op mindst så ofte.",
            ),
            SettingField(
                "max_active_goals",
                "count",
                "Hvor mange aktive SMART-mål en kontrakt højst må have (hvert i sit tema).",
            ),
        ],
    ),
    "alerts": (
        "Varsler",
        [
            SettingField(
                "alert_renegotiation_days",
                "days",
                "Kontrakter vises med varsel, når genforhandlingsdatoen er inden for så mange "
                "dage.",
            ),
            SettingField(
                "alert_notice_days",
                "days",
                "Kontrakter vises med varsel, når opsigelsesfristen (slutdato minus "
                "opsigelsesvarsel) er inden for så mange dage.",
            ),
        ],
    ),
    "plausibility": (
        "Beløbskontrol",
        [
            SettingField(
                "plausible_daily_rate",
                "kr",
                "En pris pr. dag over grænsen (også en tillægsydelse eller en ny pris ved "
                "genforhandling) gemmes først, når brugeren har bekræftet beløbet.",
            ),
            SettingField(
                "plausible_monthly_price",
                "kr",
                "Det samme for en pris pr. måned. En årspris sammenlignes med dagsgrænsen × 365.",
            ),
            SettingField(
                "plausible_invoice_factor",
                "factor",
                "En faktura på mere end så mange gange det forventede beløb gemmes først, "
                "når brugeren har bekræftet beløbet.",
            ),
        ],
    ),
    "comparison": (
        "Sammenligning",
        [
            SettingField(
                "free_choice_limit_pct",
                "pct",
                "Frit valg efter § 108 og ABL § 105: et valgt tilbud må højst være så mange "
                "procent dyrere end det tilbud, borgeren er visiteret til (årsbeløb).",
            ),
            *(
                SettingField(
                    f"weight_{key}",
                    "weight",
                    "Standardvægt ved sammenligning af tilbud. Vægtene skal give 100 "
                    "tilsammen; sagsbehandleren kan ændre dem for den enkelte sammenligning.",
                )
                for key in PARAMETERS
            ),
        ],
    ),
}

UNIT_SUFFIX = {
    "factor": " gange",
    "pct": " %",
    "kr": " kr.",
    "months": " mdr.",
    "days": " dage",
    "count": "",
    "weight": "",
}


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _as_text(value: object, unit: str) -> str:
    """A stored value as the user would type it, the Danish way."""
    if unit == "kr":
        return format_amount(Decimal(str(value)))
    if unit in ("pct", "factor"):
        number = Decimal(str(value))
        return format_number(number, decimals=max(2, _decimals(number)))
    return format_number(int(str(value)))


def _range_text(key: str, unit: str) -> str:
    _, low, high = SETTING_LIMITS[key]
    low_text = format_number(low).replace("-", "−")
    return f"tilladt fra {low_text} til {format_number(high)}{UNIT_SUFFIX[unit]}"


def _save_settings(
    *, session: Session, data: dict[str, object], versions: dict[str, int], user: str
) -> AppSettings:
    """update_settings with what a section's form returns (its data) as the values; edit_form's
    `confirmed` (plausibility confirmations) is no setting."""
    values = {key: value for key, value in data.items() if key != "confirmed"}
    return update_settings(session=session, values=values, versions=versions, user=user)


def _pinned_versions(form: str, keys: list[str]) -> dict[str, int]:
    """The versions of the section's settings when the user first saw them (kept on reruns)."""
    loaded = cached_read(setting_versions)
    return st.session_state.setdefault(
        f"{form}__versions", {k: loaded[k] for k in keys if k in loaded}
    )


def _settings_section(section: str, current: AppSettings) -> None:
    title, setting_fields = SECTIONS[section]
    form = f"settings_{section}"
    keys = [f.key for f in setting_fields]

    def fields() -> dict[str, object]:
        columns = st.columns(2)
        for number, field in enumerate(setting_fields):
            widget_key = f"{form}_{field.key}"
            label_text = SETTING_LIMITS[field.key][0]
            value = getattr(current, field.key)
            saved = _as_text(value, field.unit)
            with columns[number % 2]:
                if field.unit == "kr":
                    money_input(label_text, key=widget_key, value=value, help_text=field.help)
                else:
                    st.session_state.setdefault(widget_key, saved)
                    st.text_input(label_text, key=widget_key, help=field.help)
                field_error(form, field.key)
                suffix = UNIT_SUFFIX[field.unit]
                st.caption(f"Gemt: {saved}{suffix} · {_range_text(field.key, field.unit)}")
        return {key: st.session_state[f"{form}_{key}"] for key in keys}

    # Plain widgets, no st.form: what is typed in one section survives a save in another.
    edit_form(
        form,
        fields,
        _save_settings,
        args={"versions": _pinned_versions(form, keys)},
        reload=True,
        submit="Gem",
        success=f"{title}: indstillingerne er gemt.",
    )


def _restore_default_themes() -> None:
    st.session_state["settings_themes_vum_themes"] = "\n".join(DEFAULT_VUM_THEMES)


def _themes_section(current: AppSettings) -> None:
    form = "settings_themes"
    widget_key = f"{form}_vum_themes"
    st.write(
        "SMART-mål sættes i et tema. Standard er de syv kategorier i Voksenudredningsmetoden "
        "(VUM). Bruger kommunen VUM 2.0 / Fælles Faglige Begreber, kan de temaer skrives her "
        "i stedet. Eksisterende mål beholder deres tema."
    )

    def fields() -> dict[str, object]:
        if widget_key not in st.session_state:
            st.session_state[widget_key] = "\n".join(current.vum_themes)
        st.text_area("VUM-temaer (ét pr. linje)", key=widget_key, height=220)
        field_error(form, "vum_themes")
        st.caption(f"Gemt: {format_number(len(current.vum_themes))} temaer.")
        return {"vum_themes": st.session_state[widget_key]}

    def buttons() -> Any:
        """Save, with the button that fills in the default themes beside it."""
        save_column, defaults_column, _ = st.columns([1, 3, 4])
        defaults_column.button(
            "Indsæt de syv VUM-temaer",
            key=f"{form}__defaults",
            on_click=_restore_default_themes,
            help="Fylder feltet med standardtemaerne; de gemmes først, når du trykker Gem.",
        )
        return save_column

    edit_form(
        form,
        fields,
        _save_settings,
        args={"versions": _pinned_versions(form, ["vum_themes"])},
        reload=True,
        submit="Gem",
        button_place=buttons,
        success="VUM-temaerne er gemt.",
    )


# --- Index rates ------------------------------------------------------------------------------


def _percent_text(value: Decimal) -> str:
    return format_pct(value, decimals=max(2, _decimals(value)))


def _rates_section() -> None:
    form = "settings_rate"
    rates = cached_read(index_rates)
    this_year = date.today().year
    st.write(
        "Satserne bruges af kontrakter med regulering »Indeks (reguleringssats)«. Et år uden "
        "sats kan ikke beregnes – det vises som en fejl, aldrig som 0 %."
    )
    if rates:
        frame = pd.DataFrame(
            [(year, rates[year]) for year in sorted(rates, reverse=True)],
            columns=["År", "Sats (%)"],
        )
        shown = pd.DataFrame(
            {"År": frame["År"].astype(str), "Sats": [_percent_text(p) for p in frame["Sats (%)"]]}
        )
        st.dataframe(shown, hide_index=True, width="content", height=min(400, 36 * len(shown) + 38))
        export_buttons(frame, "Reguleringssatser", pct=["Sats (%)"], key=f"{form}__export")
        if this_year not in rates:
            st.info(f"Der er endnu ingen sats for {this_year}.")
    else:
        st.info("Der er endnu ingen reguleringssatser. Tilføj årets sats herunder.")

    st.subheader("Tilføj eller ret en sats")

    def fields() -> dict[str, object]:
        left, right, _ = st.columns([1, 1, 2])
        with left:
            year_key = f"{form}_year"
            st.session_state.setdefault(year_key, this_year + 1)
            year = int(st.number_input("År", min_value=2000, max_value=2100, step=1, key=year_key))
            field_error(form, "year")
        with right:
            percent_key = f"{form}_percent"
            st.session_state.setdefault(percent_key, "")
            st.text_input("Sats (%)", key=percent_key, placeholder="fx 2,5")
            field_error(form, "percent")
        if year in rates:
            st.caption(f"{year} har i dag {_percent_text(rates[year])}; den erstattes ved Gem.")
        return {"year": year, "percent": st.session_state[percent_key]}

    edit_form(
        form,
        fields,
        save_regulation_rate,
        submit="Gem sats",
        success=lambda data: f"Reguleringssatsen for {data['year']} er gemt.",
    )


# --- Budgets ----------------------------------------------------------------------------------


def _budgets_section() -> None:
    form = "settings_budget"
    # (year, paragraph, amount, version) of every budget
    budgets = [(b.year, str(b.paragraph), b.amount, b.version) for b in cached_read(list_budgets)]
    versions = {
        (year, paragraph): loaded_version(form, f"{year}_{paragraph}", version)
        for year, paragraph, _amount, version in budgets
    }
    amounts = {(year, paragraph): amount for year, paragraph, amount, _version in budgets}
    paragraphs = list(Paragraph)
    st.write(
        "Årets budget pr. paragraf; Overblik og Kvartalsrapport sammenholder forbruget med det."
    )
    if budgets:
        columns = [label(p) for p in paragraphs]
        rows = []
        for year in sorted({b[0] for b in budgets}, reverse=True):
            values = [amounts.get((year, str(p))) for p in paragraphs]
            total = sum((v for v in values if v is not None), Decimal(0))
            rows.append([year, *values, total])
        frame = pd.DataFrame(rows, columns=["År", *columns, "I alt"])
        money = [*columns, "I alt"]
        show_table(frame, money=money, key=f"{form}__table")
        export_buttons(frame, "Budgetter", money=money, key=f"{form}__export")
    else:
        st.info("Der er endnu ingen budgetter. Sæt et budget herunder.")

    st.subheader("Sæt et budget")

    def fields() -> dict[str, object]:
        cols = st.columns(3)
        with cols[0]:
            year_key = f"{form}_year"
            st.session_state.setdefault(year_key, date.today().year)
            year = int(st.number_input("År", min_value=2000, max_value=2100, step=1, key=year_key))
            field_error(form, "year")
        with cols[1]:
            paragraph = select_code("Paragraf", paragraphs, key=f"{form}_paragraph")
            field_error(form, "paragraph")
        with cols[2]:
            money_input("Budget (kr.)", key=f"{form}_amount")
            field_error(form, "amount")
        current = amounts.get((year, str(paragraph)))
        if current is not None:
            st.caption(
                f"Budgettet for {year}, {label(paragraph)} er i dag {format_kr(current)}; "
                "det erstattes ved Gem."
            )
        data: dict[str, object] = {
            "year": year,
            "paragraph": paragraph,
            "amount": st.session_state[f"{form}_amount"],
        }
        if (year, str(paragraph)) in versions:  # replacing a budget: the version first seen
            data["version"] = versions[(year, str(paragraph))]
        return data

    edit_form(
        form,
        fields,
        save_budget,
        reload=True,
        submit="Gem budget",
        keep=("year", "paragraph"),  # for the next entry
        success=lambda data: f"Budgettet for {data['year']}, {label(data['paragraph'])} er gemt.",
    )


# --- Target groups ----------------------------------------------------------------------------


def _group_label(row: TargetGroupRow | None) -> str:
    if row is None:
        return "Vælg målgruppe …"
    return row.name if row.active else f"{row.name} (inaktiv)"


def _target_groups_section() -> None:
    rows = cached_read(target_group_overview)
    by_id = {r.id: r for r in rows}
    st.write(
        "Tilbuddenes målgrupper vælges fra denne liste, så den samme målgruppe altid hedder det "
        "samme – i Prisopslag, i filtrene og i eksporterne. Store og små bogstaver og mellemrum "
        "tæller ikke: »Udviklingshæmning« og »udviklingshæmning« er den samme målgruppe."
    )
    if rows:
        frame = pd.DataFrame(
            [
                {"Målgruppe": r.name, "Tilbud": r.offers, "Aktiv": "Ja" if r.active else "Nej"}
                for r in rows
            ]
        )
        show_table(frame, ints=["Tilbud"], key="settings_groups__table")
        export_buttons(frame, "Målgrupper", ints=["Tilbud"], key="settings_groups__export")
    else:
        st.info("Der er endnu ingen målgrupper. Tilføj den første herunder.")

    st.subheader("Tilføj en målgruppe")
    new_form = "settings_group_new"

    def new_fields() -> dict[str, object]:
        st.session_state.setdefault(f"{new_form}_name", "")
        st.text_input("Navn", key=f"{new_form}_name", placeholder="fx Udviklingshæmning")
        field_error(new_form, "name")
        return {"name": st.session_state[f"{new_form}_name"]}

    edit_form(
        new_form,
        new_fields,
        create_target_group,
        submit="Tilføj målgruppe",
        success=lambda data: f"Målgruppen »{md(data['name'])}« er tilføjet.",
    )
    if not rows:
        return

    st.subheader("Omdøb eller deaktiver")
    st.caption(
        "Et nyt navn ses straks på alle tilbud med målgruppen. En deaktiveret målgruppe bliver på "
        "de tilbud, der har den, men kan ikke vælges på flere."
    )
    chosen = st.selectbox(
        "Målgruppe",
        [None, *by_id],
        key="settings_group_edit_id",
        format_func=lambda i: _group_label(by_id.get(i)),
    )
    if chosen in by_id:
        row = by_id[chosen]
        edit = f"settings_group_edit_{chosen}"

        def edit_fields() -> dict[str, object]:
            st.session_state.setdefault(f"{edit}_name", row.name)
            st.session_state.setdefault(f"{edit}_active", row.active)
            st.text_input("Navn", key=f"{edit}_name")
            field_error(edit, "name")
            st.checkbox("Aktiv (kan vælges på tilbud)", key=f"{edit}_active")
            return {
                "name": st.session_state[f"{edit}_name"],
                "active": st.session_state[f"{edit}_active"],
            }

        edit_form(
            edit,
            edit_fields,
            update_target_group,
            args={"target_group_id": chosen},
            loaded=(chosen, row.version),
            submit="Gem målgruppe",
            success="Målgruppen er gemt.",
        )

    if len(rows) < 2:
        return
    st.subheader("Læg to målgrupper sammen")
    st.caption(
        "Tilbuddene med den første målgruppe får den anden i stedet, og den første forsvinder "
        "fra listen. Sammenlægningen står i revisionssporet."
    )
    merge = "settings_group_merge"

    def merge_fields() -> dict[str, object]:
        left, right = st.columns(2)
        with left:
            merge_id = st.selectbox(
                "Læg denne målgruppe …",
                [None, *by_id],
                key=f"{merge}_merge_id",
                format_func=lambda i: _group_label(by_id.get(i)),
            )
            field_error(merge, "merge_id")
        with right:
            into_id = st.selectbox(
                "… sammen med denne, som beholdes",
                [None, *by_id],
                key=f"{merge}_into_id",
                format_func=lambda i: _group_label(by_id.get(i)),
            )
            field_error(merge, "into_id")
        data: dict[str, object] = {"merge_id": merge_id, "into_id": into_id}
        if merge_id in by_id:  # the version the user saw: a rename since then is a conflict
            data["version"] = by_id[merge_id].version
        return data

    def merged_text(data: Mapping[str, Any]) -> str:
        names = [_group_label(by_id.get(data.get(k))) for k in ("merge_id", "into_id")]
        return f"»{md(names[0])}« er lagt sammen med »{md(names[1])}«."

    edit_form(
        merge,
        merge_fields,
        merge_target_groups,
        submit="Læg sammen",
        primary=False,
        success=merged_text,
    )


# --- Demo data --------------------------------------------------------------------------------


def _demo_section(kind: str) -> None:
    form = "settings_demo"
    what = "store testdata" if kind == "large" else "demodata"
    st.write(
        f"Databasen indeholder fiktive {what}. Når de fjernes, slettes alle demo-leverandører "
        "med deres tilbud, vidensbank, kontrakter, fakturakontroller, opfølgninger og mål, samt "
        "demo-priskategorier og demo-budgetter. Indstillinger og reguleringssatser bevares."
    )
    st.warning(
        "Kontrakter og fakturakontroller, som I selv har oprettet hos en demo-leverandør, "
        "slettes også. Sletningen kan ikke fortrydes.",
        icon="⚠️",
    )
    confirmed = st.checkbox(
        "Jeg forstår, at alle demodata slettes permanent", key=f"{form}_confirm"
    )
    if st.button("Fjern demodata", type="primary", key=f"{form}__remove"):
        if not confirmed:
            st.error("Sæt flueben ovenfor for at bekræfte sletningen.", icon="⚠️")
            return
        with st.spinner("Fjerner demodata …"):
            removed = call_service(remove_demo_data)
        reset_form(form)
        clear_caches()
        flash(
            f"Demodata er fjernet: {format_number(removed)} demo-leverandører og alt, der hører "
            "til dem, er slettet."
        )
        st.rerun()


# --- Page -------------------------------------------------------------------------------------

st.title("Indstillinger")
show_flash()
st.caption("Kommunens standardværdier. Ændringer gælder for alle brugere fra næste beregning.")

current_settings = app_settings()
demo_kind = cached_read(dataset_kind)
tab_names = [SECTIONS[s][0] for s in SECTIONS] + [
    "VUM-temaer",
    "Indeksregulering",
    "Budgetter",
    "Målgrupper",
]
if demo_kind is not None:
    tab_names.append("Demodata")
tab_by_name = dict(zip(tab_names, tabs(tab_names, key="settings_tab"), strict=True))
for section in SECTIONS:
    with tab_by_name[SECTIONS[section][0]]:
        _settings_section(section, current_settings)
with tab_by_name["VUM-temaer"]:
    _themes_section(current_settings)
with tab_by_name["Indeksregulering"]:
    _rates_section()
with tab_by_name["Budgetter"]:
    _budgets_section()
with tab_by_name["Målgrupper"]:
    _target_groups_section()
if demo_kind is not None:
    with tab_by_name["Demodata"]:
        _demo_section(demo_kind)
