"""The Lima guest's egress firewall: the rendered nftables rules and the provision script.

The script is also run for real, under bubblewrap with private /etc and /run and a fake
`nft` that records what it was asked to load, so the rules a guest would get are checked
byte for byte.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from airlock.network.lima_firewall import (
    MARKER,
    PROFILE_SCRIPT,
    guest_checks,
    lima_params,
    nft_ruleset,
    provision_script,
)


def rules(text: str) -> list[str]:
    """The rule lines of the output chain, in order."""
    body = text.split("chain output {", 1)[1].split("}", 1)[0]
    return [line.strip() for line in body.strip().splitlines()]


def test_guest_may_reach_only_loopback_replies_dhcp_and_the_host_proxy() -> None:
    assert rules(nft_ruleset(4128, allow_dns=False)) == [
        "type filter hook output priority filter; policy drop;",
        'oifname "lo" accept',
        "ct state established,related accept",
        "udp sport 68 udp dport 67 accept",
        "ip daddr 192.168.5.2 tcp dport 4128 accept",
        "counter reject with icmpx type admin-prohibited",
    ]


def test_dns_is_reachable_only_when_the_project_allows_it() -> None:
    assert "53" not in nft_ruleset(4128, allow_dns=False)
    assert rules(nft_ruleset(4128, allow_dns=True))[5:] == [
        "ip daddr 192.168.5.3 udp dport 53 accept",
        "ip daddr 192.168.5.3 tcp dport 53 accept",
        "counter reject with icmpx type admin-prohibited",
    ]


def test_without_a_proxy_port_nothing_leads_out() -> None:
    assert not any("192.168.5" in rule for rule in rules(nft_ruleset(None, allow_dns=False)))


def test_ruleset_replaces_its_own_table_atomically_so_reloading_is_harmless() -> None:
    lines = nft_ruleset(4128, allow_dns=False).splitlines()
    assert lines[2:5] == ["table inet airlock", "delete table inet airlock", "table inet airlock {"]
    assert "flush ruleset" not in lines


def test_script_fails_closed_and_writes_the_marker_last() -> None:
    lines = provision_script().strip().splitlines()
    assert lines[:4] == [
        "#!/bin/bash",
        lines[1],
        "set -eu -o pipefail",
        f"rm -f {MARKER}",
    ]
    assert lines[-1] == f"touch {MARKER}"
    assert lines.index("nft -f /etc/nftables.conf") < lines.index(
        "nft list table inet airlock >/dev/null"
    )
    assert sum(MARKER in line for line in lines) == 2


def test_params_are_what_the_script_reads() -> None:
    params = lima_params(4128, allow_dns=True)
    assert params == {"AIRLOCK_PROXY_PORT": "4128", "AIRLOCK_ALLOW_DNS": "true"}
    for name in params:
        assert f"PARAM_{name}" in provision_script()


def test_guest_checks_prove_the_lockdown_from_inside() -> None:
    checks = {check.name: check for check in guest_checks("vm1", "allowed.test", "192.0.2.7")}
    assert checks["firewall applied"].argv == ["test", "-e", MARKER]
    assert not checks["no sudo"].expect_success
    assert "192.0.2.7" in checks["direct connection blocked"].argv[-1]
    assert checks["denied host refused by the proxy"].expect_stdout == "403"
    allowed = checks["allowed host reachable through the proxy"]
    assert allowed.expect_success and allowed.argv[-1] == "http://allowed.test/"
    assert "-p" in allowed.argv  # through a CONNECT tunnel
    assert all(check.fix for check in checks.values())
    assert "airlock vm stop vm1" in checks["firewall applied"].fix


def test_script_never_contains_go_template_braces() -> None:
    assert "{{" not in provision_script()  # Lima expands Go templates in provision scripts


# The script, run for real

FAKE_NFT = """#!/bin/sh
echo "nft $*" >>/run/calls
if [ "$1" = "-f" ]; then
  if [ "$2" = "-" ]; then cat >/run/loaded; else cat "$2" >/run/loaded; fi
fi
"""
FAKE_SYSTEMCTL = """#!/bin/sh
echo "systemctl $*" >>/run/calls
"""


def run_script(root: Path, **params: str) -> subprocess.CompletedProcess[str]:
    """Run the provision script with `root/etc` as /etc and `root/run` as /run."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bubblewrap is not installed")
    fake_bin = root / "bin"
    for folder in ("etc/profile.d", "run", "bin"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, text in (("nft", FAKE_NFT), ("systemctl", FAKE_SYSTEMCTL)):
        (fake_bin / name).write_text(text)
        (fake_bin / name).chmod(0o755)
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", **{f"PARAM_{k}": v for k, v in params.items()}}
    argv = [
        bwrap,
        "--ro-bind", "/", "/",
        "--bind", str(root / "etc"), "/etc",
        "--bind", str(root / "run"), "/run",
        "--dev", "/dev",
        "--unshare-all",
        "--die-with-parent",
        "bash", "-c", provision_script(),
    ]  # fmt: skip
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    if "bwrap:" in result.stderr:
        pytest.skip(f"bubblewrap cannot run here: {result.stderr.strip()}")
    return result


def test_provisioning_loads_the_rules_persists_them_and_sets_the_proxy(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/environment").write_text('PATH="/usr/bin:/bin"\n')
    result = run_script(tmp_path, AIRLOCK_PROXY_PORT="4128", AIRLOCK_ALLOW_DNS="true")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run/loaded").read_text() == nft_ruleset(4128, allow_dns=True)
    assert (tmp_path / "etc/nftables.conf").read_text() == nft_ruleset(4128, allow_dns=True)
    assert (tmp_path / "run/calls").read_text().splitlines() == [
        "nft -f /etc/nftables.conf",
        "nft list table inet airlock",
        "systemctl cat nftables.service",
        "systemctl enable nftables.service",
    ]
    environment = (tmp_path / "etc/environment").read_text()
    assert environment.startswith('PATH="/usr/bin:/bin"\n# BEGIN airlock proxy\n')
    assert 'https_proxy="http://192.168.5.2:4128"\n' in environment
    profile = (tmp_path / PROFILE_SCRIPT.removeprefix("/")).read_text()
    assert 'export HTTPS_PROXY="http://192.168.5.2:4128"\n' in profile
    assert (tmp_path / MARKER.removeprefix("/")).exists()


def test_provisioning_again_on_the_next_boot_changes_nothing(tmp_path: Path) -> None:
    assert run_script(tmp_path, AIRLOCK_PROXY_PORT="4128").returncode == 0
    files = ("etc/environment", "etc/nftables.conf", PROFILE_SCRIPT.removeprefix("/"))
    first = {name: (tmp_path / name).read_text() for name in files}
    assert run_script(tmp_path, AIRLOCK_PROXY_PORT="4128").returncode == 0
    assert {name: (tmp_path / name).read_text() for name in files} == first
    assert first["etc/nftables.conf"] == nft_ruleset(4128, allow_dns=False)
    assert first["etc/environment"].count("BEGIN airlock proxy") == 1


@pytest.mark.parametrize("port", ["", "0", "65536", "80;true", "0x50"])
def test_an_invalid_port_leaves_the_guest_cut_off_and_fails(tmp_path: Path, port: str) -> None:
    result = run_script(tmp_path, AIRLOCK_PROXY_PORT=port)
    assert result.returncode == 1
    assert "invalid AIRLOCK_PROXY_PORT" in result.stderr
    assert (tmp_path / "run/loaded").read_text() == nft_ruleset(None, allow_dns=False)
    assert not (tmp_path / MARKER.removeprefix("/")).exists()
    assert not (tmp_path / "etc/nftables.conf").exists()


def test_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n"], input=provision_script(), text=True, timeout=30)
    assert result.returncode == 0
