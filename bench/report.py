"""The benchmark's results: per-page medians, the SPEC 7 bars, a Markdown table and JSON."""

import statistics
from dataclasses import asdict, dataclass, field

BAR_LARGE_SECONDS = 1.0  # every page's median warm run on the large database
BAR_RATIO = 3.0  # large / demo
BAR_FLOOR_RATIO = 2.0  # page median / its floor (raw SQL + an empty page run; bench/floor.py)
DATASET_NAMES = {"demo": "demo", "large": "stor"}


@dataclass
class Timing:
    """The timed warm runs of one page on one database."""

    runs: list[float] = field(default_factory=list)  # st.cache_data cleared before each
    cached_runs: list[float] = field(default_factory=list)  # cache left warm
    error: str | None = None
    # The floor (bench/floor.py): the page's recorded SQL replayed raw, and an empty page run.
    sql_s: float | None = None
    empty_s: float | None = None
    statements: int | None = None  # recorded in one uncached run, bookkeeping left out
    replay: dict | None = None  # details of the replay (bench.floor.to_json)

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs and not self.error else None

    @property
    def cached_median(self) -> float | None:
        return statistics.median(self.cached_runs) if self.cached_runs and not self.error else None

    @property
    def floor(self) -> float | None:
        if self.error or self.sql_s is None or self.empty_s is None:
            return None
        return self.sql_s + self.empty_s

    @property
    def floor_ratio(self) -> float | None:
        median, floor = self.median, self.floor
        return None if median is None or not floor else median / floor


@dataclass
class PageResult:
    title: str
    path: str
    skipped: str | None = None  # why the page was not measured
    timings: dict[str, Timing] = field(default_factory=dict)  # "demo" / "large"

    def median(self, dataset: str) -> float | None:
        timing = self.timings.get(dataset)
        return timing.median if timing else None

    @property
    def ratio(self) -> float | None:
        demo, large = self.median("demo"), self.median("large")
        if demo is None or large is None or demo <= 0:
            return None
        return large / demo

    def misses(self) -> list[str]:
        """The bars this page misses (Danish), empty when it meets them all."""
        if self.skipped:
            return []
        found = [f"fejl på {DATASET_NAMES.get(n, n)}" for n, t in self.timings.items() if t.error]
        large = self.median("large")
        if large is not None and large > BAR_LARGE_SECONDS:
            found.append(f"over {seconds(BAR_LARGE_SECONDS)} på stor")
        ratio = self.ratio
        if ratio is not None and ratio > BAR_RATIO:
            found.append(f"forhold over {number(BAR_RATIO, 0)}")
        return found

    def floor_misses(self) -> list[str]:
        """The databases on which the page takes more than BAR_FLOOR_RATIO × its floor."""
        return [
            DATASET_NAMES.get(n, n)
            for n, t in self.timings.items()
            if t.floor_ratio is not None and t.floor_ratio > BAR_FLOOR_RATIO
        ]

    def verdict(self) -> str:
        misses = self.misses()
        floor = self.floor_misses()
        if floor:
            misses.append(f"over {number(BAR_FLOOR_RATIO, 0)}× gulv på {' og '.join(floor)}")
        return "✗ " + ", ".join(misses) if misses else "✓"

    def to_json(self) -> dict:
        return {
            "title": self.title,
            "path": self.path,
            "skipped": self.skipped,
            "ratio": self.ratio,
            "meets_bars": None if self.skipped or not self.timings else not self.misses(),
            "misses": self.misses(),
            "floor_misses": self.floor_misses(),
            **{
                name: {
                    "median_s": t.median,
                    "cached_median_s": t.cached_median,
                    "floor_s": t.floor,
                    "floor_ratio": t.floor_ratio,
                    **asdict(t),
                }
                for name, t in self.timings.items()
            },
        }


def number(value: float, decimals: int = 2) -> str:
    """Danish decimal comma: 0.4213 → `0,42`."""
    return f"{value:.{decimals}f}".replace(".", ",")


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{number(value)} s"


def fine_seconds(value: float | None) -> str:
    """Three decimals, for the small floors: 0.0486 → `0,049 s`."""
    return "–" if value is None else f"{number(value, 3)} s"


def ratio_text(value: float | None) -> str:
    return "–" if value is None else number(value, 1)


def markdown_table(results: list[PageResult], datasets: list[str]) -> str:
    """Page, median warm run per database, large/demo ratio, floor and page/floor per database
    (when measured), cached medians, verdict."""
    names = {d: DATASET_NAMES.get(d, d).capitalize() for d in datasets}
    header = ["Side", *(f"{names.get(d, d)} (median)" for d in datasets)]
    if {"demo", "large"} <= set(datasets):
        header.append("Forhold stor/demo")
    floors = [d for d in datasets if any(r.timings.get(d) and r.timings[d].floor for r in results)]
    for d in floors:
        header += [f"{names.get(d, d)} gulv (SQL + tom side)", f"{names.get(d, d)} side/gulv"]
    cached = any(t.cached_runs for r in results for t in r.timings.values())
    if cached:
        header += [f"{names.get(d, d)} med varm cache" for d in datasets]
    header.append("Krav")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for result in results:
        if result.skipped:
            cells = [result.title, *(["–"] * (len(header) - 2)), f"sprunget over: {result.skipped}"]
        else:
            cells = [result.title]
            cells += [_cell(result.timings.get(d), cached=False) for d in datasets]
            if {"demo", "large"} <= set(datasets):
                cells.append(ratio_text(result.ratio))
            for d in floors:
                cells += _floor_cells(result.timings.get(d))
            if cached:
                cells += [_cell(result.timings.get(d), cached=True) for d in datasets]
            cells.append(result.verdict())
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(timing: Timing | None, *, cached: bool) -> str:
    if timing is None:
        return "–"
    if timing.error:
        return "fejl"
    return seconds(timing.cached_median if cached else timing.median)


def _floor_cells(timing: Timing | None) -> list[str]:
    if timing is None or timing.floor is None:
        return ["–", "–"]
    parts = f"{number(timing.sql_s or 0, 3)} + {number(timing.empty_s or 0, 3)}"
    floor = f"{fine_seconds(timing.floor)} ({parts})"
    ratio = ratio_text(timing.floor_ratio)
    if timing.floor_ratio is not None and timing.floor_ratio > BAR_FLOOR_RATIO:
        ratio += " ✗"
    return [floor, ratio]


def summary_line(results: list[PageResult], datasets: list[str]) -> str:
    measured = [r for r in results if not r.skipped]
    failing = [r for r in measured if r.misses()]
    skipped = [r for r in results if r.skipped]
    bars = (
        f"median ≤ {seconds(BAR_LARGE_SECONDS)} på stor, forhold stor/demo ≤ {number(BAR_RATIO, 0)}"
    )
    passed = len(measured) - len(failing)
    text = f"Resultat: {passed} af {len(measured)} målte sider klarer kravene ({bars})"
    if "large" not in datasets:
        text += " – OBS: kun demo er målt, så kravene er ikke prøvet"
    if failing:
        text += "; klarer dem ikke: " + ", ".join(
            f"{r.title} ({', '.join(r.misses())})" for r in failing
        )
    if skipped:
        text += f"; {len(skipped)} sprunget over: " + ", ".join(r.title for r in skipped)
    text += "."
    floored = [r for r in measured if any(t.floor for t in r.timings.values())]
    if floored:
        over = [r for r in floored if r.floor_misses()]
        text += (
            f" Gulv: {len(floored) - len(over)} af {len(floored)} sider tager højst "
            f"{number(BAR_FLOOR_RATIO, 0)}× deres gulv (rå SQL + tom side)"
        )
        if over:
            text += "; over: " + ", ".join(
                f"{r.title} ({' og '.join(r.floor_misses())})" for r in over
            )
        text += "."
    return text
