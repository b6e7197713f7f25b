"""The airlock instance template (`lima/templates/airlock.yaml`), rendered as text.

The template is YAML with `@NAME@` placeholders for the sizes; rendering checks the
values so the result is always a template `limactl` accepts.
"""

from __future__ import annotations

import re
from importlib import resources

from lima.errors import LimaError

TEMPLATE_NAME = "airlock.yaml"
# Written by the provision script when it succeeded; the readiness probe waits for it.
PROVISIONED_MARKER = "/run/airlock-provisioned"
SIZE = re.compile(r"^\d+(\.\d+)?(MiB|GiB|TiB)$")
_PLACEHOLDER = re.compile(r"@[A-Z_]+@")


def template_source() -> str:
    """The template as shipped, with its placeholders."""
    return resources.files("lima").joinpath("templates", TEMPLATE_NAME).read_text("utf-8")


def render_template(*, cpus: int, memory: str, disk: str) -> str:
    """The template sized for one instance (`memory`/`disk` in Lima units, e.g. `4GiB`)."""
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
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(0)], template_source())
