"""startup: `airlock --help` against `python -c pass`, and the TUI's first frame against a bare
Textual app's (each a whole process: imports, first frame, exit)."""

from __future__ import annotations

import os
import sys

from bench.models import Result
from bench.timing import Case, Settings, command, measure
from bench.xdg import home_env

NAME = "startup"
TITLE = "startup: a whole process, from exec to exit"


def run(settings: Settings) -> list[Result]:
    env = {**os.environ, **home_env(settings.workdir)}
    python = sys.executable
    runs = settings.runs if settings.quick else settings.runs * 2  # short: more steady the median
    cli = Case(NAME, "command line")
    cli.add(
        "python -c pass", measure(command([python, "-c", "pass"], env=env), runs), reference=True
    )
    help_ = command([python, "-m", "airlock", "--help"], env=env)
    cli.add("airlock --help", measure(help_, runs))
    tui = Case(NAME, "TUI first frame (headless)")
    for which, tool, reference in (
        ("bare", "bare Textual app", True),
        ("airlock", "airlock (project switcher)", False),
    ):
        first_frame = command([python, "-m", "bench.first_frame", which], env=env)
        tui.add(tool, measure(first_frame, runs), reference=reference)
    return cli.results + tui.results
