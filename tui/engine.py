"""The engine (sessions, the agent and the Anthropic SDK behind them) loads in a thread
while the first frame is drawn: screens import it only where they use it."""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

ENGINE = "airlock.session"


def preload_engine() -> None:
    """Start loading the engine; the first use waits only for what is left of it."""
    threading.Thread(target=engine, name="preload-engine", daemon=True).start()


def engine() -> ModuleType:
    """The engine's module (loaded now if the preload has not done it yet)."""
    return importlib.import_module(ENGINE)
