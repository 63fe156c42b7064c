"""The deviation log queries (filters, quarters, totals, pagination) on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from models import InvoiceCheck
from models.types import round_ore
from services.invoices import (
    check_invoice,
    check_status_label,
    register_credit_note,
    update_deviation,
    void_invoice_check,
)
from services.queries.deviations import (
    DeviationFilter,
    Quarter,
    contract_check_count,
    contract_checks,
    deviation_detail,
    deviation_log,
    deviation_providers,
    deviation_totals,
    find_contracts_to_check,
    invoices_to_credit,
    quarter_options,
)
from services.queries.overview import (
    invoiced_between,
    open_deviations,
    provider_spend,
    spend_by_year,
)
from services.queries.providers import (
    provider_deviations,
    provider_key_figures,
    provider_spend_by_year,
)
from services.queries.register import contract_invoice_checks
from services.queries.report import quarter_report
from services.rules.deviations import (
    CreditNote,
    credited_amount,
    credited_per_invoice,
    credits_of,
    is_open_deviation,
    net_deviation,
    net_deviation_sql,
    open_deviation_sql,
    was_open_deviation,
    was_open_deviation_sql,
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


# --- Credit notes and voids in the log and in every sum ---------------------------------------
#
# Worked examples (SPEC 4.3's invoice: 66.000,00 kr. against 64.504,80, deviation 1.495,20):
# a credit note of −1.495,20 nets it to 0,00, one of −500,00 to 995,20; a voided credit note
# takes nothing off; a credit note registered after the day asked about does not count yet.


def _credit(session, contract, invoice, amount, number, on):
    return register_credit_note(
        session=session,
        user=USER,
        today=on,
        data={
            "contract_id": contract.id,
            "credits_id": invoice.id,
            "invoice_no": number,
            "invoiced": amount,
        },
    )


def _void(session, check, reason="Registreret ved en fejl"):
    return void_invoice_check(
        session=session,
        check_id=check.id,
        user="karin",
        data={"reason": reason, "version": check.version},
    )


MARCH_2026 = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def credited(session):
    """Four SPEC 4.3 invoices (deviation 1.495,20 each) with different credit notes, plus a
    voided deviation and an invoice without deviation."""
    provider = make_provider(session, name="Bostedet Åkanden", cvr="10000009")
    contract = make_contract(session, provider, case_ref="SAG-K-1")
    invoices = {}
    for n, name in enumerate(["whole", "partly", "voided_credit", "later_credit"], start=1):
        invoices[name] = _check(
            session, contract, f"F-{n}", *MARCH_2026, "66000", date(2026, 4, 10)
        )
    _credit(session, contract, invoices["whole"], "-1.495,20", "K-1", date(2026, 5, 2))
    _credit(session, contract, invoices["partly"], "-500", "K-2", date(2026, 5, 2))
    wrong = _credit(session, contract, invoices["voided_credit"], "-900", "K-3", date(2026, 5, 2))
    _void(session, wrong)
    _credit(session, contract, invoices["later_credit"], "-1000", "K-4", date(2026, 9, 1))
    voided = _check(session, contract, "F-9", *MARCH_2026, "70000", date(2026, 4, 10))
    _void(session, voided)
    plain = _check(session, contract, "F-10", *MARCH_2026, "64504.80", date(2026, 4, 10))
    return {
        "contract": contract,
        "provider": provider,
        "voided": voided,
        "plain": plain,
        **invoices,
    }


NET = {
    "whole": Decimal("0.00"),
    "partly": Decimal("995.20"),
    "voided_credit": Decimal("1495.20"),
    "later_credit": Decimal("495.20"),
}
NET_ON_JUNE_30 = {**NET, "later_credit": Decimal("1495.20")}


def _credit_notes_of(session, invoice_id):
    notes = session.exec(select(InvoiceCheck).where(InvoiceCheck.credits_id == invoice_id))
    return [CreditNote(n.invoiced, n.checked_on, n.voided_at) for n in notes]


@pytest.mark.parametrize(("on", "expected"), [(None, NET), (date(2026, 6, 30), NET_ON_JUNE_30)])
def test_net_deviation_in_python_and_sql(session, credited, on, expected):
    invoices = {credited[name].id: name for name in NET}
    python = {
        name: net_deviation(
            credited[name].deviation, credited_amount(_credit_notes_of(session, id_), on)
        )
        for id_, name in invoices.items()
    }
    table = credited_per_invoice(on)
    sql = {
        invoices[row.id]: round_ore(Decimal(str(row.net)))
        for row in session.execute(
            sa.select(InvoiceCheck.id, net_deviation_sql(table).label("net"))
            .outerjoin(table, credits_of(table))
            .where(col(InvoiceCheck.id).in_(list(invoices)))
        )
    }
    assert expected == python == sql


def test_voided_check_is_not_open_in_python_or_sql(session, credited):
    rows = session.exec(select(InvoiceCheck).where(InvoiceCheck.flagged)).all()
    on = date(2026, 6, 30)
    python_now = {r.id for r in rows if is_open_deviation(r.flagged, r.status, r.voided_at)}
    python_then = {
        r.id
        for r in rows
        if was_open_deviation(r.flagged, r.status, r.checked_on, r.resolved_on, on, r.voided_at)
    }
    sql_now = set(session.exec(select(InvoiceCheck.id).where(open_deviation_sql())).all())
    sql_then = set(session.exec(select(InvoiceCheck.id).where(was_open_deviation_sql(on))).all())
    expected = {credited[name].id for name in NET}  # all but the voided one
    assert expected == python_now == sql_now == python_then == sql_then


def test_log_totals_are_net_of_credit_notes_and_leave_voided_checks_out(session, credited):
    totals = deviation_totals(session=session, filters=DeviationFilter())
    assert (4, sum(NET.values()), 0) == (totals.count, totals.deviation_sum, totals.voided)
    rows = {r.invoice_no: r for r in deviation_log(session=session, filters=ALL, today=TODAY)}
    assert {"F-1", "F-2", "F-3", "F-4"} == set(rows)
    assert (Decimal("-500.00"), Decimal("995.20")) == (
        rows["F-2"].credited,
        rows["F-2"].net_deviation,
    )
    assert Decimal("1.5428") == rows["F-2"].net_pct  # 995,20 / 64.504,80
    assert Decimal("2.3180") == rows["F-3"].net_pct  # its credit note was voided

    shown = DeviationFilter(statuses=(), include_voided=True)
    with_voided = deviation_totals(session=session, filters=shown)
    assert (4, sum(NET.values()), 1, 5) == (
        with_voided.count,
        with_voided.deviation_sum,
        with_voided.voided,
        with_voided.shown,
    )
    voided = next(r for r in deviation_log(session=session, filters=shown, today=TODAY) if r.voided)
    assert ("F-9", "karin", "Registreret ved en fejl") == (
        voided.invoice_no,
        voided.voided_by,
        voided.void_reason,
    )
    detail = deviation_detail(session=session, check_id=credited["partly"].id, today=TODAY)
    assert (["K-2"], Decimal("995.20")) == (
        [c.invoice_no for c in detail.credit_notes],
        detail.row.net_deviation,
    )


def test_mine_sager_filters_on_the_assignee(session, log):
    mine = DeviationFilter(statuses=(), assignee="Karin")
    assert ["F-6", "F-2", "F-3"] == _numbers(session, mine)  # _move assigns Karin
    assert 3 == deviation_totals(session=session, filters=mine).count
    assert [] == _numbers(session, DeviationFilter(statuses=(), assignee="Ole"))


def test_overview_and_provider_figures_net_credit_notes_and_leave_voided_checks_out(
    session, credited
):
    provider_id = credited["provider"].id
    count, amount = open_deviations(session=session, on=TODAY)
    assert (4, sum(NET.values())) == (count, amount)
    assert (4, sum(NET_ON_JUNE_30.values())) == open_deviations(
        session=session, on=date(2026, 6, 30)
    )
    # Spend: 4 × 66.000 + 64.504,80, less the credit notes in force; the voided check is out.
    spend = Decimal("264000.00") + Decimal("64504.80") - Decimal("2995.20")
    assert spend == invoiced_between(session=session, first=date(2026, 1, 1), last=TODAY)
    assert [spend] == list(
        provider_spend(session=session, first=date(2026, 1, 1), last=TODAY)["Faktureret"]
    )
    by_year = spend_by_year(session=session, up_to=TODAY)
    assert [(2026, spend, 5 * 31, 5)] == [
        (r["year"], r["Faktureret"], r["Dage"], r["Fakturaer"]) for _, r in by_year.iterrows()
    ]
    figures = provider_key_figures(session=session, provider_id=provider_id, today=TODAY)
    assert (4, sum(NET.values()), spend) == (
        figures.open_deviations,
        figures.open_deviation_amount,
        figures.spend_this_year,
    )
    per_year = provider_spend_by_year(session=session, provider_id=provider_id)
    assert [(2026, spend, 5)] == [tuple(r) for r in per_year.itertuples(index=False)]
    listed = provider_deviations(session=session, provider_id=provider_id)
    assert sorted(NET.values()) == sorted(listed["deviation"])


def test_quarterly_report_nets_logged_deviations(session, credited):
    report = quarter_report(session=session, quarter=Quarter(2026, 2), today=TODAY)
    logged = report.deviations_logged.set_index("Fakturanr.")
    assert {"F-1", "F-2", "F-3", "F-4"} == set(logged.index)  # F-9 was voided
    # Taken at the quarter's end: K-4, registered 01.09.2026, does not count yet.
    assert NET_ON_JUNE_30 == {
        name: logged.loc[credited[name].invoice_no, "Afvigelse"] for name in NET
    }
    assert Decimal("-500.00") == logged.loc["F-2", "Krediteret"]


def test_contract_checks_list_credit_notes_and_voided_checks_marked(session, credited):
    contract_id = credited["contract"].id
    assert 10 == contract_check_count(session=session, contract_id=contract_id)
    entries = contract_checks(session=session, contract_id=contract_id, limit=50)
    kinds = sorted((e.invoice_no, e.kind, e.voided) for e in entries)
    assert ("K-3", "kreditnota", True) in kinds and ("F-9", "faktura", True) in kinds
    choices = invoices_to_credit(session=session, contract_id=contract_id)
    assert {"F-1", "F-2", "F-3", "F-4", "F-10"} == {c.invoice_no for c in choices}
    assert Decimal("995.20") == next(c for c in choices if c.invoice_no == "F-2").net_deviation


def test_the_contract_page_lists_credit_notes_and_voided_checks_marked(session, credited):
    frame = contract_invoice_checks(session=session, contract_id=credited["contract"].id, limit=50)
    statuses = {
        row.invoice_no: check_status_label(
            flagged=row.flagged,
            under_expected=row.under_expected,
            status=row.status,
            kind=row.kind,
            voided=pd.notna(row.voided_at),
        )
        for row in frame.itertuples()
    }
    assert {
        "F-1": "Ny",
        "K-1": "Kreditnota",
        "K-3": "Annulleret (Kreditnota)",
        "F-9": "Annulleret (Ny)",
        "F-10": "OK",
    } == {number: statuses[number] for number in ("F-1", "K-1", "K-3", "F-9", "F-10")}
    voided = frame.set_index("invoice_no").loc["F-9"]
    assert ("karin", "Registreret ved en fejl") == (voided["voided_by"], voided["void_reason"])
