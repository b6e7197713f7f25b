"""bubblewrap command lines: what the sandbox sees, as a pure function of a spec.

The namespace has its own user (uid 1000, even when Airlock runs as root), pid,
ipc, uts, cgroup and network namespaces (only `lo`, so no network at all), a
read-only system, a tmpfs `/tmp`, the staging copy at `/workspace`, a writable
home, and an environment built from scratch: nothing of the host's leaks in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from airlock.sandbox.base import WORKSPACE

SANDBOX_UID = 1000
SANDBOX_GID = 1000
SANDBOX_USER = "agent"
SANDBOX_HOME = "/home/agent"
HOSTNAME = "airlock"

# Top-level system folders: symlinks into /usr on usrmerged hosts, real folders elsewhere.
SYSTEM_FOLDERS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")

# The host /etc files tools need (never /etc/ssl/private, shadow or the host's passwd).
HOST_ETC = (
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "nsswitch.conf",
    "localtime",
    "timezone",
    "ssl/certs",
    "ssl/openssl.cnf",
    "pki/tls/certs",
    "ca-certificates.conf",
    "resolv.conf",
    "protocols",
    "services",
    "mime.types",
    "gitconfig",
    "inputrc",
)

# Files written by Airlock under the sandbox folder and mounted read-only at /etc/<name>.
IDENTITY_FILES = ("passwd", "group", "hosts", "hostname")

BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Bind(BaseModel):
    """A host path mounted into the sandbox (e.g. the egress proxy's socket)."""

    model_config = ConfigDict(frozen=True)

    source: Path
    dest: str
    writable: bool = False
    optional: bool = False  # skipped when the source does not exist

    def args(self) -> list[str]:
        flag = "--bind" if self.writable else "--ro-bind"
        return [flag + ("-try" if self.optional else ""), str(self.source), self.dest]


class SystemLayout(BaseModel):
    """How the host lays out its read-only system, mirrored in the sandbox."""

    model_config = ConfigDict(frozen=True)

    links: dict[str, str] = {}  # /bin -> usr/bin on usrmerged hosts
    folders: list[str] = []  # top-level system folders bound read-only as they are
    shell: str = "/bin/sh"  # what runs str commands: bash when the system has it


class NamespaceSpec(BaseModel):
    """Everything that decides what one sandboxed command sees."""

    model_config = ConfigDict(frozen=True)

    workspace: Path  # host staging copy, writable at /workspace
    home: Path  # host folder, writable at /home/agent
    identity: Path  # host folder holding IDENTITY_FILES
    system: SystemLayout
    env: dict[str, str] = {}  # on top of base_env(); the host environment never enters
    binds: list[Bind] = []
    wrapper: list[str] = []  # argv run inside before the command, which it then execs
    disable_userns: bool = True  # no nested user namespaces (needs bwrap 0.8+)


def detect_system(host_root: Path = Path("/")) -> SystemLayout:
    """The host's system layout (symlinked or real /bin, /lib…, and its shell)."""
    links: dict[str, str] = {}
    folders: list[str] = []
    for name in SYSTEM_FOLDERS:
        path = host_root / name
        if path.is_symlink():
            links[name] = str(path.readlink())
        elif path.is_dir():
            folders.append(name)
    has_bash = any((host_root / where / "bash").exists() for where in ("usr/bin", "bin"))
    return SystemLayout(links=links, folders=folders, shell="/bin/bash" if has_bash else "/bin/sh")


def identity_files(shell: str) -> dict[str, str]:
    """The synthetic /etc files naming the sandbox user and host (not the host's own)."""
    return {
        "passwd": (
            f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_GID}:Airlock agent:{SANDBOX_HOME}:{shell}\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ),
        "group": f"{SANDBOX_USER}:x:{SANDBOX_GID}:\nnogroup:x:65534:\n",
        "hosts": f"127.0.0.1\tlocalhost\n127.0.1.1\t{HOSTNAME}\n::1\tlocalhost\n",
        "hostname": f"{HOSTNAME}\n",
    }


def base_env() -> dict[str, str]:
    """The fixed environment every sandboxed command starts from."""
    return {
        "PATH": BASE_PATH,
        "HOME": SANDBOX_HOME,
        "USER": SANDBOX_USER,
        "LOGNAME": SANDBOX_USER,
        "LANG": "C.UTF-8",
        "TERM": "dumb",
    }


def shell_argv(spec: NamespaceSpec, command: str | Sequence[str]) -> list[str]:
    """A str command as `bash -c` (or `sh -c`), argv as given."""
    if isinstance(command, str):
        return [spec.system.shell, "-c", command]
    return list(command)


def bwrap_argv(
    bwrap: str,
    spec: NamespaceSpec,
    command: Sequence[str],
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The full `bwrap … -- command` argv; `env` adds to the spec's environment."""
    argv = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        *(["--disable-userns"] if spec.disable_userns else []),
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_GID),
        "--die-with-parent",
        "--new-session",
        "--hostname",
        HOSTNAME,
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name, target in spec.system.links.items():
        argv += ["--symlink", target, f"/{name}"]
    for name in spec.system.folders:
        argv += ["--ro-bind", f"/{name}", f"/{name}"]
    for name in HOST_ETC:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for name in IDENTITY_FILES:
        argv += ["--ro-bind", str(spec.identity / name), f"/etc/{name}"]
    argv += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    argv += ["--bind", str(spec.workspace), WORKSPACE, "--bind", str(spec.home), SANDBOX_HOME]
    for bind in spec.binds:
        argv += bind.args()
    argv += ["--remount-ro", "/", "--chdir", WORKSPACE, "--clearenv"]
    for key, value in {**base_env(), **spec.env, **(env or {})}.items():
        argv += ["--setenv", key, value]
    return [*argv, "--", *spec.wrapper, *command]
