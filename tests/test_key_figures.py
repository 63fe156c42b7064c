"""Key figures (SPEC 4.7) and the quarterly report on a small database built by hand.

Every expected number is worked out by hand in the comment next to it. The world, as of
TODAY = 30.06.2026:

  providers  A "Bostedet Anemone" (privat), B "Botilbud Birk" (selvejende),
             C "Cedertræet" (egen), D "Bocenter Dalen" (privat, no contracts)
  c1  A, §108, aktiv, 2.000,00 kr./dag from 01.01.2025, 2 % on 1 January → 2.040,00 in 2026;
      add-on 1.000,00 kr./måned from 01.01.2026; standard contract, checklist 8/8;
      renegotiation date 15.08.2026; visitation category middel
  c2  B, §107, aktiv, 60.000,00 kr./måned from 01.01.2026, ends 31.12.2026, 120 days notice
      (deadline 02.09.2026); renegotiated to 55.000,00 from 01.04.2026; checklist 4/8
  c3  C, §105, aktiv, 1.095.000,00 kr./år from 01.01.2026 (3.000,00 a day), no regulation;
      checklist 0/8; visitation category høj
  c4  B, §108, afsluttet, 1.400,00 kr./dag 01.01.–31.12.2025, no regulation; changed support
      need → 1.500,00 from 01.06.2025, renegotiated → 1.450,00 from 01.09.2025
  price category sets 2026: §108 middel 1.500 / høj 2.500 / ekstraordinær 4.000,
                            §105 middel 1.000 / høj 2.000 / ekstraordinær 3.000
  budgets 2026: §108 1.000.000, §107 700.000, §105 1.200.000 (2.900.000 in all)
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Budget, FollowUp, InvoiceCheck
from services.contracts import add_addon, register_price_change
from services.exports.overview import overview_workbook
from services.followups import record_followup
from services.invoices import check_invoice, update_deviation
from services.queries import overview as kf
from services.queries.report import Quarter, quarter_report
from services.reference import create_price_category_set, save_budget
from tests.factories import USER, make_contract, make_provider

TODAY = date(2026, 6, 30)
CHECKLIST = [
    "chk_price_scope",
    "chk_service_plan",
    "chk_own_payment",
    "chk_data_agreement",
    "chk_followup_dates",
    "chk_notice",
    "chk_termination",
    "chk_no_change",
]


@dataclass
class World:
    providers: dict[str, int]
    contracts: dict[str, int]


def _invoice(
    session: Session, contract_id: int, no: str, first: date, last: date, amount: str, checked: date
) -> int:
    check = check_invoice(
        session=session,
        data={
            "contract_id": contract_id,
            "invoice_no": no,
            "period_from": first,
            "period_to": last,
            "invoiced": Decimal(amount),
        },
        user=USER,
        today=checked,
    )
    return check.id


def _record(session: Session, contract_id: int, done: date, today: date) -> None:
    """Record the open follow-up of a contract as done on `done` (the next one is planned)."""
    followup = session.exec(
        select(FollowUp).where(
            FollowUp.contract_id == contract_id, col(FollowUp.done_date).is_(None)
        )
    ).one()
    record_followup(
        session=session,
        followup_id=followup.id,
        data={
            "done_date": done,
            "done_by": USER,
            "kind": "moede",
            "progression": "uaendret",
            "support_need_change": "uaendret",
            "action": "fortsaet",
            "version": followup.version,
        },
        user=USER,
        today=today,
    )


@pytest.fixture
def world(session: Session) -> World:
    a = make_provider(session, name="Bostedet Anemone", cvr="10000009", kind="privat")
    b = make_provider(session, name="Botilbud Birk", cvr="20000008", kind="selvejende")
    c = make_provider(session, name="Cedertræet", cvr="30000007", kind="egen")
    d = make_provider(session, name="Bocenter Dalen", cvr="40000006", kind="privat")
    c1 = make_contract(
        session,
        a,
        case_ref="SAG-1",
        paragraph="SEL108",
        start_date=date(2025, 1, 1),
        price=Decimal("2000.00"),
        price_base_date=date(2025, 1, 1),
        renegotiation_date=date(2026, 8, 15),
        standard_contract=True,
        visitation_category="middel",
        **dict.fromkeys(CHECKLIST, True),
    )
    c2 = make_contract(
        session,
        b,
        case_ref="SAG-2",
        paragraph="SEL107",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        notice_days=120,
        price=Decimal("60000.00"),
        price_unit="maaned",
        price_base_date=date(2026, 1, 1),
        **dict.fromkeys(CHECKLIST[:4], True),
    )
    c3 = make_contract(
        session,
        c,
        case_ref="SAG-3",
        paragraph="ABL105",
        start_date=date(2026, 1, 1),
        price=Decimal("1095000.00"),
        price_unit="aar",
        price_base_date=date(2026, 1, 1),
        regulation_kind="ingen",
        visitation_category="hoej",
    )
    c4 = make_contract(
        session,
        b,
        case_ref="SAG-4",
        paragraph="SEL108",
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
        price=Decimal("1400.00"),
        price_base_date=date(2025, 1, 1),
        regulation_kind="ingen",
        status="afsluttet",
    )
    add_addon(
        session=session,
        data={
            "contract_id": c1.id,
            "name": "Ekstra støtte",
            "price": Decimal("1000.00"),
            "unit": "maaned",
            "valid_from": date(2026, 1, 1),
        },
        user=USER,
    )
    register_price_change(
        session=session,
        contract_id=c2.id,
        user=USER,
        data={
            "effective_date": date(2026, 4, 1),
            "new_price": Decimal("55000.00"),
            "reason": "genforhandling",
        },
    )
    register_price_change(
        session=session,
        contract_id=c4.id,
        user=USER,
        data={
            "effective_date": date(2025, 6, 1),
            "new_price": Decimal("1500.00"),
            "reason": "aendret_stoettebehov",
        },
    )
    register_price_change(
        session=session,
        contract_id=c4.id,
        user=USER,
        data={
            "effective_date": date(2025, 9, 1),
            "new_price": Decimal("1450.00"),
            "reason": "genforhandling",
        },
    )
    for paragraph, middel, hoej, ekstra in (
        ("SEL108", 1500, 2500, 4000),
        ("ABL105", 1000, 2000, 3000),
    ):
        create_price_category_set(
            session=session,
            data={
                "paragraph": paragraph,
                "year": 2026,
                "middel_from": Decimal(middel),
                "hoej_from": Decimal(hoej),
                "ekstraordinaer_from": Decimal(ekstra),
            },
            user=USER,
        )
    for paragraph, amount in (("SEL108", "1000000"), ("SEL107", "700000"), ("ABL105", "1200000")):
        save_budget(
            session=session,
            data={"year": 2026, "paragraph": paragraph, "amount": Decimal(amount)},
            user=USER,
        )

    # Invoices. Expected amounts: c1 Jan 2.040 × 31 + 1.000 = 64.240; Feb 2.040 × 28 + 1.000 =
    # 58.120 (invoiced 500 more: a deviation, left open); Dec 2025 2.000 × 31 = 62.000.
    # c2 Jan and Feb 60.000 (Feb invoiced 1.000 more: resolved 15.05.2026). c3 3.000 a day.
    # c4 Dec 2025 1.450 × 31 = 44.950.
    _invoice(
        session, c1.id, "A-1", date(2025, 12, 1), date(2025, 12, 31), "62000.00", date(2026, 1, 10)
    )
    _invoice(
        session, c1.id, "A-2", date(2026, 1, 1), date(2026, 1, 31), "64240.00", date(2026, 2, 10)
    )
    _invoice(
        session, c1.id, "A-3", date(2026, 2, 1), date(2026, 2, 28), "58620.00", date(2026, 3, 10)
    )
    _invoice(
        session, c2.id, "B-1", date(2026, 1, 1), date(2026, 1, 31), "60000.00", date(2026, 2, 10)
    )
    b2 = _invoice(
        session, c2.id, "B-2", date(2026, 2, 1), date(2026, 2, 28), "61000.00", date(2026, 3, 10)
    )
    _invoice(
        session, c3.id, "C-1", date(2026, 1, 1), date(2026, 1, 31), "93000.00", date(2026, 2, 10)
    )
    _invoice(
        session, c3.id, "C-2", date(2026, 4, 1), date(2026, 4, 30), "90000.00", date(2026, 5, 10)
    )
    _invoice(
        session, c4.id, "B-9", date(2025, 12, 1), date(2025, 12, 31), "44950.00", date(2026, 1, 10)
    )
    version = session.get(InvoiceCheck, b2).version
    update_deviation(
        session=session,
        check_id=b2,
        data={"status": "loest", "note": "Kreditnota modtaget", "version": version},
        user=USER,
        today=date(2026, 5, 15),
    )

    # Follow-ups: creating an active contract plans the first one 3 months after the start.
    # c1: due 01.04.2025, done 25.03.2025 → next due 25.03.2026 (§108: 12 months), done late on
    #     10.04.2026 → next due 10.04.2027.
    # c2: due 01.04.2026, done on time 30.03.2026 → next due 30.06.2026 (§107: 3 months).
    # c3: due 01.04.2026, not done: overdue.
    _record(session, c1.id, date(2025, 3, 25), date(2025, 3, 25))
    _record(session, c1.id, date(2026, 4, 10), date(2026, 4, 10))
    _record(session, c2.id, date(2026, 3, 30), date(2026, 3, 30))
    return World(
        providers={"A": a.id, "B": b.id, "C": c.id, "D": d.id},
        contracts={"c1": c1.id, "c2": c2.id, "c3": c3.id, "c4": c4.id},
    )


def test_days_in_period_and_year_are_computed_in_sql_on_both_backends(session):
    first, last = sa.literal(date(2024, 2, 1), sa.Date), sa.literal(date(2024, 2, 29), sa.Date)
    days, year = session.exec(
        select(kf.days_in_period(first, last), kf.year_of(last, session))
    ).one()
    assert 29 == int(days)  # leap February, both ends included
    assert 2024 == int(year)


def _annual_by_case(session: Session, as_of: date, historical: bool = False) -> dict:
    cases = kf.expensive_cases(session=session, as_of=as_of, historical=historical)
    return dict(zip(cases["Sag"], cases["Årsudgift"], strict=True))


def test_portfolio_of_active_contracts(session, world):
    # c1: 2.040,00 × 365 = 744.600,00 + add-on 1.000,00 × 12 = 12.000,00
    # c2: 55.000,00 × 12 (renegotiated 01.04.2026); c3: 1.095.000,00 a year
    assert {
        "SAG-1": Decimal("756600.00"),
        "SAG-2": Decimal("660000.00"),
        "SAG-3": Decimal("1095000.00"),
    } == _annual_by_case(session, TODAY)

    p = kf.portfolio(session=session, as_of=TODAY, large_case_threshold=Decimal("1000000.00"))
    assert 3 == p.active_contracts  # c4 has ended
    assert Decimal("2511600.00") == p.annual_spend  # 756.600 + 660.000 + 1.095.000
    assert Decimal("837200.00") == p.average_per_case  # 2.511.600 / 3
    assert 1 == p.large_cases  # only c3 is above 1 mio. kr. a year
    assert 3 == p.providers_used  # A, B, C (D has no contract)
    assert 1 == p.own_contracts
    assert Decimal("43.60") == p.own_share  # 1.095.000 / 2.511.600 = 43,597… %
    by_paragraph = dict(zip(p.by_paragraph["code"], p.by_paragraph["Årsudgift"], strict=True))
    assert {
        "SEL107": Decimal("660000.00"),
        "SEL108": Decimal("756600.00"),
        "ABL105": Decimal("1095000.00"),
    } == by_paragraph
    by_kind = dict(zip(p.by_kind["code"], p.by_kind["Kontrakter"], strict=True))
    assert {"privat": 1, "selvejende": 1, "egen": 1} == by_kind
    # c1 2.040 a day in §108 2026 → middel; c3 3.000 a day = the §105 ekstraordinær threshold →
    # ekstraordinær (a rate equal to a threshold is in the higher band); §107 has no set.
    by_category = dict(zip(p.by_category["code"], p.by_category["Kontrakter"], strict=True))
    assert {"middel": 1, "ekstraordinaer": 1, "ingen": 1} == by_category
    assert ["Ingen kategori"] == list(
        p.by_category.loc[p.by_category["code"] == "ingen", "Priskategori"]
    )


def test_contracts_in_force_at_an_earlier_date(session, world):
    annual = _annual_by_case(session, date(2025, 12, 31), historical=True)
    # c1 2.000,00 × 365 (regulated 01.01.2026, add-on from 2026); c4 1.450,00 × 365 (latest
    # price change on or before the day). c2 and c3 had not started.
    assert {"SAG-1": Decimal("730000.00"), "SAG-4": Decimal("529250.00")} == annual


def test_invoiced_budget_and_expected_year_end(session, world):
    snap = kf.snapshot(session=session, as_of=TODAY)
    # 64.240 + 58.620 + 60.000 + 61.000 + 93.000 + 90.000 (periods starting in 2026)
    assert Decimal("426860.00") == snap.invoiced_ytd
    assert Decimal("2900000.00") == snap.budget  # 1.000.000 + 700.000 + 1.200.000
    assert Decimal("14.72") == snap.budget_used  # 426.860 / 2.900.000 = 14,719… %
    # 01.07.–31.12.2026 = 184 days at 2.511.600 / 365 a day = 1.266.121,643… kr.
    assert Decimal("1266121.64") == snap.expected_rest
    assert Decimal("1692981.64") == snap.expected_year_end  # 426.860 + 1.266.121,64


def test_budget_and_spend_follow_the_paragraph_filter(session, world):
    only_108 = kf.Filters(paragraphs=("SEL108",))
    snap = kf.snapshot(session=session, as_of=TODAY, filters=only_108)
    assert Decimal("122860.00") == snap.invoiced_ytd  # c1: 64.240 + 58.620
    assert Decimal("1000000.00") == snap.budget
    assert 1 == snap.portfolio.active_contracts
    own = kf.snapshot(session=session, as_of=TODAY, filters=kf.Filters(provider_kinds=("egen",)))
    assert Decimal("183000.00") == own.invoiced_ytd  # c3: 93.000 + 90.000
    assert 1 == own.providers_total  # only C is an own offer


def test_budget_is_not_set_against_the_spend_of_some_provider_kinds(session, world):
    # A budget covers every kind of provider: with "privat" the §108 budget (1.000.000) would
    # be set against c1's spend only.
    private_108 = kf.Filters(paragraphs=("SEL108",), provider_kinds=("privat",))
    snap = kf.snapshot(session=session, as_of=TODAY, filters=private_108)
    assert Decimal("122860.00") == snap.invoiced_ytd  # still the private providers' spend
    assert None is snap.budget
    assert None is snap.budget_used
    assert "leverandørtype" in str(snap.budget_note)
    spending = kf.spending(session=session, as_of=TODAY, filters=private_108)
    assert spending.budgets.empty and spending.budget_by_year.empty
    assert spending.table()["Budget"].isna().all()


def test_budget_needs_every_paragraph_shown(session, world):
    shown = kf.Filters(paragraphs=("SEL108", "SEL107"))
    assert Decimal("1700000.00") == kf.snapshot(session=session, as_of=TODAY, filters=shown).budget
    session.execute(sa.delete(Budget).where(col(Budget.paragraph) == "SEL107"))
    session.commit()
    for filters in (shown, kf.Filters()):  # §107 is shown in both, and has no budget now
        snap = kf.snapshot(session=session, as_of=TODAY, filters=filters)
        assert (None, None) == (snap.budget, snap.budget_used)
        assert "intet budget for §107 midlertidigt botilbud i 2026" in str(snap.budget_note)
        assert kf.spending(session=session, as_of=TODAY, filters=filters).budget_by_year.empty
    only_108 = kf.snapshot(session=session, as_of=TODAY, filters=kf.Filters(("SEL108",)))
    assert (Decimal("1000000.00"), None) == (only_108.budget, only_108.budget_note)
    per_year = kf.spending(session=session, as_of=TODAY, filters=kf.Filters(("SEL108",)))
    assert [(2026, Decimal("1000000.00"))] == list(per_year.budget_by_year.itertuples(index=False))


def test_no_budget_for_the_year_is_no_note(session, world):
    snap = kf.snapshot(session=session, as_of=date(2025, 12, 31), historical=True)
    assert (None, None, None) == (snap.budget, snap.budget_used, snap.budget_note)


def test_average_daily_rate_by_year_and_paragraph(session, world):
    frame = kf.spend_by_year(session=session, up_to=TODAY)
    rates = {
        (y, p): r
        for y, p, r in zip(frame["year"], frame["paragraph"], frame["Gns. dagstakst"], strict=True)
    }
    assert {
        (2025, "SEL108"): Decimal("1725.00"),  # (62.000 + 44.950) / (31 + 31) days
        (2026, "SEL107"): Decimal("2050.85"),  # (60.000 + 61.000) / (31 + 28) = 2.050,847…
        (2026, "SEL108"): Decimal("2082.37"),  # (64.240 + 58.620) / (31 + 28) = 2.082,372…
        (2026, "ABL105"): Decimal("3000.00"),  # (93.000 + 90.000) / (31 + 30)
    } == rates


def test_provider_spend_last_twelve_months_and_concentration(session, world):
    snap = kf.snapshot(session=session, as_of=TODAY)
    spend = dict(
        zip(snap.provider_spend["Leverandør"], snap.provider_spend["Faktureret"], strict=True)
    )
    assert {
        "Bostedet Anemone": Decimal("184860.00"),  # 62.000 + 64.240 + 58.620
        "Cedertræet": Decimal("183000.00"),  # 93.000 + 90.000
        "Botilbud Birk": Decimal("165950.00"),  # 60.000 + 61.000 + 44.950
    } == spend
    assert ["Bostedet Anemone", "Cedertræet", "Botilbud Birk"] == list(
        snap.provider_spend["Leverandør"]
    )
    assert Decimal("100.00") == snap.top5_share  # only three providers
    # the two largest: (184.860 + 183.000) / 533.810 = 68,913… %
    assert Decimal("68.91") == kf.top_share(snap.provider_spend, 2)
    rest = kf.top_and_rest(snap.provider_spend, 2)
    assert ["Bostedet Anemone", "Cedertræet", "Øvrige (1 leverandør)"] == list(rest["Leverandør"])
    assert Decimal("165950.00") == rest["Faktureret"].iloc[2]
    assert 4 == snap.providers_total


def test_open_deviations_now_and_over_time(session, world):
    assert (1, Decimal("500.00")) == kf.open_deviations(session=session, on=TODAY)
    # before B-2 was resolved on 15.05.2026 both were open: 500 + 1.000
    assert (2, Decimal("1500.00")) == kf.open_deviations(session=session, on=date(2026, 4, 30))
    frame = kf.open_deviations_by_month(session=session, on=TODAY, months=4)
    # both logged 10.03.2026; one resolved 15.05.2026
    assert [2, 2, 1, 1] == list(frame["Åbne"])
    assert date(2026, 3, 31) == frame["Måned"].iloc[0]


def test_followups_on_time_and_overdue(session, world):
    snap = kf.snapshot(session=session, as_of=TODAY)
    # due 30.06.2025–29.06.2026: c1 25.03.2026 (done late), c2 01.04.2026 (on time),
    # c3 01.04.2026 (not done) → 1 of 3
    assert 3 == snap.followups_due
    assert 1 == snap.followups_on_time
    assert Decimal("33.33") == snap.on_time_share
    assert 1 == snap.overdue_followups  # c3; c2's next one is due today, not yet late
    quarters = kf.followups_on_time_by_quarter(session=session, on=TODAY, quarters=2)
    assert ["K1 2026", "K2 2026"] == list(quarters["Kvartal"])
    assert [1, 2] == list(quarters["Forfaldne"])
    assert [0, 1] == list(quarters["Til tiden"])


def test_standard_contracts_and_checklist_completeness(session, world):
    quality = kf.portfolio(
        session=session, as_of=TODAY, large_case_threshold=Decimal("1000000.00")
    ).quality
    assert 3 == quality.contracts
    assert Decimal("33.33") == quality.standard_share  # c1 of 3
    assert Decimal("50.00") == quality.checklist_completeness  # (8 + 4 + 0) / 24


def test_realised_savings_from_renegotiations(session, world):
    frame = kf.savings_by_year(session=session, up_to=TODAY)
    # 2025: c4 1.500 → 1.450 a day: 50 × 365 = 18.250 (the changed support need does not count)
    # 2026: c2 60.000 → 55.000 a month: 5.000 × 12 = 60.000
    assert [2025, 2026] == list(frame["År"])
    assert [Decimal("18250.00"), Decimal("60000.00")] == list(frame["Besparelse pr. år"])
    assert [1, 1] == list(frame["Genforhandlinger"])
    assert Decimal("60000.00") == kf.snapshot(session=session, as_of=TODAY).savings_ytd


def test_alert_list_most_urgent_first(session, world):
    alerts = kf.contract_alert_list(session=session, today=TODAY)
    # c2: notice deadline 31.12.2026 − 120 days = 02.09.2026 (within 90 days), checklist 4/8
    # c1: renegotiation 15.08.2026 (within 60 days), one open deviation
    # c3: overdue follow-up, checklist 0/8, category ekstraordinær above visitation høj
    assert ["SAG-2", "SAG-1", "SAG-3"] == list(alerts.rows["Sag"])
    # The date of each contract's most urgent alert: c3's is its oldest overdue follow-up.
    assert [date(2026, 9, 2), date(2026, 8, 15), date(2026, 4, 1)] == [
        None if v is None or v != v else v for v in alerts.rows["Frist"]
    ]
    assert {
        "genforhandling": 1,
        "opsigelse": 1,
        "opfoelgning": 1,
        "afvigelse": 1,
        "tjekliste": 2,
        "kategori": 1,
    } == alerts.counts
    assert world.providers["B"] == alerts.rows["provider_id"].iloc[0]


def test_overview_for_the_current_and_a_past_year(session, world):
    now = kf.overview(session=session, year=2026, today=TODAY)
    assert TODAY == now.as_of
    assert now.current
    assert Decimal("426860.00") == now.snapshot.invoiced_ytd
    past = kf.overview(session=session, year=2025, today=TODAY)
    assert date(2025, 12, 31) == past.as_of
    assert not past.current
    assert 2 == past.snapshot.portfolio.active_contracts  # c1 and c4 were in force
    assert Decimal("106950.00") == past.snapshot.invoiced_ytd  # 62.000 + 44.950
    assert Decimal("0.00") == past.snapshot.expected_rest


def test_category_alert_follows_the_price_category_of_today(session, world):
    # c3 (ekstraordinær, visited as høj) is the one above its visitation category
    alerts = kf.alert_overview(session=session, today=TODAY)
    assert 3 == alerts.total
    assert 1 == alerts.counts["kategori"]
    assert ["SAG-3"] == list(
        alerts.rows.loc[alerts.rows["Varsler"].str.contains("kategori"), "Sag"]
    )
    # A new price category set for §105 with higher thresholds puts c3 in høj: no alert.
    create_price_category_set(
        session=session,
        data={
            "paragraph": "ABL105",
            "year": 2027,
            "middel_from": Decimal(1000),
            "hoej_from": Decimal(2000),
            "ekstraordinaer_from": Decimal(5000),
        },
        user=USER,
    )
    assert 1 == kf.alert_overview(session=session, today=TODAY).counts["kategori"]
    later = kf.alert_overview(session=session, today=date(2027, 1, 4))
    assert 0 == later.counts["kategori"]


def _summary_matches_the_rules(session: Session, today: date, filters=kf.Filters()) -> None:
    """Overblik's SQL counts and top rows equal the full list worked out by the rules."""
    full = kf.contract_alert_list(session=session, today=today, filters=filters)
    summary = kf.alert_overview(session=session, today=today, filters=filters, limit=10)
    assert full.total == summary.total
    assert full.counts == summary.counts
    head = full.rows.head(10)
    assert list(head["rank"]) == list(summary.rows["rank"])
    assert list(head["Frist"].fillna(date.max)) == list(summary.rows["Frist"].fillna(date.max))
    assert set(summary.rows["contract_id"]) <= set(full.rows["contract_id"])


def test_alert_counts_and_ranking_in_sql_follow_the_rules(session, world):
    _summary_matches_the_rules(session, TODAY)
    _summary_matches_the_rules(session, TODAY, kf.Filters(paragraphs=("SEL108",)))
    summary = kf.alert_overview(session=session, today=TODAY, limit=2)
    assert 3 == summary.total  # counted in full, though only two rows are listed
    assert ["SAG-2", "SAG-1"] == list(summary.rows["Sag"])


def test_alert_summary_matches_the_rules_on_the_demo_data(demo_db):
    from services.db import get_engine

    engine = get_engine(demo_db)
    with Session(engine) as s:
        for today in (date.today(), date(2026, 1, 5)):
            _summary_matches_the_rules(s, today)
    engine.dispose()


def test_spending_and_control_series(session, world):
    spend = kf.spending(session=session, as_of=TODAY)
    table = spend.table()
    row = table[(table["År"] == 2026) & (table["Paragraf"] == "§108 længerevarende botilbud")]
    assert [Decimal("122860.00")] == list(row["Faktureret"])  # 64.240 + 58.620
    assert [Decimal("1000000.00")] == list(row["Budget"])
    assert [2025, 2026] == list(spend.savings["År"])
    series = kf.control(session=session, as_of=TODAY)
    assert 1 == series.open_by_month["Åbne"].iloc[-1]
    # eight quarters back from Q2 2026: c1's first (due 01.04.2025, done 25.03.2025) counts too
    quarters = series.on_time_by_quarter
    assert ["K2 2025", "K1 2026", "K2 2026"] == list(quarters["Kvartal"])
    assert [1, 0, 1] == list(quarters["Til tiden"])


def test_empty_database_gives_zeros_not_errors(session):
    data = kf.overview(session=session, year=TODAY.year, today=TODAY)
    assert data.is_empty
    assert 0 == data.snapshot.portfolio.active_contracts
    assert data.snapshot.portfolio.average_per_case is None
    assert data.snapshot.budget is None
    assert data.snapshot.top5_share is None
    alerts = kf.alert_overview(session=session, today=TODAY)
    assert 0 == alerts.total
    assert kf.spending(session=session, as_of=TODAY).by_year.empty
    assert kf.control(session=session, as_of=TODAY).on_time_by_quarter.empty
    overview_workbook(data, alerts.rows)  # builds without error


def test_quarterly_report_figures(session, world):
    report = quarter_report(session=session, quarter=Quarter(2026, 2), today=TODAY)
    assert TODAY == report.as_of  # the quarter ends today: not yet complete
    assert not report.complete
    assert date(2026, 3, 31) == report.previous_as_of
    annual = report.figure("Forventet årsudgift")
    # 31.03.2026: c2 still 60.000 a month = 720.000 → 756.600 + 720.000 + 1.095.000
    assert Decimal("2571600.00") == annual.previous
    assert Decimal("2511600.00") == annual.value
    assert Decimal("-60000.00") == annual.change
    invoiced = report.figure("Faktureret i kvartalet")
    assert Decimal("90000.00") == invoiced.value  # c3 April
    assert Decimal("336860.00") == invoiced.previous  # everything with periods Jan–Mar
    assert 0 == len(report.deviations_logged)
    assert ["SAG-2"] == list(report.deviations_resolved["Sag"])  # resolved 15.05.2026
    assert ["SAG-1"] == list(report.renegotiations["Sag"])  # 15.08.2026 is in Q3
    assert [date(2026, 9, 2)] == list(report.notice_deadlines["Opsigelsesfrist"])
    assert [90] == list(report.overdue_followups["Dage over"])  # 01.04. → 30.06.2026
    assert ["SAG-3", "SAG-1", "SAG-2"] == list(report.expensive_cases["Sag"])
    assert ["Cedertræet"] == list(report.concentration["Leverandør"])
    assert Decimal("100.00") == report.top5_share
    assert Decimal("60000.00") == report.savings_total
    saved = report.figure("Sparet ved genforhandling")
    assert (Decimal("60000.00"), Decimal("0.00")) == (saved.value, saved.previous)


def test_quarterly_report_for_an_earlier_quarter(session, world):
    report = quarter_report(session=session, quarter=Quarter(2026, 1), today=TODAY)
    assert report.complete
    assert 3 == report.figure("Kontrakter i kraft").value
    assert 2 == report.figure("Kontrakter i kraft").previous  # 31.12.2025: c1 and c4
    assert 2 == len(report.deviations_logged)  # both logged 10.03.2026
    assert Decimal("1500.00") == sum(report.deviations_logged["Afvigelse"])
    open_now = report.figure("Åbne afvigelser")
    assert (2, 0) == (open_now.value, open_now.previous)
