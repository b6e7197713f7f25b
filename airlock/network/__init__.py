"""The host-side egress proxy: the sandbox's only way out, limited to the project's allowlist.

- `allowlist`: entries, validation, and the allow/deny decision.
- `proxy`: the asyncio proxy (HTTP forwarding, CONNECT tunnels) and its events;
  `http1`, `relay` and `upstream` are its parts, `netlog` its per-session log.
- `approval`: asking the user about a denied host (once / always / deny).
- `egress`: a session's proxy; `allowlist_edit`: `airlock allow` / `deny` on the config.
- `client_env`, `bwrap_routing`, `forwarder`: routing a bubblewrap sandbox through it.
- `lima_firewall`: locking a Lima guest down to it; `guest_check`: checking that from inside.
- `loopback_hosts`: the AIRLOCK_TEST_HOSTS hook (made-up `.test` names on loopback).
"""
