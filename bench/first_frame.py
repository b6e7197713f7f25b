"""`python -m bench.first_frame airlock|bare`: start a TUI headless, draw one frame, print
the time (`time.time()`) it was drawn at, and exit.

What `airlock` shows a new user (the app with the project switcher), or a bare Textual
app with one line of text: the `startup` benchmark times it from exec to that frame.
"""

from __future__ import annotations

import sys
import time

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static


class BareApp(App[None]):
    """The reference: a Textual app showing one line."""

    def compose(self) -> ComposeResult:
        yield Static("ready")


async def exit_after_first_frame(pilot: Pilot[object]) -> None:
    """Once the app is ready, let it finish drawing, then say when and quit."""
    await pilot.pause()
    drawn = time.time()
    pilot.app.exit()
    print(drawn)


def main(which: str) -> int:
    app: App[None]
    if which == "airlock":
        from airlock.config import load_config
        from tui.app import AirlockApp

        app = AirlockApp(load_config())
    else:
        app = BareApp()
    app.run(headless=True, size=(120, 40), auto_pilot=exit_after_first_frame)
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
