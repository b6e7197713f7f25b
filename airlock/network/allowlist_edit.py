"""Editing a project's allowlist in the config file (`airlock allow` / `airlock deny`).

Entries are validated and stored in canonical form. Allowing on a folder that is not a
registered project registers it first (its allowlist has to live somewhere); denying on
one changes nothing. A running session of the project picks the change up before its
next request (see `egress`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from airlock.config import ProjectConfig, load_config
from airlock.network.allowlist import Allowlist, normalize_entry, split_host_port
from airlock.projects import add_project, find_project, real_dir, update_project


class AllowlistEdit(BaseModel):
    """What an edit did, for the command's output."""

    project: str
    registered: bool = False  # the folder became a project with this edit
    changed: list[str] = Field(default_factory=list)  # entries added, or removed
    unchanged: list[str] = Field(default_factory=list)  # already there, or never there
    still_allowed: dict[str, str] = Field(default_factory=dict)  # denied host -> reason
    allowlist: list[str] = Field(default_factory=list)  # the list after the edit


def _entries(texts: list[str]) -> list[str]:
    """Canonical entries, validated all before any is applied."""
    return list(dict.fromkeys(normalize_entry(text) for text in texts))


def allow(target: str, texts: list[str]) -> AllowlistEdit:
    """Add entries to the allowlist of the project at `target` (registering it if needed)."""
    entries = _entries(texts)
    project = find_project(load_config(), target)
    registered = project is None
    if project is None:
        project = add_project(real_dir(target))
    added = [entry for entry in entries if entry not in project.allowlist]
    _save(project, sorted({*project.allowlist, *added}))
    unchanged = [entry for entry in entries if entry not in added]
    return AllowlistEdit(
        project=project.name,
        registered=registered,
        changed=added,
        unchanged=unchanged,
        allowlist=project.allowlist,
    )


def deny(target: str, texts: list[str]) -> AllowlistEdit:
    """Remove entries from the allowlist of the project at `target`."""
    entries = _entries(texts)
    project = find_project(load_config(), target)
    if project is None:
        name = real_dir(target).name
        return AllowlistEdit(project=name, unchanged=entries)
    removed = [entry for entry in entries if entry in project.allowlist]
    if removed:
        _save(project, [entry for entry in project.allowlist if entry not in removed])
    remaining = Allowlist(project.allowlist)
    still = {entry: _still_allowed(remaining, entry) for entry in entries}
    return AllowlistEdit(
        project=project.name,
        changed=removed,
        unchanged=[entry for entry in entries if entry not in removed],
        still_allowed={entry: reason for entry, reason in still.items() if reason},
        allowlist=project.allowlist,
    )


def _still_allowed(remaining: Allowlist, entry: str) -> str:
    """Why a denied host is still reachable (another entry, e.g. a wildcard), or ''."""
    if entry.startswith("*."):
        return ""
    host, port = split_host_port(entry)
    decision = remaining.decide(host, port or 443)
    return decision.reason if decision.allowed else ""


def _save(project: ProjectConfig, entries: list[str]) -> None:
    project.allowlist = entries
    update_project(project)
