"""Sammenlign tilbud: 2–3 offers side by side for the visitation committee (SPEC 10).

`offer_facts` reads what is known about each offer (one query per kind of fact); `compare`
computes the rest from those facts and the caseworker's input, with the rules of
services.rules (regulation, annual amounts, price category, the 10 % rule, weighing). The screen,
the Excel export and the printable page are all built from one `Comparison`, so their figures
agree."""

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    ComparisonAddon,
    ComparisonInput,
    Contract,
    ContractStatus,
    FrameworkAgreement,
    Offer,
    PriceUnit,
    Provider,
    ProviderNote,
    label,
)
from models.types import round_ore
from services.formatting import format_date, format_kr, format_number, format_pct
from services.queries.lookup import (
    ContractRange,
    category_label,
    contract_range_detail,
    contract_ranges,
)
from services.reference import category_thresholds
from services.rules.categories import CategoryThresholds, price_category
from services.rules.free_choice import NO_FREE_CHOICE, FreeChoice, free_choice, has_free_choice
from services.rules.pricing import (
    DAYS_PER_YEAR,
    MissingIndexRate,
    PriceOutOfRange,
    Regulation,
    annual_amount,
    net_after_vat_refund,
    regulate,
)
from services.rules.voiding import not_voided_sql
from services.rules.weighing import (
    PARAMETERS,
    PRICE,
    PRICE_POINTS_RULE,
    WEIGHT_TOTAL,
    Weighing,
    price_points,
)
from services.rules.weighing import weigh as weigh_offer
from services.settings import AppSettings
from services.target_groups import offer_target_group_names

NOTE_SHOWN = 300  # characters of the latest note shown


@dataclass(frozen=True)
class OfferFacts:
    """What is known about an offer and its provider."""

    offer_id: int
    offer_name: str
    provider_id: int
    provider_name: str
    city: str | None
    paragraph: str
    target_groups: str
    places: int | None
    list_rate: Decimal | None
    list_rate_year: int | None
    negotiated_rate: Decimal | None
    negotiated_from: date | None
    vat_refund: bool
    quality_rating: int | None
    assessment: str | None
    framework: str
    framework_valid_to: date | None
    notes: int = 0
    latest_note: str | None = None  # "12.03.2026 · Pris: text…"
    contracts: ContractRange = ContractRange()
    included: str | None = None  # what the price contains, from the latest current contract
    excluded: str | None = None
    notice: str | None = None  # the notice period of the current contracts


def offer_facts(*, session: Session, offer_ids: Sequence[int], today: date) -> list[OfferFacts]:
    """The offers in the order asked (unknown ids left out)."""
    ids = list(dict.fromkeys(offer_ids))
    rows = {
        offer.id: (offer, provider)
        for offer, provider in session.exec(
            select(Offer, Provider)
            .join(Provider, col(Provider.id) == col(Offer.provider_id))
            .where(col(Offer.id).in_(ids))
        )
    }
    provider_ids = sorted({provider.id for _, provider in rows.values() if provider.id})
    notes: dict[int, list[ProviderNote]] = defaultdict(list)
    for note in session.exec(
        select(ProviderNote)
        .where(col(ProviderNote.provider_id).in_(provider_ids), not_voided_sql(ProviderNote))
        .order_by(col(ProviderNote.note_date).desc(), col(ProviderNote.id).desc())
    ):
        notes[note.provider_id].append(note)
    current: dict[int, Contract] = {}
    for contract in session.exec(
        select(Contract)
        .where(col(Contract.offer_id).in_(ids), Contract.status == ContractStatus.ACTIVE)
        .order_by(col(Contract.start_date), col(Contract.id))
    ):
        current[contract.offer_id or 0] = contract  # the latest started wins
    groups = offer_target_group_names(session=session, offer_ids=ids)
    ranges = contract_ranges(session, ids, today)
    facts = []
    for offer_id in ids:
        if offer_id not in rows:
            continue
        offer, provider = rows[offer_id]
        provider_notes = notes.get(provider.id or 0, [])
        latest = provider_notes[0] if provider_notes else None
        active = current.get(offer_id)
        facts.append(
            OfferFacts(
                offer_id=offer_id,
                offer_name=offer.name,
                provider_id=provider.id or 0,
                provider_name=provider.name,
                city=provider.city,
                paragraph=str(offer.paragraph),
                target_groups=groups.get(offer_id, ""),
                places=offer.places,
                list_rate=offer.list_rate,
                list_rate_year=offer.list_rate_year,
                negotiated_rate=offer.negotiated_rate,
                negotiated_from=offer.negotiated_from,
                vat_refund=provider.vat_refund,
                quality_rating=provider.quality_rating,
                assessment=provider.assessment,
                framework=str(provider.framework),
                framework_valid_to=provider.framework_valid_to,
                notes=len(provider_notes),
                latest_note=(
                    f"{format_date(latest.note_date)} · {label(latest.topic)}: "
                    f"{_shorten(latest.text, NOTE_SHOWN)}"
                    if latest
                    else None
                ),
                contracts=ranges.get(offer_id, ContractRange()),
                included=active.included if active else None,
                excluded=active.excluded if active else None,
                notice=_notice(active) if active else None,
            )
        )
    return facts


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _notice(contract: Contract) -> str:
    days = f"{format_number(contract.notice_days)} dage"
    return f"{days} ({contract.notice_text})" if contract.notice_text else days


# --- Computing the comparison -----------------------------------------------------------------


@dataclass(frozen=True)
class ComparedOffer:
    facts: OfferFacts
    list_at_start: Decimal | None  # the list rate regulated to the start date
    negotiated_at_start: Decimal | None
    rate: Decimal | None  # the daily rate paid: negotiated, else list (regulated)
    addons: tuple[ComparisonAddon, ...]
    addons_annual: Decimal
    annual: Decimal | None  # rate × 365 + the add-ons' annual amounts
    net_annual: Decimal | None  # after the vat refund (providers with a refund)
    daily: Decimal | None  # the annual amount per day
    category: str | None  # PriceCategory of the rate (None: no set for paragraph and year)
    problem: str | None  # why there is no annual amount
    free_choice: FreeChoice | None  # against the visited offer (§108, ABL105)
    price_points: Decimal | None
    weighing: Weighing | None


@dataclass(frozen=True)
class Comparison:
    start_date: date
    offers: tuple[ComparedOffer, ...]
    visited_id: int | None
    free_choice_note: str | None  # why the 10 % rule is not shown (§107, no visited offer)
    limit_pct: Decimal
    weights: dict[str, Decimal]
    regulation_pct: Decimal


def _regulated(
    rate: Decimal | None, base: date | None, start: date, regulation: Regulation
) -> Decimal | None:
    if rate is None:
        return None
    base = base or start
    return regulate(rate, base, start, regulation) if base <= start else rate


@dataclass(frozen=True)
class _Priced:
    facts: OfferFacts
    list_at_start: Decimal | None
    negotiated_at_start: Decimal | None
    rate: Decimal | None
    addons: tuple[ComparisonAddon, ...]
    addons_annual: Decimal
    annual: Decimal | None
    net_annual: Decimal | None
    daily: Decimal | None
    category: str | None
    problem: str | None


def _price(
    fact: OfferFacts,
    inputs: ComparisonInput,
    settings: AppSettings,
    thresholds: dict[tuple[str, int], CategoryThresholds],
) -> _Priced:
    start = inputs.start_date
    regulation = Regulation(pct=settings.regulation_default_pct)
    addons = tuple(a for a in inputs.addons if a.offer_id == fact.offer_id)
    addons_annual = sum((annual_amount(a.price, a.unit) for a in addons), Decimal(0))
    problem = None
    try:
        list_base = date(fact.list_rate_year, 1, 1) if fact.list_rate_year else None
        listed = _regulated(fact.list_rate, list_base, start, regulation)
        negotiated = _regulated(fact.negotiated_rate, fact.negotiated_from, start, regulation)
    except (MissingIndexRate, PriceOutOfRange):
        listed = negotiated = None
        problem = "Taksten kan ikke reguleres til startdatoen."
    rate = negotiated if negotiated is not None else listed
    if rate is None and problem is None:
        problem = "Tilbuddet har ingen takst."
    annual = None if rate is None else annual_amount(rate, PriceUnit.DAY) + addons_annual
    net = annual
    if annual is not None and fact.vat_refund:
        net = net_after_vat_refund(annual, settings.vat_refund_pct)
    category = None
    if rate is not None:
        category = price_category(rate, thresholds.get((fact.paragraph, start.year)))
    return _Priced(
        facts=fact,
        list_at_start=listed,
        negotiated_at_start=negotiated,
        rate=rate,
        addons=addons,
        addons_annual=addons_annual,
        annual=annual,
        net_annual=net,
        daily=None if annual is None else round_ore(annual / DAYS_PER_YEAR),
        category=category,
        problem=problem,
    )


def _free_choice_note(visited: _Priced | None) -> str | None:
    """Why the 10 % rule cannot be shown, or None."""
    if visited is None:
        return "Markér det tilbud, borgeren er visiteret til, for at se 10 %-reglen."
    if not has_free_choice(visited.facts.paragraph):
        return NO_FREE_CHOICE
    if visited.annual is None:
        return "Det visiterede tilbud har intet årsbeløb, så 10 %-reglen kan ikke beregnes."
    return None


def compare(
    *,
    facts: Sequence[OfferFacts],
    inputs: ComparisonInput,
    settings: AppSettings,
    thresholds: dict[tuple[str, int], CategoryThresholds],
) -> Comparison:
    """The comparison of the offers in `facts` with the caseworker's `inputs` (validated)."""
    priced = [_price(fact, inputs, settings, thresholds) for fact in facts]
    points = price_points({p.facts.offer_id: p.annual for p in priced if p.annual is not None})
    visited = next((p for p in priced if p.facts.offer_id == inputs.visited_id), None)
    note = _free_choice_note(visited)
    weights = {key: inputs.weights.get(key, Decimal(0)) for key in PARAMETERS}
    complete = sum(weights.values()) == WEIGHT_TOTAL
    offers = []
    for p in priced:
        choice = None
        if note is None and visited and visited.annual and p is not visited and p.annual:
            choice = free_choice(
                visited=visited.annual, chosen=p.annual, limit_pct=settings.free_choice_limit_pct
            )
        own = points.get(p.facts.offer_id)
        scores = {**inputs.scores.get(str(p.facts.offer_id), {}), PRICE: own or Decimal(0)}
        offers.append(
            ComparedOffer(
                **{f.name: getattr(p, f.name) for f in fields(_Priced)},
                free_choice=choice,
                price_points=own,
                weighing=weigh_offer(weights, scores) if complete else None,
            )
        )
    return Comparison(
        start_date=inputs.start_date,
        offers=tuple(offers),
        visited_id=inputs.visited_id,
        free_choice_note=note,
        limit_pct=settings.free_choice_limit_pct,
        weights=weights,
        regulation_pct=settings.regulation_default_pct,
    )


def build_comparison(
    *, session: Session, inputs: ComparisonInput, settings: AppSettings, today: date
) -> Comparison:
    facts = offer_facts(session=session, offer_ids=inputs.offer_ids, today=today)
    return compare(
        facts=facts,
        inputs=inputs,
        settings=settings,
        thresholds=category_thresholds(session=session),
    )


# --- The offers to choose from ----------------------------------------------------------------


def offer_choices(*, session: Session) -> dict[int, str]:
    """Every active offer as "Tilbud · Leverandør · § 108 (nr. 12)", by offer and provider name;
    the label names the id so that two offers with the same names stay apart."""
    rows = session.exec(
        select(Offer.id, Offer.name, Offer.paragraph, Provider.name)
        .join(Provider, col(Provider.id) == col(Offer.provider_id))
        .where(col(Offer.active).is_(True))
        .order_by(sa.func.lower(col(Offer.name)), sa.func.lower(col(Provider.name)), col(Offer.id))
    ).all()
    return {
        offer_id: f"{name} · {provider} · {label(paragraph, 'short')} (nr. {offer_id})"
        for offer_id, name, paragraph, provider in rows
        if offer_id is not None
    }


# --- One table for the screen, the Excel file and the printable page ---------------------------


def _money(value: Decimal | None) -> str:
    return format_kr(value) if value is not None else "–"


def comparison_rows(comparison: Comparison) -> list[tuple[str, list[str]]]:
    """The side-by-side table: one row per fact, one column per offer, every value as the
    screen shows it."""
    offers = comparison.offers
    start = format_date(comparison.start_date)

    def row(name: str, values: list[str]) -> tuple[str, list[str]]:
        return name, values

    def rated(o: ComparedOffer) -> str:
        return o.problem or _money(o.rate)

    rows = [
        row("Leverandør", [o.facts.provider_name for o in offers]),
        row("Paragraf", [label(o.facts.paragraph) for o in offers]),
        row("By", [o.facts.city or "–" for o in offers]),
        row("Målgrupper", [o.facts.target_groups or "–" for o in offers]),
        row(
            "Pladser",
            [format_number(o.facts.places) if o.facts.places else "–" for o in offers],
        ),
        row(
            "Listetakst (år)",
            [
                f"{_money(o.facts.list_rate)} ({o.facts.list_rate_year})"
                if o.facts.list_rate is not None and o.facts.list_rate_year
                else _money(o.facts.list_rate)
                for o in offers
            ],
        ),
        row(f"Listetakst pr. {start}", [_money(o.list_at_start) for o in offers]),
        row("Forhandlet takst", [_money(o.facts.negotiated_rate) for o in offers]),
        row(f"Forhandlet takst pr. {start}", [_money(o.negotiated_at_start) for o in offers]),
        row("Dagstakst ved start", [rated(o) for o in offers]),
        row(
            "Tillægsydelser",
            [
                "; ".join(f"{a.name} {_money(a.price)}/{label(a.unit)}" for a in o.addons) or "–"
                for o in offers
            ],
        ),
        row("Tillægsydelser pr. år", [_money(o.addons_annual) for o in offers]),
        row("Årsbeløb", [_money(o.annual) for o in offers]),
        row("Netto pr. år efter momsrefusion", [_money(o.net_annual) for o in offers]),
        row("Pr. dag (årsbeløb / 365)", [_money(o.daily) for o in offers]),
        row("Priskategori", [category_label(o.category) for o in offers]),
        row("Prisen indeholder", [o.facts.included or "–" for o in offers]),
        row("Prisen indeholder ikke", [o.facts.excluded or "–" for o in offers]),
        row(
            "Kvalitet (1–5)",
            [
                format_number(o.facts.quality_rating) if o.facts.quality_rating else "–"
                for o in offers
            ],
        ),
        row("Vurdering", [o.facts.assessment or "–" for o in offers]),
        row(
            "Samarbejdsaftale",
            [
                label(o.facts.framework, "framework")
                + (
                    f" til {format_date(o.facts.framework_valid_to)}"
                    if o.facts.framework_valid_to
                    else ""
                )
                if o.facts.framework != FrameworkAgreement.NONE
                else "Ingen"
                for o in offers
            ],
        ),
        row("Opsigelsesvarsel (aktuelle kontrakter)", [o.facts.notice or "–" for o in offers]),
        row(
            "Aktuelle kontrakter pr. dag",
            [contract_range_detail(o.facts.contracts) for o in offers],
        ),
        row("Noter i vidensbanken", [format_number(o.facts.notes) for o in offers]),
        row("Seneste note", [o.facts.latest_note or "–" for o in offers]),
        row(
            "10 %-reglen",
            [_free_choice_text(comparison, o) for o in offers],
        ),
    ]
    rows.append(row("Prispoint", [_points(o.price_points) for o in offers]))
    for key, name in PARAMETERS.items():
        weight = format_number(comparison.weights.get(key, Decimal(0)))
        rows.append(
            row(
                f"{name} (vægt {weight})",
                [_points(o.weighing.contributions[key]) if o.weighing else "–" for o in offers],
            )
        )
    rows.append(
        row(
            "Point i alt (0–10)", [_points(o.weighing.total) if o.weighing else "–" for o in offers]
        )
    )
    return rows


def _points(value: Decimal | None) -> str:
    return format_number(value, 2) if value is not None else "–"


def _free_choice_text(comparison: Comparison, offer: ComparedOffer) -> str:
    if offer.facts.offer_id == comparison.visited_id:
        return "Visiteret tilbud"
    if comparison.free_choice_note is not None:
        return "–"
    if offer.free_choice is None:
        return offer.problem or "–"
    sign = "+" if offer.free_choice.percent > 0 else ""
    return f"{sign}{format_pct(offer.free_choice.percent)}: {offer.free_choice.label}"


def offer_headings(comparison: Comparison) -> list[str]:
    """Column headings: the offers' names, numbered so that two with one name stay apart."""
    return [f"{i}. {o.facts.offer_name}" for i, o in enumerate(comparison.offers, start=1)]


def comparison_frame(comparison: Comparison) -> pd.DataFrame:
    """The side-by-side table as a DataFrame (rows: facts; columns: offers)."""
    rows = comparison_rows(comparison)
    frame = pd.DataFrame(
        [values for _, values in rows], columns=offer_headings(comparison), dtype="string"
    )
    frame.insert(0, "", [name for name, _ in rows])
    return frame


def explanation(comparison: Comparison) -> list[str]:
    """How the figures are computed, stated with the table (screen, Excel and print)."""
    return [
        f"Taksterne er reguleret til startdatoen {format_date(comparison.start_date)} med "
        f"{format_pct(comparison.regulation_pct)} pr. 1. januar: den forhandlede fra den dato, "
        "den gælder fra, listetaksten fra 1. januar i sit år. Dagstaksten er den forhandlede, "
        "ellers listetaksten.",
        "Årsbeløb = dagstakst × 365 + tillægsydelsernes årsbeløb (pr. måned × 12).",
        f"10 %-reglen (serviceloven § 108, almenboligloven § 105): et valgt tilbud må højst "
        f"koste {format_pct(comparison.limit_pct)} mere om året end det visiterede.",
        PRICE_POINTS_RULE,
        "Bidrag = vægt × point / 100; point i alt er summen af bidragene.",
    ]


def printable_html(comparison: Comparison, case_ref: str | None) -> str:
    """A printable page for the visitation committee: the same table, every text escaped."""
    headings = "".join(f"<th>{html.escape(h)}</th>" for h in offer_headings(comparison))
    body = "".join(
        "<tr><th>"
        + html.escape(name)
        + "</th>"
        + "".join(f"<td>{html.escape(v)}</td>" for v in values)
        + "</tr>"
        for name, values in comparison_rows(comparison)
    )
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in explanation(comparison))
    if comparison.free_choice_note:
        notes += f"<li>{html.escape(comparison.free_choice_note)}</li>"
    case = f" · Sag {html.escape(case_ref)}" if case_ref else ""
    return (
        '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8">'
        "<title>Sammenligning af tilbud</title><style>"
        "body{font-family:sans-serif;font-size:11pt;margin:1.5cm}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #999;padding:4px 6px;text-align:left;vertical-align:top}"
        "tbody th{background:#f2f2f2;width:22%}"
        "@media print{body{margin:0}}"
        "</style></head><body>"
        f"<h1>Sammenligning af tilbud</h1><p>Startdato "
        f"{html.escape(format_date(comparison.start_date))}{case}</p>"
        f"<table><thead><tr><th></th>{headings}</tr></thead><tbody>{body}</tbody></table>"
        f"<ul>{notes}</ul></body></html>"
    )


# The figures sheet of the Excel file: numbers as numbers, the same values as the screen.
FIGURE_MONEY = (
    "Dagstakst ved start",
    "Tillægsydelser pr. år",
    "Årsbeløb",
    "Netto pr. år",
    "Pr. dag",
)


def figures_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per offer with the computed figures (None where there is none)."""
    rows = []
    for heading, o in zip(offer_headings(comparison), comparison.offers, strict=True):
        choice = o.free_choice
        row: dict[str, object] = {
            "Tilbud": heading,
            "Leverandør": o.facts.provider_name,
            "Paragraf": label(o.facts.paragraph),
            "Dagstakst ved start": o.rate,
            "Tillægsydelser pr. år": o.addons_annual,
            "Årsbeløb": o.annual,
            "Netto pr. år": o.net_annual,
            "Pr. dag": o.daily,
            "Priskategori": category_label(o.category),
            "Forskel fra visiteret (%)": choice.percent if choice else None,
            "10 %-reglen": _free_choice_text(comparison, o),
            "Prispoint": o.price_points,
        }
        for key, name in PARAMETERS.items():
            row[name] = o.weighing.contributions[key] if o.weighing else None
        row["Point i alt"] = o.weighing.total if o.weighing else None
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_workbook(comparison: Comparison, case_ref: str | None) -> bytes:
    """The Excel file for the committee: the table as on screen, and the figures as numbers."""
    from services.exports.tables import Sheet, to_xlsx

    title = "Sammenligning af tilbud" + (f" · sag {case_ref}" if case_ref else "")
    notes = [f"Startdato {format_date(comparison.start_date)}", *explanation(comparison)]
    if comparison.free_choice_note:
        notes.append(comparison.free_choice_note)
    return to_xlsx(
        [
            Sheet("Sammenligning", comparison_frame(comparison), title=title, notes=notes),
            Sheet(
                "Tal",
                figures_frame(comparison),
                money=FIGURE_MONEY,
                pct=("Forskel fra visiteret (%)",),
            ),
        ]
    )
