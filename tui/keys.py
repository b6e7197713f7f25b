"""The actions a user can take where they are, and the keys for them (as remapped now)."""

from __future__ import annotations

from typing import Any

from textual.binding import ActiveBinding
from textual.screen import Screen


def user_actions(screen: Screen[Any]) -> list[ActiveBinding]:
    """Active bindings with a description, one per action (Textual's own cursor and editing
    keys, which have no id and stay out of the footer, are left out)."""
    actions: list[ActiveBinding] = []
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        wanted = binding.description and not binding.system and (binding.id or binding.show)
        if wanted and binding.action not in seen:
            seen.add(binding.action)
            actions.append(active)
    return actions


def key_for(screen: Screen[Any], action: str) -> str:
    """The displayed key bound to `action` (app or screen), or the action's name."""
    for active in screen.active_bindings.values():
        if active.binding.action in (action, f"app.{action}"):
            return screen.app.get_key_display(active.binding)
    return action
