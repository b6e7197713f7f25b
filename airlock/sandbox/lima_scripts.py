"""The POSIX sh scripts the Lima backend runs in the guest, one `limactl shell` call each.

Each runs as `sh -c SCRIPT sh ARG…`. They use only what a stock Ubuntu cloud image
has: sh, find, stat-like `find -printf`, sha256sum, tar, xargs, coreutils, and
procps (`ps`, `pkill`) to stop a command whose local `limactl` was killed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from airlock.sandbox.base import WORKSPACE

GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
EXEC_DIR = "/tmp/airlock-exec"  # session ids of running commands, by token
LOADED_MARKER = ".airlock-loaded"  # in the guest user's home: its mtime is the load time
LOST_EXIT = 3  # SCAN: /workspace is not the copy loaded at the given time
GRACE = 10  # seconds the guest-side `timeout` waits beyond the host's

# $1 token, $2 time limit in seconds (0: none), then NAME=VALUE… and the command.
# The command gets a clean environment. Its session id is recorded so that `KILL`
# can stop it and everything it started (no pty: ssh's end never signals it).
EXEC = rf"""
d={EXEC_DIR} id=$1 limit=$2
shift 2
mkdir -p "$d" && ps -o sid= -p $$ > "$d/$id" || exit 125
[ -e "$d/$id.cancel" ] && exit 130
timeout -k 5 "$limit" env -i "HOME=$HOME" "USER=$USER" "LOGNAME=$LOGNAME" \
  "PATH={GUEST_PATH}" LANG=C.UTF-8 TERM=dumb "$@"
rc=$?
rm -f "$d/$id"
exit $rc
"""

# $1 token. The tombstone stops a command that has not recorded itself yet.
KILL = rf"""
d={EXEC_DIR}
mkdir -p "$d" && : > "$d/$1.cancel"
sid=$(cat "$d/$1" 2>/dev/null | tr -d ' ')
case $sid in ''|0|*[!0-9]*) ;; *) pkill -KILL -s "$sid" ;; esac
rm -f "$d/$1"
"""

# stdin: a tar of the whole tree. Prints the load time (the marker's mtime).
LOAD = rf"""
cd {WORKSPACE} || exit 1
rm -rf {EXEC_DIR}
chmod -R u+rwX . 2>/dev/null
find . -mindepth 1 -delete || exit 1
tar -x -p -f - --no-same-owner --warning=no-unknown-keyword || exit 1
m="$HOME/{LOADED_MARKER}"
touch "$m" && find "$m" -maxdepth 0 -printf '%T@\n' || exit 1
sleep 0.05  # later changes land in a later timestamp tick than the marker
"""

# $1 load time (0: none yet). Exit LOST_EXIT when the load marker is not from that load
# (the VM was deleted and made again): /workspace is not that copy.
HOLDS = rf"""
cd {WORKSPACE} || exit 1
loaded=$(find "$HOME/{LOADED_MARKER}" -maxdepth 0 -printf '%T@' 2>/dev/null)
[ "$1" = 0 ] || [ "$loaded" = "$1" ] || {{ echo "not the copy of $1" >&2; exit {LOST_EXIT}; }}
"""

# $1 load time, checked as HOLDS does. Every path: "type size mode mtime ctime ./path" NUL
# "link target" NUL; then "=" NUL; then "sha256  ./path" NUL for each file whose ctime is
# after the load.
SCAN = (
    HOLDS
    + r"""
find . -mindepth 1 -printf '%y %s %m %T@ %C@ %p\0%l\0'
printf '=\0'
find . -mindepth 1 -type f -newerct "@$1" -print0 | xargs -0r sha256sum -z --
exit 0
"""
)

# stdin: "./path" NUL …; stdout: "sha256  ./path" NUL for each readable file.
HASH = rf"""
cd {WORKSPACE} || exit 1
xargs -0r sha256sum -z --
exit 0
"""

# stdin: "./path" NUL …; stdout: one tar of those paths (no recursion; missing ones skipped).
READ = rf"""
cd {WORKSPACE} || exit 1
exec tar -c -f - --format=gnu --null --verbatim-files-from --no-recursion \
  --ignore-failed-read -T - 2>/dev/null
"""

# One operation per argument: "<kind><arg>/<path>". Kinds: D delete; W write staged
# file <arg>, keeping the mode of a file it replaces (never a folder); R put staged
# file or link <arg> in place as it is; M folder with mode <arg>; P fifo with mode <arg>.
APPLY_ONE = r"""
stage=$1
shift
remove() {
  if [ -d "$1" ] && [ ! -L "$1" ]; then chmod -R u+rwX -- "$1" 2>/dev/null; fi
  rm -rf -- "$1"
}
fail=0
for op do
  head=${op%%/*}
  path=${op#*/}
  arg=${head#?}
  kind=${head%"$arg"}
  t="./$path"
  case $path in */*) parent="./${path%/*}" ;; *) parent=. ;; esac
  saved=
  if [ -d "$parent" ] && [ ! -w "$parent" ]; then  # made read-only by the agent
    saved=$(find "$parent" -maxdepth 0 -printf '%m') && chmod u+wx "$parent"
  fi
  case $kind in
    D) remove "$t" ;;
    W) if [ -d "$t" ] && [ ! -L "$t" ]; then
         false  # a folder is never replaced by a file
       elif [ -f "$t" ] && [ ! -L "$t" ]; then
         chmod "$(find "$t" -maxdepth 0 -printf '%m')" "$stage/s/$arg"
       else
         remove "$t"
       fi && mkdir -p -- "$parent" && mv -f -T -- "$stage/s/$arg" "$t" ;;
    R) remove "$t" && mkdir -p -- "$parent" && mv -f -T -- "$stage/s/$arg" "$t" ;;
    M) if [ -d "$t" ] && [ ! -L "$t" ]; then chmod "$arg" "$t"
       else remove "$t" && mkdir -p -- "$t" && chmod "$arg" "$t"; fi ;;
    P) remove "$t" && mkdir -p -- "$parent" && mkfifo -m "$arg" -- "$t" ;;
    *) false ;;
  esac || { printf 'airlock: could not apply %s\n' "$op" >&2; fail=1; }
  if [ -n "$saved" ]; then chmod "$saved" "$parent"; fi
done
exit $fail
"""

# $1 APPLY_ONE, $2 "-m" to stamp files with the guest's time (else keep the tar's).
# stdin: a tar holding `plan` (the operations, NUL-separated) and staged files `s/N`.
APPLY = rf"""
stage=$(mktemp -d "$HOME/.airlock-stage.XXXXXX") || exit 1
trap 'rm -rf "$stage"' EXIT
tar -x -p $2 -f - -C "$stage" --no-same-owner --warning=no-unknown-keyword || exit 1
cd {WORKSPACE} || exit 1
xargs -0r sh -c "$1" sh "$stage" < "$stage/plan"
"""


def sh(script: str, *args: str) -> list[str]:
    """The argv running `script` under `sh -c` with positional arguments."""
    return ["sh", "-c", script, "sh", *args]


def exec_argv(
    token: str, command: Sequence[str], env: Mapping[str, str], timeout: float | None
) -> list[str]:
    """Wrap a command so it runs with a clean environment and can be killed by `token`."""
    limit = "0" if timeout is None else str(int(timeout) + GRACE)
    assignments = [f"{key}={value}" for key, value in env.items()]
    return sh(EXEC, token, limit, *assignments, *command)
