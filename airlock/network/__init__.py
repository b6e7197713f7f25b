"""The host-side egress proxy: the sandbox's only way out, limited to the project's allowlist.

- `allowlist`: entries, validation, and the allow/deny decision.
- `proxy`: the asyncio proxy (HTTP forwarding, CONNECT tunnels) and its events;
  `http1`, `relay` and `upstream` are its parts, `netlog` its per-session log.
- `approval`: asking the user about a denied host (once / always / deny).
- `client_env`, `bwrap_routing`, `forwarder`: routing a bubblewrap sandbox through it.
- `lima_firewall`: locking a Lima guest down to it, and checking that from inside.
"""
