"""Creating an instance: template locators, name rules, `--set`, defaults, image cache."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from typing import Any

from tests.fakes import miniyaml

from .logs import Fatal, log, pause
from .store import (
    NAME_RE,
    VERSION,
    Json,
    host_arch,
    inst_dir,
    load_state,
    save_state,
    user_info,
    write_identity,
)


def default_template() -> str:
    """What `template:NAME` stands for here: Ubuntu with the home folder mounted."""
    arch = host_arch()
    return (
        "minimumLimaVersion: 2.0.0\n"
        "images:\n"
        '- location: "https://cloud-images.ubuntu.com/releases/resolute/release/'
        f'ubuntu-26.04-server-cloudimg-{"arm64" if arch == "aarch64" else "amd64"}.img"\n'
        f"  arch: {arch}\n"
        'mounts:\n- location: "~"\n'
    )


def read_locator(locator: str, opts: Json) -> tuple[str, str]:
    """(template text, default instance name) of a template locator."""
    if locator.startswith("template://"):
        short = "template:" + locator[len("template://") :]
        log("warning", f"Template locator `{locator}` should be written `{short}` since Lima v2.0")
        locator = short
    if locator.startswith("template:"):
        name = locator[len("template:") :]
        return default_template(), os.path.basename(name)
    if locator == "-":
        if not opts.get("--name"):
            raise Fatal("must pass instance name with --name when reading template from stdin")
        return sys.stdin.read(), str(opts["--name"])
    path = locator[len("file://") :] if locator.startswith("file://") else locator
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise Fatal(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None
    base = os.path.basename(path).lower()
    for suffix in (".yaml", ".yml"):
        base = base.removesuffix(suffix)
    return text, base


def check_name(name: str) -> None:
    """Lima's name rules: an identifier, short enough for the ssh socket path."""
    if not NAME_RE.match(name) or len(name) > 76 or name.endswith((".yaml", ".yml")):
        raise Fatal(
            f"instance name `{name}` is not a valid identifier: identifier `{name}` must "
            "match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$"
        )
    sock = os.path.join(inst_dir(name), "ssh.sock.1234567890123456")
    if len(sock) >= 108:
        raise Fatal(
            f"instance name `{name}` too long: `{sock}` must be less than "
            f"UNIX_PATH_MAX=108 characters, but is {len(sock)}"
        )


def apply_set(config: dict[str, Any], expression: str) -> None:
    """`--set '.a.b = value'` or `.param["K"] = "V"` (the yq forms the fake understands)."""
    match = re.match(
        r"""^\s*\.([A-Za-z0-9_.]+)(?:\["([A-Za-z0-9_]+)"\])?\s*=\s*(.+?)\s*$""", expression
    )
    if not match:
        raise Fatal(f"unsupported --set expression in the fake limactl: {expression}")
    keys = match[1].split(".") + ([match[2]] if match[2] else [])
    node = config
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = miniyaml.scalar(match[3])


def apply_params(template: Json, opts: Json) -> None:
    """`--param K=V`: `.param["K"] = "V"`, for params the template declares."""
    declared = template.get("param") or {}
    for item in opts.get("--param", []):
        key, _, value = item.partition("=")
        if key not in declared:
            raise Fatal(f"template does not define param {key!r}")
        declared[key] = value


def rewrite_params(text: str, params: Json) -> str:
    """lima.yaml with its `param:` values replaced (what `start NAME --param` writes)."""
    for key, value in params.items():
        text = re.sub(
            rf"^(  {re.escape(key)}:) .*$", rf"\1 {json.dumps(value)}", text, flags=re.MULTILINE
        )
    return text


def filled_config(template: Json, opts: Json) -> Json:
    """The template with Lima's defaults filled in (a subset of the real `config`)."""
    for expression in opts.get("--set", []):
        apply_set(template, expression)
    apply_params(template, opts)
    for flag, key in (("--cpus", "cpus"), ("--memory", "memory"), ("--disk", "disk")):
        if flag in opts:
            value = opts[flag]
            template[key] = int(value) if key == "cpus" else f"{value}GiB"
    if opts.get("--plain"):
        template["plain"] = True
    if opts.get("--mount-none"):
        template["mounts"] = None
    images = template.get("images") or []
    if not images or not all(isinstance(i, dict) and i.get("location") for i in images):
        raise Fatal("field `images` must be set")
    minimum = str(template.get("minimumLimaVersion") or "0")
    if tuple(int(x) for x in re.findall(r"\d+", minimum)[:3]) > (2, 2, 0):
        raise Fatal(f"template requires Lima version {minimum}; this is only {VERSION}")
    plain = bool(template.get("plain"))
    user = dict(template.get("user") or {})
    if user.get("passwordlessSudo") is False and not plain:
        raise Fatal("field `user.passwordlessSudo` must be true when `plain` is false")
    name, uid, comment = user_info()
    arch = template.get("arch") or host_arch()
    config = {
        "minimumLimaVersion": template.get("minimumLimaVersion"),
        "vmType": opts.get("--vm-type") or template.get("vmType") or "qemu",
        "os": "Linux",
        "arch": arch,
        "images": images,
        "cpus": int(template.get("cpus") or 4),
        "memory": str(template.get("memory") or "4GiB"),
        "disk": str(template.get("disk") or "100GiB"),
        "mounts": None if plain else (template.get("mounts") or []),
        "mountType": "9p",
        "ssh": {
            "localPort": 0,
            "loadDotSSHPubKeys": False,
            "forwardAgent": False,
            **(template.get("ssh") or {}),
        },
        "provision": template.get("provision") or None,
        "probes": template.get("probes") or None,
        "containerd": {
            "system": False,
            "user": not plain,
            **({} if plain else template.get("containerd") or {}),
        },
        "hostResolver": {"enabled": True, "ipv6": False, **(template.get("hostResolver") or {})},
        "propagateProxyEnv": template.get("propagateProxyEnv", True),
        "param": template.get("param") or None,
        "plain": plain,
        "user": {
            "name": user.get("name") or name,
            "comment": comment,
            "home": user.get("home") or f"/home/{user.get('name') or name}.guest",
            "shell": "/bin/bash",
            "uid": uid,
            "passwordlessSudo": user.get("passwordlessSudo", True),
        },
    }
    return {key: value for key, value in config.items() if value is not None}


def create_instance(name: str, text: str, opts: dict[str, Any]) -> dict[str, Any]:
    """The instance folder, its guest folders, and the image (downloaded or cached)."""
    try:
        template = miniyaml.loads(text) or {}
    except miniyaml.YamlError as exc:
        raise Fatal(f"failed to unmarshal YAML: {exc}") from None
    if not isinstance(template, dict):
        raise Fatal("failed to unmarshal YAML: not a mapping")
    config = filled_config(template, opts)
    directory = inst_dir(name)
    os.makedirs(directory)
    with open(os.path.join(directory, "lima.yaml"), "w", encoding="utf-8") as handle:
        handle.write(rewrite_params(text, config.get("param") or {}))
    with open(os.path.join(directory, "lima-version"), "w") as handle:
        handle.write(VERSION)
    for part in ("disk", "cidata.iso", "cloud-config.yaml"):
        open(os.path.join(directory, part), "w").close()
    for part in ("home", "tmp", "run"):
        os.makedirs(os.path.join(directory, "guest", part))
    write_identity(os.path.join(directory, "guest"), config)
    state = {"config": config, "limaVersion": VERSION}
    save_state(name, state)
    prepare_image(config)
    return state


def prepare_image(config: dict[str, Any]) -> None:
    """The image download log lines; the cache is a marker under $XDG_CACHE_HOME/lima."""
    image = next(
        (i for i in config["images"] if i.get("arch", config["arch"]) == config["arch"]),
        config["images"][0],
    )
    url = image["location"]
    cache_root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    digest = hashlib.sha256(url.encode()).hexdigest()
    data = os.path.join(cache_root, "lima", "download", "by-url-sha256", digest, "data")
    if os.path.exists(data):
        log("info", f"Using cache `{data}`")
        return
    log(
        "info",
        "Attempting to download the image",
        arch=config["arch"],
        digest=image.get("digest", ""),
        location=url,
    )
    sys.stderr.write(f"Downloading the image ({os.path.basename(url)})\n")
    sys.stderr.flush()
    pause()
    os.makedirs(os.path.dirname(data), exist_ok=True)
    open(data, "w").close()
    log("info", f"Downloaded the image from `{url}`")


def edit_instance(name: str, opts: Json) -> Json:
    """`start NAME --set/--param`: lima.yaml is rewritten before booting (only `.param`
    values here); returns the new state."""
    sets = opts.get("--set", [])
    if any(not expression.lstrip().startswith(".param") for expression in sets):
        raise Fatal("the fake limactl rewrites only `.param` of an existing instance")
    path = os.path.join(inst_dir(name), "lima.yaml")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    state = load_state(name) or {}
    state["config"] = filled_config(miniyaml.loads(text) or {}, opts)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(rewrite_params(text, state["config"].get("param") or {}))
    save_state(name, state)
    return state
