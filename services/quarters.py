"""Calendar quarters, as the working group reports by them."""

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter."""

    year: int
    number: int  # 1–4

    @classmethod
    def of(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, key: str) -> "Quarter":
        """From `2026-3` (the form used in widget state)."""
        year, number = key.split("-")
        quarter = cls(int(year), int(number))
        if not 1 <= quarter.number <= 4:
            raise ValueError(f"Ukendt kvartal: {key}")
        return quarter

    @property
    def key(self) -> str:
        return f"{self.year}-{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    def next(self) -> "Quarter":
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    def previous(self) -> "Quarter":
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    @property
    def label(self) -> str:
        """`3. kvartal 2026`"""
        return f"{self.number}. kvartal {self.year}"

    @property
    def abbreviated(self) -> str:
        """`3. kvt. 2026`"""
        return f"{self.number}. kvt. {self.year}"

    @property
    def short(self) -> str:
        """`K3 2026`"""
        return f"K{self.number} {self.year}"
