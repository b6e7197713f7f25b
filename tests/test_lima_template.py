"""The airlock instance template, rendered, checked against what limactl.md requires."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from airlock.network.lima_firewall import MARKER, lima_params, provision_script
from lima.errors import LimaError
from lima.template import FIREWALL_MARKER, PROVISIONED_MARKER, render_template, template_source
from tests.fakes import miniyaml

# Top-level keys of lima.yaml (limactl.md §6.1 and templates/default.yaml).
LIMA_KEYS = {
    "minimumLimaVersion", "vmType", "vmOpts", "os", "arch", "images", "cpus", "memory", "disk",
    "additionalDisks", "mounts", "mountType", "mountInotify", "ssh", "firmware", "audio",
    "video", "upgradePackages", "containerd", "guestInstallPrefix", "provision", "probes",
    "portForwards", "copyToHost", "networks", "env", "param", "hostResolver", "dns",
    "propagateProxyEnv", "caCerts", "plain", "timezone", "nestedVirtualization", "user",
    "message", "rosetta", "cpuType", "base", "tpm",
}  # fmt: skip


@pytest.fixture
def template() -> dict[str, Any]:
    data = miniyaml.loads(render_template(cpus=3, memory="6GiB", disk="40GiB"))
    assert isinstance(data, dict)
    return data


def test_rendered_template_has_only_lima_keys(template: dict[str, Any]) -> None:
    assert set(template) <= LIMA_KEYS
    assert template["minimumLimaVersion"] == "2.2.0"


def test_sizes_come_from_the_project(template: dict[str, Any]) -> None:
    assert (template["cpus"], template["memory"], template["disk"]) == (3, "6GiB", "40GiB")


def test_no_host_mount_no_forwards_no_agent_no_containerd(template: dict[str, Any]) -> None:
    assert template["plain"] is True
    assert template["mounts"] == []
    assert template["containerd"] == {"system": False, "user": False}
    assert "portForwards" not in template
    assert template["ssh"]["forwardAgent"] is False
    assert template["ssh"]["loadDotSSHPubKeys"] is False
    assert template["propagateProxyEnv"] is False
    assert template["hostResolver"] == {"enabled": False}


def test_login_user_has_no_passwordless_sudo(template: dict[str, Any]) -> None:
    assert template["user"] == {"passwordlessSudo": False}


def test_ubuntu_lts_images_for_both_architectures(template: dict[str, Any]) -> None:
    images = template["images"]
    for arch, suffix in (("x86_64", "amd64"), ("aarch64", "arm64")):
        pinned = [i for i in images if i["arch"] == arch and "digest" in i]
        assert pinned, f"no pinned image for {arch}"
        assert pinned[0]["location"].startswith("https://cloud-images.ubuntu.com/releases/")
        assert pinned[0]["location"].endswith(f"ubuntu-26.04-server-cloudimg-{suffix}.img")
        assert pinned[0]["digest"].startswith("sha256:") and len(pinned[0]["digest"]) == 71
    assert {i["arch"] for i in images} == {"x86_64", "aarch64"}


def test_first_provision_step_is_the_egress_firewall(template: dict[str, Any]) -> None:
    firewall = template["provision"][0]
    assert firewall["mode"] == "system"
    assert firewall["script"] == provision_script()
    assert "{{" not in firewall["script"]  # Lima expands Go templates in scripts


def test_params_fail_closed_unless_airlock_passes_them(template: dict[str, Any]) -> None:
    assert template["param"] == {"AIRLOCK_PROXY_PORT": "", "AIRLOCK_ALLOW_DNS": "false"}
    assert set(template["param"]) == set(lima_params(21000, allow_dns=False))
    rendered = render_template(
        cpus=1, memory="1GiB", disk="1GiB", params=lima_params(23456, allow_dns=True)
    )
    data = miniyaml.loads(rendered)
    assert data["param"] == {"AIRLOCK_PROXY_PORT": "23456", "AIRLOCK_ALLOW_DNS": "true"}
    assert data["provision"] == template["provision"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"NOT_DECLARED": "1"}, "does not define the param NOT_DECLARED"),
        ({"AIRLOCK_PROXY_PORT": '1"\nplain: false'}, "invalid value"),
    ],
)
def test_undeclared_or_unsafe_params_are_refused(params: dict[str, str], message: str) -> None:
    with pytest.raises(LimaError, match=message):
        render_template(cpus=1, memory="1GiB", disk="1GiB", params=params)


def test_second_provision_step_prepares_workspace_and_writes_its_marker_last(
    template: dict[str, Any],
) -> None:
    step = template["provision"][1]
    assert step["mode"] == "system"
    lines = step["script"].strip().splitlines()
    assert lines[0] == "#!/bin/bash"
    assert "set -eux -o pipefail" in lines
    assert "mkdir -p /workspace" in step["script"]
    assert 'chown "{{.User}}:" /workspace' in step["script"]
    assert lines[-1] == 'touch "$marker"'
    assert f"marker={PROVISIONED_MARKER}" in lines


def test_readiness_probe_waits_for_the_firewall_and_the_workspace(
    template: dict[str, Any],
) -> None:
    (probe,) = template["probes"]
    assert probe["mode"] == "readiness"
    assert probe["description"]
    assert probe["script"].startswith("#!/bin/bash\n")
    assert FIREWALL_MARKER == MARKER
    assert f"for marker in {MARKER} {PROVISIONED_MARKER}; do" in probe["script"]
    assert "cloud-init-output.log" in probe["hint"]


def test_scripts_are_valid_bash(template: dict[str, Any]) -> None:
    scripts = [step["script"] for step in template["provision"]] + [template["probes"][0]["script"]]
    for script in scripts:
        result = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("cpus", "memory", "disk", "message"),
    [
        (0, "4GiB", "20GiB", "invalid cpu count 0"),
        (2, "4GB", "20GiB", "invalid memory size '4GB'"),
        (2, "4GiB", "-1GiB", "invalid disk size '-1GiB'"),
    ],
)
def test_bad_sizes_are_refused_with_a_clear_message(
    cpus: int, memory: str, disk: str, message: str
) -> None:
    with pytest.raises(LimaError, match=message):
        render_template(cpus=cpus, memory=memory, disk=disk)


def test_the_shipped_template_is_found_as_package_data() -> None:
    assert "@CPUS@" in template_source()


@pytest.mark.parametrize(
    "text",
    ["a: &anchor 1", "a: [1, [2]]", "a:\n\tb: 1", "a: 1\na: 2", 'a: "x" y', "a: >\n  folded"],
)
def test_yaml_outside_the_checked_subset_is_an_error(text: str) -> None:
    with pytest.raises(miniyaml.YamlError):
        miniyaml.loads(text)
