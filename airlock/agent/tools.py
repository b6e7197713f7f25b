"""Tool definitions sent to the model, and the validated shape of each tool's input."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from airlock.events import PlanItem

BASH = "bash"
EDITOR = "str_replace_based_edit_tool"
UPDATE_PLAN = "update_plan"
REMEMBER = "remember"

ToolTypes = Literal["anthropic", "json-schema"]


class ToolInput(BaseModel):
    model_config = ConfigDict(extra="ignore")


class BashInput(ToolInput):
    command: str | None = None
    restart: bool = False


class EditorInput(ToolInput):
    command: Literal["view", "create", "str_replace", "insert"]
    path: str
    file_text: str | None = None
    old_str: str | None = None
    new_str: str | None = None
    insert_line: int | None = None
    insert_text: str | None = None  # some versions name the inserted text so
    view_range: list[int] | None = None


class UpdatePlanInput(ToolInput):
    items: list[PlanItem]


class RememberInput(ToolInput):
    note: str = Field(min_length=1, max_length=2000)


BASH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "The shell command to run."},
        "restart": {"type": "boolean", "description": "Restart the shell."},
    },
}

EDITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert"]},
        "path": {"type": "string", "description": "Absolute path under /workspace."},
        "file_text": {"type": "string"},
        "old_str": {"type": "string"},
        "new_str": {"type": "string"},
        "insert_line": {"type": "integer"},
        "view_range": {"type": "array", "items": {"type": "integer"}},
    },
    "required": ["command", "path"],
}

PLAN_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "in_progress", "done", "skipped"]},
        "children": {"type": "array", "items": {"$ref": "#/$defs/item"}},
    },
    "required": ["title", "status"],
}

CUSTOM_TOOLS: list[dict[str, Any]] = [
    {
        "name": UPDATE_PLAN,
        "description": (
            "Show the user your plan as a tree of steps. Send the whole plan each time "
            "(it replaces the previous one); mark one step in_progress while you work on it."
        ),
        "input_schema": {
            "type": "object",
            "$defs": {"item": PLAN_ITEM_SCHEMA},
            "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/item"}}},
            "required": ["items"],
        },
    },
    {
        "name": REMEMBER,
        "description": (
            "Save a short note to the project's memory, which is given to you in every "
            "future session of this project. Use it for durable facts and preferences."
        ),
        "input_schema": {
            "type": "object",
            "properties": {"note": {"type": "string"}},
            "required": ["note"],
        },
    },
]


def builtin_tools(tool_types: ToolTypes) -> list[dict[str, Any]]:
    """bash and the text editor: Anthropic's own tool types, or plain JSON-schema tools."""
    if tool_types == "anthropic":
        return [
            {"type": "bash_20250124", "name": BASH},
            {"type": "text_editor_20250728", "name": EDITOR},
        ]
    return [
        {
            "name": BASH,
            "description": "Run a bash command in /workspace (the project's sandbox copy).",
            "input_schema": BASH_SCHEMA,
        },
        {
            "name": EDITOR,
            "description": (
                "View, create and edit files under /workspace. str_replace needs old_str to "
                "occur exactly once; insert puts new_str after line insert_line (0: at the top)."
            ),
            "input_schema": EDITOR_SCHEMA,
        },
    ]


def tool_definitions(
    tool_types: ToolTypes, extra: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every tool for a request; the last one carries the prompt-cache breakpoint."""
    tools = [*builtin_tools(tool_types), *CUSTOM_TOOLS, *(extra or [])]
    tools = [dict(tool) for tool in tools]
    tools[-1]["cache_control"] = {"type": "ephemeral"}
    return tools
