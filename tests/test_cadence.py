"""Follow-up cadence (SPEC 4.5): first and next due dates, overdue and on time."""

from datetime import date

import pytest

from models.enums import Paragraph, PriceCategory
from services.rules.cadence import (
    Cadence,
    done_on_time,
    first_followup_due,
    is_overdue,
    next_followup_due,
)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2026, 1, 31), date(2026, 4, 30)),  # clamped to the end of April
        (date(2025, 11, 30), date(2026, 2, 28)),
        (date(2023, 11, 30), date(2024, 2, 29)),  # leap year
        (date(2026, 3, 1), date(2026, 6, 1)),
        (date(2026, 11, 15), date(2027, 2, 15)),
        (date(2026, 12, 31), date(2027, 3, 31)),
    ],
)
def test_first_followup_is_three_months_after_start(start, expected):
    assert expected == first_followup_due(start)


@pytest.mark.parametrize(
    ("paragraph", "category", "expected"),
    [
        (Paragraph.SEL107, None, date(2026, 11, 30)),  # 3 months
        (Paragraph.SEL107, PriceCategory.LOW, date(2026, 11, 30)),
        (Paragraph.SEL107, PriceCategory.HIGH, date(2026, 11, 30)),  # already below the cap
        (Paragraph.SEL108, None, date(2027, 8, 31)),  # 12 months
        (Paragraph.SEL108, PriceCategory.LOW, date(2027, 8, 31)),
        (Paragraph.SEL108, PriceCategory.MEDIUM, date(2027, 8, 31)),
        (Paragraph.SEL108, PriceCategory.HIGH, date(2027, 2, 28)),  # capped at 6 months
        (Paragraph.SEL108, PriceCategory.EXTRAORDINARY, date(2027, 2, 28)),
        (Paragraph.ABL105, None, date(2027, 8, 31)),  # 12 months
        (Paragraph.ABL105, PriceCategory.MEDIUM, date(2027, 8, 31)),
        (Paragraph.ABL105, PriceCategory.HIGH, date(2027, 2, 28)),
        (Paragraph.ABL105, PriceCategory.EXTRAORDINARY, date(2027, 2, 28)),
        # Stored codes work as well as the enums.
        ("SEL108", "hoej", date(2027, 2, 28)),
        ("ABL105", "lav", date(2027, 8, 31)),
    ],
)
def test_next_followup_by_paragraph_and_category(paragraph, category, expected):
    assert expected == next_followup_due(
        last_done=date(2026, 8, 31), paragraph=paragraph, category=category
    )


@pytest.mark.parametrize(
    ("paragraph", "category", "expected"),
    [
        (Paragraph.SEL107, None, 3),
        (Paragraph.SEL108, None, 12),
        (Paragraph.ABL105, None, 12),
        (Paragraph.SEL108, PriceCategory.HIGH, 6),
        (Paragraph.SEL108, PriceCategory.EXTRAORDINARY, 6),
        (Paragraph.SEL107, PriceCategory.EXTRAORDINARY, 3),
    ],
)
def test_default_cadence_intervals(paragraph, category, expected):
    assert expected == Cadence().interval(paragraph, category)


CUSTOM = Cadence(
    first_months=1,
    sel107_months=2,
    sel108_months=24,
    abl105_months=18,
    high_category_max_months=4,
)


@pytest.mark.parametrize(
    ("paragraph", "category", "expected"),
    [
        (Paragraph.SEL107, None, date(2026, 3, 31)),  # 2 months
        (Paragraph.SEL107, PriceCategory.HIGH, date(2026, 3, 31)),
        (Paragraph.SEL108, None, date(2028, 1, 31)),  # 24 months
        (Paragraph.SEL108, PriceCategory.HIGH, date(2026, 5, 31)),  # capped at 4
        (Paragraph.ABL105, None, date(2027, 7, 31)),  # 18 months
        (Paragraph.ABL105, PriceCategory.EXTRAORDINARY, date(2026, 5, 31)),
    ],
)
def test_next_followup_with_custom_cadence(paragraph, category, expected):
    assert expected == next_followup_due(
        last_done=date(2026, 1, 31), paragraph=paragraph, category=category, cadence=CUSTOM
    )


def test_first_followup_with_custom_cadence():
    assert date(2026, 2, 28) == first_followup_due(date(2026, 1, 31), CUSTOM)


def test_high_category_cap_above_the_interval_changes_nothing():
    cadence = Cadence(high_category_max_months=18)
    assert 12 == cadence.interval(Paragraph.SEL108, PriceCategory.HIGH)


def test_unknown_paragraph_is_refused():
    with pytest.raises(ValueError):
        Cadence().interval("SEL999", None)


TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(
    ("due", "done", "expected"),
    [
        (date(2026, 6, 15), None, False),  # due today is not overdue
        (date(2026, 6, 14), None, True),  # due yesterday and not done
        (date(2026, 6, 16), None, False),
        (date(2025, 1, 1), None, True),
        (date(2026, 6, 14), date(2026, 6, 14), False),  # done is never overdue
        (date(2026, 6, 14), date(2026, 6, 15), False),  # done late, still not overdue
        (date(2025, 1, 1), date(2025, 3, 1), False),
    ],
)
def test_is_overdue(due, done, expected):
    assert expected == is_overdue(due, done, TODAY)


@pytest.mark.parametrize(
    ("due", "done", "expected"),
    [
        (date(2026, 6, 15), date(2026, 6, 15), True),  # on the due date
        (date(2026, 6, 15), date(2026, 6, 1), True),
        (date(2026, 6, 15), date(2026, 6, 16), False),
        (date(2026, 6, 15), None, False),
    ],
)
def test_done_on_time(due, done, expected):
    assert expected == done_on_time(due, done)
