"""Who the node runs as, and the exec prefix that ties its life to ours.

OpenSearch refuses to run as root. When the launcher runs as root it creates
(once) an unprivileged system user and starts the node as that user; otherwise
the node runs as the calling user.

Every node is started through ``setpriv ... --pdeathsig KILL --``, so the
kernel SIGKILLs the node when the *thread* that spawned it dies (the launching
process being SIGKILLed included). setpriv applies the death signal after its
uid change (the kernel clears it on a credential change), which
tests/devtools/test_launcher.py verifies across the uid switch. The signal
survives bash's ``exec java`` in bin/opensearch, so it reaches the JVM itself.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from .settings import LauncherError

NODE_USER = "flowstatus-os"


def running_as_root() -> bool:
    """True if the launcher runs with effective uid 0."""
    return os.geteuid() == 0


def node_user() -> str | None:
    """Name of the user nodes run as, or None to run as the caller."""
    return NODE_USER if running_as_root() else None


def ensure_node_user(name: str = NODE_USER) -> tuple[int, int]:
    """Create the system user ``name`` if missing (idempotent); return (uid, gid).

    Must be called as root. Races with a concurrent creator are tolerated.
    """
    try:
        entry = pwd.getpwnam(name)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    res = subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home",
         "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
    )
    # Exit code 9: the name exists already (another launcher won the race).
    if res.returncode not in (0, 9):
        raise LauncherError(f"useradd {name} failed ({res.returncode}): {res.stderr.strip()}")
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give ``root`` and everything below it to uid:gid (symlinks not followed)."""
    os.lchown(root, uid, gid)
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def exec_prefix(user: str | None) -> list[str]:
    """Command prefix that sets the parent-death signal and, if ``user``, drops to it."""
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    if not os.access(setpriv, os.X_OK):
        raise LauncherError("setpriv (util-linux) not found: it is needed to tie the "
                            "node's life to the launcher's")
    prefix = [setpriv]
    if user is not None:
        prefix += [f"--reuid={user}", f"--regid={user}", "--init-groups"]
    return prefix + ["--pdeathsig", "KILL", "--"]


def check_access(user: str | None, paths: list[Path]) -> None:
    """Raise LauncherError unless ``user`` can read+traverse every path.

    Asks the real user (through setpriv) rather than reasoning about modes, so
    ACLs and odd parents such as a mode-700 /root are judged correctly.
    """
    if user is None:
        return
    for path in paths:
        cmd = exec_prefix(user) + ["test", "-r", str(path), "-a", "-x", str(path)]
        if subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False).returncode != 0:
            raise LauncherError(
                f"user {user} cannot read {path}: put the cache outside /root (unset "
                "FLOWSTATUS_CACHE_DIR to use /var/cache/flowstatus) or fix its permissions"
            )
