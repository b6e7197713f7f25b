"""`limactl create` and `limactl start`: the log sequence of a boot, and its failures.

FAKE_LIMACTL_START_FAIL picks a failure: `qemu-missing` and `exiting` (the host agent
quits), `timeout` (never ready: waits for `--timeout`, the VM keeps running),
`degraded` (a readiness probe fails), or `broken` (READY, then the VM dies under its
host agent: Lima lists it as Broken). FAKE_LIMACTL_START_DELAY slows every step.
"""

from __future__ import annotations

import os
import shutil
import time

from . import hostnet
from .args import go_duration, parse_flags
from .create import (
    check_name,
    create_instance,
    default_template,
    edit_instance,
    read_locator,
)
from .logs import Fatal, log, pause
from .store import ALIVE_PID, NAME_RE, Json, inspect, inst_dir, lima_home, ssh_port

BOOLS = {
    "--tty", "--mount-none", "--mount-writable", "--plain", "--video", "--rosetta",
    "--nested-virt", "--foreground", "--progress", "--list-templates", "--list-drivers",
    "--mount-inotify",
}  # fmt: skip
VALUES = {
    "--name", "--cpus", "--memory", "--disk", "--vm-type", "--timeout", "--arch", "--containerd",
    "--mount-type", "--ssh-port", "--shell", "--image-variant",
}  # fmt: skip
MULTI = {"--set", "--network", "--mount", "--mount-only", "--param", "--dns", "--port-forward"}


def cmd_create(args: list[str], start: bool) -> int:
    """`create`/`start [NAME|FILE|template:NAME|-]`: a template always means a new instance."""
    opts, positional = parse_flags(args, BOOLS, VALUES, MULTI)
    if len(positional) > 1:
        verb = "start" if start else "create"
        raise Fatal(
            f"`limactl {verb}` accepts at most 1 arg(s), received {len(positional)}.\n"
            f"See `limactl {verb} --help`."
        )
    locator = positional[0] if positional else "default"
    if NAME_RE.match(locator) and not locator.endswith((".yaml", ".yml")):
        if opts.get("--name") and opts["--name"] != locator:
            raise Fatal(
                f"instance name `{locator}` and CLI flag --name=`{opts['--name']}` "
                "cannot be specified together"
            )
        name = locator
        if os.path.isdir(inst_dir(name)):
            if not start:
                raise Fatal(f"instance `{name}` already exists")
            return start_existing(name, opts)
        if start:
            log(
                "warning",
                f"This form is deprecated. Use `limactl create --name={name} "
                "template:default` instead",
            )
        text = default_template()
    else:
        text, name = read_locator(locator, opts)
        name = str(opts.get("--name") or name)
    check_name(name)
    if os.path.isdir(inst_dir(name)):
        suffix = f" (`{inst_dir(name)}`)" if start else ""
        raise Fatal(f"instance `{name}` already exists{suffix}")
    log("info", "Terminal is not available, proceeding without opening an editor")
    if not start:
        create_instance(name, text, opts)
        log("info", f"Run `limactl start {name}` to start the instance.")
        return 0
    log("info", f"Starting the instance `{name}` with internal VM driver `qemu`")
    state = create_instance(name, text, opts)
    return boot(name, state["config"], opts)


def start_existing(name: str, opts: Json) -> int:
    """`start NAME`: nothing to do when running; a Broken instance cannot start."""
    log("info", f"Using the existing instance `{name}`")
    info = inspect(name)
    if info["status"] == "Running":
        log(
            "info",
            f"The instance `{name}` is already running. Run `limactl shell {name}` to "
            "open the shell.",
        )
        return 0
    if info["errors"]:
        raise Fatal("errors inspecting instance: [" + " ".join(info["errors"]) + "]")
    state = edit_instance(name, opts) if opts.get("--set") or opts.get("--param") else info["state"]
    log("info", f"Starting the instance `{name}` with internal VM driver `qemu`")
    return boot(name, state["config"], opts)


def boot(name: str, config: Json, opts: Json) -> int:
    """The host agent's side: QEMU, the requirements, READY (or a failure on request)."""
    directory = inst_dir(name)
    failure = os.environ.get("FAKE_LIMACTL_START_FAIL", "")
    timeout = go_duration(str(opts.get("--timeout", "10m")))
    exiting = (
        "exiting, status={Running:false Degraded:false Exiting:true Errors:[] "
        "SSHLocalPort:0 CloudInitProgress:<nil> PortForward:<nil> Vsock:<nil>} "
        f"(hint: see `{directory}/ha.stderr.log`)"
    )
    log("info", f"[hostagent] hostagent socket created at {directory}/ha.sock")
    if failure == "qemu-missing":
        log(
            "error",
            f'[hostagent] exec: "qemu-system-{config["arch"]}": executable file not found in $PATH',
            **{"fields.level": "fatal"},
        )
        raise Fatal(exiting)
    log(
        "info",
        f"[hostagent] Starting QEMU (hint: to watch the boot progress, see "
        f"`{directory}/serial*.log`)",
    )
    port = ssh_port(name)
    log("info", f"SSH Local Port: {port}")
    plain = config.get("plain")
    if plain:
        log(
            "info",
            "[hostagent] Running in plain mode. Mounts, dynamic port forwarding, "
            "containerd, etc. will be ignored. Guest agent will not be running.",
        )
    essential = ["ssh", "Explicitly start ssh ControlMaster"]
    if not plain:
        essential.insert(1, "user session is ready for ssh")
    if failure == "exiting":
        log(
            "info",
            f"[hostagent] Waiting for the essential requirement 1 of {len(essential)}: `ssh`",
        )
        log("info", "[hostagent] Driver stopped due to error: `exit status 1`")
        log("info", "[hostagent] Shutting down the host agent")
        raise Fatal(exiting)
    for pid_file in ("ha.pid", "qemu.pid"):
        with open(os.path.join(directory, pid_file), "w") as handle:
            handle.write(ALIVE_PID)
    write_ssh_config(name, config, port)
    if failure == "timeout":
        log(
            "info",
            f"[hostagent] Waiting for the essential requirement 1 of {len(essential)}: `ssh`",
        )
        time.sleep(timeout)
        raise Fatal("did not receive an event with the `running` status")
    requirements("essential", essential)
    provision_guest(name, config)
    optional = [] if plain else ["systemd must be available", "containerd binaries to be installed"]
    optional += [probe.get("description", "") for probe in config.get("probes") or []]
    if failure == "degraded" and optional:
        log(
            "info",
            f"[hostagent] Waiting for the optional requirement 1 of {len(optional)}: "
            f"`{optional[0]}`",
        )
        log(
            "warning",
            "DEGRADED. The VM seems running, but file sharing and port forwarding may "
            f"not work. (hint: see `{directory}/ha.stderr.log`)",
        )
        raise Fatal(
            "degraded, status={Running:true Degraded:true Exiting:false Errors:[] "
            f"SSHLocalPort:{port} CloudInitProgress:<nil> PortForward:<nil> Vsock:<nil>}}"
        )
    requirements("optional", optional)
    requirements("final", ["boot scripts must have finished"])
    if plain:
        log("info", f"READY. Run `ssh -F `{directory}/ssh.config` lima-{name}` to open the shell.")
    else:
        shell = "lima" if name == "default" else f"limactl shell {name}"
        log("info", f"READY. Run `{shell}` to open the shell.")
    if failure == "broken":  # the guest powers off; its host agent lives on
        os.unlink(os.path.join(directory, "qemu.pid"))
    return 0


def requirements(kind: str, names: list[str]) -> None:
    """The Waiting / satisfied pair of each requirement, in order."""
    for index, description in enumerate(names, 1):
        log(
            "info",
            f"[hostagent] Waiting for the {kind} requirement {index} of {len(names)}: "
            f"`{description}`",
        )
        pause()
        log("info", f"[hostagent] The {kind} requirement {index} of {len(names)} is satisfied")


def provision_guest(name: str, config: Json) -> None:
    """What our template's system provision scripts do: the egress firewall (its marker,
    when the port param is valid; see `hostnet`), /workspace for the user (and its
    marker); /tmp and /run are fresh on every boot."""
    guest = os.path.join(inst_dir(name), "guest")
    for folder in ("tmp", "run"):
        shutil.rmtree(os.path.join(guest, folder), ignore_errors=True)
        os.makedirs(os.path.join(guest, folder))
    markers = []
    if hostnet.firewalled(config) and hostnet.proxy_port(config) is not None:
        markers.append("airlock-fw-ok")
    scripts = " ".join(p.get("script", "") for p in config.get("provision") or [])
    if "/workspace" in scripts:
        os.makedirs(os.path.join(guest, "workspace"), exist_ok=True)
        markers.append("airlock-provisioned")
    for marker in markers:
        open(os.path.join(guest, "run", marker), "w").close()


def write_ssh_config(name: str, config: Json, port: int) -> None:
    """`ssh.config` as Lima writes it (option order approximate)."""
    directory = inst_dir(name)
    text = (
        "# This SSH config file can be passed to 'ssh -F'.\n"
        "# This file is created by Lima, but not used by Lima itself currently.\n"
        "# Modifications to this file will be lost on restarting the Lima instance.\n"
        f"Host lima-{name}\n"
        f'  IdentityFile "{lima_home()}/_config/user"\n'
        f"  User {config['user']['name']}\n"
        f'  ControlPath "{directory}/ssh.sock"\n'
        "  Hostname 127.0.0.1\n"
        f"  Port {port}\n"
    )
    with open(os.path.join(directory, "ssh.config"), "w") as handle:
        handle.write(text)
