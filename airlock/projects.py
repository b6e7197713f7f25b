"""The project registry: which folders Airlock knows, by name, and where their state lives."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from airlock.config import AirlockConfig, ProjectConfig, load_config, save_config
from airlock.errors import ProjectError
from airlock.paths import airlock_paths


def slug(text: str) -> str:
    """A project name made from a folder name: letters, digits, `.`, `_`, `-`."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "project"
    return cleaned[:63]


def project_state_dir(project: ProjectConfig) -> Path:
    """Sessions, baselines, journal and memory of a project (keyed by its real path)."""
    digest = hashlib.sha256(str(project.path).encode()).hexdigest()[:12]
    return airlock_paths().projects_dir / f"{slug(project.name)}-{digest}"


def real_dir(path: Path | str) -> Path:
    """The absolute, symlink-free path of an existing directory, or a clear error."""
    candidate = Path(path).expanduser()
    if not candidate.exists():
        raise ProjectError(f"no such folder: {candidate}")
    if not candidate.is_dir():
        raise ProjectError(f"not a folder: {candidate}")
    return candidate.resolve()


def project_dir(path: Path | str) -> Path:
    """`real_dir`, refusing a folder that holds Airlock's own config, data or state: the
    agent would see (and a sync could change) other projects' journals and sessions."""
    folder = real_dir(path)
    paths = airlock_paths()
    for own in (paths.config_dir, paths.data_dir, paths.state_dir):
        own = own.resolve()
        if own == folder or folder in own.parents:
            raise ProjectError(
                f"{folder} holds Airlock's own files ({own})",
                hint="pick a folder inside it, or move Airlock's (XDG_*_HOME) elsewhere",
            )
    return folder


def find_project(config: AirlockConfig, name_or_path: str | Path) -> ProjectConfig | None:
    """A registered project by name, or by the folder it points at."""
    for project in config.projects:
        if project.name == str(name_or_path):
            return project
    candidate = Path(name_or_path).expanduser()
    if candidate.exists():
        resolved = candidate.resolve()
        for project in config.projects:
            if project.path == resolved:
                return project
    return None


def registered_project(target: str | Path) -> ProjectConfig:
    """The registered project named `target` or at folder `target` (config is only
    written for those)."""
    project = find_project(load_config(), target)
    if project is None:
        raise ProjectError(
            f"{target} is not a registered project", hint="add it with `airlock project add DIR`"
        )
    return project


def resolve_project(config: AirlockConfig, name_or_dir: str | Path) -> ProjectConfig:
    """The project for a CLI `DIR` argument: registered, or an ad-hoc one with defaults."""
    found = find_project(config, name_or_dir)
    if found is not None:
        here = Path(name_or_dir).expanduser()
        if found.name == str(name_or_dir) and here.is_dir() and here.resolve() != found.path:
            raise ProjectError(
                f"{name_or_dir!r} is both the project at {found.path} and a folder here",
                hint=f"say which: ./{name_or_dir} for the folder, or {found.path}",
            )
        if not found.path.is_dir():
            raise ProjectError(
                f"the folder of project {found.name!r} is gone: {found.path}",
                hint=f"put it back, or forget the project: `airlock project remove {found.name}`",
            )
        return found
    path = project_dir(name_or_dir)
    return ProjectConfig(name=slug(path.name), path=path)


def add_project(path: Path | str, name: str | None = None) -> ProjectConfig:
    """Register a folder; names and folders are unique."""
    config = load_config()
    resolved = project_dir(path)
    existing = find_project(config, resolved)
    if existing is not None and existing.path == resolved:
        raise ProjectError(f"{resolved} is already the project {existing.name!r}")
    wanted = name or slug(resolved.name)
    if name is None:
        taken = {project.name for project in config.projects}
        base, counter = wanted, 2
        while wanted in taken:
            wanted, counter = f"{base}-{counter}", counter + 1
    elif any(project.name == wanted for project in config.projects):
        raise ProjectError(f"a project named {wanted!r} already exists")
    try:
        project = ProjectConfig(name=wanted, path=resolved)
    except ValueError as exc:
        raise ProjectError(
            f"invalid project name {wanted!r}: use letters, digits, '.', '_' or '-'"
        ) from exc
    config.projects.append(project)
    save_config(config)
    return project


def remove_project(name: str) -> ProjectConfig:
    """Forget a project (its folder and state stay on disk)."""
    config = load_config()
    for index, project in enumerate(config.projects):
        if project.name == name:
            del config.projects[index]
            save_config(config)
            return project
    raise ProjectError(f"no project named {name!r}", hint="see `airlock project list`")


def update_project(project: ProjectConfig) -> None:
    """Replace a registered project's entry (matched by name) and save."""
    config = load_config()
    for index, existing in enumerate(config.projects):
        if existing.name == project.name:
            config.projects[index] = project
            save_config(config)
            return
    raise ProjectError(
        f"no project named {project.name!r}", hint="add it with `airlock project add`"
    )
