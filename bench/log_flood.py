"""log: a command's flood of output in the workspace shell log, headless, against a bare `Log`.

Both apps get the same output in the chunks a pipe delivers (64 KiB), one chunk per
event-loop turn. The reference is a bare app calling `Log.write_lines` for each chunk;
Airlock's output goes the way a session's does: an `EngineEvent` to the real workspace
screen, whose shell log buffers lines and writes them once a frame. Meanwhile a key is
typed every 20 ms; its latency is the time until the focused text area shows it.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Log, TextArea

from bench.models import Result
from bench.timing import Case, Settings
from bench.xdg import private_home

NAME = "log"
TITLE = "log: output flood into the shell log (headless run_test), and typing meanwhile"
CHUNK = 64 * 1024
KEY_EVERY = 0.02  # seconds between key presses during the flood
SIZE = (120, 40)


@dataclass
class Flood:
    """One run: how fast the lines went in, and how long each key press took to show."""

    rate: float
    latencies: list[float]


class BareLog(App[None]):
    """The reference: a `Log` with the shell log's line cap, and a text area to type in."""

    def __init__(self, max_lines: int) -> None:
        super().__init__()
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield Log(max_lines=self.max_lines)
        yield TextArea()


def output_chunks(count: int) -> list[str]:
    """What `seq COUNT` prints, cut where a pipe read would cut it."""
    text = "".join(f"{number}\n" for number in range(1, count + 1))
    return [text[start : start + CHUNK] for start in range(0, len(text), CHUNK)]


def run(settings: Settings) -> list[Result]:
    count = 200_000 if settings.quick else 1_000_000
    chunks = output_chunks(count)
    floods: dict[str, list[Flood]] = {"bare": [], "airlock": []}
    with private_home(settings.workdir):
        for index in range(settings.runs + 1):  # the first run of each warms up
            for name, flood in (("bare", _bare), ("airlock", _airlock)):
                result = asyncio.run(flood(chunks, count, settings.workdir))
                if index:
                    floods[name].append(result)
    ingest = Case(NAME, f"{count:,} lines of output")
    typical = Case(NAME, "key latency meanwhile (median)")
    worst = Case(NAME, "key latency meanwhile (worst)")
    for name, tool in (("bare", "Log.write_lines, bare app"), ("airlock", "airlock shell log")):
        reference = name == "bare"
        runs = floods[name]
        ingest.add(tool, [run.rate for run in runs], unit="lines/s", reference=reference)
        typical.add(tool, [statistics.median(run.latencies) for run in runs], reference=reference)
        worst.add(tool, [max(run.latencies) for run in runs], reference=reference)
    return ingest.results + typical.results + worst.results


async def _bare(chunks: list[str], count: int, workdir: Path) -> Flood:
    from tui.widgets.shell_log import MAX_LINES

    app = BareLog(MAX_LINES)
    async with app.run_test(size=SIZE):
        log, area = app.query_one(Log), app.query_one(TextArea)
        area.focus()
        last = str(count)
        return await _flood(
            app,
            lambda chunk: log.write_lines(chunk.splitlines()),
            chunks,
            lambda: log.line_count > 0 and log.lines[-1] == last,
            lambda: area.text,
        )


async def _airlock(chunks: list[str], count: int, workdir: Path) -> Flood:
    from airlock.config import ProjectConfig, load_config
    from airlock.events import ShellOutput
    from tui.app import AirlockApp
    from tui.screens.workspace import Opening, WorkspaceScreen

    folder = workdir / "project"
    folder.mkdir(exist_ok=True)
    config = load_config()
    app = AirlockApp(config, Opening(ProjectConfig(name="bench", path=folder), config))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        last = f"  {count}"

        def feed(chunk: str) -> None:
            event = ShellOutput(call_id="bench", stream="stdout", text=chunk)
            screen.post_message(WorkspaceScreen.EngineEvent(event))

        return await _flood(
            app,
            feed,
            chunks,
            lambda: screen.shell.line_count > 0 and screen.shell.lines[-1] == last,
            lambda: screen.prompt.text,
        )


async def _flood(
    app: App[None],
    feed: Callable[[str], object],
    chunks: list[str],
    done: Callable[[], bool],
    typed: Callable[[], str],
) -> Flood:
    """Feed every chunk, one per loop turn, typing meanwhile; until `done` shows the last line."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    flooding = True

    async def type_keys() -> None:
        while flooding:
            before = typed()
            pressed = loop.time()
            app.post_message(events.Key("x", "x"))
            while typed() == before:
                await asyncio.sleep(0.001)
            latencies.append(loop.time() - pressed)
            await asyncio.sleep(KEY_EVERY)

    typist = asyncio.create_task(type_keys())
    start = loop.time()
    for chunk in chunks:
        feed(chunk)
        await asyncio.sleep(0)
    while not done():
        await asyncio.sleep(0.001)
    elapsed = loop.time() - start
    flooding = False
    await typist
    count = sum(chunk.count("\n") for chunk in chunks)
    return Flood(rate=count / elapsed, latencies=latencies or [0.0])
