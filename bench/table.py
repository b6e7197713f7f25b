"""Plain-text tables of results, printed as each benchmark completes."""

from __future__ import annotations

from collections.abc import Sequence

from bench.models import Result

HEADERS = ("case", "tool", "median", "min–max", "runs", "ratio")


def format_value(value: float, unit: str) -> str:
    """A time in µs/ms/s, or a rate in lines/s with a k/M suffix."""
    if unit == "lines/s":
        for scale, suffix in ((1e6, "M"), (1e3, "k")):
            if value >= scale:
                return f"{value / scale:.3g} {suffix}lines/s"
        return f"{value:.0f} lines/s"
    for scale, suffix in ((1.0, "s"), (1e-3, "ms")):
        if value >= scale:
            return f"{value / scale:.3g} {suffix}"
    return f"{value / 1e-6:.3g} µs"


def _row(result: Result) -> tuple[str, ...]:
    spread = f"{format_value(result.min, result.unit)} – {format_value(result.max, result.unit)}"
    ratio = "—" if result.ratio is None else f"{result.ratio:.2f}×"
    tool = result.tool + (" (ref)" if result.reference else "")
    return (
        result.case,
        tool,
        format_value(result.median, result.unit),
        spread,
        str(result.runs),
        ratio,
    )


def render(title: str, results: Sequence[Result]) -> str:
    """The table of one benchmark, with its title and notes below."""
    rows = [HEADERS, *(_row(result) for result in results)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
    lines = [title, "-" * len(title)]
    for number, row in enumerate(rows):
        cells = [
            cell.ljust(width) if column < 2 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"  * {r.case} / {r.tool}: {r.note}" for r in results if r.note]
    return "\n".join([*lines, *notes])
