"""Follow-up cadence (SPEC 4.5): when the first and the next follow-up are due."""

from dataclasses import dataclass
from datetime import date

from models.enums import Paragraph, PriceCategory
from services.rules.pricing import add_months


@dataclass(frozen=True)
class Cadence:
    """Months between follow-ups; all are settings."""

    first_months: int = 3
    sel107_months: int = 3
    sel108_months: int = 12
    abl105_months: int = 12
    high_category_max_months: int = 6

    def interval(self, paragraph: Paragraph | str, category: PriceCategory | str | None) -> int:
        """Months to the next follow-up for a paragraph and current price category."""
        months = {
            Paragraph.SEL107: self.sel107_months,
            Paragraph.SEL108: self.sel108_months,
            Paragraph.ABL105: self.abl105_months,
        }[Paragraph(paragraph)]
        if category in (PriceCategory.HIGH, PriceCategory.EXTRAORDINARY):
            months = min(months, self.high_category_max_months)
        return months


def first_followup_due(start_date: date, cadence: Cadence = Cadence()) -> date:
    """The first follow-up is due `first_months` after the contract starts."""
    return add_months(start_date, cadence.first_months)


def next_followup_due(
    *,
    last_done: date,
    paragraph: Paragraph | str,
    category: PriceCategory | str | None,
    cadence: Cadence = Cadence(),
) -> date:
    """The follow-up after one done on `last_done`."""
    return add_months(last_done, cadence.interval(paragraph, category))


def is_overdue(due_date: date, done_date: date | None, today: date) -> bool:
    """Overdue: due before today and not done."""
    return done_date is None and due_date < today


def done_on_time(due_date: date, done_date: date | None) -> bool:
    return done_date is not None and done_date <= due_date
