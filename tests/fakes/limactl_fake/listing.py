"""`limactl list`: JSON Lines, the tabwriter table, `-q`, and `--format` Go templates."""

from __future__ import annotations

import json
import os
import re
import sys

from .args import parse_flags
from .logs import Fatal, log
from .store import ALIVE_PID, Json, host_arch, inspect, instance_names, lima_home, ssh_port


def size_bytes(text: str) -> int:
    match = re.match(r"^(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?$", str(text))
    if not match:
        return 0
    scale = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    return int(float(match[1]) * scale[(match[2] or "B")[0]])


def bytes_size(size: int) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    return f"{value:.4g}{units[unit]}"


def json_record(info: Json) -> Json:
    """One `list --json` object, keys in Lima's order, empty values left out."""
    name, directory, state = info["name"], info["dir"], info["state"]
    record: dict[str, object] = {"name": name}
    config = state["config"] if state else None
    record["hostname"] = ("lima-" + re.sub(r"[._]", "-", name)) if config else ""
    record["status"] = info["status"]
    record["dir"] = directory
    record["vmType"] = config["vmType"] if config else ""
    record["arch"] = config["arch"] if config else ""
    if config:
        record["cpus"] = config["cpus"]
        record["memory"] = size_bytes(config["memory"])
        record["disk"] = size_bytes(config["disk"])
        port = ssh_port(name) if os.path.exists(os.path.join(directory, "ssh.config")) else 0
        if port:
            record["sshLocalPort"] = port
        record["sshConfigFile"] = os.path.join(directory, "ssh.config")
        if info.get("ha"):
            record["hostAgentPID"] = int(ALIVE_PID)
        if info.get("vm"):
            record["driverPID"] = int(ALIVE_PID)
    if info["errors"]:
        record["errors"] = (
            []
            if config
            else [{"Op": "open", "Path": os.path.join(directory, "lima.yaml"), "Err": 2}]
        )
    if config:
        record["config"] = config
        record["sshAddress"] = "127.0.0.1"
    record["protected"] = os.path.exists(os.path.join(directory, "protected"))
    record["limaVersion"] = state["limaVersion"] if state else ""
    record["HostOS"] = "linux"
    record["HostArch"] = host_arch()
    record["LimaHome"] = lima_home()
    record["IdentityFile"] = os.path.join(lima_home(), "_config", "user")
    return record


TEMPLATE_FIELDS = {
    "Name": "name",
    "Hostname": "hostname",
    "Status": "status",
    "Dir": "dir",
    "VMType": "vmType",
    "Arch": "arch",
    "CPUs": "cpus",
    "Memory": "memory",
    "Disk": "disk",
    "SSHLocalPort": "sshLocalPort",
    "SSHConfigFile": "sshConfigFile",
    "SSHAddress": "sshAddress",
    "Protected": "protected",
    "LimaVersion": "limaVersion",
    "HostOS": "HostOS",
    "HostArch": "HostArch",
    "LimaHome": "LimaHome",
    "IdentityFile": "IdentityFile",
}


def cmd_list(args: list[str]) -> int:
    opts, names = parse_flags(
        args, {"--json", "-q", "--quiet", "--all-fields", "--list-fields"}, {"--format", "-f"}
    )
    fmt = opts.get("--format", opts.get("-f", "table"))
    if opts.get("--json"):
        if "--format" in opts or "-f" in opts:
            raise Fatal("option --json conflicts with option --format")
        fmt = "json"
    quiet = opts.get("-q") or opts.get("--quiet")
    if quiet and fmt != "table":
        raise Fatal("option --quiet can only be used with '--format table'")
    existing = instance_names()
    if not names and not existing:
        log("warning", "No instance found. Run `limactl create` to create an instance.")
        return 0
    wanted = names or existing
    unmatched = [n for n in wanted if n not in existing]
    for name in unmatched:
        log("warning", f"No instance matching {name} found.")
    matched = [n for n in wanted if n in existing]
    if quiet:
        for name in matched:
            print(name)
    else:
        infos = [inspect(n) for n in matched]
        for info in infos:
            if info["state"] is None:
                log(
                    "warning",
                    f"The directory `{lima_home()}` does not look like a valid Lima "
                    f"directory: stat {info['dir']}/lima.yaml: no such file or directory",
                )
        for info in infos:
            if info["errors"]:
                log(
                    "warning",
                    f"instance `{info['name']}` has errors",
                    errors="[" + " ".join(info["errors"]) + "]",
                )
        records = [json_record(info) for info in infos]
        if fmt == "json":
            for record in records:
                print(json.dumps(record, separators=(",", ":")))
        elif fmt == "table":
            print_table(records)
        else:
            for record in records:
                print(render_format(fmt, record))
    sys.stdout.flush()
    if unmatched:
        raise Fatal("unmatched instances")
    return 0


def render_format(fmt: str, record: Json) -> str:
    def field(match: re.Match[str]) -> str:
        key = TEMPLATE_FIELDS.get(match[1])
        if key is None:
            raise Fatal(
                f'template: format:1:{match.start() + 2}: executing "format" at '
                f"<.{match[1]}>: can't evaluate field {match[1]} in type store.FormatData"
            )
        value = record.get(key, 0 if key in ("cpus", "memory", "disk", "sshLocalPort") else "")
        return str(value).lower() if isinstance(value, bool) else str(value)

    return re.sub(r"\{\{\s*\.(\w+)\s*\}\}", field, fmt)


def print_table(records: list[Json]) -> None:
    """text/tabwriter output: every column, since stdout is not a terminal."""
    home = os.path.expanduser("~")
    rows = [["NAME", "STATUS", "SSH", "VMTYPE", "ARCH", "CPUS", "MEMORY", "DISK", "DIR"]]
    for r in records:
        directory = r["dir"]
        if directory.startswith(home + "/"):
            directory = "~" + directory[len(home) :]
        ssh = f"{r.get('sshAddress', '')}:{r.get('sshLocalPort', 0)}"
        rows.append(
            [
                r["name"],
                r["status"],
                ssh,
                r["vmType"],
                r["arch"],
                str(r.get("cpus", 0)),
                bytes_size(r.get("memory", 0)),
                bytes_size(r.get("disk", 0)),
                directory,
            ]
        )
    # text/tabwriter: minwidth 4 (padding included), padding 4.
    widths = [max(4, max(len(row[i]) for row in rows) + 4) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths[:-1], strict=True)]
        print("".join(cells) + row[-1])
