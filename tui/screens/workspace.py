"""The workspace: one project's session — conversation, plan, live shell log — as it works."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from airlock.config import AirlockConfig, ProjectConfig, SandboxChoice
from airlock.errors import AirlockError
from airlock.events import ChangesUpdated, Event, PlanUpdated, Status
from airlock.sessions import current_id
from tui.engine import engine
from tui.keys import key_for
from tui.mcp_approvals import McpApprovals
from tui.questions import Questions
from tui.widgets.conversation import Conversation
from tui.widgets.plan_tree import PlanTree
from tui.widgets.prompt_input import PromptInput
from tui.widgets.shell_log import ShellLog
from tui.widgets.workspace_header import WorkspaceHeader

if TYPE_CHECKING:
    from airlock.session import Session


@dataclass
class Opening:
    """What a workspace opens: a project, and maybe a session made for it and a first prompt."""

    project: ProjectConfig
    config: AirlockConfig
    session: Session | None = None
    prompt: str | None = None
    model_label: str | None = None  # shown instead of the session's model id
    sandbox: SandboxChoice | None = None


class WorkspaceScreen(Screen[None]):
    """Renders the session's events; sends prompts and interrupts to it."""

    CSS_PATH = "workspace.tcss"
    AUTO_FOCUS = "PromptInput"
    BINDINGS = [
        Binding("escape", "interrupt", "Interrupt", id="workspace.interrupt"),
    ]

    class EngineEvent(Message):
        """An event of this workspace's session, delivered on the screen's queue."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    def __init__(
        self,
        opening: Opening,
        questions: Questions | None = None,
        mcp_calls: McpApprovals | None = None,
    ) -> None:
        """`questions` and `mcp_calls` ask the user about denied hosts and MCP calls."""
        super().__init__()
        self.opening = opening
        self.project = opening.project
        self.session: Session | None = opening.session
        self._questions = questions
        self._mcp_calls = mcp_calls
        self._ready: asyncio.Future[bool] | None = None
        self._booter: Worker[None] | None = None
        self._opened = False  # the last session is resumed (from mount, in a worker)
        self._turn: Worker[None] | None = None
        self._pending = 0
        self.header = WorkspaceHeader()
        self.conversation = Conversation(id="conversation")
        self.prompt = PromptInput(id="prompt")
        self.plan = PlanTree(id="plan")
        self.shell = ShellLog(id="shell")

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="panes"):
            with Vertical(id="chat"):
                yield self.conversation
                yield self.prompt
            with Vertical(id="side"):
                yield self.plan
                yield self.shell
        yield Footer()

    def on_mount(self) -> None:
        self.header.project = self.project.name
        config = self.opening.config
        self.header.model = self.opening.model_label or self.project.model or config.model
        self.run_worker(self._open(), name="open", exit_on_error=False)

    async def _open(self) -> None:
        """Resume the project's last session (or show the one given) and send the first prompt."""
        try:
            if self.session is None and current_id(self.project) is not None:
                await asyncio.to_thread(engine)  # it loads for a moment: the screen stays live
                self.session = engine().Session.resume(
                    self.project, self.opening.config, sandbox_choice=self.opening.sandbox
                )
        except AirlockError as exc:
            self.conversation.note(f"cannot resume the last session: {exc}", error=True)
        finally:
            self._opened = True  # prompts go to the session resumed, or a new one
        if self.session is not None:
            self._listen_to(self.session)
            self._boot()
        if self.opening.prompt:
            self.send(self.opening.prompt)

    async def on_unmount(self) -> None:
        if self.session is not None and self._forward in self.session.listeners:
            self.session.listeners.remove(self._forward)  # the widgets are going away
        turn = self._turn
        if turn is not None and turn.is_running:
            turn.cancel()
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await turn.wait()
        if self.session is not None:
            await self.session.close()

    # -- what the user does ----------------------------------------------------

    @property
    def working(self) -> bool:
        """The agent is on a turn."""
        return self._turn is not None and self._turn.is_running

    @on(PromptInput.Submitted)
    def _submitted(self, message: PromptInput.Submitted) -> None:
        if self.send(message.text):
            self.prompt.clear()

    def send(self, text: str) -> bool:
        """Start a turn with `text` (creating and starting the session if needed)."""
        if self.working:
            self.notify("The agent is still working: wait, or press esc to interrupt it.")
            return False
        if not self._opened:
            self.notify("Still opening the last session: send again in a moment.")
            return False
        if self.session is None:
            try:
                self.session = engine().Session.create(
                    self.project, self.opening.config, sandbox_choice=self.opening.sandbox
                )
            except AirlockError as exc:
                self._failed("no session", exc)
                return False
            self._listen_to(self.session)
        ready = self._boot()
        if not ready.done():
            self.conversation.waiting_prompt(text)
        self._turn = self.run_worker(self._run_turn(text), name="turn", exit_on_error=False)
        self.refresh_bindings()
        return True

    def open_session(self, session_id: str) -> bool:
        """Show another session of the project instead, closing the one open now.

        Refused while the agent is on a turn: the user waits for it or interrupts it first.
        """
        if self.session is not None and self.session.record.id == session_id:
            return True
        if self.working:
            self.notify("The agent is working: wait, or press esc to interrupt it, then switch.")
            return False
        try:
            session = engine().Session.resume(
                self.project, self.opening.config, session_id, sandbox_choice=self.opening.sandbox
            )
        except AirlockError as exc:
            self.notify(f"cannot open that session: {exc}", severity="error", markup=False)
            return False
        old, booter = self.session, self._booter
        if old is not None and self._forward in old.listeners:
            old.listeners.remove(self._forward)
        self.session, self._ready = session, asyncio.get_running_loop().create_future()
        self._booter = self.run_worker(
            self._reopen(old, booter, session, self._ready), name="boot", exit_on_error=False
        )
        return True

    async def _reopen(
        self,
        old: Session | None,
        booter: Worker[None] | None,
        session: Session,
        ready: asyncio.Future[bool],
    ) -> None:
        """Close the session shown before (its start cut short), then show and start `session`."""
        if booter is not None and booter.is_running:
            booter.cancel()
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await booter.wait()
        if old is not None:
            await asyncio.shield(old.close())
        await self.conversation.clear()
        self.shell.clear()
        self.header.tokens, self.header.cost, self.header.sandbox = 0, 0.0, "not started"
        self._pending = 0
        self._listen_to(session)
        await self._start(ready)

    def action_interrupt(self) -> None:
        if self._turn is not None:
            self._turn.cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            return True if self.working else None
        return True

    # -- the session -----------------------------------------------------------

    def _listen_to(self, session: Session) -> None:
        session.listeners.append(self._forward)
        if self._questions is not None:
            session.egress.approver = self._questions.network_approver(self.project.name)
        if self._mcp_calls is not None:
            session.mcp.approver = self._mcp_calls.approver(self.project.name)
        if not self.opening.model_label:
            self.header.model = session.record.model
        self.header.pending = session.record.pending
        self.conversation.show_transcript(session.transcript.messages)
        self.plan.show_plan(session.plan)

    @property
    def _booting(self) -> bool:
        return self._ready is not None and not self._ready.done()

    def _forward(self, event: Event) -> None:
        self.post_message(self.EngineEvent(event))

    def _boot(self) -> asyncio.Future[bool]:
        """The session's start, begun once (again after a failure); True once it is up."""
        if self._ready is None or (self._ready.done() and not self._ready.result()):
            self._ready = asyncio.get_running_loop().create_future()
            self._booter = self.run_worker(
                self._start(self._ready), name="boot", exit_on_error=False
            )
        return self._ready

    async def _start(self, ready: asyncio.Future[bool]) -> None:
        assert self.session is not None
        self.header.activity = "starting the sandbox…"
        try:
            await self.session.start()
            await self.session.refresh()
        except Exception as exc:
            self._failed("the sandbox did not start", exc)
            ready.set_result(False)
            return
        self.header.sandbox = self.session.sandbox.label
        self.header.activity = "ready"
        ready.set_result(True)

    async def _run_turn(self, text: str) -> None:
        if not await asyncio.shield(self._boot()):
            self.conversation.note("(not sent: the sandbox is not running)", error=True)
            return
        assert self.session is not None
        self.header.activity = "working…"
        try:
            await self.session.run_prompt(text)
        except asyncio.CancelledError:
            self.header.activity = "interrupted"
            raise
        except Exception as exc:
            self._failed("the turn failed", exc)
            if not self.prompt.text.strip():  # not sent: give the words back to fix and resend
                self.prompt.load_text(text)
                self.prompt.move_cursor(self.prompt.document.end)
        else:
            self.header.activity = "idle"
        finally:
            self.call_after_refresh(self.refresh_bindings)

    def _failed(self, what: str, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, AirlockError) else f"{type(exc).__name__}: {exc}"
        self.header.activity = what
        self.conversation.note(f"{what}: {reason}", error=True)
        self.shell.note(f"{what}: {reason}")

    @on(EngineEvent)
    async def _engine_event(self, message: EngineEvent) -> None:
        if not self.is_attached:
            return  # the app is closing; the session still runs down cleanly
        event = message.event
        self.header.show(event)
        self.shell.show(event)
        await self.conversation.show(event)
        if isinstance(event, PlanUpdated):
            self.plan.show_plan(event.items)
        elif isinstance(event, Status) and self._booting:
            self.header.activity = event.message
        elif isinstance(event, ChangesUpdated):
            self._changes_arrived(len(event.changes))

    def _changes_arrived(self, count: int) -> None:
        from tui.screens.review import ReviewScreen  # loaded with the first review

        grew, self._pending = count > self._pending, count
        if grew and not isinstance(self.app.screen, ReviewScreen):  # that shows them already
            self.notify(
                f"{count} change(s) wait for your review: press {key_for(self, 'review')}.",
                title=self.project.name,
                markup=False,
            )
