"""The results `python -m bench` prints and writes with `--out`."""

from __future__ import annotations

import os
import platform
import sys
from typing import Literal

from pydantic import BaseModel, Field

Unit = Literal["s", "lines/s"]


class Result(BaseModel):
    """One tool on one case: the median of several runs, with their range.

    `ratio` is the cost relative to the case's reference tool (1.0 for the reference
    itself; above 1 means slower), for rates as well as for times.
    """

    benchmark: str
    case: str
    tool: str
    median: float
    min: float
    max: float
    runs: int
    ratio: float | None = None
    unit: Unit = "s"
    reference: bool = False
    note: str | None = None


class Machine(BaseModel):
    """Where the numbers were taken."""

    python: str = Field(default_factory=lambda: sys.version.split()[0])
    platform: str = Field(default_factory=platform.platform)
    cpus: int = Field(default_factory=lambda: os.cpu_count() or 1)


class Report(BaseModel):
    """Everything one `python -m bench` run measured."""

    quick: bool
    machine: Machine = Field(default_factory=Machine)
    results: list[Result] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)  # benchmark -> why it did not run
