"""The diff review screen: approve or reject files and hunks, sync them to the host, undo.

The screen shows the review gate's state and sends the user's decisions to the gate;
it never decides what reaches the host. Engine calls run as workers on the app's
loop (the bubblewrap sandbox is driven from it), one at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer

from airlock.errors import AirlockError
from airlock.events import ChangesUpdated, Event
from airlock.review.gate import ReviewGate
from airlock.review.models import ChangeKind, Decision, EntryType, FileChange, display_path
from airlock.review.report import SyncReport
from airlock.safefs import SafeRoot
from airlock.sanitize import sanitize
from tui.external_editor import edit_in_editor
from tui.keys import key_for
from tui.screens.reject_reason import RejectReasonScreen, rejection_prompt
from tui.screens.sync_confirm import SyncConfirmScreen, report_lines, sync_preview
from tui.widgets.diff_model import NOTHING, DiffModel, change_model, comparison_model, shown_path
from tui.widgets.diff_view import DiffView
from tui.widgets.file_list import FileList

if TYPE_CHECKING:
    from airlock.session import Session

HUNK = Binding.Group("Hunk", compact=True)
ALL = Binding.Group("All", compact=True)
ENGINE_ACTIONS = {  # they wait while another engine call runs
    "approve",
    "reject",
    "approve_all",
    "reject_all",
    "sync",
    "undo",
    "edit",
    "send_rejections",
    "reload",
    "compare",
    "close",
}


class ReviewScreen(Screen[None]):
    """Review of a started session's pending changes (push it with `ReviewScreen(session)`)."""

    OPENED_BY = "review"

    CSS_PATH = "review.tcss"
    AUTO_FOCUS = "FileList"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="review.close"),
        Binding("n", "step(1)", "Next hunk", group=HUNK, id="review.next-hunk"),
        Binding("p", "step(-1)", "Previous hunk", group=HUNK, id="review.previous-hunk"),
        Binding("a", "approve", "Approve", id="review.approve"),
        Binding("x", "reject", "Reject", id="review.reject"),
        Binding("A", "approve_all", "Approve all pending", group=ALL, id="review.approve-all"),
        Binding("X", "reject_all", "Reject all pending", group=ALL, id="review.reject-all"),
        Binding("s", "sync", "Sync", id="review.sync"),
        Binding("u", "undo", "Undo", id="review.undo"),
        Binding("e", "edit", "Edit", id="review.edit"),
        Binding("r", "send_rejections", "Tell agent", id="review.send-rejections"),
        # Listed by help (f1) and the palette; the footer keeps room for f1 itself.
        Binding("v", "toggle_layout", "Layout", show=False, id="review.layout"),
        Binding("f", "cycle_filter", "Filter", show=False, id="review.filter"),
        Binding("c", "compare", "Host vs proposal", show=False, id="review.compare"),
        Binding("f5", "reload", "Rescan sandbox and host", show=False, id="review.refresh"),
    ]

    busy: reactive[bool] = reactive(False, bindings=True)
    """An engine call is running: the review actions wait for it."""

    class RejectionsSent(Message):
        """The user sends the rejections back to the agent: the app runs `prompt` as a turn."""

        def __init__(self, prompt: str) -> None:
            super().__init__()
            self.prompt = prompt

    class ChangesPublished(Message):
        """The session announced new changes (a review action, or an agent turn)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._path: str | None = None  # the change whose diff is shown
        self._want_hunk: int | None = None  # the hunk to focus at the next render
        self._comparison: DiffModel | None = None  # host vs proposal of the selected change
        self._compared: str | None = None  # the proposal's digest in that comparison
        self._conflicts: dict[str, frozenset[int]] = {}  # shown path -> hunks, from the last sync
        self._sent = len(session.gate.rejections())  # rejections already sent to the agent

    @property
    def gate(self) -> ReviewGate:
        return self.session.gate

    def compose(self) -> ComposeResult:
        with Horizontal(id="review-panes"):
            yield FileList(id="review-files")
            yield DiffView(id="review-diff")
        yield Footer()

    def on_mount(self) -> None:
        self.session.listeners.append(self._on_event)
        self._show_changes()
        self.action_reload()

    def action_reload(self) -> None:
        """Scan again: the agent's latest edits, and conflicts with the host as it is now."""
        self._run(self.gate.refresh())

    def on_unmount(self) -> None:
        if self._on_event in self.session.listeners:
            self.session.listeners.remove(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ChangesUpdated):
            self.post_message(self.ChangesPublished())

    @on(ChangesPublished)
    def _changes_published(self) -> None:
        self._show_changes()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.busy and action in ENGINE_ACTIONS else True

    # -- showing -----------------------------------------------------------------

    def _show_changes(self) -> None:
        self.query_one(FileList).show(self.gate.changes)
        self._show_diff()

    def _show_diff(self) -> None:
        """Show the diff of the highlighted file (the file list is where the selection lives)."""
        selected = self.query_one(FileList).selected
        self._path = selected.path if selected else None
        view = self.query_one(DiffView)
        change = self._change()
        hunk, self._want_hunk = self._want_hunk, None
        if change is None:
            view.show(NOTHING)
        elif self._comparison is not None and self._comparing(change):
            view.show(self._comparison)
        else:
            self._comparison = None
            conflicts = self._conflicts.get(display_path(change.path), frozenset())
            view.show(change_model(change, conflicts, key_for(self, "compare")), hunk)

    def _comparing(self, change: FileChange) -> bool:
        """Whether the host comparison kept is of this change as it is now."""
        compared = self._comparison.path if self._comparison else None
        return (compared, self._compared) == (change.path, change.new_digest)

    def _change(self) -> FileChange | None:
        return next((c for c in self.gate.changes if c.path == self._path), None)

    def _current(self) -> FileChange | None:
        """The highlighted change, its diff shown first (keys can outrun `FileList.Selected`)."""
        selected = self.query_one(FileList).selected
        if (selected.path if selected else None) != self._path:
            self._show_diff()
        return self._change()

    @on(FileList.Selected)
    def _file_selected(self, message: FileList.Selected) -> None:
        if message.path != self._path:
            self._show_diff()

    def _target_hunk(self, change: FileChange) -> int | None:
        """The hunk an action applies to: None for the whole file (file list focused)."""
        if isinstance(self.focused, FileList) or not change.hunks:
            return None
        if self._comparison is not None:
            raise AirlockError(f"press {key_for(self, 'compare')} to go back to the diff first")
        return self.query_one(DiffView).current_hunk

    # -- navigation --------------------------------------------------------------

    def action_step(self, step: int) -> None:
        """Next/previous hunk, going on to the next/previous file at either end."""
        if self.query_one(DiffView).next_hunk(step):
            return
        if self.query_one(FileList).move(step):
            self._want_hunk = 0 if step > 0 else -1

    def action_toggle_layout(self) -> None:
        view = self.query_one(DiffView)
        view.split = not view.split

    def action_cycle_filter(self) -> None:
        self.notify(f"Filter: {self.query_one(FileList).cycle_filter()}")

    def action_close(self) -> None:
        self.dismiss()

    # -- decisions ---------------------------------------------------------------

    def action_approve(self) -> None:
        change = self._current()
        if change is None:
            return
        try:
            if not change.syncable:
                flags = "; ".join(change.flags)
                raise AirlockError(f"{shown_path(change.path)} is never synced: {flags}")
            hunk = self._target_hunk(change)
            self.gate.approve(change.path, hunk)
        except AirlockError as exc:
            self._fail(exc)
            return
        if hunk is not None:
            self._want_hunk = hunk + 1
        else:
            self.query_one(FileList).move(1)
        self.session.publish_changes()

    def action_reject(self) -> None:
        change = self._current()
        if change is None:
            return
        try:
            hunk = self._target_hunk(change)
        except AirlockError as exc:
            self._fail(exc)
            return
        path = shown_path(change.path)
        what = path if hunk is None else f"hunk {hunk + 1} of {path}"

        def rejected(reason: str | None) -> None:
            if reason is not None:
                self._want_hunk = hunk
                self._conflicts.pop(display_path(change.path), None)
                self._run(self.gate.reject(change.path, hunk, reason or None))

        title = f"Reject {what}? It is reverted in the sandbox."
        self.app.push_screen(RejectReasonScreen(title), rejected)

    def action_approve_all(self) -> None:
        pending = [c for c in self.gate.changes if c.decision is not Decision.APPROVED]
        approvable = [change for change in pending if change.syncable]
        for change in approvable:
            self.gate.approve(change.path)
        skipped = len(pending) - len(approvable)
        never = f" ({skipped} never synced, left pending)" if skipped else ""
        self.notify(f"Approved {len(approvable)} changes{never}")
        self.session.publish_changes()

    def action_reject_all(self) -> None:
        untouched = [change.path for change in self.gate.changes if _untouched(change)]
        if not untouched:
            self.notify("No pending changes to reject")
            return

        def rejected(reason: str | None) -> None:
            if reason is not None:
                self._run(self._reject_paths(untouched, reason or None))

        title = f"Reject all {len(untouched)} pending changes? They are reverted in the sandbox."
        self.app.push_screen(RejectReasonScreen(title), rejected)

    async def _reject_paths(self, paths: list[str], reason: str | None) -> None:
        if len(paths) == len(self.gate.changes):
            await self.gate.reject_all(reason)
            return
        for path in paths:
            if any(change.path == path for change in self.gate.changes):
                await self.gate.reject(path, None, reason)

    # -- sync, undo, edit, agent, host -----------------------------------------

    def action_sync(self) -> None:
        preview = sync_preview(self.gate.changes)
        if preview.empty:
            key = key_for(self, "approve")
            self.notify(f"Nothing is approved yet: press {key} on a change or hunk to approve it")
            return

        def confirmed(sync: bool | None) -> None:
            if sync:
                self._run(self._sync())

        self.app.push_screen(SyncConfirmScreen(preview, self.session.project.name), confirmed)

    async def _sync(self) -> None:
        report = await self.gate.sync()
        self._conflicts = {issue.path: frozenset(issue.hunks) for issue in report.conflicts}
        title = "Synced" if report.written or report.deleted else "Nothing synced"
        self._report(title, report, ("wrote", "deleted"))

    def action_undo(self) -> None:
        self._run(self._undo())

    async def _undo(self) -> None:
        report = await self.gate.undo()
        self._conflicts = {}
        self._report("Undid the last sync", report, ("restored", "removed"))

    def action_edit(self) -> None:
        change = self._current()
        if change is None or change.entry_type is not EntryType.FILE:
            self.notify("Only a changed file can be edited", severity="warning")
        elif change.kind is ChangeKind.DELETED:
            self.notify("A deleted file has nothing to edit", severity="warning")
        else:
            self._run(self._edit(change.path))

    async def _edit(self, path: str) -> None:
        proposed = await self.gate.proposed(path)
        edited = edit_in_editor(self.app, proposed, path)
        if edited == proposed:
            self.notify("Unchanged: the proposal stays as it was")
            return
        await self.gate.set_edited(path, edited)
        self.notify(f"{shown_path(path)}: your edit is the approved content", markup=False)

    def action_send_rejections(self) -> None:
        rejections = self.gate.rejections()
        if not rejections:
            self.notify("Nothing rejected yet")
            return
        fresh = rejections[self._sent :] or rejections

        def send(message: str | None) -> None:
            if message is not None:
                self._sent = len(rejections)
                self.post_message(self.RejectionsSent(rejection_prompt(fresh, message)))

        title = f"Send {len(fresh)} rejection(s) back to the agent?"
        self.app.push_screen(RejectReasonScreen(title, "Message for the agent (optional)"), send)

    def action_compare(self) -> None:
        change = self._current()
        if self._comparison is not None or change is None:
            self._comparison = None
            self._show_diff()
        elif change.conflict is None:
            self.notify("Only a change in conflict with the host can be compared with it")
        else:
            self._run(self._compare(change))

    async def _compare(self, change: FileChange) -> None:
        root = self.session.project.path
        host = await asyncio.to_thread(host_bytes, root, change.path)
        has_new = change.kind is not ChangeKind.DELETED and change.entry_type is EntryType.FILE
        proposed = await self.gate.proposed(change.path) if has_new else b""
        self._comparison = comparison_model(change, host, proposed, key_for(self, "compare"))
        self._compared = change.new_digest

    # -- running engine calls ----------------------------------------------------

    def _run(self, work: Awaitable[object]) -> None:
        """Run an engine call in a worker; its errors become notifications."""
        self.busy = True
        self.run_worker(self._guarded(work), group="review-engine")

    async def _guarded(self, work: Awaitable[object]) -> None:
        try:
            await asyncio.shield(work)  # leaving the screen must not cut a sync in half
        except AirlockError as exc:
            self._fail(exc)
        finally:
            self.busy = False
            self.session.publish_changes()

    def _fail(self, error: AirlockError) -> None:
        hint = f" ({error.hint})" if error.hint else ""
        self.notify(sanitize(error.message + hint), severity="error", markup=False)

    def _report(self, title: str, report: SyncReport, verbs: tuple[str, str]) -> None:
        trouble = bool(report.conflicts or report.refused)
        self.notify(
            "\n".join(report_lines(report, verbs)),
            title=title,
            severity="warning" if trouble else "information",
            markup=False,
        )


def _untouched(change: FileChange) -> bool:
    """Pending, with not even a hunk approved."""
    approved = any(hunk.decision is Decision.APPROVED for hunk in change.hunks)
    return change.decision is Decision.PENDING and not approved


def host_bytes(root: Path, path: str) -> bytes | None:
    """The host's current content of a project file (None: absent), never via a symlink."""
    try:
        return SafeRoot(root).read_bytes(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AirlockError(f"cannot read {display_path(path)} on the host: {exc.strerror}") from exc
