"""`limactl shell` and `limactl copy`: the guest is the instance's `guest/` folder.

Commands run under bubblewrap as an unprivileged user, with guest/workspace at
/workspace, guest/home at the guest home and guest/tmp at /tmp, host system folders
read-only and nothing else of the host. Their stdio is relayed the way ssh relays a
channel, in a new session: killing limactl leaves the command running, as with Lima.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading

from . import hostnet
from .args import parse_flags
from .logs import Fatal, log
from .store import Json, inspect, inst_dir, ssh_port

PATH_DEFAULT = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SYSTEM_DIRS = ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "opt")


def running_instance(name: str) -> Json:
    if not os.path.isdir(inst_dir(name)):
        raise Fatal(
            f"instance `{name}` does not exist, run `limactl create {name}` to create a "
            "new instance"
        )
    info = inspect(name)
    if info["state"] is None:
        raise Fatal(f"instance `{name}` has no configuration")
    if info["status"] == "Stopped":
        raise Fatal(
            f"instance `{name}` is stopped, run `limactl start {name}` to start the instance"
        )
    return info


def guest_dirs(name: str, config: Json) -> dict[str, str]:
    """Guest path -> host folder standing in for it."""
    guest = os.path.join(inst_dir(name), "guest")
    mapping = {
        config["user"]["home"]: os.path.join(guest, "home"),
        "/tmp": os.path.join(guest, "tmp"),
    }
    if os.path.isdir(os.path.join(guest, "workspace")):
        mapping["/workspace"] = os.path.join(guest, "workspace")
    return mapping


def cmd_shell(args: list[str]) -> int:
    opts, rest = parse_flags(
        args,
        {"--reconnect", "--preserve-env", "--start"},
        {"--workdir", "--shell", "--sync"},
        interspersed=False,
    )
    if not rest:
        raise Fatal("requires instance name as first argument")
    name, command = rest[0], rest[1:]
    if command[:1] == ["--"]:
        command = command[1:]
    info = running_instance(name)
    config = info["state"]["config"]
    if info["errors"]:
        log("error", f"Instance `{name}` has configuration errors")
        sys.stderr.write(
            f"ssh: connect to host 127.0.0.1 port {ssh_port(name)}: Connection refused\n"
        )
        return 255
    shell = str(opts.get("--shell") or config["user"]["shell"])
    workdir = opts.get("--workdir")
    cd = f"cd {shlex.quote(str(workdir))} || exit 1" if workdir else "false"
    login = f"exec {shell} -l"
    script = (
        f"{cd} ; {login} -c {shlex.quote(shlex.join(command))}" if command else f"{cd} ; {login}"
    )
    return run_in_guest(name, config, script)


def run_in_guest(name: str, config: Json, script: str) -> int:
    """What sshd does with the remote command: the login shell runs it, in a new session."""
    user = config["user"]
    mapping = guest_dirs(name, config)
    env = {
        "HOME": user["home"],
        "USER": user["name"],
        "LOGNAME": user["name"],
        "SHELL": user["shell"],
        "PATH": PATH_DEFAULT,
        "LANG": "C.UTF-8",
    }
    bwrap = shutil.which("bwrap")
    if bwrap is None:  # no bubblewrap: run on the host, mapping only the working directory
        for guest, host in mapping.items():
            script = script.replace(shlex.quote(guest), shlex.quote(host), 1)
        return relay(["bash", "-c", script], env=env, cwd=mapping[user["home"]])
    guest = os.path.join(inst_dir(name), "guest")
    argv = [bwrap, "--new-session", "--clearenv", "--dev", "/dev", "--ro-bind", "/proc", "/proc"]
    if os.getuid() == 0:  # be an unprivileged user, as in a real guest
        argv += ["--unshare-user", "--uid", str(user["uid"]), "--gid", str(user["uid"])]
    for entry in sorted(os.listdir("/")):
        path = "/" + entry
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif entry in SYSTEM_DIRS:
            argv += ["--ro-bind", path, path]
    for identity in ("passwd", "group"):
        argv += ["--ro-bind", os.path.join(guest, identity), "/etc/" + identity]
    argv += ["--dir", "/home", "--bind", os.path.join(guest, "run"), "/run"]
    for guest_path, host in sorted(mapping.items()):
        argv += ["--bind", host, guest_path]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    if not hostnet.firewalled(config):
        return relay([*argv, *login_shell(user, script)])
    with hostnet.guest_network(name, config, script) as (network, wrapped):
        return relay([*argv, *network, *login_shell(user, wrapped)])


def login_shell(user: Json, script: str) -> list[str]:
    """sshd runs the login shell by name, so its messages read `bash: line 1: …`."""
    return ["--chdir", user["home"], os.path.basename(user["shell"]), "-c", script]


def relay(argv: list[str], env: Json | None = None, cwd: str | None = None) -> int:
    """Run `argv` with stdin/stdout/stderr relayed through pipes, as ssh relays a channel.

    The command runs in its own session: when limactl is killed, the command loses its
    connection but keeps running, as a remote command does.
    """
    sys.stdout.flush()
    child = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )

    def copy(source: int, target: int) -> None:
        try:
            while data := os.read(source, 65536):
                while data:
                    data = data[os.write(target, data) :]
        except OSError:
            pass

    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    stdin = child.stdin

    def feed() -> None:
        copy(0, stdin.fileno())
        stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    outputs = [
        threading.Thread(target=copy, args=(pipe.fileno(), fd))
        for pipe, fd in ((child.stdout, 1), (child.stderr, 2))
    ]
    for thread in outputs:
        thread.start()
    code = child.wait()
    for thread in outputs:
        thread.join()
    return code if code >= 0 else 128 - code


def cmd_copy(args: list[str]) -> int:
    opts, paths = parse_flags(args, {"-r", "--recursive", "-v", "--verbose"}, {"--backend"})
    if len(paths) < 2:
        raise Fatal(f"requires at least 2 arg(s), only received {len(paths)}")
    recursive = opts.get("-r") or opts.get("--recursive")

    def host_path(path: str) -> str | None:
        if ":" not in path:
            return path
        if path.count(":") > 1:
            raise Fatal(f"path `{path}` contains multiple colons")
        name, guest_path = path.split(":")
        config = running_instance(name)["state"]["config"]
        if not guest_path.startswith("/"):
            guest_path = config["user"]["home"] + "/" + guest_path
        for guest, host in guest_dirs(name, config).items():
            if guest_path == guest or guest_path.startswith(guest + "/"):
                return host + guest_path[len(guest) :]
        return None

    *sources, target = paths
    mapped = [host_path(p) for p in paths]
    *sources_host, target_host = mapped
    for shown, source in zip(sources, sources_host, strict=True):
        if source is None or not os.path.lexists(source):
            sys.stderr.write(f"scp: {shown.split(':')[-1]}: No such file or directory\n")
            return 1
        if target_host is None:
            sys.stderr.write(f"scp: {target.split(':')[-1]}: No such file or directory\n")
            return 1
        destination = target_host
        if os.path.isdir(target_host):
            destination = os.path.join(target_host, os.path.basename(source.rstrip("/")))
        if os.path.isdir(source):
            if not recursive:
                sys.stderr.write(f"scp: {shown.split(':')[-1]}: not a regular file\n")
                return 1
            shutil.copytree(source, destination, symlinks=False, dirs_exist_ok=True)
        else:
            shutil.copy2(source, destination)
    return 0
