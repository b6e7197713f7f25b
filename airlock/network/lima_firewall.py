"""The Lima guest's egress firewall: nftables lets the guest reach only the host proxy.

Lima has no egress control of its own (shared/limactl.md §7), so the airlock template runs
`provision_script()` as its first `mode: system` provision step (as root, on every boot; the
template holds a copy, which a test keeps equal, since `lima/` never imports Airlock). It
installs a default-drop OUTPUT policy whose only ways out are loopback, replies on existing
connections (inbound ssh), DHCP renewals, the host proxy at 192.168.5.2:PORT (the host's
loopback as the guest sees it) and, only if the project allows DNS, the resolver at
192.168.5.3. The agent user has no sudo, so it cannot change the rules. The ruleset is also
saved as /etc/nftables.conf (loaded early on later boots). The marker /run/airlock-fw-ok is
written last; the template's readiness probe waits for it, so a failed script fails the start.

The script is static; the instance supplies its values as Lima params (`lima_params`):
`AIRLOCK_PROXY_PORT` and `AIRLOCK_ALLOW_DNS`, read as `$PARAM_…`. An invalid port loads the
ruleset with no way out at all and fails the step.

Checking a real VM (what `airlock doctor --vm NAME` runs, see `guest_checks`): inside the
guest, as the agent user, the marker exists, `sudo -n true` fails, a direct connection to
an allowed host (by IP, bypassing the proxy) fails, a name not on the allowlist gets a 403
from the proxy, and an allowed host answers through the proxy with a 200 to CONNECT.
"""

from __future__ import annotations

import shlex

from pydantic import BaseModel, ConfigDict

from airlock.network.client_env import proxy_env_from_url
from lima.template import FIREWALL_MARKER

HOST_ADDRESS = "192.168.5.2"  # the host's loopback, seen from the guest
DNS_ADDRESS = "192.168.5.3"
MARKER = FIREWALL_MARKER  # the template's readiness probe waits for it
TABLE = "inet airlock"
PORT_PARAM = "AIRLOCK_PROXY_PORT"
DNS_PARAM = "AIRLOCK_ALLOW_DNS"
PROFILE_SCRIPT = "/etc/profile.d/airlock-proxy.sh"
ENV_BEGIN = "# BEGIN airlock proxy"
ENV_END = "# END airlock proxy"
DNS_RULES = (
    f"    ip daddr {DNS_ADDRESS} udp dport 53 accept\n"
    f"    ip daddr {DNS_ADDRESS} tcp dport 53 accept\n"
)


def _ruleset(proxy_rule: str, dns_rules: str) -> str:
    # `table` + `delete table` first: replacing our table is atomic and idempotent.
    return (
        "#!/usr/sbin/nft -f\n"
        "# Airlock: the guest may reach only the host proxy. Written by provisioning.\n"
        f"table {TABLE}\n"
        f"delete table {TABLE}\n"
        f"table {TABLE} {{\n"
        "  chain output {\n"
        "    type filter hook output priority filter; policy drop;\n"
        '    oifname "lo" accept\n'
        "    ct state established,related accept\n"
        "    udp sport 68 udp dport 67 accept\n"
        f"{proxy_rule}"
        f"{dns_rules}"
        "    counter reject with icmpx type admin-prohibited\n"
        "  }\n"
        "}\n"
    )


def _proxy_rule(port: str) -> str:
    return f"    ip daddr {HOST_ADDRESS} tcp dport {port} accept\n"


def nft_ruleset(proxy_port: int | None, allow_dns: bool) -> str:
    """The ruleset for a proxy port (None: no way out at all) and the DNS choice."""
    proxy_rule = "" if proxy_port is None else _proxy_rule(str(proxy_port))
    return _ruleset(proxy_rule, DNS_RULES if allow_dns else "")


def lima_params(proxy_port: int, allow_dns: bool) -> dict[str, str]:
    """The `--param K=V` values an instance needs (Lima params are strings)."""
    return {PORT_PARAM: str(proxy_port), DNS_PARAM: "true" if allow_dns else "false"}


def _env_lines(export: bool) -> str:
    prefix = "export " if export else ""
    env = proxy_env_from_url(f"http://{HOST_ADDRESS}:${{port}}")
    return "".join(f'{prefix}{name}="{value}"\n' for name, value in env.items())


def provision_script() -> str:
    """The `mode: system` provision script (bash, idempotent, marker written last)."""
    lockdown = nft_ruleset(None, allow_dns=False)
    ruleset = _ruleset(_proxy_rule("${port}"), "${dns_rules}")
    return f"""#!/bin/bash
# Airlock egress firewall: the guest may reach only the host proxy. Runs on every boot.
set -eu -o pipefail
rm -f {MARKER}
port="${{PARAM_{PORT_PARAM}:-}}"
if ! [[ "$port" =~ ^[1-9][0-9]{{0,4}}$ ]] || ((port > 65535)); then
  echo "airlock: invalid {PORT_PARAM} '$port'; the guest stays cut off" >&2
  nft -f - <<'EOF'
{lockdown}EOF
  exit 1
fi
dns_rules=""
if [ "${{PARAM_{DNS_PARAM}:-false}}" = true ]; then
  dns_rules={shlex.quote(DNS_RULES)}
fi
if ! command -v nft >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables
fi
cat >/etc/nftables.conf <<EOF
{ruleset}EOF
nft -f /etc/nftables.conf
nft list table {TABLE} >/dev/null
if systemctl cat nftables.service >/dev/null 2>&1; then
  systemctl enable nftables.service
fi
touch /etc/environment
sed -i '/^{ENV_BEGIN}$/,/^{ENV_END}$/d' /etc/environment
cat >>/etc/environment <<EOF
{ENV_BEGIN}
{_env_lines(export=False)}{ENV_END}
EOF
cat >{PROFILE_SCRIPT} <<EOF
{_env_lines(export=True)}EOF
touch {MARKER}
"""


class GuestCheck(BaseModel):
    """One check run inside the guest as the agent user (`limactl shell NAME -- argv`)."""

    model_config = ConfigDict(frozen=True)

    name: str
    argv: list[str]
    expect_success: bool
    expect_stdout: str | None = None  # compared after stripping whitespace
    fix: str  # what to do when the check fails


def guest_checks(instance: str, allowed_host: str, allowed_ip: str) -> list[GuestCheck]:
    """Checks proving the guest `instance` is locked down; `allowed_host` must be on the
    proxy's allowlist and `allowed_ip` one of its addresses (resolved on the host). Run with
    no approval hook, so the denied name is denied rather than asked about.

    The proxy checks tunnel plain HTTP through CONNECT (`curl -p http://…`): that proves the
    tunnel without depending on the guest's TLS setup, and rely on the system-wide proxy
    variables the provision script writes."""
    tunnel = ["curl", "-sS", "-m", "10", "-p", "-o", "/dev/null", "-w", "%{http_connect}"]
    restart = f"restart the VM so provisioning runs again (`airlock vm stop {instance}`)"
    recreate = f"recreate the VM from the airlock template (`airlock vm delete {instance}`)"
    return [
        GuestCheck(
            name="firewall applied",
            argv=["test", "-e", MARKER],
            expect_success=True,
            fix=f"the firewall provision step failed: read /var/log/cloud-init-output.log "
            f"(`airlock vm shell {instance}`), then {restart}",
        ),
        GuestCheck(
            name="no sudo",
            argv=["sudo", "-n", "true"],
            expect_success=False,
            fix=f"the login user can become root and change the firewall: {recreate}",
        ),
        GuestCheck(
            name="direct connection blocked",
            argv=["curl", "-sS", "-m", "5", "--noproxy", "*", f"http://{allowed_ip}/"],
            expect_success=False,
            fix=f"the egress firewall is not in force: {restart}, or {recreate}",
        ),
        GuestCheck(
            name="denied host refused by the proxy",
            argv=[*tunnel, "http://airlock-check.invalid/"],
            expect_success=False,
            expect_stdout="403",
            fix="requests do not reach the Airlock proxy: check the proxy variables in the "
            f"guest's /etc/environment, or {restart}",
        ),
        GuestCheck(
            name="allowed host reachable through the proxy",
            argv=[*tunnel, f"http://{allowed_host}/"],
            expect_success=True,
            expect_stdout="200",
            fix=f"the guest reaches the proxy but not {allowed_host}: check that this "
            "machine can reach it (try another --domain)",
        ),
    ]
