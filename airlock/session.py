"""One working session: a sandbox, the review gate, the agent and its transcript, persisted.

A session lives in `<project state>/sessions/<id>/` so it can be resumed after a
restart (`airlock run --continue`, the TUI). Every front end drives it the same
way and receives the same events through `listeners`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anthropic

from airlock.agent.dispatch import ToolRunner
from airlock.agent.loop import Agent, AgentSettings
from airlock.agent.prompt import PromptContext
from airlock.agent.transcript import Transcript
from airlock.atomic import write_atomic
from airlock.config import AirlockConfig, ProjectConfig, SandboxChoice
from airlock.errors import AirlockError
from airlock.events import ChangesUpdated, Event, PlanItem, PlanUpdated, Status
from airlock.mcp.bridge import McpBridge
from airlock.memory import append_note, read_memory
from airlock.network.egress import SessionEgress
from airlock.paths import airlock_paths
from airlock.projects import project_state_dir
from airlock.review.gate import ReviewGate
from airlock.review.models import ChangeInfo, FileChange
from airlock.review.store import ObjectStore
from airlock.sandbox.base import ExecResult, OnOutput, Sandbox
from airlock.sandbox.factory import pick_backend
from airlock.sessions import (
    SessionRecord,
    current_id,
    load_record,
    new_record,
    save_record,
    session_dir,
    set_current,
)

if TYPE_CHECKING:
    from airlock.demo.messages_server import MessagesServer

Listener = Callable[[Event], None]
PLAN_FILE = "plan.json"


class Session:
    """A project's sandboxed working session. `start()` before use, `close()` after."""

    def __init__(
        self,
        project: ProjectConfig,
        config: AirlockConfig,
        record: SessionRecord,
        *,
        sandbox_choice: SandboxChoice | None = None,
        client: anthropic.AsyncAnthropic | None = None,
    ) -> None:
        self.project = project
        self.config = config
        self.record = record
        self.listeners: list[Listener] = []
        self.dir = session_dir(project, record.id)
        self.store = ObjectStore(airlock_paths().objects_dir)
        self.backend = pick_backend(sandbox_choice or project.sandbox or config.sandbox)
        self.egress = SessionEgress(project, self.dir / "network.jsonl", self.emit)
        self.mcp = McpBridge(project, self.emit)  # servers start with the first prompt
        self.transcript = Transcript(self.dir / "transcript.jsonl")
        self.plan = _load_plan(self.dir / PLAN_FILE)
        self._client = client
        self._demo_server: MessagesServer | None = None  # a resumed demo's scripted model
        self._agent: Agent | None = None
        self._sandbox: Sandbox | None = None
        self._gate: ReviewGate | None = None

    # -- opening -----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        project: ProjectConfig,
        config: AirlockConfig,
        *,
        model: str | None = None,
        task: str | None = None,
        sandbox_choice: SandboxChoice | None = None,
        client: anthropic.AsyncAnthropic | None = None,
    ) -> Session:
        """A new session, which becomes the project's current one (unless it is a task's)."""
        record = new_record(project, model or project.model or config.model, task=task)
        if task is None:
            set_current(project, record.id)
        return cls(project, config, record, sandbox_choice=sandbox_choice, client=client)

    @classmethod
    def resume(
        cls,
        project: ProjectConfig,
        config: AirlockConfig,
        session_id: str | None = None,
        *,
        sandbox_choice: SandboxChoice | None = None,
        client: anthropic.AsyncAnthropic | None = None,
        make_current: bool = True,
    ) -> Session:
        """An existing session (default: the project's current one), made the current one
        unless `make_current` is False (a look at another session)."""
        session_id = session_id or current_id(project)
        if session_id is None:
            raise AirlockError(
                f"no session yet for {project.path}",
                hint="start one: `airlock run DIR --prompt …` or `airlock sandbox exec DIR -- …`",
            )
        record = load_record(project, session_id)
        if record.sandbox and sandbox_choice and sandbox_choice not in ("auto", record.sandbox):
            raise AirlockError(f"session {record.id} uses the {record.sandbox} sandbox")
        choice: SandboxChoice | None = sandbox_choice
        if record.sandbox in ("lima", "bwrap"):
            choice = "lima" if record.sandbox == "lima" else "bwrap"
        if make_current:
            set_current(project, record.id)
        return cls(project, config, record, sandbox_choice=choice, client=client)

    # -- events ------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        if isinstance(event, PlanUpdated):
            self.plan = event.items
            write_atomic(
                self.dir / PLAN_FILE,
                PlanUpdated(items=event.items).model_dump_json().encode("utf-8"),
            )
        for listener in list(self.listeners):
            listener(event)

    # -- lifecycle ---------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            raise AirlockError("the session is not started")
        return self._sandbox

    @property
    def gate(self) -> ReviewGate:
        if self._gate is None:
            raise AirlockError("the session is not started")
        return self._gate

    async def start(self) -> None:
        """Bring the sandbox up holding the project as of the baseline."""
        self.emit(Status(message=f"starting the {self.backend} sandbox…"))
        self._sandbox = await self._make_sandbox()
        await self._sandbox.start(lambda message: self.emit(Status(message=message)))
        self.emit(Status(message="reading the project…"))
        self._gate = await asyncio.to_thread(
            ReviewGate,
            self.project.path,
            self._sandbox,
            self.store,
            self.dir / "review",
            project_state_dir(self.project) / "journal.jsonl",
            snapshot_cache=project_state_dir(self.project) / "snapshot.json",
        )
        recovery = self._gate.recovery
        if recovery.rolled_back:
            undone = ", ".join(recovery.rolled_back)
            self.emit(Status(message=f"rolled back an interrupted sync ({undone})"))
        if self.record.loaded and not await self._sandbox.holds_copy():
            self.emit(
                Status(
                    message="the sandbox no longer holds this session's copy (was its VM "
                    "deleted?): what the agent changed there is lost; copying the project again"
                )
            )
            self.record.loaded = False
        if not self.record.loaded:
            files = sum(1 for entry in self._gate.baseline.values() if entry.type == "file")
            self.emit(Status(message=f"copying {files} files into the sandbox…"))
            await self._sandbox.load(self._gate.baseline, self.store)
            self.record.loaded = True
        self.record.sandbox = self.backend
        self._save()

    async def _make_sandbox(self) -> Sandbox:
        root = self.dir / "sandbox"
        if self.backend == "lima":
            from airlock.sandbox.lima import LimaSandbox

            # The guest's firewall lets it reach only this port of the host.
            lima = LimaSandbox(self.project, root)
            await self.egress.start_tcp(await lima.egress_port())
            return lima
        from airlock.sandbox.bwrap import BwrapSandbox

        await self.egress.start_unix()
        env, binds, wrapper = self.egress.bwrap_options()
        return BwrapSandbox(root, env=env, binds=binds, wrapper=wrapper)

    async def close(self) -> None:
        await self.mcp.close()
        if self._sandbox is not None:
            await self._sandbox.close()
        await self.egress.close()
        if self._agent is not None:
            await self._agent.client.close()
        if self._demo_server is not None:
            self._demo_server.stop()
        if self.record.status == "running":
            self.record.status = "interrupted"
            self._save()

    def _save(self) -> None:
        self.record.touch()
        save_record(self.project, self.record)

    # -- work --------------------------------------------------------------------

    @property
    def agent(self) -> Agent:
        if self._agent is None:
            self._agent = self._make_agent()
        return self._agent

    def _make_agent(self) -> Agent:
        settings = AgentSettings(
            model=self.record.model,
            max_tokens=self.config.max_tokens,
            tool_types=self.config.tool_types,
        )
        client = self._client or self._demo_client() or _client_from_env(settings.sdk_retries)
        runner = ToolRunner(self.sandbox, self.emit, self._remember)
        self.mcp.bind(runner.extra)
        return Agent(
            client,
            settings,
            runner,
            self.transcript,
            self.prompt_context,
            self.emit,
            extra_tools=self.mcp.definitions,
        )

    def _demo_client(self) -> anthropic.AsyncAnthropic | None:
        """For a demo session resumed outside `airlock demo`: its scripted model again."""
        from airlock.demo.script import DEMO_MODEL  # the demo's server loads only for a demo

        if self.record.model != DEMO_MODEL:
            return None
        from airlock.demo.setup import start_demo_model

        self._demo_server, client = start_demo_model()
        return client

    def _remember(self, note: str) -> None:
        line = append_note(self.project, note)
        self.emit(Status(message=f"remembered: {line.strip()}"))

    async def prompt_context(self) -> PromptContext:
        gate = self.gate
        return PromptContext(
            project_name=self.project.name,
            instructions=self.project.instructions,
            memory=read_memory(self.project),
            pending=[ChangeInfo.of(change) for change in gate.changes],
            rejections=[rejection.describe() for rejection in gate.rejections()],
        )

    async def run_prompt(self, text: str) -> str:
        """Run one turn of the agent; the changes are refreshed after it, even if interrupted."""
        agent = self.agent
        if not self.record.title:
            self.record.title = " ".join(text.split())[:80]
        self.record.status = "running"
        self._save()
        try:
            await self.mcp.start(self.sandbox)
            reason = await agent.run_turn(text)
        except asyncio.CancelledError:
            self.record.status = "interrupted"
            self._save()
            await asyncio.shield(self.refresh())
            raise
        self.record.status = "error" if reason == "error" else "idle"
        await self.refresh()
        return reason

    async def exec(self, command: str | list[str], on_output: OnOutput | None = None) -> ExecResult:
        """Run a command in the sandbox as the user asked (not the agent)."""
        return await self.sandbox.exec(command, on_output=on_output)

    async def refresh(self) -> list[FileChange]:
        """Scan the sandbox; emits `ChangesUpdated`."""
        changes = await self.gate.refresh()
        self.publish_changes()
        return changes

    def publish_changes(self) -> None:
        """Announce the gate's current changes (after a review action, too)."""
        changes = self.gate.changes
        self.record.pending = len(changes)
        self._save()
        self.emit(ChangesUpdated(changes=[ChangeInfo.of(change) for change in changes]))


def require_api_key() -> None:
    """Fail, with the fix, when the environment has no key for the Messages API."""
    if not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
        raise AirlockError(
            "ANTHROPIC_API_KEY is not set",
            hint="export ANTHROPIC_API_KEY=… (or try `airlock demo`, which needs no key)",
        )


def _client_from_env(retries: int) -> anthropic.AsyncAnthropic:
    require_api_key()
    return anthropic.AsyncAnthropic(max_retries=retries)


def _load_plan(path: Path) -> list[PlanItem]:
    try:
        return PlanUpdated.model_validate_json(path.read_bytes()).items
    except (OSError, ValueError):
        return []
