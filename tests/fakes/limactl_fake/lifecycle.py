"""`limactl stop [-f]` and `limactl delete [-f]`."""

from __future__ import annotations

import os
import shutil

from .args import parse_flags
from .logs import Fatal, log
from .store import ALIVE_PID, Json, inspect, inst_dir


def require_config(name: str) -> Json:
    info = inspect(name)
    if info["state"] is None:
        raise Fatal(f"open {inst_dir(name)}/lima.yaml: no such file or directory")
    return info


def force_stop(name: str, info: Json) -> None:
    directory = inst_dir(name)
    for label, key in (("qemu driver", "vm"), ("host agent", "ha")):
        if info.get(key):
            log("info", f"Sending SIGKILL to the {label} process {ALIVE_PID}")
        else:
            log("info", f"The {label} process seems already stopped")
    log("info", f"Removing *.pid *.sock *.tmp under `{directory}`")
    for entry in sorted(os.listdir(directory)):
        if entry.endswith((".pid", ".sock", ".tmp")):
            log("info", f"Removing `{directory}/{entry}`")
            os.unlink(os.path.join(directory, entry))


def cmd_stop(args: list[str]) -> int:
    opts, positional = parse_flags(args, {"-f", "--force"}, set())
    if len(positional) > 1:
        raise Fatal(f"`limactl stop` accepts at most 1 arg(s), received {len(positional)}.")
    name = positional[0] if positional else "default"
    info = require_config(name)
    if opts.get("-f") or opts.get("--force"):
        force_stop(name, info)
        return 0
    if info["status"] != "Running":
        raise Fatal(
            f"expected status `Running`, got `{info['status']}` (maybe use `limactl stop -f`?)"
        )
    directory = inst_dir(name)
    log("info", f"Sending SIGINT to hostagent process {ALIVE_PID}")
    log("info", "Waiting for the host agent and the driver processes to shut down")
    for line in (
        "Received SIGINT, shutting down the host agent",
        "Shutting down the host agent",
        "Shutting down QEMU with the power button",
        "Sending QMP system_powerdown command",
        "QEMU has exited",
    ):
        log("info", f"[hostagent] {line}")
    for entry in os.listdir(directory):
        if entry.endswith((".pid", ".sock")):
            os.unlink(os.path.join(directory, entry))
    log("info", "Waiting for the instance to shut down")
    log("info", f"The instance {name} has shut down")
    return 0


def cmd_delete(args: list[str]) -> int:
    opts, names = parse_flags(args, {"-f", "--force"}, set())
    if not names:
        raise Fatal("`limactl delete` requires at least 1 arg(s), only received 0")
    force = opts.get("-f") or opts.get("--force")
    for name in names:
        if not os.path.isdir(inst_dir(name)):
            log("warning", f"Ignoring non-existent instance `{name}`")
            continue
        info = require_config(name)
        if not force and info["status"] != "Stopped":
            raise Fatal(
                f"failed to delete instance `{name}`: expected status `Stopped`, "
                f"got `{info['status']}`"
            )
        if os.path.exists(os.path.join(inst_dir(name), "protected")):
            raise Fatal(
                f"failed to delete instance `{name}`: instance is protected to prohibit "
                "accidental removal (Hint: use `limactl unprotect`)"
            )
        force_stop(name, info)
        shutil.rmtree(inst_dir(name))
        log("info", f"Deleted `{name}` (`{inst_dir(name)}`)")
    return 0
