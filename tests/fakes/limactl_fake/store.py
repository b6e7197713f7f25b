"""Instances on disk, as Lima keeps them: one folder per instance under LIMA_HOME.

The status is derived from the pid files as Lima does (host agent and VM alive:
Running; neither: Stopped; one of them: Broken). The fake writes a process that is
always alive (pid 1) into them; a `broken` start leaves only ha.pid.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

Json = dict[str, Any]  # a decoded JSON object
VERSION = "2.2.0"
NAME_RE = re.compile(r"^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$")
ALIVE_PID = "1"  # pid files hold a process that is always alive


def lima_home() -> str:
    """$LIMA_HOME (default ~/.lima), symlinks resolved."""
    home = os.environ.get("LIMA_HOME") or os.path.join(os.path.expanduser("~"), ".lima")
    return os.path.realpath(home)


def inst_dir(name: str) -> str:
    return os.path.join(lima_home(), name)


def host_arch() -> str:
    machine = os.uname().machine
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)


GUEST_UID = 1000  # the guest user when the host user is root (Lima itself refuses root)


def user_info() -> tuple[str, int, str]:
    """(name, uid, comment) of the guest user: the host user, as in Lima."""
    if os.getuid() == 0:
        return "lima", GUEST_UID, "Lima"
    import pwd

    entry = pwd.getpwuid(os.getuid())
    return entry.pw_name, entry.pw_uid, entry.pw_gecos.split(",")[0]


def write_identity(guest: str, config: Json) -> None:
    """passwd/group files naming the guest user, bound over the guest's /etc ones."""
    user = config["user"]
    for name, line in (
        (
            "passwd",
            f"{user['name']}:x:{user['uid']}:{user['uid']}:{user['comment']}:"
            f"{user['home']}:{user['shell']}",
        ),
        ("group", f"{user['name']}:x:{user['uid']}:"),
    ):
        with open(f"/etc/{name}") as handle:
            lines = [
                entry
                for entry in handle.read().splitlines()
                if entry.split(":")[2:3] != [str(user["uid"])]
            ]
        with open(os.path.join(guest, name), "w") as handle:
            handle.write("\n".join([*lines, line]) + "\n")


def pid_alive(path: str) -> bool:
    """Whether the pid file names a live process (a stale file is removed, as Lima does)."""
    try:
        with open(path) as handle:
            pid = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        os.unlink(path)  # Lima removes pid files of dead processes
        return False
    except PermissionError:
        pass
    return True


def load_state(name: str) -> Json | None:
    """The filled config and version the fake keeps next to lima.yaml (None: not an instance)."""
    path = os.path.join(inst_dir(name), "fake-state.json")
    try:
        with open(path) as handle:
            state: Json = json.load(handle)
            return state
    except FileNotFoundError:
        return None


def save_state(name: str, state: Json) -> None:
    with open(os.path.join(inst_dir(name), "fake-state.json"), "w") as handle:
        json.dump(state, handle)


def inspect(name: str) -> Json:
    """What `store.Inspect` finds: status, errors and the JSON fields of `list`."""
    directory = inst_dir(name)
    state = load_state(name)
    if state is None or not os.path.exists(os.path.join(directory, "lima.yaml")):
        return {
            "name": name,
            "status": "Broken",
            "dir": directory,
            "state": None,
            "errors": [f"open {directory}/lima.yaml: no such file or directory"],
        }
    ha = pid_alive(os.path.join(directory, "ha.pid"))
    vm = pid_alive(os.path.join(directory, "qemu.pid"))
    errors = []
    if ha and vm:
        status = "Running"
    elif not ha and not vm:
        status = "Stopped"
    else:
        status = "Broken"
        errors = [
            "host agent is running but driver is not"
            if ha
            else "qemu driver is running but host agent is not"
        ]
    return {
        "name": name,
        "status": status,
        "dir": directory,
        "state": state,
        "errors": errors,
        "ha": ha,
        "vm": vm,
    }


def instance_names() -> list[str]:
    """Instance folders, sorted by name (`_config` and dot folders are not instances)."""
    try:
        entries = sorted(os.listdir(lima_home()))
    except FileNotFoundError:
        return []
    return [n for n in entries if not n.startswith(("_", ".")) and os.path.isdir(inst_dir(n))]


def ssh_port(name: str) -> int:
    """A stable made-up port per instance (nothing listens on it)."""
    import zlib

    return 20000 + zlib.crc32(name.encode()) % 40000
