"""What the model sees of MCP tools: names within the API's rules, results as text."""

from __future__ import annotations

import re

import mcp_types

from airlock.mcp.names import assign_names
from airlock.mcp.results import MAX_CHARS, result_text

API_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_tool_names_fit_the_api_and_map_back_to_the_real_ones() -> None:
    tools = ["read_file", "read.file", "search/issues", "é", "x" * 80, "x" * 81]
    names = assign_names("github", tools)
    assert sorted(names.values()) == sorted(tools)
    assert all(API_NAME.match(name) for name in names)
    assert names["mcp__github__read_file"] == "read_file"  # a valid name is kept as it is
    assert names["mcp__github__search_issues"] == "search/issues"
    assert assign_names("github", reversed(tools)) == names  # order does not matter


def test_long_server_names_still_leave_room_for_the_tool() -> None:
    names = assign_names("s" * 40, ["browser_take_screenshot", "browser_take_snapshot"])
    assert len(names) == 2 and all(API_NAME.match(name) for name in names)
    assert all(name.startswith("mcp__" + "s" * 40 + "__browser_") for name in names)


def result(*content: object, **fields: object) -> mcp_types.CallToolResult:
    return mcp_types.CallToolResult.model_validate({"content": list(content), **fields})


def test_results_become_text_with_notes_for_what_is_not() -> None:
    link = {"type": "resource_link", "name": "report", "uri": "file:///workspace/r.pdf"}
    audio = {"type": "audio", "data": "A" * 4096, "mimeType": "audio/wav"}
    embedded = {
        "type": "resource",
        "resource": {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "hello"},
    }
    assert result_text(result(link, audio, embedded)) == (
        "[resource link: report <file:///workspace/r.pdf>]\n"
        "[audio: audio/wav, 3 KB]\n"
        "[resource: file:///a.txt, text/plain]\nhello",
        False,
    )
    assert result_text(result(structuredContent={"rows": 2})) == ('{\n  "rows": 2\n}', False)
    assert result_text(result()) == ("(no output)", False)
    assert result_text(result(isError=True)) == (
        "(the tool reported an error without details)",
        True,
    )
    long, _ = result_text(result({"type": "text", "text": "x" * (MAX_CHARS + 10)}))
    assert long.endswith("\n[… 10 more characters cut]")
