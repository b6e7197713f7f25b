"""Measuring: repeated timed runs, and the rows of one benchmark case."""

from __future__ import annotations

import gc
import statistics
import subprocess
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.models import Result, Unit


@dataclass(frozen=True)
class Settings:
    """How big and how often: `quick` shrinks both to stay within the CI-sized budget."""

    quick: bool
    workdir: Path  # scratch space, removed after the run
    runs: int  # timed repetitions of each measurement


def measure(
    action: Callable[[], object],
    runs: int,
    *,
    before: Callable[[], object] | None = None,
    warmup: int = 1,
    per: int = 1,
) -> list[float]:
    """Seconds taken by `action`, once per run; `before` runs untimed ahead of each.

    With `per`, an action does that many operations and the samples are per operation.
    """
    samples: list[float] = []
    for index in range(warmup + runs):
        if before is not None:
            before()
        gc.collect()
        start = time.perf_counter()
        action()
        elapsed = time.perf_counter() - start
        if index >= warmup:
            samples.append(elapsed / per)
    return samples


def command(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok: Collection[int] = (0,),
) -> Callable[[], None]:
    """An action running `argv` to completion (output discarded; an exit code not `ok` raised)."""

    def run() -> None:
        done = subprocess.run(
            argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if done.returncode not in ok:
            detail = done.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"{argv[0]} exited with {done.returncode}: {detail}")

    return run


@dataclass
class Case:
    """The rows of one case of a benchmark: a reference tool and what is compared with it."""

    benchmark: str
    name: str
    results: list[Result] = field(default_factory=list)
    reference: Result | None = field(default=None, init=False)

    def add(
        self,
        tool: str,
        samples: Sequence[float],
        *,
        reference: bool = False,
        unit: Unit = "s",
        note: str | None = None,
    ) -> Result:
        """A row from raw samples (seconds, or a rate for `lines/s`); the reference comes first."""
        median = statistics.median(samples)
        result = Result(
            benchmark=self.benchmark,
            case=self.name,
            tool=tool,
            median=median,
            min=min(samples),
            max=max(samples),
            runs=len(samples),
            unit=unit,
            reference=reference,
            note=note,
        )
        if reference:
            self.reference = result
            result.ratio = 1.0
        elif self.reference is not None and median > 0 and self.reference.median > 0:
            base = self.reference.median
            result.ratio = base / median if unit == "lines/s" else median / base
        self.results.append(result)
        return result
