"""One alert table, every screen: Kontrakter (counts, rows, export), the contract page, Overblik
and Kvartalsrapport count the same contracts for each alert kind, and rank them by SPEC 4.6.

Runs on a hand-built world with one contract per status and alert situation (SQLite and
PostgreSQL) and on the demo data.
"""

from collections import Counter
from datetime import date

from sqlmodel import Session, col, select

from models import AlertKind, Contract
from services.db import get_engine
from services.quarters import Quarter
from services.queries.overview import alert_overview, contract_alert_list
from services.queries.register import (
    RegisterFilters,
    contract_detail,
    register_counts,
    register_export,
    register_rows,
)
from services.queries.report import quarter_report
from services.rules.alerts import ALERTS, urgency
from services.settings import get_settings
from tests.test_rule_twins import TODAY, _alert_world


def _all_screens_agree(session: Session, today: date) -> Counter[AlertKind]:
    horizons = get_settings(session=session).horizons
    ids = list(session.exec(select(Contract.id).order_by(col(Contract.id))))

    # The contract page: the Python form, contract by contract.
    page: Counter[AlertKind] = Counter()
    urgency_of: dict[int, tuple[int, date]] = {}
    for contract_id in ids:
        assert contract_id is not None
        alerts = contract_detail(
            session=session, contract_id=contract_id, today=today, horizons=horizons
        ).alerts
        page.update(alert.kind for alert in alerts)
        if alerts:
            urgency_of[contract_id] = urgency(alerts)
    expected = {kind: page[kind] for kind in ALERTS}

    # Kontrakter: SQL counts, the Python rows and the SQL export.
    counts = register_counts(session=session, today=today, horizons=horizons)
    assert expected == counts.by_alert
    rows = register_rows(session=session, today=today, horizons=horizons, limit=10_000)
    assert expected == {k: sum(k in a for a in rows["alerts"]) for k in ALERTS}
    export = register_export(session=session, today=today, horizons=horizons)
    assert expected == {k: sum(k in a for a in export["alerts"]) for k in ALERTS}
    for kind in ALERTS:
        filtered = register_counts(
            session=session, filters=RegisterFilters(alert=kind), today=today, horizons=horizons
        )
        assert expected[kind] == filtered.matching

    # Overblik: SQL counts and the full list.
    summary = alert_overview(session=session, today=today)
    assert expected == summary.counts
    assert len(urgency_of) == summary.total
    full = contract_alert_list(session=session, today=today)
    assert expected == full.counts

    # Kvartalsrapport: the quarter of today.
    report = quarter_report(session=session, quarter=Quarter.of(today), today=today)
    in_report = dict(zip(report.alerts["Advarsel"], report.alerts["Kontrakter"], strict=True))
    assert {ALERTS[k].label: n for k, n in expected.items()} == {
        ALERTS[k].label: in_report[ALERTS[k].label] for k in ALERTS
    }
    assert len(urgency_of) == in_report["Kontrakter med mindst én advarsel"]

    # Most urgent first (SPEC 4.6): by rank, then the date; the list's order is the pages'.
    listed = list(full.rows["contract_id"])
    assert sorted(urgency_of) == sorted(listed)
    keys = [urgency_of[cid] for cid in listed]
    assert keys == sorted(keys)
    top = list(summary.rows["contract_id"])
    assert listed[: len(top)] == top
    return Counter(expected)


def test_every_screen_counts_the_same_alerts_on_the_hand_built_world(session):
    _alert_world(session)
    session.commit()
    counts = _all_screens_agree(session, TODAY)
    # Every kind occurs, on the statuses SPEC 4.6 gives it.
    assert all(counts[kind] > 0 for kind in ALERTS)


def test_every_screen_counts_the_same_alerts_on_the_demo_data(demo_db):
    engine = get_engine(demo_db)
    with Session(engine) as session:
        counts = _all_screens_agree(session, date.today())
    engine.dispose()
    assert sum(counts.values()) > 10
