"""Test helpers around the scripted Messages API server (real HTTP + SSE on loopback)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airlock.demo.messages_server import MessagesServer, Reply, Script, script_of


class ScriptedApi:
    """Starts servers for a test and points the SDK at them through the environment."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.servers: list[MessagesServer] = []

    def serve(self, script: list[Reply] | Script) -> MessagesServer:
        server = MessagesServer(script if callable(script) else script_of(script)).start()
        self.servers.append(server)
        self.monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        self.monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-not-real")
        return server

    def close(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def scripted_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedApi]:
    api = ScriptedApi(monkeypatch)
    yield api
    api.close()
