"""startup: `airlock --help` against `python -c pass` (a whole process, from exec to exit),
and the TUI's first frame against a bare Textual app's (from exec to the first frame drawn)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from bench.models import Result
from bench.timing import Case, Settings, command, measure
from bench.xdg import home_env

NAME = "startup"
TITLE = "startup: from exec to exit (command line) or to the first frame (TUI)"


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
        argv = [python, "-m", "bench.first_frame", which]
        tui.add(tool, until_first_frame(argv, env, runs), reference=reference)
    return cli.results + tui.results


def until_first_frame(argv: Sequence[str], env: Mapping[str, str], runs: int) -> list[float]:
    """Seconds from starting `argv` to the first frame it reports drawing (after a warm-up)."""
    samples = []
    for index in range(1 + runs):
        start = time.time()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        if index:
            samples.append(float(done.stdout.split()[-1]) - start)
    return samples
