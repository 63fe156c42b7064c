"""The contract register query: filters, alert filters in SQL, counts, pages; on SQLite and PG."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from models import (
    CHECKLIST_ITEMS,
    ContractStatus,
    FollowUp,
    InvoiceCheck,
    InvoiceStatus,
    PriceCategorySet,
    RegulationRate,
)
from services.contracts import add_addon, register_price_change
from services.queries.providers import provider_names
from services.queries.register import (
    OPENING_FILTERS,
    SORT_ORDERS,
    RegisterFilters,
    contract_detail,
    contract_invoice_checks,
    register_counts,
    register_export,
    register_page,
    register_rows,
)
from services.rules.alerts import ALERTS, LIVE, AlertHorizons
from tests.factories import USER, make_contract, make_provider

TODAY = date(2026, 6, 15)
FULL = {key: True for key in CHECKLIST_ITEMS}


@dataclass
class Register:
    ids: dict[str, int]
    provider_a: int
    provider_b: int


def _contract(session: Session, provider, case_ref: str, **overrides):
    """An active, complete contract started a month ago, so no alert unless asked for."""
    start = TODAY - timedelta(days=30)
    data = {
        "case_ref": case_ref,
        "start_date": start,
        "price_base_date": start,
        **FULL,
    }
    data.update(overrides)
    return make_contract(session, provider, **data)


def _invoice(session: Session, contract, number: str, *, flagged: bool, status, month: int):
    check = InvoiceCheck(
        contract_id=contract.id,
        provider_id=contract.provider_id,
        invoice_no=number,
        period_from=date(2026, month, 1),
        period_to=date(2026, month, 28),
        checked_on=date(2026, month, 28),
        invoiced=Decimal("1000.00"),
        expected=Decimal("900.00") if flagged else Decimal("1000.00"),
        deviation=Decimal("100.00") if flagged else Decimal("0.00"),
        deviation_pct=Decimal("11.1111") if flagged else Decimal("0"),
        flagged=flagged,
        status=status,
    )
    session.add(check)
    session.commit()
    return check


@pytest.fixture
def register(session: Session) -> Register:
    """One contract per alert kind, plus near misses that must not alert."""
    a = make_provider(session, name="Bostedet Aalund", cvr="10000009")
    b = make_provider(session, name="Botilbud Birkely", cvr="20000008")
    c = {}
    c["quiet"] = _contract(session, a, "SAG-100-quiet")
    c["reneg"] = _contract(session, a, "SAG-101-reneg", renegotiation_date=TODAY + timedelta(60))
    c["reneg_far"] = _contract(
        session, a, "SAG-102-reneg-far", renegotiation_date=TODAY + timedelta(61)
    )
    c["reneg_terminated"] = _contract(
        session,
        b,
        "SAG-103-opsagt",
        status="opsagt",
        renegotiation_date=TODAY - timedelta(5),
    )
    # Notice deadline = end − notice days: exactly today and exactly today + 90 alert.
    c["notice_today"] = _contract(
        session, a, "SAG-104-notice-0", end_date=TODAY + timedelta(30), notice_days=30
    )
    c["notice_edge"] = _contract(
        session, b, "SAG-105-notice-90", end_date=TODAY + timedelta(180), notice_days=90
    )
    c["notice_past"] = _contract(
        session, b, "SAG-106-notice-past", end_date=TODAY + timedelta(29), notice_days=30
    )
    c["notice_far"] = _contract(
        session, b, "SAG-107-notice-91", end_date=TODAY + timedelta(181), notice_days=90
    )
    c["followup"] = _contract(session, b, "SAG-108-followup", paragraph="SEL107")
    c["checklist"] = _contract(session, a, "SAG-109-checklist", chk_notice=False)
    c["draft"] = _contract(
        session,
        a,
        "SAG-110-kladde",
        status="kladde",
        chk_notice=False,
        renegotiation_date=TODAY + timedelta(10),
    )
    c["deviation"] = _contract(session, b, "SAG-111-deviation", paragraph="ABL105")
    session.add(
        FollowUp(contract_id=c["followup"].id, due_date=TODAY - timedelta(1), created_by=USER)
    )
    session.add(  # done late: not overdue
        FollowUp(
            contract_id=c["quiet"].id,
            due_date=TODAY - timedelta(40),
            done_date=TODAY - timedelta(2),
            created_by=USER,
        )
    )
    session.add(  # due today: not overdue yet
        FollowUp(contract_id=c["reneg"].id, due_date=TODAY, created_by=USER)
    )
    session.commit()
    _invoice(session, c["deviation"], "F-1", flagged=True, status=InvoiceStatus.NEW, month=3)
    _invoice(
        session, c["deviation"], "F-2", flagged=True, status=InvoiceStatus.INVESTIGATING, month=4
    )
    _invoice(session, c["quiet"], "F-3", flagged=True, status=InvoiceStatus.RESOLVED, month=3)
    _invoice(session, c["quiet"], "F-4", flagged=True, status=InvoiceStatus.ACCEPTED, month=4)
    _invoice(session, c["quiet"], "F-5", flagged=False, status=None, month=5)
    return Register({k: v.id for k, v in c.items()}, a.id, b.id)


def _case_refs(frame) -> set[str]:
    return set(frame["case_ref"])


def _refs(register: Register, *keys: str) -> set[str]:
    prefix = {
        "quiet": "SAG-100-quiet",
        "reneg": "SAG-101-reneg",
        "reneg_far": "SAG-102-reneg-far",
        "reneg_terminated": "SAG-103-opsagt",
        "notice_today": "SAG-104-notice-0",
        "notice_edge": "SAG-105-notice-90",
        "notice_past": "SAG-106-notice-past",
        "notice_far": "SAG-107-notice-91",
        "followup": "SAG-108-followup",
        "checklist": "SAG-109-checklist",
        "draft": "SAG-110-kladde",
        "deviation": "SAG-111-deviation",
    }
    return {prefix[k] for k in keys}


EXPECTED_ALERTS = {
    "genforhandling": ("reneg",),  # SPEC 4.6: `aktiv` only, so not reneg_terminated
    "opsigelse": ("notice_today", "notice_edge"),
    "opfoelgning": ("followup",),
    "tjekliste": ("checklist",),
    "afvigelse": ("deviation",),
    "kategori": (),
}


def test_counts_per_alert_kind_are_computed_in_sql(session, register):
    counts = register_counts(session=session, today=TODAY)
    assert 12 == counts.total
    assert 12 == counts.matching
    assert {kind: len(keys) for kind, keys in EXPECTED_ALERTS.items()} == counts.by_alert


def test_alert_filter_returns_exactly_the_contracts_with_that_alert(session, register):
    for kind in ALERTS:
        page = register_page(session=session, filters=RegisterFilters(alert=kind), today=TODAY)
        assert _refs(register, *EXPECTED_ALERTS[kind]) == _case_refs(page.rows), kind
        assert len(EXPECTED_ALERTS[kind]) == page.counts.matching
        # The SQL condition agrees with the Python rule (contract_rules.contract_alerts).
        assert all(kind in alerts for alerts in page.rows["alerts"])


def test_python_alerts_of_every_row_match_the_sql_filters(session, register):
    rows = register_rows(session=session, today=TODAY, limit=100)
    for kind, keys in EXPECTED_ALERTS.items():
        flagged = {
            ref for ref, alerts in zip(rows.case_ref, rows.alerts, strict=True) if kind in alerts
        }
        assert _refs(register, *keys) == flagged, kind


def test_alert_horizons_come_from_the_caller(session, register):
    horizons = AlertHorizons(renegotiation_days=61, notice_days=91)
    counts = register_counts(session=session, today=TODAY, horizons=horizons)
    assert 2 == counts.by_alert["genforhandling"]  # reneg and reneg_far (not the opsagt one)
    assert 3 == counts.by_alert["opsigelse"]


def test_filters_by_status_paragraph_provider_and_search(session, register):
    def refs(**filters):
        return _case_refs(
            register_rows(session=session, filters=RegisterFilters(**filters), today=TODAY)
        )

    assert _refs(register, "reneg_terminated") == refs(statuses=("opsagt",))
    assert _refs(register, "reneg_terminated", "draft") == refs(statuses=("opsagt", "kladde"))
    assert _refs(register, "followup") == refs(paragraphs=("SEL107",))
    assert _refs(register, "deviation") == refs(paragraphs=("ABL105",))
    assert 6 == len(refs(provider_id=register.provider_a))
    assert _refs(register, "notice_today", "notice_edge", "notice_past", "notice_far") == refs(
        search="NOTICE"
    )
    assert set() == refs(search="%")  # LIKE wildcards are matched literally
    assert _refs(register, "deviation") == refs(provider_id=register.provider_b, search="dev")


def test_counts_follow_the_base_filters_and_the_alert_filter_narrows_matching(session, register):
    filters = RegisterFilters(provider_id=register.provider_b, alert="opsigelse")
    counts = register_counts(session=session, filters=filters, today=TODAY)
    assert 6 == counts.total
    assert 1 == counts.matching  # notice_edge is provider b's only notice alert
    assert 1 == counts.by_alert["afvigelse"]
    assert 0 == counts.by_alert["tjekliste"]


def test_pages_are_disjoint_and_cover_the_filtered_list(session, register):
    seen: list[str] = []
    for offset in range(0, 12, 5):
        rows = register_rows(
            session=session,
            filters=RegisterFilters(sort="sagsnummer"),
            today=TODAY,
            limit=5,
            offset=offset,
        )
        seen.extend(rows["case_ref"])
    assert sorted(seen) == seen
    assert 12 == len(set(seen))
    empty = register_rows(session=session, today=TODAY, limit=5, offset=20)
    assert empty.empty


# Kontrakter opens on this: live contracts (aktiv, opsagt), the most urgent alert first (by the
# alert table's rank, then the alert's date), then the contracts without alerts by case ref.
OPENING_ORDER = [
    "SAG-104-notice-0",  # 1 opsigelse, deadline today
    "SAG-105-notice-90",  # 1 opsigelse, deadline in 90 days
    "SAG-101-reneg",  # 2 genforhandling
    "SAG-108-followup",  # 3 opfølgning overskredet
    "SAG-111-deviation",  # 4 åbne afvigelser
    "SAG-109-checklist",  # 6 tjekliste
    "SAG-100-quiet",
    "SAG-102-reneg-far",
    "SAG-103-opsagt",  # live, but renegotiation alerts only on `aktiv` (SPEC 4.6)
    "SAG-106-notice-past",
    "SAG-107-notice-91",
]


def test_the_register_opens_on_live_contracts_most_urgent_first(session, register):
    provider = make_provider(session, name="Botilbud Cedertræ", cvr="30000007")
    _contract(session, provider, "SAG-099-afsluttet", status="afsluttet", chk_notice=False)
    assert LIVE == {ContractStatus(status) for status in OPENING_FILTERS.statuses}
    assert "advarsel" == OPENING_FILTERS.sort == next(iter(SORT_ORDERS))

    rows = register_rows(session=session, filters=OPENING_FILTERS, today=TODAY)
    assert OPENING_ORDER == list(rows["case_ref"])  # no draft, nothing ended
    assert 11 == register_counts(session=session, filters=OPENING_FILTERS, today=TODAY).total
    assert 13 == register_counts(session=session, today=TODAY).total
    # Paged, the order holds across pages; the export has the same rows in the same order.
    pages = [
        register_rows(session=session, filters=OPENING_FILTERS, today=TODAY, limit=4, offset=offset)
        for offset in (0, 4, 8)
    ]
    assert OPENING_ORDER == [ref for page in pages for ref in page["case_ref"]]
    exported = register_export(session=session, filters=OPENING_FILTERS, today=TODAY)
    assert OPENING_ORDER == list(exported["case_ref"])


def test_every_sort_order_returns_every_row(session, register):
    for sort in SORT_ORDERS:
        rows = register_rows(session=session, filters=RegisterFilters(sort=sort), today=TODAY)
        assert 12 == len(rows), sort
    by_renegotiation = register_rows(
        session=session, filters=RegisterFilters(sort="genforhandling"), today=TODAY
    )
    assert "SAG-103-opsagt" == by_renegotiation["case_ref"].iloc[0]
    assert by_renegotiation["renegotiation_date"].iloc[-1] is None
    by_provider = register_rows(
        session=session, filters=RegisterFilters(sort="leverandoer"), today=TODAY
    )
    assert ["Bostedet Aalund"] * 6 + ["Botilbud Birkely"] * 6 == list(by_provider.provider_name)


def test_row_has_regulated_price_today_category_deadline_and_counts(session):
    provider = make_provider(session)
    contract = make_contract(
        session,
        provider,
        case_ref="SAG-4-1",
        start_date=date(2024, 3, 1),
        end_date=date(2027, 2, 28),
        notice_days=90,
        price=Decimal("2000.00"),
        price_base_date=date(2024, 3, 1),
        visitation_category="lav",
    )
    session.add(
        PriceCategorySet(
            paragraph="SEL108",
            year=2026,
            middel_from=Decimal("1500"),
            hoej_from=Decimal("2080.80"),
            ekstraordinaer_from=Decimal("4000"),
        )
    )
    session.commit()
    row = register_rows(session=session, today=date(2026, 6, 15)).iloc[0]
    # SPEC 4.1: 2.000,00 from 1.3.2024 with 2 % each 1 January is 2.080,80 on 15.6.2026.
    assert Decimal("2080.80") == row["price_today"]
    assert "hoej" == row["category"]  # equal to the threshold: the higher band (SPEC 4.4)
    assert date(2026, 11, 30) == row["notice_deadline"]
    assert "kategori" in row["alerts"]  # høj is above the visitation category lav
    assert 1 == row["overdue_followups"]  # the first follow-up (1.6.2024) was never done
    assert 0 == row["checked"]

    register_price_change(
        session=session,
        contract_id=contract.id,
        data={"effective_date": date(2026, 4, 1), "new_price": "2.050,00"},
        user=USER,
    )
    row = register_rows(session=session, today=date(2027, 1, 1)).iloc[0]
    assert Decimal("2091.00") == row["price_today"]  # SPEC 4.1 worked example


def test_missing_index_rate_leaves_the_price_unknown_not_zero(session):
    make_contract(
        session,
        case_ref="SAG-IDX",
        regulation_kind="indeks",
        start_date=date(2025, 3, 1),
        price_base_date=date(2025, 3, 1),
    )
    row = register_rows(session=session, today=date(2026, 6, 1)).iloc[0]
    assert row["price_today"] is None
    session.add(RegulationRate(year=2026, percent=Decimal("3.0")))
    session.commit()
    row = register_rows(session=session, today=date(2026, 6, 1)).iloc[0]
    assert Decimal("2060.00") == row["price_today"]


def test_export_holds_the_whole_filtered_list_with_alerts_from_sql(session, register):
    frame = register_export(session=session, today=TODAY)
    assert 12 == len(frame)
    by_ref = dict(zip(frame["case_ref"], frame["alerts"], strict=True))
    for kind, keys in EXPECTED_ALERTS.items():
        assert _refs(register, *keys) == {ref for ref, a in by_ref.items() if kind in a}
    assert 8 == frame.set_index("case_ref").loc["SAG-100-quiet", "checked"]
    only = register_export(session=session, filters=RegisterFilters(alert="afvigelse"), today=TODAY)
    assert ["SAG-111-deviation"] == list(only["case_ref"])
    assert 2 == only["open_deviations"].iloc[0]
    assert 3 == len(register_export(session=session, today=TODAY, cap=3))


def test_empty_register(session):
    page = register_page(session=session, today=TODAY)
    assert 0 == page.counts.total
    assert page.rows.empty
    assert {kind: 0 for kind in ALERTS} == page.counts.by_alert
    assert register_export(session=session, today=TODAY).empty


def test_contract_detail_has_price_history_alerts_and_addons(session, register):
    contract_id = register.ids["deviation"]
    change = register_price_change(
        session=session,
        contract_id=contract_id,
        data={"effective_date": TODAY - timedelta(days=10), "new_price": "1.900,00"},
        user=USER,
    )
    add_addon(
        session=session,
        data={
            "contract_id": contract_id,
            "name": "Ekstra støtte",
            "price": "3.000",
            "unit": "maaned",
            "valid_from": TODAY - timedelta(days=20),
        },
        user=USER,
    )
    detail = contract_detail(session=session, contract_id=contract_id, today=TODAY)
    assert "SAG-111-deviation" == detail.contract["case_ref"]
    assert "Botilbud Birkely" == detail.provider_name
    assert Decimal("1900.00") == detail.price_today
    assert Decimal("693500.00") == detail.annual_today
    assert Decimal("729500.00") == detail.annual_with_addons
    history = detail.price_history
    assert ["grundpris", "genforhandling"] == list(history["reason"])
    assert Decimal("2000.00") == history["old_price"].iloc[1] == change.old_price
    assert Decimal("-36500.00") == history["annual_effect"].iloc[1]
    assert ["afvigelse"] == [a.kind for a in detail.alerts]
    assert 2 == detail.open_deviations and 2 == detail.invoice_checks
    assert Decimal(1) == detail.completeness
    assert ["Ekstra støtte"] == list(detail.addons["name"])
    assert Decimal("3000.00") == detail.addons["price_today"].iloc[0]


def test_contract_detail_lists_overdue_followups(session, register):
    detail = contract_detail(session=session, contract_id=register.ids["followup"], today=TODAY)
    assert 1 == detail.overdue_followups
    assert bool(detail.followups["overdue"].any())
    assert "opfoelgning" in [a.kind for a in detail.alerts]


def test_invoice_checks_of_a_contract_newest_first_and_paged(session, register):
    contract_id = register.ids["quiet"]
    first = contract_invoice_checks(session=session, contract_id=contract_id, limit=2)
    assert ["F-5", "F-4"] == list(first["invoice_no"])
    second = contract_invoice_checks(session=session, contract_id=contract_id, limit=2, offset=2)
    assert ["F-3"] == list(second["invoice_no"])


def test_provider_names_for_pickers(session, register):
    names = provider_names(session=session)
    assert ["Bostedet Aalund", "Botilbud Birkely"] == list(names.values())
