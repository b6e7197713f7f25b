"""Routing a `tool_use` to its tool, turning every outcome into a `tool_result`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from airlock.agent.editor import Editor, ToolFailure
from airlock.agent.shell import Shell, format_result
from airlock.agent.tools import (
    BASH,
    EDITOR,
    REMEMBER,
    UPDATE_PLAN,
    BashInput,
    EditorInput,
    RememberInput,
    UpdatePlanInput,
)
from airlock.errors import AirlockError
from airlock.events import Event, PlanItem, PlanUpdated, ToolCall, ToolResult
from airlock.sandbox.base import Sandbox

ExtraTool = Callable[[str, dict[str, Any]], Awaitable[tuple[str, bool]]]


class ToolOutcome(BaseModel):
    """A finished tool call, as the transcript and the events record it."""

    call_id: str
    name: str
    content: str
    is_error: bool = False
    exit_code: int | None = None
    duration: float

    def block(self) -> dict[str, Any]:
        return {
            "type": "tool_result",
            "tool_use_id": self.call_id,
            "content": self.content,
            "is_error": self.is_error,
        }


class ToolRunner:
    """The agent's tools: bash and the editor in the sandbox; plan and memory on the host."""

    def __init__(
        self,
        sandbox: Sandbox,
        emit: Callable[[Event], None],
        remember: Callable[[str], None],
        command_timeout: float = 600.0,
    ) -> None:
        self.emit = emit
        self.remember = remember
        self.shell = Shell(sandbox, emit, command_timeout)
        self.editor = Editor(sandbox)
        self.plan: list[PlanItem] = []
        self.extra: dict[str, ExtraTool] = {}  # e.g. MCP tools, by their full name

    async def run(self, call_id: str, name: str, raw_input: dict[str, Any]) -> ToolOutcome:
        """Run one tool call; failures become error results, never exceptions."""
        self.emit(ToolCall(call_id=call_id, name=name, input=raw_input))
        started = time.monotonic()
        exit_code: int | None = None
        try:
            if name == BASH:
                content, exit_code = await self._bash(call_id, BashInput.model_validate(raw_input))
                is_error = False
            elif name == EDITOR:
                content = await self.editor.run(EditorInput.model_validate(raw_input))
                is_error = False
            elif name == UPDATE_PLAN:
                content, is_error = self._update_plan(UpdatePlanInput.model_validate(raw_input))
            elif name == REMEMBER:
                self.remember(RememberInput.model_validate(raw_input).note)
                content, is_error = "Saved to the project memory.", False
            elif name in self.extra:
                content, is_error = await self.extra[name](name, raw_input)
            else:
                content, is_error = f"Unknown tool {name!r}.", True
        except ValidationError as exc:
            content, is_error = f"Invalid input for {name}: {_first_error(exc)}", True
        except ToolFailure as exc:
            content, is_error = str(exc), True
        except AirlockError as exc:
            content, is_error = f"The sandbox failed: {exc.message}", True
        outcome = ToolOutcome(
            call_id=call_id,
            name=name,
            content=content,
            is_error=is_error,
            exit_code=exit_code,
            duration=time.monotonic() - started,
        )
        self.emit(
            ToolResult(
                call_id=call_id,
                name=name,
                content=content,
                is_error=is_error,
                exit_code=exit_code,
                duration=outcome.duration,
            )
        )
        return outcome

    async def _bash(self, call_id: str, args: BashInput) -> tuple[str, int | None]:
        if args.restart:
            return "The shell has been restarted (each command starts fresh in /workspace).", None
        if not args.command:
            raise ToolFailure("bash needs a command")
        result = await self.shell.run(call_id, args.command)
        return format_result(result, self.shell.timeout), result.exit_code

    def _update_plan(self, args: UpdatePlanInput) -> tuple[str, bool]:
        self.plan = args.items
        self.emit(PlanUpdated(items=args.items))
        return f"Plan updated ({_count(args.items)} steps).", False


def _count(items: list[PlanItem]) -> int:
    return sum(1 + _count(item.children) for item in items)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]
