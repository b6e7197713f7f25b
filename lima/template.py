"""The airlock instance template (`lima/templates/airlock.yaml`), rendered as text.

The template is YAML with `@NAME@` placeholders for the sizes; rendering checks the
values so the result is always a template `limactl` accepts. Its `param:` entries can be
given values too (what `limactl --param K=V` does at create time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources

from lima.errors import LimaError

TEMPLATE_NAME = "airlock.yaml"
# Written by the provision scripts when they succeeded; the readiness probe waits for both.
PROVISIONED_MARKER = "/run/airlock-provisioned"
FIREWALL_MARKER = "/run/airlock-fw-ok"
SIZE = re.compile(r"^\d+(\.\d+)?(MiB|GiB|TiB)$")
PARAM_VALUE = re.compile(r"^[A-Za-z0-9._:/@+-]*$")  # needs no quoting, in YAML or a shell
_PLACEHOLDER = re.compile(r"@[A-Z_]+@")
_PARAM_BLOCK = re.compile(r"^param:\n((?:  .*\n)+)", re.MULTILINE)


def template_source() -> str:
    """The template as shipped, with its placeholders."""
    return resources.files("lima").joinpath("templates", TEMPLATE_NAME).read_text("utf-8")


def render_template(
    *, cpus: int, memory: str, disk: str, params: Mapping[str, str] | None = None
) -> str:
    """The template sized for one instance (`memory`/`disk` in Lima units, e.g. `4GiB`),
    with `params` replacing the defaults of the template's `param:` entries."""
    if not 1 <= cpus <= 256:
        raise LimaError(f"invalid cpu count {cpus}: use 1 to 256")
    for label, size in (("memory", memory), ("disk", disk)):
        if not SIZE.match(size):
            raise LimaError(f"invalid {label} size {size!r}: use e.g. 4GiB or 512MiB")
    values = {
        "@CPUS@": str(cpus),
        "@MEMORY@": memory,
        "@DISK@": disk,
        "@MARKER@": PROVISIONED_MARKER,
        "@FIREWALL_MARKER@": FIREWALL_MARKER,
    }
    text = _PLACEHOLDER.sub(lambda match: values[match.group(0)], template_source())
    return _with_params(text, params or {})


def _with_params(text: str, params: Mapping[str, str]) -> str:
    block = _PARAM_BLOCK.search(text)
    entries = block.group(1) if block else ""
    for name, value in params.items():
        if not PARAM_VALUE.match(value):
            raise LimaError(f"invalid value {value!r} for the template param {name}")
        entries, found = re.subn(
            rf"^  {re.escape(name)}: .*$", f'  {name}: "{value}"', entries, flags=re.MULTILINE
        )
        if not found:
            raise LimaError(f"the airlock template does not define the param {name}")
    return text[: block.start(1)] + entries + text[block.end(1) :] if block else text
