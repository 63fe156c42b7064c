"""The deviation log queries (filters, quarters, totals, pagination) on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest

from services.invoices import check_invoice, update_deviation
from services.queries.deviations import (
    DeviationFilter,
    Quarter,
    deviation_detail,
    deviation_log,
    deviation_providers,
    deviation_totals,
    find_contracts_to_check,
    quarter_options,
)
from tests.factories import USER, make_contract, make_provider

TODAY = date(2026, 11, 20)
ALL = DeviationFilter(statuses=())


def _check(session, contract, number, first, last, invoiced, checked_on):
    return check_invoice(
        session=session,
        user=USER,
        today=checked_on,
        data={
            "contract_id": contract.id,
            "invoice_no": number,
            "period_from": first,
            "period_to": last,
            "invoiced": invoiced,
        },
    )


def _move(session, check, status, note=None, on=None):
    return update_deviation(
        session=session,
        check_id=check.id,
        user="karin",
        today=on,
        data={"status": status, "assignee": "Karin", "note": note, "version": check.version},
    )


@pytest.fixture
def log(session):
    """Two providers with flagged checks in three quarters, plus checks that are not flagged."""
    akanden = make_provider(session, name="Bostedet Åkanden", cvr="10000009")
    laerkely = make_provider(session, name="Opholdsstedet Lærkely", cvr="20000016")
    make_provider(session, name="Botilbuddet Uden Afvigelser", cvr="30000023")
    a1 = make_contract(session, akanden, case_ref="SAG-A-1")
    b1 = make_contract(session, laerkely, case_ref="SAG-B-1")
    _check(session, a1, "F-1", date(2026, 3, 1), date(2026, 3, 31), "66000", date(2026, 4, 10))
    july = _check(
        session, a1, "F-2", date(2026, 7, 1), date(2026, 7, 31), "65000", date(2026, 8, 5)
    )
    _move(session, july, "undersoeges")
    october = _check(
        session, b1, "F-3", date(2025, 10, 1), date(2025, 10, 31), "64240", date(2025, 11, 3)
    )
    _move(session, october, "loest", note="Kreditnota modtaget", on=date(2025, 11, 20))
    _check(session, b1, "F-4", date(2026, 3, 1), date(2026, 3, 31), "64504.80", date(2026, 4, 2))
    _check(session, b1, "F-5", date(2026, 8, 1), date(2026, 8, 31), "60000", date(2026, 9, 2))
    september = _check(
        session, b1, "F-6", date(2026, 9, 1), date(2026, 9, 30), "63424", date(2026, 10, 1)
    )
    _move(session, september, "accepteret", note="Aftalt ekstra støtte", on=date(2026, 10, 9))
    return {"akanden": akanden, "laerkely": laerkely, "a1": a1, "b1": b1}


def _numbers(session, filters, **kwargs):
    rows = deviation_log(session=session, filters=filters, today=TODAY, **kwargs)
    return [row.invoice_no for row in rows]


def test_default_filter_shows_open_deviations_newest_period_first(session, log):
    rows = deviation_log(session=session, filters=DeviationFilter(), today=TODAY)
    assert ["F-2", "F-1"] == [r.invoice_no for r in rows]
    first = rows[1]
    assert ("Bostedet Åkanden", "SAG-A-1", "ny") == (first.provider, first.case_ref, first.status)
    assert (Decimal("66000.00"), Decimal("64504.80"), Decimal("1495.20")) == (
        first.invoiced,
        first.expected,
        first.deviation,
    )
    assert Decimal("2.3180") == first.deviation_pct
    assert 224 == first.age_days  # 10.04.2026 → today 20.11.2026


def test_totals_are_counted_and_summed_per_status(session, log):
    totals = deviation_totals(session=session, filters=DeviationFilter())
    assert (2, Decimal("1990.40")) == (totals.count, totals.deviation_sum)
    assert [("ny", 1, Decimal("1495.20")), ("undersoeges", 1, Decimal("495.20"))] == [
        (s.status, s.count, s.deviation_sum) for s in totals.by_status
    ]
    everything = deviation_totals(session=session, filters=ALL)
    assert (4, Decimal("3990.40")) == (everything.count, everything.deviation_sum)
    assert ["ny", "undersoeges", "loest", "accepteret"] == [s.status for s in everything.by_status]


def test_status_filter(session, log):
    cases = {
        (): ["F-6", "F-2", "F-1", "F-3"],
        ("loest", "accepteret"): ["F-6", "F-3"],
        ("undersoeges",): ["F-2"],
        ("leverandoer_kontaktet",): [],
    }
    for statuses, expected in cases.items():
        assert expected == _numbers(session, DeviationFilter(statuses=statuses)), statuses


def test_provider_filter(session, log):
    filters = DeviationFilter(statuses=(), provider_id=log["laerkely"].id)
    assert ["F-6", "F-3"] == _numbers(session, filters)
    assert (2, Decimal("2000.00")) == (
        deviation_totals(session=session, filters=filters).count,
        deviation_totals(session=session, filters=filters).deviation_sum,
    )


def test_quarter_filter_by_period_start(session, log):
    cases = {
        Quarter(2026, 1): ["F-1"],
        Quarter(2026, 3): ["F-6", "F-2"],
        Quarter(2025, 4): ["F-3"],
        Quarter(2026, 2): [],
    }
    for quarter, expected in cases.items():
        filters = DeviationFilter(statuses=(), quarter=quarter)
        assert expected == _numbers(session, filters), quarter.label
        assert len(expected) == deviation_totals(session=session, filters=filters).count


def test_pagination_is_done_in_sql_without_gaps_or_overlap(session, log):
    first = _numbers(session, ALL, limit=3, offset=0)
    second = _numbers(session, ALL, limit=3, offset=3)
    assert (["F-6", "F-2", "F-1"], ["F-3"]) == (first, second)
    assert first + second == _numbers(session, ALL, limit=None)


def test_age_counts_to_resolution_for_closed_deviations(session, log):
    rows = {r.invoice_no: r for r in deviation_log(session=session, filters=ALL, today=TODAY)}
    assert 17 == rows["F-3"].age_days  # 03.11.2025 → 20.11.2025
    assert 8 == rows["F-6"].age_days  # 01.10.2026 → 09.10.2026
    assert 107 == rows["F-2"].age_days  # 05.08.2026 → today 20.11.2026


def test_providers_in_the_log_are_only_those_with_deviations(session, log):
    assert [
        (log["akanden"].id, "Bostedet Åkanden"),
        (log["laerkely"].id, "Opholdsstedet Lærkely"),
    ] == deviation_providers(session=session)


def test_detail_has_the_full_history(session, log):
    closed = deviation_log(
        session=session, filters=DeviationFilter(statuses=("loest",)), today=TODAY
    )
    detail = deviation_detail(session=session, check_id=closed[0].id, today=TODAY)
    assert "Kreditnota modtaget" == detail.resolution_note
    assert [(None, "ny"), ("ny", "loest")] == [(e.old_status, e.new_status) for e in detail.history]
    assert ["Karin"] == [e.assignee for e in detail.history if e.old_status]
    assert detail.history[0].at.tzinfo is not None


def test_detail_of_an_unflagged_or_missing_check_is_none(session, log):
    unflagged = _check(
        session, log["b1"], "F-9", date(2026, 6, 1), date(2026, 6, 30), "62424", TODAY
    )
    assert deviation_detail(session=session, check_id=unflagged.id, today=TODAY) is None
    assert deviation_detail(session=session, check_id=99999, today=TODAY) is None


@pytest.mark.parametrize(
    ("quarter", "label", "first", "last"),
    [
        (Quarter(2026, 3), "3. kvt. 2026", date(2026, 7, 1), date(2026, 9, 30)),
        (Quarter(2026, 4), "4. kvt. 2026", date(2026, 10, 1), date(2026, 12, 31)),
        (Quarter(2024, 1), "1. kvt. 2024", date(2024, 1, 1), date(2024, 3, 31)),
    ],
)
def test_quarter_label_and_bounds(quarter, label, first, last):
    assert (label, first, last) == (quarter.abbreviated, quarter.start, quarter.end)
    assert quarter == Quarter.of(first) == Quarter.of(last)
    assert quarter == quarter.next().previous()


def test_quarter_options_run_from_today_back_to_the_oldest_period(session, log):
    quarters = quarter_options(session=session, today=TODAY)
    assert Quarter(2026, 4) == quarters[0]
    assert Quarter(2025, 4) == quarters[-1]
    assert 5 == len(quarters)


def test_quarter_options_on_an_empty_database(session):
    assert [Quarter(2026, 4)] == quarter_options(session=session, today=TODAY)


def test_find_contracts_by_case_ref_or_provider_name(session, log):
    assert ["SAG-B-1"] == [
        c.case_ref for c in find_contracts_to_check(session=session, search="sag-b").choices
    ]
    for search in ("lærkely", "Lærkely", "LÆRKELY", "åkanden"):
        matches = find_contracts_to_check(session=session, search=search)
        assert 1 == matches.total, search
    everything = find_contracts_to_check(session=session, search="")
    assert (2, ["SAG-A-1", "SAG-B-1"]) == (
        everything.total,
        [c.case_ref for c in everything.choices],
    )
    assert [] == find_contracts_to_check(session=session, search="findes ikke").choices


def test_find_contracts_is_limited_and_lists_active_contracts_first(session, log):
    make_contract(session, log["akanden"], case_ref="SAG-A-0", status="kladde")
    make_contract(session, log["akanden"], case_ref="SAG-A-2")
    matches = find_contracts_to_check(session=session, search="Åkanden", limit=2)
    assert (3, ["SAG-A-1", "SAG-A-2"]) == (matches.total, [c.case_ref for c in matches.choices])
    assert (Decimal("2000.00"), "dag", "aktiv") == (
        matches.choices[0].price,
        matches.choices[0].price_unit,
        matches.choices[0].status,
    )


def test_find_contracts_takes_percent_and_underscore_literally(session, log):
    make_contract(session, log["akanden"], case_ref="SAG_100%")
    assert ["SAG_100%"] == [
        c.case_ref for c in find_contracts_to_check(session=session, search="_100%").choices
    ]
    assert 0 == find_contracts_to_check(session=session, search="A_1").total
