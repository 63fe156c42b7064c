"""Free choice and the 10 % rule (SPEC 4.8).

Under SEL §108 stk. 2 and ABL §105 (§58 a) a citizen may choose another suitable offer, but
since 1 July 2025 only where its expense, at the price negotiated with it, exceeds that of the
offer the municipality visited the citizen to by at most the limit (10 %, a setting:
AppSettings.free_choice_limit_pct). SEL §107 has no free choice. Both are compared as annual
amounts on the same day: the regulated price with add-ons, as 365 daily equivalents
(services.rules.pricing.annual_amount).

Used for two or three offers on the comparison page, in Python only: no screen counts or lists
by it, so it has no SQL twin.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from models.enums import Paragraph
from services.formatting import format_number

FREE_CHOICE_PARAGRAPHS = frozenset({Paragraph.SEL108, Paragraph.ABL105})
NO_FREE_CHOICE = (
    "Der er ikke frit valg af tilbud efter serviceloven § 107, så 10 %-reglen gælder ikke."
)
HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")


def has_free_choice(paragraph: Paragraph | str) -> bool:
    """True for §108 and ABL §105, where a citizen may choose another offer."""
    return Paragraph(paragraph) in FREE_CHOICE_PARAGRAPHS


@dataclass(frozen=True)
class FreeChoice:
    visited: Decimal  # annual amount of the offer the citizen was visited to
    chosen: Decimal  # annual amount of the offer chosen instead
    percent: Decimal  # chosen above (+) or below (−) visited, in %, two decimals half-up
    limit_pct: Decimal
    within: bool  # chosen ≤ visited × (1 + limit)

    @property
    def label(self) -> str:
        """ "inden for 10 %-grænsen" or "over 10 %-grænsen" (the limit as set)."""
        whole = self.limit_pct == self.limit_pct.to_integral()
        limit = format_number(self.limit_pct, 0 if whole else 2)
        return f"{'inden for' if self.within else 'over'} {limit} %-grænsen"


def free_choice(*, visited: Decimal, chosen: Decimal, limit_pct: Decimal) -> FreeChoice:
    """Is the chosen offer within the limit of the visited one? Compared exactly: 2.000,00 →
    2.200,00 kr./dag is exactly 10,00 % and within; 2.200,01 is over."""
    if visited <= 0:
        raise ValueError("The visited offer needs a positive annual amount")
    within = chosen * HUNDRED <= visited * (HUNDRED + limit_pct)
    percent = ((chosen - visited) * HUNDRED / visited).quantize(
        PERCENT_PLACES, rounding=ROUND_HALF_UP
    )
    return FreeChoice(visited, chosen, percent, limit_pct, within)
