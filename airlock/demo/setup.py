"""Preparing a demo: the sample folder, and the scripted demo model on loopback."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import anthropic

from airlock.demo.messages_server import MessagesServer
from airlock.demo.script import demo_script
from airlock.errors import UsageError

SAMPLE = Path(__file__).with_name("sample")


def prepare_folder(target: Path | None) -> Path:
    """Copy the sample folder into `target` (new or empty), or into a new temp folder."""
    if target is None:
        folder = Path(tempfile.mkdtemp(prefix="airlock-demo-"))
    else:
        folder = target.expanduser().absolute()
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise UsageError(f"{folder} is not an empty folder; the demo needs a new one")
        folder.mkdir(parents=True, exist_ok=True)
    for item in sorted(SAMPLE.iterdir()):
        shutil.copy2(item, folder / item.name)
    return folder.resolve()


def start_demo_model(event_delay: float = 0.015) -> tuple[MessagesServer, anthropic.AsyncAnthropic]:
    """The demo model's server and an SDK client for it (no API key involved)."""
    server = MessagesServer(demo_script(event_delay), model_label="demo-model").start()
    client = anthropic.AsyncAnthropic(api_key="demo-model-needs-no-key", base_url=server.url)
    return server, client
