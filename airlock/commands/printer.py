"""The headless transcript: engine events printed as a readable live log, or JSON lines."""

from __future__ import annotations

import sys
from typing import TextIO

from airlock.commands.output import paint
from airlock.events import (
    AgentError,
    AssistantText,
    ChangesUpdated,
    Event,
    McpServerStatus,
    NetworkRequest,
    PlanItem,
    PlanUpdated,
    ShellOutput,
    Status,
    ToolCall,
    ToolResult,
    TurnEnded,
    Usage,
    UserPrompt,
)
from airlock.review.models import move_note
from airlock.sanitize import sanitize

PLAN_ICONS = {"pending": "○", "in_progress": "◐", "done": "●", "skipped": "⊘"}


def plan_lines(items: list[PlanItem], depth: int = 0) -> list[str]:
    lines = []
    for item in items:
        lines.append(f"{'  ' * depth}{PLAN_ICONS[item.status]} {item.title}")
        lines.extend(plan_lines(item.children, depth + 1))
    return lines


def describe_call(call: ToolCall) -> str:
    """A tool call as one short line (`$ ls -la`, `edit create /workspace/x`…)."""
    args = call.input
    if call.name == "bash":
        return "$ " + str(args.get("command") or "(restart)")
    if call.name == "str_replace_based_edit_tool":
        return f"edit {args.get('command', '?')} {args.get('path', '?')}"
    if call.name == "remember":
        return f"remember: {args.get('note', '')}"
    return f"{call.name} {args}"


class EventPrinter:
    """Prints events as they come; `--json` prints one event per line instead."""

    def __init__(self, as_json: bool = False, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        self.at_line_start = True
        self.usage: Usage | None = None

    def __call__(self, event: Event) -> None:
        if self.as_json:
            self.out.write(event.model_dump_json() + "\n")
            self.out.flush()
            return
        self.show(event)
        self.out.flush()

    def write(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.at_line_start = text.endswith("\n")

    def line(self, text: str) -> None:
        if not self.at_line_start:
            self.write("\n")
        self.write(text + "\n")

    def show(self, event: Event) -> None:
        if isinstance(event, UserPrompt):
            self.line(paint(f"› {sanitize(event.text)}", "bold", self.out))
        elif isinstance(event, AssistantText):
            self.write(sanitize(event.delta))
        elif isinstance(event, ToolCall):
            if event.name != "update_plan":
                self.line(paint(sanitize(describe_call(event)), "cyan", self.out))
        elif isinstance(event, ShellOutput):
            text = sanitize(event.text)
            self.write(paint(text, "red", self.out) if event.stream == "stderr" else text)
        elif isinstance(event, ToolResult):
            self._result(event)
        elif isinstance(event, PlanUpdated):
            self.line(paint("plan:", "bold", self.out))
            for text in plan_lines(event.items):
                self.line("  " + sanitize(text))
        elif isinstance(event, ChangesUpdated):
            self._changes(event)
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, AgentError):
            prefix = "warning" if event.retrying else "error"
            self.line(paint(f"{prefix}: {event.message}", "yellow" if event.retrying else "red"))
        elif isinstance(event, Status):
            self.line(paint(sanitize(event.message), "dim", self.out))
        elif isinstance(event, NetworkRequest):
            if event.allowed and event.closed:
                return  # the decision was printed when the request opened
            verdict = "allowed" if event.allowed else "denied"
            colour = "green" if event.allowed else "red"
            self.line(paint(f"net {verdict}: {event.method} {event.host}:{event.port}", colour))
        elif isinstance(event, McpServerStatus):
            self._mcp(event)
        elif isinstance(event, TurnEnded):
            self._turn_ended(event)

    def _result(self, event: ToolResult) -> None:
        if event.exit_code is not None:
            status = f"[exit {event.exit_code}, {event.duration or 0:.1f}s]"
            self.line(paint(status, "dim" if event.exit_code == 0 else "yellow", self.out))
        elif event.is_error:
            self.line(paint(f"✗ {sanitize(event.content)}", "yellow", self.out))

    def _mcp(self, event: McpServerStatus) -> None:
        if event.status == "failed":
            self.line(
                paint(f"mcp {event.server} failed: {sanitize(event.message)}", "red", self.out)
            )
        elif event.status == "ready":
            tools = sanitize(", ".join(event.tools)) or "no tools"
            note = f"{event.transport}, policy {event.policy}"
            self.line(paint(f"mcp {event.server} ready ({note}): {tools}", "dim", self.out))

    def _changes(self, event: ChangesUpdated) -> None:
        if not event.changes:
            self.line("no changes pending")
            return
        self.line(paint(f"{len(event.changes)} change(s) pending review:", "bold", self.out))
        for change in event.changes:
            notes = []
            if change.binary:
                notes.append("binary")
            if change.conflict:
                notes.append("conflict")
            if change.flags:
                notes.append("; ".join(change.flags))
            if moved := move_note(change.moved_from, change.moved_to):
                notes.append(sanitize(moved))
            detail = f" ({', '.join(notes)})" if notes else ""
            self.line(f"  {change.kind.value:<9} {sanitize(change.path)}{detail}")

    def _turn_ended(self, event: TurnEnded) -> None:
        if event.stop_reason == "interrupted":
            self.line(paint("interrupted", "yellow", self.out))
        if self.usage is not None:
            usage = self.usage
            self.line(
                paint(
                    f"tokens: {usage.session_input_tokens} in, {usage.session_output_tokens} out"
                    f" · ≈ ${usage.session_cost_usd:.4f}",
                    "dim",
                    self.out,
                )
            )
