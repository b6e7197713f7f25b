"""An MCP tool result as a `tool_result` for the model: text, with notes for what is not."""

from __future__ import annotations

import json

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    ImageContent,
    ResourceLink,
    TextContent,
)

MAX_CHARS = 100_000  # what one result may put in the conversation


def result_text(result: CallToolResult) -> tuple[str, bool]:
    """(content, is_error): text blocks joined; structured content as JSON when there is no
    text; images, audio and binary resources as a short note; long output cut."""
    parts = [_block_text(block) for block in result.content]
    has_text = any(isinstance(block, TextContent) for block in result.content)
    if result.structured_content is not None and not has_text:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=2))
    text = "\n".join(part for part in parts if part)
    if not text:
        text = "(the tool reported an error without details)" if result.is_error else "(no output)"
    if len(text) > MAX_CHARS:
        cut = len(text) - MAX_CHARS
        text = f"{text[:MAX_CHARS]}\n[… {cut} more characters cut]"
    return text, result.is_error


def _block_text(block: ContentBlock) -> str:
    if isinstance(block, TextContent):
        return block.text
    if isinstance(block, ImageContent | AudioContent):
        return f"[{block.type}: {block.mime_type}, {_size(block.data)}]"
    if isinstance(block, ResourceLink):
        return f"[resource link: {block.name} <{block.uri}>]"
    resource = block.resource  # an embedded resource
    mime = resource.mime_type or "unknown type"
    if isinstance(resource, BlobResourceContents):
        return f"[resource: {resource.uri}, {mime}, {_size(resource.blob)}]"
    return f"[resource: {resource.uri}, {mime}]\n{resource.text}"


def _size(base64_data: str) -> str:
    """The decoded size of base64 data, for a human."""
    size = len(base64_data) * 3 // 4 - base64_data[-2:].count("=")
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} B"
