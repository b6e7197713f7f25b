"""`python -m bench [--quick] [--only NAME] [--out FILE]`: run the benchmarks, print tables."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.models import Report
from bench.table import render
from bench.timing import Settings
from bench.tools import MissingTool

# benchmark name -> module (imported only when it runs, so Textual loads only for the TUI ones)
BENCHMARKS = {
    "scan": "bench.change_scan",
    "diff": "bench.diff",
    "apply": "bench.apply",
    "exec": "bench.exec_overhead",
    "log": "bench.log_flood",
    "startup": "bench.startup",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs (CI)")
    parser.add_argument(
        "--only",
        choices=sorted(BENCHMARKS),
        action="append",
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="write every result as JSON to this file")
    parser.add_argument("--runs", type=int, help="timed runs per measurement (default 3, or 7)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report(quick=args.quick)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="airlock-bench-") as scratch:
        for name in args.only or list(BENCHMARKS):
            module = importlib.import_module(BENCHMARKS[name])
            workdir = Path(scratch) / name
            workdir.mkdir()
            runs = args.runs or (3 if args.quick else 7)
            try:
                results = module.run(Settings(quick=args.quick, workdir=workdir, runs=runs))
            except MissingTool as exc:
                report.skipped[name] = str(exc)
                print(f"{name}: skipped ({exc})\n", flush=True)
                continue
            report.results += results
            print(render(module.TITLE, results) + "\n", flush=True)
    print(f"done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.out is not None:
        args.out.write_text(report.model_dump_json(indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
