"""One deterministic generator for the demo and the large data set (SPEC 6).

Every date is relative to `today`, so the demo always looks current. Each stage draws from
its own `random.Random` seeded with a fixed string, so the same `today` gives the same data.
Rows are plain dicts with every column filled (bulk writes bypass the models' defaults) and
ids allocated here; seed.writer inserts them in chunks, parents first.
"""

import calendar
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from stdnum.dk import cvr as stdnum_cvr

from models.contract import CHECKLIST_ITEMS
from models.enums import (
    ContractStatus,
    FollowUpAction,
    FollowUpKind,
    FrameworkAgreement,
    GoalStatus,
    GoalType,
    InvoiceStatus,
    NightCover,
    NoteTopic,
    Paragraph,
    PriceCategory,
    PriceChangeReason,
    PriceUnit,
    Progression,
    ProviderKind,
    RegulationKind,
    SupportNeedChange,
)
from models.types import round_ore
from seed import vocabulary as vocab
from seed.writer import BulkWriter
from services.formatting import format_kr, format_pct
from services.rules.cadence import first_followup_due, next_followup_due
from services.rules.categories import CategoryThresholds, price_category
from services.rules.deviations import invoice_deviation
from services.rules.pricing import (
    AddonTerms,
    PriceTerms,
    Regulation,
    add_months,
    daily_equivalent,
    expected_amount,
    regulated_price,
    regulation_days,
    regulation_rate,
)
from services.settings import DEFAULT_VUM_THEMES, AppSettings
from services.target_groups import target_group_key

SEED = "takstkompas-seed-v1"
SEED_USER = "demo"
TOLERANCE_KR = Decimal("1.00")
TOLERANCE_PCT = Decimal("0.0")
HUNDRED = Decimal(100)
DAYS_PER_YEAR = Decimal(365)


@dataclass(frozen=True)
class SizeProfile:
    """How much of everything a data set has; one generator serves every size."""

    name: str
    providers: int
    own_providers: int
    offers: int
    notes: int
    contracts: int
    active: int
    terminated: int
    drafts: int
    history_years: int  # monthly invoices for this many years, ending last month
    max_age_years: int  # oldest start of a contract still running
    category_years: int
    budget_years: int
    deviation_episodes: int  # invoices above expected, 1–3 consecutive months each
    recent_deviation_episodes: int  # of those, in the last two months (still open)
    under_expected: int
    renegotiation_soon: int
    notice_soon: int
    chunk_size: int = 5000


SIZES: dict[str, SizeProfile] = {
    "demo": SizeProfile(
        name="demo",
        providers=25,
        own_providers=3,
        offers=60,
        notes=40,
        contracts=120,
        active=78,
        terminated=4,
        drafts=2,
        history_years=2,
        max_age_years=7,
        category_years=2,
        budget_years=3,
        deviation_episodes=9,
        recent_deviation_episodes=3,
        under_expected=4,
        renegotiation_soon=5,
        notice_soon=4,
    ),
    "large": SizeProfile(
        name="large",
        providers=420,
        own_providers=12,
        offers=1300,
        notes=700,
        contracts=6800,
        active=2900,
        terminated=150,
        drafts=50,
        history_years=10,
        max_age_years=15,
        category_years=10,
        budget_years=10,
        deviation_episodes=2200,
        recent_deviation_episodes=12,
        under_expected=900,
        renegotiation_soon=140,
        notice_soon=110,
        chunk_size=10000,
    ),
}

_OTHER_KIND_SHARES = (
    (ProviderKind.PRIVATE, 0.42),
    (ProviderKind.SELF_GOVERNING, 0.27),
    (ProviderKind.MUNICIPAL, 0.21),
    (ProviderKind.REGIONAL, 0.10),
)


def _stamp(day: date, today: date, hour: int = 9, minute: int = 0) -> datetime:
    """A timezone-aware timestamp on a day, never after today."""
    return datetime.combine(min(day, today), time(hour, minute), tzinfo=UTC)


# Every row a user can void is written in force.
NOT_VOIDED: dict[str, Any] = {"voided_at": None, "voided_by": None, "void_reason": None}


def _audit(at: datetime, *, versioned: bool = True) -> dict[str, Any]:
    row: dict[str, Any] = {
        "created_at": at,
        "created_by": SEED_USER,
        "updated_at": at,
        "updated_by": SEED_USER,
    }
    if versioned:
        row["version"] = 1
    return row


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _months(first: date, last: date) -> Iterator[date]:
    """First days of the calendar months that overlap first..last."""
    current = date(first.year, first.month, 1)
    while current <= last:
        yield current
        current = add_months(current, 1)


def _round_to(value: Decimal, step: int) -> Decimal:
    step_dec = Decimal(step)
    return ((value / step_dec).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step_dec).quantize(
        Decimal("0.01")
    )


def _price_in_unit(daily: Decimal, unit: PriceUnit) -> Decimal:
    """A daily rate expressed as a round contract price in the unit (65.000 kr./md., …)."""
    if unit == PriceUnit.MONTH:
        return _round_to(daily * DAYS_PER_YEAR / 12, 100)
    if unit == PriceUnit.YEAR:
        return _round_to(daily * DAYS_PER_YEAR, 1000)
    return _round_to(daily, 1)


def _valid_cvr(rng: random.Random) -> str:
    while True:
        first7 = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(6))
        check = (-stdnum_cvr.checksum(first7 + "0")) % 11
        if check < 10:
            return first7 + str(check)


def _invalid_cvr(rng: random.Random) -> str:
    while True:
        number = str(rng.randint(10000000, 99999999))
        if not stdnum_cvr.is_valid(number):
            return number


def _slug(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})
    return "".join(ch for ch in text.translate(table).lower() if ch.isalnum())


@dataclass
class _Provider:
    id: int
    kind: ProviderKind
    stem: str
    weight: float
    active: bool


@dataclass
class _Offer:
    id: int
    provider_id: int
    paragraph: Paragraph
    rate: Decimal  # daily rate at today's level that contracts are priced around
    active: bool


@dataclass
class _Contract:
    id: int
    provider_id: int
    offer_id: int | None
    paragraph: Paragraph
    status: ContractStatus
    start: date
    end: date | None
    price: Decimal
    unit: PriceUnit
    regulation: Regulation
    caseworker: str
    row: dict[str, Any]
    changes: list[tuple[date, Decimal, Decimal, PriceChangeReason]] = field(default_factory=list)
    addons: list[AddonTerms] = field(default_factory=list)

    @property
    def terms(self) -> PriceTerms:
        return PriceTerms(
            self.price,
            self.unit,
            self.start,
            self.regulation,
            tuple((d, new) for d, _old, new, _r in self.changes),
        )

    @property
    def invoiced(self) -> bool:
        return self.status != ContractStatus.DRAFT


@dataclass
class _Episode:
    kind: str  # regulering, tillaeg, dage, gammel_pris, under
    number: int
    extra: Decimal = Decimal(0)
    last_checked_on: date | None = None


class Generator:
    """Builds one data set into a BulkWriter; `run()` returns nothing, the writer counts."""

    def __init__(
        self,
        *,
        profile: SizeProfile,
        today: date,
        writer: BulkWriter,
        progress: Callable[[str], None],
    ) -> None:
        self.profile = profile
        self.today = today
        self.writer = writer
        self.progress = progress
        self.settings = AppSettings()
        self.last_month = add_months(date(today.year, today.month, 1), -1)
        self.history_start = add_months(
            date(today.year, today.month, 1), -12 * profile.history_years
        )
        self.index_rates = {
            year: Decimal(vocab.INDEX_RATES.get(year, vocab.INDEX_RATE_FALLBACK))
            for year in range(today.year - 40, today.year + 2)
        }
        self.providers: list[_Provider] = []
        self.offers: list[_Offer] = []
        self.contracts: list[_Contract] = []
        self._thresholds: dict[tuple[Paragraph, int], CategoryThresholds] = {}

    def rng(self, stage: str) -> random.Random:
        return random.Random(f"{SEED}:{self.profile.name}:{stage}")

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.writer.add(table, row)

    def run(self) -> None:
        self.progress("Leverandører og vidensbank")
        self.build_providers()
        self.build_notes()
        self.progress("Tilbud")
        self.build_offers()
        self.progress("Priskategorier")
        self.build_category_sets()
        self.progress("Kontrakter, tillæg, prisændringer og opfølgninger")
        self.build_contracts()
        followups, goals = self.plan_followups_and_goals()
        self.write_contracts(followups, goals)
        self.build_regulation_rates()
        self.progress("Fakturakontrol")
        self.build_invoices()
        self.progress("Budgetter og indstillinger")
        self.build_budgets()
        self.writer.flush()

    # -- providers, notes, offers -------------------------------------------------------------

    def build_providers(self) -> None:
        rng = self.rng("providers")
        profile = self.profile
        others = profile.providers - profile.own_providers
        kinds: list[ProviderKind] = []
        for kind, share in _OTHER_KIND_SHARES[:-1]:
            kinds += [kind] * round(others * share)
        kinds += [_OTHER_KIND_SHARES[-1][0]] * (others - len(kinds))
        rng.shuffle(kinds)
        kinds += [ProviderKind.OWN] * profile.own_providers

        stems = list(vocab.NAME_STEMS)
        rng.shuffle(stems)
        used: set[str] = set()
        next_stem = 0
        invalid_cvr = set(rng.sample(range(others), max(2, profile.providers // 100)))
        inactive = set(rng.sample(range(others), max(1, profile.providers // 25)))
        weights = [rng.paretovariate(1.2) for _ in kinds]
        ranked = sorted(range(len(kinds)), key=lambda i: -weights[i])
        top = set(ranked[: max(3, len(kinds) // 5)])

        for index, kind in enumerate(kinds):
            provider_id = index + 1
            # Each provider gets the next stem that still has a free prefix for its kind.
            name = ""
            while not name:
                stem = stems[next_stem % len(stems)]
                next_stem += 1
                for prefix in vocab.NAME_PREFIXES[kind]:
                    candidate = f"{prefix} {stem}{vocab.DEMO_SUFFIX}"
                    if candidate not in used:
                        name = candidate
                        break
            used.add(name)

            weight = weights[index] * (2.5 if kind == ProviderKind.OWN else 1.0)
            own = kind == ProviderKind.OWN
            active = own or index not in inactive
            framework = FrameworkAgreement.NONE
            framework_valid_to = None
            if not own and active and (index in top or rng.random() < 0.08):
                framework = (
                    FrameworkAgreement.FRAMEWORK
                    if index in top and rng.random() < 0.7
                    else FrameworkAgreement.COOPERATION
                )
                framework_valid_to = (
                    self.today - timedelta(days=rng.randint(20, 200))
                    if rng.random() < 0.1
                    else self.today + timedelta(days=rng.randint(90, 900))
                )
            postal_code, city = rng.choice(vocab.TOWNS)
            assessment = (
                f"Kvalitet: {rng.choice(vocab.ASSESSMENT_QUALITY)}. "
                f"Uddannelsesniveau: {rng.choice(vocab.ASSESSMENT_EDUCATION)}. "
                f"Faglige tilgange: {rng.choice(vocab.ASSESSMENT_METHODS)}."
            )
            created = self.today - timedelta(days=rng.randint(200, 1500))
            self.providers.append(_Provider(provider_id, kind, stem, weight, active))
            self.add(
                "provider",
                {
                    "id": provider_id,
                    "name": name,
                    "cvr": _invalid_cvr(rng) if index in invalid_cvr else _valid_cvr(rng),
                    "kind": kind.value,
                    "postal_code": postal_code,
                    "city": city,
                    "portal_url": "https://tilbudsportalen.dk/",
                    "contact": f"Forstander, kontakt@{_slug(stem)}-demo.example",
                    "framework": framework.value,
                    "framework_valid_to": framework_valid_to,
                    "quality_rating": (
                        None if rng.random() < 0.1 else rng.choices((2, 3, 4, 5), (1, 4, 5, 2))[0]
                    ),
                    "assessment": assessment if rng.random() < 0.85 else None,
                    "vat_refund": kind in (ProviderKind.PRIVATE, ProviderKind.SELF_GOVERNING),
                    "active": active,
                    "is_demo": True,
                    **_audit(_stamp(created, self.today)),
                },
            )

    def build_notes(self) -> None:
        rng = self.rng("notes")
        weights = [p.weight for p in self.providers]
        topics = list(vocab.NOTE_TEXTS)
        for note_id in range(1, self.profile.notes + 1):
            provider = rng.choices(self.providers, weights)[0]
            topic = rng.choices(topics, (4, 4, 2, 2, 1))[0]
            note_date = self.today - timedelta(days=rng.randint(0, 3 * 365))
            self.add(
                "providernote",
                {
                    "id": note_id,
                    "provider_id": provider.id,
                    "note_date": note_date,
                    "author": rng.choice(vocab.STAFF),
                    "topic": NoteTopic(topic).value,
                    "text": rng.choice(vocab.NOTE_TEXTS[topic]),
                    **NOT_VOIDED,
                    **_audit(_stamp(note_date, self.today, 10, rng.randint(0, 59))),
                },
            )

    def build_target_groups(self) -> dict[str, int]:
        """The maintained list of target groups the offers pick from; returns name → id."""
        created = _stamp(self.today - timedelta(days=1500), self.today)
        ids = {}
        for group_id, name in enumerate(vocab.TARGET_GROUPS, start=1):
            ids[name] = group_id
            self.add(
                "targetgroup",
                {
                    "id": group_id,
                    "name": name,
                    "name_key": target_group_key(name),
                    "active": True,
                    **_audit(created),
                },
            )
        return ids

    def build_offers(self) -> None:
        rng = self.rng("offers")
        count = max(self.profile.offers, len(self.providers))
        owners = list(self.providers)
        weights = [p.weight**0.5 for p in self.providers]
        owners += rng.choices(self.providers, weights, k=count - len(owners))
        owners.sort(key=lambda p: p.id)
        units_used: dict[int, int] = {}
        paragraphs = (Paragraph.SEL107, Paragraph.SEL108, Paragraph.ABL105)
        # A few places with 1:1 or 2:1 staffing cost 8.000 kr./dag or more.
        extraordinary = set(rng.sample(range(1, count + 1), max(2, count // 30)))
        group_ids = self.build_target_groups()
        for offer_id, provider in enumerate(owners, start=1):
            paragraph = rng.choices(paragraphs, (3, 4, 3))[0]
            if provider.kind == ProviderKind.REGIONAL:
                paragraph = rng.choices(paragraphs, (3, 6, 1))[0]
            low, mode, high = vocab.RATE_RANGES[paragraph]
            rate = Decimal(round(rng.triangular(low, high, mode)))
            if offer_id in extraordinary:
                paragraph = rng.choice((Paragraph.SEL107, Paragraph.SEL108))
                rate = Decimal(rng.randint(*vocab.EXTRAORDINARY_RANGE))
            if provider.kind == ProviderKind.OWN:
                rate = _round_to(rate * Decimal("0.92"), 1)
            serial = units_used.get(provider.id, 0)
            units_used[provider.id] = serial + 1
            if paragraph == Paragraph.ABL105:
                number = rng.randint(1, 60)
                name = f"{provider.stem} – {rng.choice(vocab.STREETS)} {number}"
            else:
                name = f"{provider.stem} – {vocab.OFFER_UNITS[serial % len(vocab.OFFER_UNITS)]}"
                if serial >= len(vocab.OFFER_UNITS):
                    name += f" {serial // len(vocab.OFFER_UNITS) + 1}"
            list_year = self.today.year if rng.random() < 0.9 else self.today.year - 1
            list_rate = (
                rate if list_year == self.today.year else _round_to(rate / Decimal("1.02"), 1)
            )
            negotiated = None
            negotiated_from = None
            if rng.random() < 0.35:
                negotiated = _round_to(list_rate * Decimal(1 - rng.uniform(0.03, 0.12)), 1)
                back = add_months(date(self.today.year, self.today.month, 1), -rng.randint(1, 20))
                negotiated_from = back
                rate = _round_to(negotiated * Decimal("1.02") ** (self.today.year - back.year), 1)
            groups = rng.sample(vocab.TARGET_GROUPS, rng.choices((1, 2, 3), (4, 4, 2))[0])
            for group in groups:
                self.add(
                    "offertargetgroup",
                    {"offer_id": offer_id, "target_group_id": group_ids[group]},
                )
            active = provider.active and rng.random() > 0.04
            self.offers.append(_Offer(offer_id, provider.id, paragraph, rate, active))
            created = self.today - timedelta(days=rng.randint(100, 1400))
            self.add(
                "offer",
                {
                    "id": offer_id,
                    "provider_id": provider.id,
                    "name": name,
                    "paragraph": paragraph.value,
                    "places": rng.randint(4, 40),
                    "list_rate": list_rate.quantize(Decimal("0.01")),
                    "list_rate_year": list_year,
                    "negotiated_rate": negotiated,
                    "negotiated_from": negotiated_from,
                    "portal_url": "https://tilbudsportalen.dk/",
                    "active": active,
                    **_audit(_stamp(created, self.today)),
                },
            )

    # -- reference data ------------------------------------------------------------------------

    def thresholds(self, paragraph: Paragraph, year: int) -> CategoryThresholds:
        """This year's thresholds; each earlier year is the next one / 1,02, whole kroner."""
        key = (paragraph, year)
        if key not in self._thresholds:
            if year >= self.today.year:
                values = [Decimal(v) for v in vocab.CATEGORY_THRESHOLDS[paragraph]]
            else:
                later = self.thresholds(paragraph, year + 1)
                values = [
                    _round_to(v / Decimal("1.02"), 1)
                    for v in (later.middel_from, later.hoej_from, later.ekstraordinaer_from)
                ]
            self._thresholds[key] = CategoryThresholds(
                *(v.quantize(Decimal("0.01")) for v in values)
            )
        return self._thresholds[key]

    def category(self, contract: _Contract, on: date) -> PriceCategory | None:
        daily = daily_equivalent(regulated_price(contract.terms, on), contract.unit)
        return price_category(daily, self.thresholds(contract.paragraph, on.year))

    def build_category_sets(self) -> None:
        set_id = 0
        for paragraph in Paragraph:
            for year in range(
                self.today.year - self.profile.category_years + 1, self.today.year + 1
            ):
                set_id += 1
                thresholds = self.thresholds(paragraph, year)
                self.add(
                    "pricecategoryset",
                    {
                        "id": set_id,
                        "paragraph": paragraph.value,
                        "year": year,
                        "middel_from": thresholds.middel_from,
                        "hoej_from": thresholds.hoej_from,
                        "ekstraordinaer_from": thresholds.ekstraordinaer_from,
                        "is_demo": True,
                        **_audit(_stamp(date(year - 1, 12, 1), self.today)),
                    },
                )

    def build_regulation_rates(self) -> None:
        first = min([c.start.year for c in self.contracts] + [self.today.year - 11])
        for rate_id, year in enumerate(range(first, self.today.year + 2), start=1):
            self.add(
                "regulationrate",
                {
                    "id": rate_id,
                    "year": year,
                    "percent": self.index_rates[year],
                    **_audit(_stamp(date(year - 1, 9, 1), self.today)),
                },
            )

    # -- contracts -------------------------------------------------------------------------------

    def _contract_dates(
        self, rng: random.Random, status: ContractStatus, paragraph: Paragraph
    ) -> tuple[date, date | None]:
        today = self.today
        temporary = paragraph == Paragraph.SEL107
        if status == ContractStatus.DRAFT:
            return today + timedelta(days=rng.randint(15, 75)), None
        if status == ContractStatus.ENDED:
            window = self.profile.history_years * 365 + 90
            end = today - timedelta(days=rng.randint(15, window))
            months = rng.randint(3, 24) if temporary else rng.randint(6, 96)
            return add_months(end, -months) + timedelta(days=1), end
        max_days = 540 if temporary else self.profile.max_age_years * 365
        start = today - timedelta(days=rng.randint(30, max_days))
        if status == ContractStatus.TERMINATED:
            return start, today + timedelta(days=rng.randint(15, 80))
        return start, None

    def _regulation(self, rng: random.Random, *, july: bool) -> Regulation:
        """Mostly 2,00 % on 1 January; some by index, a few fixed at 2,50 % or none."""
        if july:
            return Regulation(RegulationKind.FIXED_PCT, Decimal("2.00"), month=7, day=1)
        draw = rng.random()
        if draw < 0.03:
            return Regulation(RegulationKind.FIXED_PCT, Decimal("2.50"))
        if draw < 0.14:
            return Regulation(RegulationKind.INDEX, Decimal("2.00"), index_rates=self.index_rates)
        if draw < 0.16:
            return Regulation(RegulationKind.NONE, Decimal("0.00"))
        return Regulation()

    def _deflate(self, target: Decimal, base: date, ref: date, regulation: Regulation) -> Decimal:
        """The price at `base` that regulation brings to about `target` at `ref`."""
        for day in regulation_days(base, ref, regulation):
            target = target / (1 + regulation_rate(day.year, regulation) / HUNDRED)
        return target

    def build_contracts(self) -> None:
        rng = self.rng("contracts")
        profile = self.profile
        ended = profile.contracts - profile.active - profile.terminated - profile.drafts
        statuses = (
            [ContractStatus.ACTIVE] * profile.active
            + [ContractStatus.TERMINATED] * profile.terminated
            + [ContractStatus.DRAFT] * profile.drafts
            + [ContractStatus.ENDED] * ended
        )
        rng.shuffle(statuses)
        weight_of = {p.id: p.weight for p in self.providers}
        pools: dict[tuple[bool, Paragraph], tuple[list[_Offer], list[float]]] = {}
        for running in (True, False):
            for paragraph in Paragraph:
                offers = [
                    o for o in self.offers if o.paragraph == paragraph and (o.active or not running)
                ]
                pools[(running, paragraph)] = (offers, [weight_of[o.provider_id] for o in offers])
        # Temporary (§107) stays are short, so more of them have ended than are running.
        paragraph_weights = {True: (7, 50, 43), False: (45, 30, 25)}
        caseworkers = vocab.STAFF[:6]
        costly = [o for o in self.offers if o.rate >= vocab.EXTRAORDINARY_RANGE[0]]
        costly_cases = set(rng.sample(range(len(statuses)), max(3, len(statuses) // 150)))
        july_cases = set(rng.sample(range(len(statuses)), max(2, len(statuses) // 70)))
        for index, status in enumerate(statuses):
            contract_id = index + 1
            running = status != ContractStatus.ENDED
            usable = [o for o in costly if o.active or not running]
            if index in costly_cases and usable:
                offer = rng.choice(usable)
            else:
                paragraph = rng.choices(list(Paragraph), paragraph_weights[running])[0]
                offers, weights = pools[(running, paragraph)]
                offer = rng.choices(offers, weights)[0]
            paragraph = offer.paragraph
            start, end = self._contract_dates(rng, status, paragraph)
            if paragraph == Paragraph.ABL105:
                unit = rng.choices(list(PriceUnit), (60, 35, 5))[0]
            else:
                unit = rng.choices(list(PriceUnit), (82, 11, 7))[0]
            regulation = self._regulation(rng, july=index in july_cases)
            reference = min(end, self.today) if end else self.today
            target = offer.rate * Decimal(rng.triangular(0.85, 1.25, 1.0))
            start_daily = self._deflate(target, start, max(reference, start), regulation)
            price = _price_in_unit(start_daily, unit)
            thresholds = self.thresholds(paragraph, start.year)
            visitation = price_category(daily_equivalent(price, unit), thresholds)
            if visitation and visitation != PriceCategory.LOW and rng.random() < 0.04:
                visitation = list(PriceCategory)[list(PriceCategory).index(visitation) - 1]

            standard = rng.random() < 0.6
            checks = [True] * 8
            if standard and rng.random() < 0.15:
                for item in rng.sample(range(8), rng.randint(1, 2)):
                    checks[item] = False
            elif not standard:
                checks = [False] * 8
                for item in rng.sample(range(8), rng.randint(0, 6)):
                    checks[item] = True
            notice_days = rng.choice((30, 60, 90, 90, 90, 180))
            row = self._contract_row(
                rng,
                contract_id,
                offer,
                status,
                start,
                end,
                price,
                unit,
                regulation,
                notice_days,
                standard,
                checks,
                visitation,
            )
            self.contracts.append(
                _Contract(
                    contract_id,
                    offer.provider_id,
                    row["offer_id"],
                    paragraph,
                    status,
                    start,
                    end,
                    price,
                    unit,
                    regulation,
                    rng.choice(caseworkers),
                    row,
                )
            )

        self._plan_price_changes(self.rng("price-changes"))
        self._plan_addons(self.rng("addons"))
        self._plan_dates(self.rng("contract-dates"))

    def write_contracts(self, followups: list[dict[str, Any]], goals: list[dict[str, Any]]) -> None:
        """Contracts are written once everything that changes their rows is decided."""
        for contract in self.contracts:
            self.add("contract", contract.row)
        self._write_price_changes()
        self._write_addons()
        for row in followups:
            self.add("followup", row)
        for row in goals:
            self.add("goal", row)

    def _contract_row(
        self,
        rng: random.Random,
        contract_id: int,
        offer: _Offer,
        status: ContractStatus,
        start: date,
        end: date | None,
        price: Decimal,
        unit: PriceUnit,
        regulation: Regulation,
        notice_days: int,
        standard: bool,
        checks: list[bool],
        visitation: PriceCategory | None,
    ) -> dict[str, Any]:
        paragraph = offer.paragraph
        hours_by_category = {
            None: (5, 15),
            PriceCategory.LOW: (4, 10),
            PriceCategory.MEDIUM: (10, 20),
            PriceCategory.HIGH: (20, 35),
            PriceCategory.EXTRAORDINARY: (35, 70),
        }
        low, high = hours_by_category[visitation]
        if paragraph == Paragraph.ABL105:
            low, high = max(2, low // 2), max(5, high // 2)
            night = rng.choices((NightCover.NONE, NightCover.SLEEPING), (7, 3))[0]
        elif visitation in (PriceCategory.HIGH, PriceCategory.EXTRAORDINARY):
            night = NightCover.AWAKE
        else:
            night = rng.choices(list(NightCover), (4, 5, 1))[0]
        included_pool = (
            vocab.ABL105_INCLUDED if paragraph == Paragraph.ABL105 else vocab.CONTRACT_INCLUDED
        )
        excluded_pool = (
            vocab.ABL105_EXCLUDED if paragraph == Paragraph.ABL105 else vocab.CONTRACT_EXCLUDED
        )
        specified = standard or rng.random() < 0.8
        created = start - timedelta(days=rng.randint(5, 30))
        if status == ContractStatus.DRAFT:
            created = self.today - timedelta(days=rng.randint(1, 10))
        keys = list(CHECKLIST_ITEMS)
        return {
            "id": contract_id,
            "case_ref": f"SAG-{start.year}-{contract_id:04d}",
            "provider_id": offer.provider_id,
            "offer_id": None if rng.random() < 0.05 else offer.id,
            "paragraph": paragraph.value,
            "start_date": start,
            "end_date": end,
            "price": price,
            "price_unit": unit.value,
            "price_base_date": start,
            "regulation_kind": regulation.kind.value,
            "regulation_pct": regulation.pct,
            "regulation_month": regulation.month,
            "regulation_day": regulation.day,
            "notice_days": notice_days,
            "notice_text": (
                rng.choice(vocab.NOTICE_TEXTS).format(days=notice_days)
                if rng.random() < 0.7
                else None
            ),
            "renegotiation_date": None,
            "standard_contract": standard,
            **dict(zip(keys, checks, strict=True)),
            "visitation_category": visitation.value if visitation else None,
            "support_hours_per_week": Decimal(rng.randint(low * 2, high * 2)) / 2,
            "night_cover": night.value,
            "included": "; ".join(rng.sample(included_pool, 3)) if specified else None,
            "excluded": "; ".join(rng.sample(excluded_pool, 3)) if specified else None,
            "status": status.value,
            "notes": rng.choice(vocab.CONTRACT_NOTES) if rng.random() < 0.15 else None,
            **_audit(_stamp(created, self.today, 11, rng.randint(0, 59))),
        }

    def _plan_price_changes(self, rng: random.Random) -> None:
        for contract in self.contracts:
            if not contract.invoiced:
                continue
            reference = min(contract.end, self.today) if contract.end else self.today
            first = add_months(date(contract.start.year, contract.start.month, 1), 10)
            last = add_months(date(reference.year, reference.month, 1), -1)
            if last <= first:
                continue
            draw = rng.random()
            if draw >= 0.25:
                continue
            span = (last.year - first.year) * 12 + last.month - first.month
            effective = add_months(first, rng.randint(0, span))
            old = regulated_price(contract.terms, effective)
            if draw < 0.19:
                reason = PriceChangeReason.RENEGOTIATION
                factor = Decimal(1 - rng.uniform(0.03, 0.10))
            else:
                reason = PriceChangeReason.CHANGED_SUPPORT_NEED
                factor = Decimal(1 + rng.uniform(0.08, 0.25))
            new = _price_in_unit(daily_equivalent(old, contract.unit) * factor, contract.unit)
            if new == old:
                continue
            contract.changes.append((effective, old, new, reason))

    def _write_price_changes(self) -> None:
        rng = self.rng("price-change-notes")
        change_id = 0
        for contract in self.contracts:
            for effective, old, new, reason in contract.changes:
                change_id += 1
                pool = vocab.PRICE_CHANGE_NOTES["down" if new < old else "up"]
                self.add(
                    "pricechange",
                    {
                        "id": change_id,
                        "contract_id": contract.id,
                        "effective_date": effective,
                        "new_price": new,
                        "old_price": old,
                        "reason": reason.value,
                        "note": rng.choice(pool),
                        **NOT_VOIDED,
                        **_audit(
                            _stamp(effective - timedelta(days=rng.randint(5, 40)), self.today, 13)
                        ),
                    },
                )

    def _plan_addons(self, rng: random.Random) -> None:
        for contract in self.contracts:
            if contract.status == ContractStatus.DRAFT or rng.random() >= 0.12:
                continue
            reference = min(contract.end, self.today) if contract.end else self.today
            for _ in range(2 if rng.random() < 0.15 else 1):
                name, today_price, unit = rng.choice(vocab.ADDONS)
                months_in = max(
                    0,
                    (reference.year - contract.start.year) * 12
                    + reference.month
                    - contract.start.month
                    - 1,
                )
                valid_from = contract.start
                if months_in > 1 and rng.random() < 0.6:
                    valid_from = add_months(
                        date(contract.start.year, contract.start.month, 1),
                        rng.randint(1, months_in),
                    )
                valid_to = None
                if rng.random() < 0.25:
                    candidate = add_months(valid_from, rng.randint(6, 18)) - timedelta(days=1)
                    if candidate < reference:
                        valid_to = candidate
                price = _round_to(
                    self._deflate(today_price, valid_from, self.today, contract.regulation), 1
                )
                if unit == PriceUnit.DAY:
                    price = round_ore(
                        self._deflate(today_price, valid_from, self.today, contract.regulation)
                    )
                contract.addons.append(AddonTerms(price, unit, valid_from, valid_to))
                contract.row.setdefault("_addon_names", []).append(name)

    def _write_addons(self) -> None:
        addon_id = 0
        for contract in self.contracts:
            names = contract.row.pop("_addon_names", [])
            for name, addon in zip(names, contract.addons, strict=True):
                addon_id += 1
                self.add(
                    "contractaddon",
                    {
                        "id": addon_id,
                        "contract_id": contract.id,
                        "name": name,
                        "price": addon.price,
                        "unit": addon.unit.value,
                        "valid_from": addon.valid_from,
                        "valid_to": addon.valid_to,
                        **NOT_VOIDED,
                        **_audit(_stamp(addon.valid_from - timedelta(days=7), self.today, 14)),
                    },
                )

    def _plan_dates(self, rng: random.Random) -> None:
        """Renegotiation dates and end dates that make the alerts of SPEC 4.6 show up."""
        active = [c for c in self.contracts if c.status == ContractStatus.ACTIVE]
        soon = rng.sample(active, min(len(active), self.profile.renegotiation_soon))
        for contract in soon:
            contract.row["renegotiation_date"] = self.today + timedelta(days=rng.randint(5, 58))
        for contract in active:
            if contract.row["renegotiation_date"] is None and rng.random() < 0.1:
                contract.row["renegotiation_date"] = self.today + timedelta(
                    days=rng.randint(70, 420)
                )
        open_ended = [c for c in active if c.end is None]
        notice = rng.sample(open_ended, min(len(open_ended), self.profile.notice_soon))
        chosen = {c.id for c in notice}
        for contract in notice:
            days = contract.row["notice_days"]
            contract.end = self.today + timedelta(days=days + rng.randint(3, 85))
            contract.row["end_date"] = contract.end
        # Temporary (§107) placements often have a planned end well beyond the alert horizon.
        for contract in active:
            if (
                contract.paragraph == Paragraph.SEL107
                and contract.id not in chosen
                and rng.random() < 0.4
            ):
                days = contract.row["notice_days"]
                contract.end = self.today + timedelta(days=days + rng.randint(100, 500))
                contract.row["end_date"] = contract.end

    # -- follow-ups and goals ----------------------------------------------------------------

    def plan_followups_and_goals(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Done follow-ups by the cadence of SPEC 4.5, one open next one, and SMART goals."""
        rng = self.rng("followups")
        cadence = self.settings.cadence
        kinds = list(FollowUpKind)
        themes = list(DEFAULT_VUM_THEMES)
        followups: list[dict[str, Any]] = []
        goals: list[dict[str, Any]] = []
        for contract in self.contracts:
            if not contract.invoiced:
                continue
            live = contract.status in (ContractStatus.ACTIVE, ContractStatus.TERMINATED)
            due = first_followup_due(contract.start, cadence)
            done_rows: list[dict[str, Any]] = []
            previous_done = contract.start
            while contract.end is None or due <= contract.end:
                done = max(
                    due + timedelta(days=rng.randint(-21, 10)), previous_done + timedelta(days=1)
                )
                overdue = live and due >= self.today - timedelta(days=150) and rng.random() < 0.18
                if due >= self.today or done > self.today or overdue:
                    if live:
                        followups.append(
                            self._followup_row(
                                len(followups) + 1,
                                contract,
                                due,
                                rng.choice(kinds),
                                None,
                                previous_done,
                            )
                        )
                    break
                if contract.end is not None:
                    done = min(done, contract.end)
                row = self._followup_row(
                    len(followups) + 1,
                    contract,
                    due,
                    rng.choices(kinds, (5, 3, 1, 2))[0],
                    done,
                    done,
                )
                self._outcome(rng, contract, row)
                done_rows.append(row)
                followups.append(row)
                previous_done = done
                due = next_followup_due(
                    last_done=done,
                    paragraph=contract.paragraph,
                    category=self.category(contract, done),
                    cadence=cadence,
                )
            if done_rows and contract.status == ContractStatus.ENDED:
                done_rows[-1]["action"] = rng.choice(
                    (FollowUpAction.MOVE.value, FollowUpAction.CONTINUE.value)
                )
            if done_rows and contract.status == ContractStatus.TERMINATED:
                done_rows[-1]["action"] = FollowUpAction.TERMINATE.value
            goals += self._goals(rng, contract, done_rows, themes, len(goals))
        return followups, goals

    def _followup_row(
        self,
        followup_id: int,
        contract: _Contract,
        due: date,
        kind: FollowUpKind,
        done: date | None,
        created: date,
    ) -> dict[str, Any]:
        return {
            "id": followup_id,
            "contract_id": contract.id,
            "due_date": due,
            "kind": kind.value,
            "done_date": done,
            "done_by": contract.caseworker if done else None,
            "progression": None,
            "support_need_change": None,
            "action": None,
            "note": None,
            "assignee": contract.caseworker,
            **_audit(_stamp(created, self.today, 12)),
        }

    def _outcome(self, rng: random.Random, contract: _Contract, row: dict[str, Any]) -> None:
        done: date = row["done_date"]
        progression = rng.choices(list(Progression), (40, 45, 15))[0]
        support = rng.choices((SupportNeedChange.UNCHANGED, SupportNeedChange.UP), (85, 15))[0]
        action = FollowUpAction.CONTINUE
        # A renegotiation that followed this follow-up was decided at it.
        for effective, old, new, _reason in contract.changes:
            if done < effective <= done + timedelta(days=200):
                action = FollowUpAction.RENEGOTIATE
                support = SupportNeedChange.DOWN if new < old else SupportNeedChange.UP
        recent = done >= self.today - timedelta(days=100)
        if (
            recent
            and contract.status == ContractStatus.ACTIVE
            and action == FollowUpAction.CONTINUE
            and rng.random() < 0.05
        ):
            action = FollowUpAction.RENEGOTIATE
            support = rng.choice((SupportNeedChange.DOWN, SupportNeedChange.UNCHANGED))
            # SPEC 4.5: the renegotiation date is set to the follow-up date if none is set.
            if contract.row["renegotiation_date"] is None:
                contract.row["renegotiation_date"] = done
                contract.row["updated_at"] = _stamp(done, self.today, 12)
        row["progression"] = progression.value
        row["support_need_change"] = support.value
        row["action"] = action.value
        if rng.random() < 0.6:
            row["note"] = rng.choice(vocab.FOLLOWUP_NOTES[progression.value])
        row["updated_at"] = _stamp(done, self.today, 15)

    def _goals(
        self,
        rng: random.Random,
        contract: _Contract,
        done_rows: list[dict[str, Any]],
        themes: list[str],
        goal_id: int,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        if not done_rows:
            return rows
        share = 0.55 if contract.status == ContractStatus.ACTIVE else 0.2
        if rng.random() >= share:
            return rows
        goal_types = list(GoalType)
        latest = done_rows[-1]
        picked = rng.sample(themes, rng.choices((1, 2, 3), (4, 4, 2))[0])
        plans: list[tuple[str, dict[str, Any], bool]] = [(t, latest, True) for t in picked]
        if len(done_rows) > 1 and rng.random() < 0.3:
            earlier = done_rows[rng.randrange(len(done_rows) - 1)]
            plans += [(t, earlier, False) for t in rng.sample(themes, rng.randint(1, 2))]
        for theme, followup, current in plans:
            set_on: date = followup["done_date"]
            deadline = add_months(set_on, rng.choice((6, 9, 12)))
            if current and contract.status == ContractStatus.ACTIVE and deadline >= self.today:
                status = GoalStatus.ACTIVE
            elif current and contract.status == ContractStatus.ACTIVE:
                status = rng.choices(list(GoalStatus), (2, 5, 3, 0))[0]
            else:
                status = rng.choices(list(GoalStatus)[1:], (5, 3, 2))[0]
            text, measure = rng.choice(vocab.GOAL_TEXTS.get(theme, vocab.GOAL_TEXTS_FALLBACK))
            goal_id += 1
            rows.append(
                {
                    "id": goal_id,
                    "contract_id": contract.id,
                    "followup_id": followup["id"],
                    "theme": theme,
                    "goal_type": rng.choices(goal_types, (6, 3, 1))[0].value,
                    "text": text,
                    "measure": measure,
                    "deadline": deadline,
                    "status": status.value,
                    **_audit(_stamp(set_on, self.today, 15, 30)),
                }
            )
        return rows

    # -- invoices and deviations ---------------------------------------------------------------

    def _invoice_months(self, contract: _Contract) -> list[date]:
        if not contract.invoiced:
            return []
        first = max(contract.start, self.history_start)
        last = min(contract.end or self.today, _month_end(self.last_month))
        if last < first:
            return []
        return list(_months(first, last))

    def _plan_episodes(self) -> dict[tuple[int, date], _Episode]:
        """Which (contract, month) invoices deviate, and how."""
        rng = self.rng("deviations")
        months_of = {c.id: self._invoice_months(c) for c in self.contracts}
        candidates = [c for c in self.contracts if months_of[c.id]]
        cumulative: list[int] = []
        total = 0
        for contract in candidates:
            total += len(months_of[contract.id])
            cumulative.append(total)
        recent = [
            c
            for c in candidates
            if months_of[c.id][-1] == self.last_month and len(months_of[c.id]) >= 2
        ]
        plan: dict[tuple[int, date], _Episode] = {}

        def place(
            contract: _Contract, start_index: int, kind: str, length: int, number: int
        ) -> bool:
            months = months_of[contract.id][start_index : start_index + length]
            if any((contract.id, m) in plan for m in months):
                return False
            episode = _Episode(kind, number)
            if kind == "tillaeg":
                episode.extra = Decimal(rng.choice((1850, 2200, 3200, 4500)))
            elif kind in ("dage", "under"):
                episode.extra = Decimal(rng.randint(1, 3))
            for month in months:
                plan[(contract.id, month)] = episode
            return True

        number = 0
        attempts = 0
        while number < self.profile.deviation_episodes and attempts < 20 * (
            self.profile.deviation_episodes + 1
        ):
            attempts += 1
            if number < self.profile.recent_deviation_episodes and recent:
                contract = rng.choice(recent)
                start_index = len(months_of[contract.id]) - rng.randint(1, 2)
            else:
                contract = rng.choices(candidates, cum_weights=cumulative)[0]
                start_index = rng.randrange(len(months_of[contract.id]))
            kind = self._deviation_kind(rng, contract, months_of[contract.id][start_index])
            if kind == "gammel_pris":
                effective = next(d for d, old, new, _r in contract.changes if new < old)
                month = date(effective.year, effective.month, 1)
                if month not in months_of[contract.id]:
                    kind = "tillaeg"
                else:
                    start_index = months_of[contract.id].index(month)
            length = rng.choices((1, 2, 3), (5, 3, 2))[0]
            if place(contract, start_index, kind, length, number):
                number += 1
        placed = 0
        attempts = 0
        while placed < self.profile.under_expected and attempts < 20 * (
            self.profile.under_expected + 1
        ):
            attempts += 1
            contract = rng.choices(candidates, cum_weights=cumulative)[0]
            if place(contract, rng.randrange(len(months_of[contract.id])), "under", 1, -1):
                placed += 1
        return plan

    def _deviation_kind(self, rng: random.Random, contract: _Contract, month: date) -> str:
        renegotiated = [d for d, old, new, _r in contract.changes if new < old]
        if renegotiated and renegotiated[0] >= self.history_start and rng.random() < 0.4:
            return "gammel_pris"
        regulated = contract.regulation.kind != RegulationKind.NONE and regulation_days(
            contract.start, month, contract.regulation
        )
        kinds = ("regulering", "tillaeg", "dage") if regulated else ("tillaeg", "dage")
        weights = (5, 4, 1) if regulated else (4, 1)
        return rng.choices(kinds, weights)[0]

    def _invoiced_amount(
        self,
        contract: _Contract,
        episode: _Episode | None,
        expected: Decimal,
        period_from: date,
        period_to: date,
    ) -> tuple[Decimal, str | None]:
        if episode is None:
            return expected, None
        days = (period_to - period_from).days + 1
        if episode.kind == "regulering":
            steps = regulation_days(contract.start, period_from, contract.regulation)
            agreed = regulation_rate(steps[-1].year, contract.regulation)
            charged = agreed + 2
            note = vocab.DEVIATION_NOTES["regulering"].format(
                invoiced_pct=format_pct(charged), agreed_pct=format_pct(agreed)
            )
            return round_ore(expected * (HUNDRED + charged) / (HUNDRED + agreed)), note
        if episode.kind == "tillaeg":
            month_days = calendar.monthrange(period_from.year, period_from.month)[1]
            extra = round_ore(episode.extra * days / month_days)
            note = vocab.DEVIATION_NOTES["tillaeg"].format(amount=format_kr(extra))
            return expected + extra, note
        if episode.kind == "gammel_pris":
            effective, old, new, _r = next(c for c in contract.changes if c[2] < c[1])
            return round_ore(expected * old / new), vocab.DEVIATION_NOTES["gammel_pris"]
        per_day = expected / days
        extra = round_ore(per_day * min(episode.extra, Decimal(days - 1)))
        if episode.kind == "under":
            return expected - extra, None
        note = vocab.DEVIATION_NOTES["dage"].format(days=int(episode.extra))
        return expected + extra, note

    def build_invoices(self) -> None:
        rng = self.rng("invoices")
        plan = self._plan_episodes()
        invoice_id = 0
        flagged: list[tuple[_Episode, dict[str, Any], str]] = []
        report_every = 50000
        for contract in self.contracts:
            months = self._invoice_months(contract)
            if not months:
                continue
            terms = contract.terms
            for month in months:
                period_from = max(month, contract.start)
                period_to = (
                    min(_month_end(month), contract.end) if contract.end else _month_end(month)
                )
                expected = expected_amount(
                    terms=terms,
                    period_from=period_from,
                    period_to=period_to,
                    contract_start=contract.start,
                    contract_end=contract.end,
                    addons=contract.addons,
                ).total
                episode = plan.get((contract.id, month))
                invoiced, note = self._invoiced_amount(
                    contract, episode, expected, period_from, period_to
                )
                deviation = invoice_deviation(
                    invoiced=invoiced,
                    expected=expected,
                    tolerance_kr=TOLERANCE_KR,
                    tolerance_pct=TOLERANCE_PCT,
                )
                checked_on = add_months(month, 1) + timedelta(days=9 + rng.randint(-4, 8))
                checked_on = min(checked_on, self.today)
                invoice_id += 1
                row = {
                    "id": invoice_id,
                    "contract_id": contract.id,
                    "provider_id": contract.provider_id,
                    "invoice_no": f"F-{contract.id}-{month:%Y%m}",
                    "period_from": period_from,
                    "period_to": period_to,
                    "checked_on": checked_on,
                    "invoiced": invoiced,
                    "expected": expected,
                    "deviation": deviation.amount,
                    "deviation_pct": deviation.pct,
                    "flagged": deviation.flagged,
                    "under_expected": deviation.under_expected,
                    "status": None,
                    "resolution_note": None,
                    "assignee": None,
                    "resolved_on": None,
                    "kind": "faktura",
                    "credits_id": None,
                    **NOT_VOIDED,
                    **_audit(_stamp(checked_on, self.today, 10, rng.randint(0, 59))),
                }
                if deviation.flagged and episode is not None:
                    episode.last_checked_on = checked_on
                    flagged.append((episode, row, note or ""))
                else:
                    self.add("invoicecheck", row)
                if invoice_id % report_every == 0:
                    self.progress(f"Fakturakontrol: {invoice_id:,} fakturaer".replace(",", "."))
        self._resolve_deviations(flagged)

    def _resolve_deviations(self, flagged: list[tuple[_Episode, dict[str, Any], str]]) -> None:
        """Give each flagged invoice a status and the history of events that led to it."""
        rng = self.rng("deviation-status")
        cycles = {
            "recent": (
                InvoiceStatus.NEW,
                InvoiceStatus.INVESTIGATING,
                InvoiceStatus.NEW,
                InvoiceStatus.PROVIDER_CONTACTED,
            ),
            "middle": (
                InvoiceStatus.INVESTIGATING,
                InvoiceStatus.PROVIDER_CONTACTED,
                InvoiceStatus.RESOLVED,
                InvoiceStatus.ACCEPTED,
                InvoiceStatus.PROVIDER_CONTACTED,
            ),
            "old": (
                InvoiceStatus.RESOLVED,
                InvoiceStatus.RESOLVED,
                InvoiceStatus.ACCEPTED,
                InvoiceStatus.RESOLVED,
            ),
        }
        counters = dict.fromkeys(cycles, 0)
        status_of: dict[int, InvoiceStatus] = {}
        controllers = vocab.STAFF[6:]
        event_id = 0
        for episode, row, note in flagged:
            assert episode.last_checked_on is not None
            if episode.number not in status_of:
                # Open cases are recent; old ones were resolved or accepted long ago.
                age = (self.today - episode.last_checked_on).days
                bucket = "recent" if age < 45 else "middle" if age < 150 else "old"
                cycle = cycles[bucket]
                status_of[episode.number] = cycle[counters[bucket] % len(cycle)]
                counters[bucket] += 1
            status = status_of[episode.number]
            path = self._status_path(rng, status)
            days = self._event_days(rng, row["checked_on"], episode.last_checked_on, len(path))
            logged_by = rng.choice(controllers)
            assignee = rng.choice(controllers)
            events: list[dict[str, Any]] = []
            old_status: str | None = None
            at = row["created_at"]
            for step, (new_status, day) in enumerate(zip(path, days, strict=True)):
                at = (
                    row["created_at"]
                    if step == 0
                    else _stamp(day, self.today, 11 + step, rng.randint(0, 59))
                )
                event_note: str | None = note if step == 0 else None
                if new_status.value in vocab.DEVIATION_STEP_NOTES:
                    event_note = rng.choice(vocab.DEVIATION_STEP_NOTES[new_status.value])
                if new_status.value in vocab.RESOLUTION_NOTES:
                    event_note = rng.choice(vocab.RESOLUTION_NOTES[new_status.value])
                    row["resolution_note"] = event_note
                    row["resolved_on"] = day
                event_id += 1
                events.append(
                    {
                        "id": event_id,
                        "invoice_check_id": row["id"],
                        "at": at,
                        "by": logged_by if step == 0 else assignee,
                        "old_status": old_status,
                        "new_status": new_status.value,
                        "assignee": assignee if step > 0 else None,
                        "note": event_note,
                        **_audit(at, versioned=False),
                    }
                )
                old_status = new_status.value
            row["status"] = status.value
            row["assignee"] = assignee if len(path) > 1 else None
            row["updated_at"] = at
            self.add("invoicecheck", row)
            for event in events:
                self.add("deviationevent", event)

    def _status_path(self, rng: random.Random, status: InvoiceStatus) -> list[InvoiceStatus]:
        new, inv, contacted = (
            InvoiceStatus.NEW,
            InvoiceStatus.INVESTIGATING,
            InvoiceStatus.PROVIDER_CONTACTED,
        )
        if status == new:
            return [new]
        if status == inv:
            return [new, inv]
        if status == contacted:
            return [new, inv, contacted]
        if rng.random() < 0.6:
            return [new, inv, contacted, status]
        return [new, inv, status]

    def _event_days(
        self, rng: random.Random, checked_on: date, handled_from: date, steps: int
    ) -> list[date]:
        """The first event on the check day, later ones after the episode's last check."""
        days = [checked_on]
        current = max(checked_on, handled_from)
        for _ in range(steps - 1):
            current = current + timedelta(days=rng.randint(1, 12))
            days.append(current)
        if days[-1] > self.today:
            # Squeeze the history into the days available; the order stays the same.
            available = (self.today - checked_on).days
            days = [
                checked_on + timedelta(days=available * i // max(1, steps - 1))
                for i in range(steps)
            ]
        return days

    # -- budgets and settings -----------------------------------------------------------------

    def build_budgets(self) -> None:
        rng = self.rng("budgets")
        first_year = self.today.year - self.profile.budget_years + 1
        spend: dict[tuple[Paragraph, int], Decimal] = {}
        for contract in self.contracts:
            if not contract.invoiced:
                continue
            for year in range(max(first_year, contract.start.year), self.today.year + 1):
                first = max(date(year, 1, 1), contract.start)
                last = min(date(year, 12, 31), contract.end) if contract.end else date(year, 12, 31)
                if last < first:
                    continue
                middle = first + (last - first) / 2
                daily = daily_equivalent(regulated_price(contract.terms, middle), contract.unit)
                for addon in contract.addons:
                    if addon.valid_from <= middle and (
                        addon.valid_to is None or middle <= addon.valid_to
                    ):
                        addon_terms = PriceTerms(
                            addon.price, addon.unit, addon.valid_from, contract.regulation
                        )
                        daily += daily_equivalent(regulated_price(addon_terms, middle), addon.unit)
                key = (contract.paragraph, year)
                spend[key] = spend.get(key, Decimal(0)) + daily * ((last - first).days + 1)
        budget_id = 0
        for paragraph in Paragraph:
            for year in range(first_year, self.today.year + 1):
                amount = spend.get((paragraph, year), Decimal(0))
                budget_id += 1
                self.add(
                    "budget",
                    {
                        "id": budget_id,
                        "year": year,
                        "paragraph": paragraph.value,
                        "amount": _round_to(amount * Decimal(rng.uniform(0.96, 1.05)), 100000),
                        "is_demo": True,
                        **_audit(_stamp(date(year - 1, 10, 15), self.today)),
                    },
                )
