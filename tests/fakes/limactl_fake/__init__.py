"""A fake `limactl` (Lima v2.2.0) for Airlock's tests: same arguments, output and exit codes.

It follows the spec (limactl.md) and the recorded fixtures in ../fixtures/limactl:
logrus lines on stderr (logfmt, or JSON), `list --json` as JSON Lines in Lima's key
order, the start sequence with its requirements, the fatal messages and exit codes.
`bin/limactl` runs it; it uses only the standard library and starts in ~20 ms.
Where the spec gives no wording (the `user.passwordlessSudo` validation error), the
fake's message is made up; tests should not depend on it.

Failure injection (environment):
  FAKE_LIMACTL_REFUSE_ROOT=1     refuse to run, as limactl does for root
  FAKE_LIMACTL_START_FAIL=KIND   qemu-missing | exiting | timeout | degraded | broken
  FAKE_LIMACTL_START_DELAY=SECS  pause between start steps (a slow boot)
"""
