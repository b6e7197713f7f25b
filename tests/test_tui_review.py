"""The review screen, driven with Pilot on a real session (bubblewrap sandbox, real files)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot

from airlock.config import AirlockConfig, ProjectConfig
from airlock.demo.messages_server import Reply, Text
from airlock.review.models import ChangeKind, Decision, EntryType, FileChange
from airlock.sandbox.bwrap import BwrapSandbox
from airlock.session import Session
from tests.review_support import needs_bwrap, numbered, write_tree
from tests.scripted_api import ScriptedApi
from tui.screens.reject_reason import RejectReasonScreen
from tui.screens.review import ReviewScreen
from tui.screens.sync_confirm import SyncConfirmScreen
from tui.themes import VARIABLE_DEFAULTS, bundled_themes_dir, load_theme_file
from tui.widgets.diff_view import DiffView
from tui.widgets.file_list import FileList, row_path

pytestmark = needs_bwrap

Setup = Callable[[Session], Awaitable[None]]
PY = numbered(30, "x =")  # a.py: "x = 1" … "x = 30"


class ReviewHarness(App[None]):
    """Starts a bubblewrap session on `project`, lets `setup` change its sandbox, reviews it."""

    def __init__(self, project: Path, setup: Setup) -> None:
        super().__init__()
        self.project = ProjectConfig(name="demo", path=project)
        self.setup = setup
        self.session: Session | None = None
        self.sent: list[str] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    async def on_mount(self) -> None:
        self.animation_level = "none"
        self.register_theme(load_theme_file(bundled_themes_dir() / "airlock-dark.toml"))
        self.theme = "airlock-dark"
        self.session = Session.create(self.project, AirlockConfig(), sandbox_choice="bwrap")
        await self.session.start()
        await self.setup(self.session)
        await self.push_screen(ReviewScreen(self.session))

    async def on_unmount(self) -> None:
        if self.session is not None:
            await self.session.close()

    def on_review_screen_rejections_sent(self, message: ReviewScreen.RejectionsSent) -> None:
        self.sent.append(message.prompt)
        assert self.session is not None
        self.run_worker(self.session.run_prompt(message.prompt))


def sandbox_edits(*commands: str) -> Setup:
    async def setup(session: Session) -> None:
        for command in commands:
            result = await session.exec(command)
            assert result.exit_code == 0, result.stderr

    return setup


def make_project(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    write_tree(project, files)
    return project


async def settle(pilot: Pilot[None]) -> None:
    """Let workers finish and their messages land."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def opened(pilot: Pilot[None]) -> ReviewScreen:
    for _ in range(200):
        if isinstance(pilot.app.screen, ReviewScreen):
            break
        await pilot.pause(0.01)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


def diff_text(screen: ReviewScreen) -> str:
    return "\n".join(screen.query_one(DiffView).lines)


def files_text(screen: ReviewScreen) -> str:
    files = screen.query_one(FileList)
    height = files.scrollable_content_region.height
    return "\n".join(files.render_line(y).text.rstrip() for y in range(height)).strip()


def notifications(app: App[None]) -> str:
    return "\n".join(f"{n.title}: {n.message}" for n in app._notifications)


def workspace(app: ReviewHarness) -> Path:
    assert app.session is not None
    sandbox = app.session.sandbox
    assert isinstance(sandbox, BwrapSandbox)
    return sandbox.workspace


async def test_approve_one_hunk_reject_another_sync_and_undo(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a.py": PY})
    edit = "sed -i 's/^x = 3$/x = 300/; s/^x = 25$/x = 2500/' a.py"
    app = ReviewHarness(project, sandbox_edits(edit))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        assert "a.py" in files_text(screen)
        await pilot.press("tab", "a")  # the diff has focus: approve its first hunk
        await settle(pilot)
        text = diff_text(screen)
        assert "@@ -1,6 +1,6 @@  ✓ approved" in text
        assert "@@ -22,7 +22,7 @@  · pending" in text
        assert files_text(screen).startswith("◐")  # partly approved

        await pilot.press("x", "escape")  # asked, then cancelled: nothing is rejected
        assert app.screen is screen and "2500" in diff_text(screen)
        await pilot.press("x")  # reject the second hunk (now in focus), with a reason
        assert isinstance(app.screen, RejectReasonScreen)
        await pilot.press(*"keep 25", "enter")
        await settle(pilot)
        assert (workspace(app) / "a.py").read_text().count("x = 25\n") == 1
        assert "2500" not in diff_text(screen)

        await pilot.press("s")
        assert isinstance(app.screen, SyncConfirmScreen)
        assert app.screen.preview.written == ["a.py"]
        await pilot.press("y")
        await settle(pilot)
        assert (project / "a.py").read_text() == PY.replace("x = 3\n", "x = 300\n")
        assert "Synced: wrote a.py" in notifications(app)
        assert files_text(screen) == ""  # nothing left to review

        await pilot.press("u")
        await settle(pilot)
        assert (project / "a.py").read_text() == PY
        assert "Undid the last sync: restored a.py" in notifications(app)
        assert "a.py" in files_text(screen)  # pending again


async def test_file_list_shows_kinds_marks_counts_and_filters(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a.py": PY, "old.txt": "bye\n", "tool.sh": "echo\n"})
    edits = sandbox_edits(
        "sed -i 's/^x = 3$/x = 300/' a.py",
        "printf 'one\\ntwo\\n' > new.md",
        "rm old.txt",
        "chmod +x tool.sh",
        "ln -s a.py link",
        "head -c 64 /dev/zero > blob.bin",
    )
    app = ReviewHarness(project, edits)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        rows = files_text(screen).splitlines()
        assert [row.split()[-1] for row in rows] == [
            "a.py",
            "blob.bin",
            "link",
            "new.md",
            "old.txt",
            "tool.sh",
        ]
        assert [row.split()[1] for row in rows] == ["M", "A", "L", "A", "D", "P"]
        assert "+1 -1" in rows[0] and "binary" in rows[1] and "+2 -0" in rows[3]
        assert "644→755" in rows[5]

        await pilot.press("j")  # blob.bin: a binary file says why it has no lines
        await settle(pilot)
        assert "Binary or too large to show (nothing → 64 bytes)" in diff_text(screen)
        await pilot.press("k")

        await pilot.press("a")  # the file list has focus: approve the whole of a.py
        await settle(pilot)
        assert files_text(screen).splitlines()[0].startswith("✓")
        await pilot.press("j", "x", "enter")  # the cursor moved on to blob.bin; j: link
        await settle(pilot)
        assert "link" not in files_text(screen) and "blob.bin" in files_text(screen)
        await pilot.press("f", "f")  # filter: approved
        await settle(pilot)
        assert files_text(screen).split()[-1] == "a.py"
        assert len(files_text(screen).splitlines()) == 1
        await pilot.press("f")  # filter: conflicts (none)
        await settle(pilot)
        assert files_text(screen) == ""


async def test_a_moved_file_shows_both_ends_and_one_key_decides_both(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a.py": PY, "todo.txt": "milk\n"})
    app = ReviewHarness(project, sandbox_edits("mkdir notes && mv todo.txt notes/"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        rows = files_text(screen).splitlines()
        assert [row.split()[1:] for row in rows] == [
            ["A", "moved", "notes/todo.txt", "←", "todo.txt"],
            ["D", "moved", "todo.txt", "→", "notes/todo.txt"],
        ]
        assert "Moved from todo.txt, content unchanged" in diff_text(screen)
        await pilot.press("a")
        await settle(pilot)
        assert all(row.startswith("✓") for row in files_text(screen).splitlines())
        await pilot.press("s")
        confirm = app.screen
        assert isinstance(confirm, SyncConfirmScreen)
        assert (confirm.preview.moved, confirm.preview.deleted) == (
            ["todo.txt → notes/todo.txt"],
            [],
        )
        await pilot.press("enter")
        await settle(pilot)
        assert (project / "notes/todo.txt").read_text() == "milk\n"
        assert not (project / "todo.txt").exists()


async def test_approve_all_then_sync_after_confirming_writes_and_deletes(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a.py": PY, "old.txt": "bye\n"})
    edits = sandbox_edits("sed -i 's/^x = 3$/x = 300/' a.py", "echo hi > new.txt", "rm old.txt")
    app = ReviewHarness(project, edits)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert all(row.startswith("✓") for row in files_text(screen).splitlines())
        await pilot.press("s", "escape")  # cancelled: nothing is written
        await settle(pilot)
        assert app.screen is screen and not (project / "new.txt").exists()
        await pilot.press("s")
        confirm = app.screen
        assert isinstance(confirm, SyncConfirmScreen)
        assert confirm.preview.written == ["a.py", "new.txt"]
        assert confirm.preview.deleted == ["old.txt"]
        await pilot.press("enter")
        await settle(pilot)
        assert (project / "new.txt").read_text() == "hi\n"
        assert not (project / "old.txt").exists()
        assert "wrote a.py, new.txt\ndeleted old.txt" in notifications(app)


async def test_reject_all_pending_keeps_approved_changes(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a.py": PY})
    edits = sandbox_edits("sed -i 's/^x = 3$/x = 300/' a.py", "echo 1 > b.txt", "echo 2 > c.txt")
    app = ReviewHarness(project, edits)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await pilot.press("a")  # approve a.py; the cursor moves on to b.txt
        await pilot.press("X", *"not now", "enter")
        await settle(pilot)
        assert [row.split()[-1] for row in files_text(screen).splitlines()] == ["a.py"]
        assert not (workspace(app) / "b.txt").exists()
        assert app.session is not None
        reasons = [r.reason for r in app.session.gate.rejections()]
        assert reasons == ["not now", "not now"]


async def test_flagged_item_explains_why_and_cannot_be_approved(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a.py": PY})
    app = ReviewHarness(project, sandbox_edits("mkfifo pipe"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        assert files_text(screen).startswith("·⊘ S")
        assert "Never synced: fifo: special files are never synced" in diff_text(screen)
        await pilot.press("a")
        await settle(pilot)
        assert app.session is not None
        assert app.session.gate.changes[0].decision is Decision.PENDING
        assert "pipe is never synced" in notifications(app)


async def test_conflict_is_marked_and_shows_the_host_text_beside_the_proposal(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path, {"a.py": PY})

    async def setup(session: Session) -> None:
        (project / "a.py").write_text(PY.replace("x = 3\n", "x = 3  # host edit\n"))
        result = await session.exec("sed -i 's/^x = 3$/x = 300/' a.py")
        assert result.exit_code == 0

    app = ReviewHarness(project, setup)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        assert files_text(screen).startswith("·! M")
        assert "Conflict: changed on the host" in diff_text(screen)
        await pilot.press("c")
        await settle(pilot)
        text = diff_text(screen)
        assert "host now" in text and "proposed" in text
        assert "x = 3  # host edit" in text and "x = 300" in text

        await pilot.press("c", "a", "s", "y")  # back to the diff; approve; sync
        await settle(pilot)
        assert "conflict: a.py" in notifications(app)
        assert "x = 3  # host edit" in (project / "a.py").read_text()
        assert "! conflict at the last sync" in diff_text(screen)

        (project / "a.py").write_text(PY)  # the host edit is taken back: f5 sees it
        await pilot.press("f5")
        await settle(pilot)
        assert files_text(screen).startswith("✓  M")


async def test_edit_makes_the_edited_text_the_approved_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'edited by hand\\n' >> \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    project = make_project(tmp_path, {"a.py": PY})
    app = ReviewHarness(project, sandbox_edits("echo proposed > b.txt"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert (workspace(app) / "b.txt").read_text() == "proposed\nedited by hand\n"
        assert files_text(screen).startswith("✓")
        assert "edited by hand" in diff_text(screen)
        await pilot.press("s", "y")
        await settle(pilot)
        assert (project / "b.txt").read_text() == "proposed\nedited by hand\n"


async def test_rejections_go_back_to_the_agent_with_the_reason(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    server = scripted_api.serve([Reply(blocks=[Text(text="Understood, I will redo it.")])])
    project = make_project(tmp_path, {"a.py": PY})
    app = ReviewHarness(project, sandbox_edits("echo hi > notes.txt"))
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("x", *"too chatty", "enter")
        await settle(pilot)
        await pilot.press("r", *"use a table", "enter")
        await settle(pilot)
        assert len(app.sent) == 1
        sent = server.requests[-1].messages[-1]["content"]
        text = sent if isinstance(sent, str) else " ".join(b.get("text", "") for b in sent)
        assert "notes.txt (added): too chatty" in text
        assert "use a table" in text


async def test_next_hunk_moves_on_to_the_next_file(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a.py": PY, "b.py": PY})
    edits = sandbox_edits(
        "sed -i 's/^x = 3$/x = 300/; s/^x = 25$/x = 2500/' a.py",
        "sed -i 's/^x = 9$/x = 9000/' b.py",
    )
    app = ReviewHarness(project, edits)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        view = screen.query_one(DiffView)
        await pilot.press("n")
        assert view.border_subtitle == "hunk 2/2 · unified"
        await pilot.press("n")
        await settle(pilot)
        assert view.model is not None and view.model.path == "b.py"
        await pilot.press("p")
        await settle(pilot)
        assert view.model is not None and view.model.path == "a.py"
        assert view.current_hunk == 1
        await pilot.press("v")
        assert view.border_subtitle == "hunk 2/2 · side by side"


async def test_untrusted_text_and_names_are_shown_inert(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"a.py": PY})
    hostile = (
        "printf '\\033]0;pwned\\007\\033[31m[bold]loud[/bold] \\342\\200\\256abc\\n' > '[red]x.txt'"
    )
    newline_name = "touch \"$(printf 'line\\nbreak.txt')\""
    app = ReviewHarness(project, sandbox_edits(hostile, newline_name))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        assert "[red]x.txt" in files_text(screen)
        assert "line␤break.txt" in files_text(screen)  # one row, the newline shown
        text = diff_text(screen)
        assert "[bold]loud[/bold] �abc" in text
        assert "\x1b" not in text and "pwned" not in text


async def test_a_20000_line_diff_pages_to_the_end(tmp_path: Path) -> None:
    """Only visible lines are rendered; how fast is measured by `python -m bench`."""
    project = make_project(tmp_path, {"a.py": PY})
    app = ReviewHarness(project, sandbox_edits("seq 1 20000 | sed 's/^/value = /' > big.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await pilot.press("tab")
        await pilot.press(*["pagedown"] * 20)
        assert "value = 730" in diff_text(screen)  # 20 pages of 36 rows
        await pilot.press("end")
        assert "value = 20000" in diff_text(screen)


def test_a_move_row_shortens_the_other_end_before_dropping_it() -> None:
    def moved(path: str, **end: str) -> FileChange:
        return FileChange(path=path, kind=ChangeKind.ADDED, entry_type=EntryType.FILE, **end)

    went = moved("a.jpg", moved_to="scans/a.jpg")
    came = moved("notes/new.txt", moved_from="notes/old.txt")
    assert row_path(went, 40) == "a.jpg → scans/a.jpg"
    assert row_path(went, 16) == "a.jpg → scans/"  # only the folder changed
    assert row_path(came, 24) == "notes/new.txt ← old.txt"  # only the name changed
    assert row_path(came, 12) == "…s/new.txt ←"
