"""The engine's error hierarchy: each error carries the one line a user needs."""

from __future__ import annotations


class AirlockError(Exception):
    """Base of every error the CLI and TUI turn into one clear line."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(AirlockError):
    """The config file (or a value in it) is invalid."""

    exit_code = 2


class ProjectError(AirlockError):
    """A project could not be found, added or changed."""


class UsageError(AirlockError):
    """The command line asks for something that cannot be done."""

    exit_code = 2
