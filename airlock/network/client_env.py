"""The environment that points a sandbox's tools at the egress proxy.

The same variables serve the bwrap sandbox (proxy at 127.0.0.1:PORT through the forwarder)
and the Lima guest (proxy at 192.168.5.2:PORT, written system-wide at provisioning). They are
advisory: the real enforcement is that nothing else leads out (no network device in bwrap,
the nftables policy in Lima).

Most tools read `http_proxy`/`https_proxy` (curl, wget, git, pip, cargo, go, apt, npm); the
extras cover those that do not: Yarn 2+ (`YARN_*`) and Node's built-in `fetch`
(`NODE_USE_ENV_PROXY`, Node 22.21+/24.5+). `npm_config_*` is set too, so npm config files
cannot silently point elsewhere. JVM tools need `-Dhttps.proxyHost` and are not covered.
"""

from __future__ import annotations

LOOPBACK = "127.0.0.1"
NO_PROXY = "localhost,127.0.0.1,::1"  # the sandbox's own loopback is not the proxy's business


def proxy_env(port: int, host: str = LOOPBACK) -> dict[str, str]:
    """Proxy variables for a proxy reached at `host:port` from inside the sandbox."""
    return proxy_env_from_url(f"http://{host}:{port}")


def proxy_env_from_url(url: str) -> dict[str, str]:
    """Proxy variables for a proxy URL (lower- and upper-case forms, plus tool-specific)."""
    env: dict[str, str] = {}
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        env[name] = env[name.upper()] = url
    env["no_proxy"] = env["NO_PROXY"] = NO_PROXY
    env["npm_config_proxy"] = env["npm_config_https_proxy"] = url
    env["YARN_HTTP_PROXY"] = env["YARN_HTTPS_PROXY"] = url
    env["NODE_USE_ENV_PROXY"] = "1"
    return env
