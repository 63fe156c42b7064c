"""Notice deadline, checklist completeness and contract alerts (SPEC 4.6)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from models.contract import CHECKLIST_ITEMS
from models.enums import ContractStatus
from services.rules.alerts import AlertHorizons, ContractFacts, contract_alerts
from services.rules.checklist import checklist_completeness
from services.rules.notice import notice_deadline

TODAY = date(2026, 6, 15)

# An active contract with nothing to warn about.
QUIET = ContractFacts(
    status=ContractStatus.ACTIVE,
    renegotiation_date=None,
    end_date=None,
    notice_days=90,
    checklist_checked=8,
)


def alert_kinds(facts: ContractFacts, horizons: AlertHorizons = AlertHorizons()) -> list[str]:
    return [alert.kind for alert in contract_alerts(facts, TODAY, horizons)]


# --- notice_deadline ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end_date", "notice_days", "expected"),
    [
        (date(2026, 12, 31), 90, date(2026, 10, 2)),
        (date(2027, 3, 1), 30, date(2027, 1, 30)),
        (date(2024, 3, 31), 31, date(2024, 2, 29)),  # leap year
        (date(2026, 3, 31), 0, date(2026, 3, 31)),
        (None, 90, None),  # no end date, no deadline
    ],
)
def test_notice_deadline(end_date, notice_days, expected):
    assert expected == notice_deadline(end_date, notice_days)


# --- checklist_completeness -----------------------------------------------------------------


def test_the_checklist_has_the_eight_points_of_the_standard_contract():
    assert 8 == len(CHECKLIST_ITEMS)


@pytest.mark.parametrize(
    ("checked", "expected"),
    [
        (0, Decimal("0")),
        (1, Decimal("0.125")),
        (5, Decimal("0.625")),
        (8, Decimal("1")),
    ],
)
def test_checklist_completeness(checked, expected):
    keys = list(CHECKLIST_ITEMS)
    checks = {key: index < checked for index, key in enumerate(keys)}
    assert expected == checklist_completeness(checks)


def test_checklist_completeness_of_an_empty_checklist_is_zero():
    assert Decimal("0") == checklist_completeness({})


def test_checklist_completeness_ignores_unknown_keys():
    assert Decimal("0") == checklist_completeness({"something_else": True})


# --- contract_alerts ------------------------------------------------------------------------


def test_a_quiet_contract_has_no_alerts():
    assert [] == contract_alerts(QUIET, TODAY)


@pytest.mark.parametrize(
    ("days_ahead", "expected"),
    [
        (-10, ["genforhandling"]),  # passed and not done
        (0, ["genforhandling"]),
        (59, ["genforhandling"]),
        (60, ["genforhandling"]),  # exactly 60 days: within
        (61, []),
        (365, []),
    ],
)
def test_renegotiation_alert_within_60_days(days_ahead, expected):
    facts = replace(QUIET, renegotiation_date=TODAY + timedelta(days=days_ahead))
    assert expected == alert_kinds(facts)


def test_renegotiation_alert_text_and_due_date():
    soon = replace(QUIET, renegotiation_date=TODAY + timedelta(days=30))
    passed = replace(QUIET, renegotiation_date=TODAY - timedelta(days=1))
    [soon_alert] = contract_alerts(soon, TODAY)
    [passed_alert] = contract_alerts(passed, TODAY)
    assert TODAY + timedelta(days=30) == soon_alert.due
    assert "nærmer sig" in soon_alert.text
    assert "overskredet" in passed_alert.text


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ContractStatus.ACTIVE, ["genforhandling"]),
        (ContractStatus.TERMINATED, []),  # SPEC 4.6: only `aktiv` is renegotiated
        (ContractStatus.DRAFT, []),
        (ContractStatus.ENDED, []),
    ],
)
def test_renegotiation_alert_only_for_running_contracts(status, expected):
    facts = replace(QUIET, status=status, renegotiation_date=TODAY + timedelta(days=10))
    assert expected == alert_kinds(facts)


@pytest.mark.parametrize(
    ("days_ahead", "expected"),
    [(30, ["genforhandling"]), (31, [])],
)
def test_renegotiation_horizon_is_a_setting(days_ahead, expected):
    facts = replace(QUIET, renegotiation_date=TODAY + timedelta(days=days_ahead))
    assert expected == alert_kinds(facts, AlertHorizons(renegotiation_days=30))


@pytest.mark.parametrize(
    ("deadline_days_ahead", "expected"),
    [
        (-1, []),  # the deadline has passed
        (0, ["opsigelse"]),  # today is the last day
        (89, ["opsigelse"]),
        (90, ["opsigelse"]),  # exactly 90 days: within
        (91, []),
    ],
)
def test_notice_deadline_alert_within_90_days(deadline_days_ahead, expected):
    # 3 months' notice: the end date is 92 days after the deadline.
    end_date = TODAY + timedelta(days=deadline_days_ahead + 92)
    facts = replace(QUIET, end_date=end_date, notice_days=92)
    assert expected == alert_kinds(facts)


def test_notice_deadline_alert_carries_the_deadline():
    facts = replace(QUIET, end_date=date(2026, 9, 30), notice_days=30)
    [alert] = contract_alerts(facts, TODAY)
    assert "opsigelse" == alert.kind
    assert date(2026, 8, 31) == alert.due


@pytest.mark.parametrize(
    ("status", "end_date", "expected"),
    [
        (ContractStatus.ACTIVE, None, []),  # no end date, no deadline
        (ContractStatus.TERMINATED, date(2026, 9, 30), []),  # notice already given
        (ContractStatus.ENDED, date(2026, 9, 30), []),
    ],
)
def test_no_notice_deadline_alert(status, end_date, expected):
    facts = replace(QUIET, status=status, end_date=end_date, notice_days=30)
    assert expected == alert_kinds(facts)


def test_notice_horizon_is_a_setting():
    facts = replace(QUIET, end_date=TODAY + timedelta(days=60), notice_days=0)
    assert [] == alert_kinds(facts, AlertHorizons(notice_days=59))
    assert ["opsigelse"] == alert_kinds(facts, AlertHorizons(notice_days=60))


@pytest.mark.parametrize(
    ("overdue", "expected"), [(0, []), (1, ["opfoelgning"]), (3, ["opfoelgning"])]
)
def test_overdue_followup_alert(overdue, expected):
    assert expected == alert_kinds(replace(QUIET, overdue_followups=overdue))


def test_overdue_followup_alert_counts_them():
    [alert] = contract_alerts(replace(QUIET, overdue_followups=3), TODAY)
    assert "3" in alert.text


@pytest.mark.parametrize(
    ("status", "checked", "expected"),
    [
        (ContractStatus.ACTIVE, 0, ["tjekliste"]),
        (ContractStatus.ACTIVE, 7, ["tjekliste"]),
        (ContractStatus.ACTIVE, 8, []),
        (ContractStatus.DRAFT, 5, []),
        (ContractStatus.TERMINATED, 5, []),
        (ContractStatus.ENDED, 0, []),
        ("aktiv", 5, ["tjekliste"]),
    ],
)
def test_incomplete_checklist_alert_only_for_active_contracts(status, checked, expected):
    facts = replace(QUIET, status=status, checklist_checked=checked)
    assert expected == alert_kinds(facts)


def test_incomplete_checklist_alert_shows_the_count():
    [alert] = contract_alerts(replace(QUIET, checklist_checked=5), TODAY)
    assert "5/8" in alert.text


@pytest.mark.parametrize(("open_deviations", "expected"), [(0, []), (2, ["afvigelse"])])
def test_open_deviation_alert(open_deviations, expected):
    assert expected == alert_kinds(replace(QUIET, open_deviations=open_deviations))


@pytest.mark.parametrize(("over", "expected"), [(False, []), (True, ["kategori"])])
def test_over_visitation_category_alert(over, expected):
    alerts = contract_alerts(replace(QUIET, over_visitation_category=over), TODAY)
    assert expected == [alert.kind for alert in alerts]
    assert all("Over visiteret priskategori" == alert.text for alert in alerts)


def test_every_alert_at_once_in_order_of_urgency():
    facts = ContractFacts(
        status=ContractStatus.ACTIVE,
        renegotiation_date=TODAY + timedelta(days=5),
        end_date=TODAY + timedelta(days=40),
        notice_days=30,
        checklist_checked=6,
        overdue_followups=1,
        open_deviations=2,
        over_visitation_category=True,
    )
    # SPEC 4.6 ranks: opsigelse, genforhandling, opfølgning, afvigelse, kategori, tjekliste.
    assert [
        "opsigelse",
        "genforhandling",
        "opfoelgning",
        "afvigelse",
        "kategori",
        "tjekliste",
    ] == alert_kinds(facts)
