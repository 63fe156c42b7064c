"""The benchmark's results: per-page medians, the SPEC 7 bars, a Markdown table and JSON."""

import statistics
from dataclasses import asdict, dataclass, field

BAR_LARGE_SECONDS = 1.0  # every page's median warm run on the large database
BAR_RATIO = 3.0  # large / demo
DATASET_NAMES = {"demo": "demo", "large": "stor"}


@dataclass
class Timing:
    """The timed warm runs of one page on one database."""

    runs: list[float] = field(default_factory=list)  # st.cache_data cleared before each
    cached_runs: list[float] = field(default_factory=list)  # cache left warm
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs and not self.error else None

    @property
    def cached_median(self) -> float | None:
        return statistics.median(self.cached_runs) if self.cached_runs and not self.error else None


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

    def to_json(self) -> dict:
        return {
            "title": self.title,
            "path": self.path,
            "skipped": self.skipped,
            "ratio": self.ratio,
            "meets_bars": None if self.skipped or not self.timings else not self.misses(),
            "misses": self.misses(),
            **{
                name: {
                    "median_s": t.median,
                    "cached_median_s": t.cached_median,
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


def ratio_text(value: float | None) -> str:
    return "–" if value is None else number(value, 1)


def markdown_table(results: list[PageResult], datasets: list[str]) -> str:
    """Page, median warm run per database, large/demo ratio, cached medians, verdict."""
    names = {d: DATASET_NAMES.get(d, d).capitalize() for d in datasets}
    header = ["Side", *(f"{names.get(d, d)} (median)" for d in datasets)]
    if {"demo", "large"} <= set(datasets):
        header.append("Forhold stor/demo")
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
            if cached:
                cells += [_cell(result.timings.get(d), cached=True) for d in datasets]
            misses = result.misses()
            cells.append("✗ " + ", ".join(misses) if misses else "✓")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(timing: Timing | None, *, cached: bool) -> str:
    if timing is None:
        return "–"
    if timing.error:
        return "fejl"
    return seconds(timing.cached_median if cached else timing.median)


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
    return text + "."
