"""SVG snapshots of the review screen at 120x40: the unified and the side-by-side layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.review_support import needs_bwrap
from tests.test_tui_review import ReviewHarness, make_project, opened, sandbox_edits

pytestmark = needs_bwrap

APP_PY = '''"""A tiny expense report."""

import csv
from pathlib import Path

RATE = 1.0


def load(path: Path) -> list[dict[str, str]]:
    """Every row of the CSV file."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def total(rows: list[dict[str, str]]) -> float:
    return sum(float(row["amount"]) for row in rows)


def report(path: Path) -> str:
    rows = load(path)
    return f"{len(rows)} expenses, {total(rows):.2f} in total"


if __name__ == "__main__":
    print(report(Path("expenses.csv")))
'''

EDITS = (
    "sed -i 's/^RATE = 1.0$/RATE = 1.1  # with tax/' app.py",
    'sed -i \'s/return sum(float(row\\["amount"\\]) for row in rows)/'
    'return round(RATE * sum(float(row["amount"]) for row in rows), 2)/\' app.py',
    "sed -i 's/in total/in total (tax included)/' app.py",
    "printf '# Expenses\\n\\nRun `python app.py`.\\nTotals include tax.\\n' > README.md",
    "rm notes/old.txt",
    "printf '\\211PNG\\r\\n\\032\\n\\000\\000' > logo.png",
    "chmod +x run.sh",
)


def review_app(tmp_path: Path) -> ReviewHarness:
    files: dict[str, str | bytes] = {
        "app.py": APP_PY,
        "README.md": "# Expenses\n\nRun `python app.py`.\n",
        "notes/old.txt": "to do: everything\n",
        "run.sh": "python app.py\n",
    }
    return ReviewHarness(make_project(tmp_path, files), sandbox_edits(*EDITS))


async def approve_first_hunk(pilot: Pilot[Any]) -> None:
    await opened(pilot)
    await pilot.press("down", "tab", "a")  # app.py, then its first hunk
    await opened(pilot)


def test_review_unified_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = review_app(tmp_path)
    assert snap_compare(app, terminal_size=(120, 40), run_before=approve_first_hunk)


def test_review_side_by_side_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    async def side_by_side(pilot: Pilot[Any]) -> None:
        await approve_first_hunk(pilot)
        await pilot.press("v")

    app = review_app(tmp_path)
    assert snap_compare(app, terminal_size=(120, 40), run_before=side_by_side)
