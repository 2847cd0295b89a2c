"""Fetch the OpenSearch distribution zip from Maven Central and unpack it once.

Cache layout (``<cache>`` from :func:`settings.default_cache_dir`)::

    <cache>/dist/opensearch-<V>.zip          the artifact, as Maven fetched it
    <cache>/install/opensearch-<V>/          the unpacked server (bin/, lib/, ...)
    <cache>/.lock-opensearch-<V>             flock held while fetching/unpacking

Both the zip and the install appear under their final name only by an atomic
rename from a temporary folder beside them, so an interrupted download or
unpack never leaves something that a later call would trust. plugins.py
builds its plugin installs with the same helpers (:func:`locked`,
:func:`staging_dir`, :func:`maven_fetch`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .settings import LauncherError, resolve_settings
from .util import progress

ARTIFACT = "org.opensearch.distribution.integ-test-zip:opensearch"
# Pinned: Maven 3.8's default dependency plugin is too old for this usage.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy"


@dataclass(frozen=True)
class Distribution:
    """An unpacked OpenSearch install, and what obtaining it took.

    ``downloaded`` is True only if this call ran Maven; ``unpacked`` only if
    this call ran unzip. A second call for the same version returns both False.
    """

    version: str
    home: Path
    zip_path: Path
    downloaded: bool
    unpacked: bool


def ensure_distribution(
    version: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Distribution:
    """Return the unpacked install of ``version``, fetching/unpacking if needed.

    Safe to call concurrently from several processes (a per-version file lock
    serialises the work). Works on an empty or missing cache folder. Raises
    LauncherError when mvn or unzip is missing or fails.
    """
    settings = resolve_settings(version=version, cache_dir=cache_dir, check_java=False)
    ver, cache = settings.version, settings.cache_dir
    dist_dir, install_dir = cache / "dist", cache / "install"
    for folder in (cache, dist_dir, install_dir):
        make_dir(folder)
    zip_path = dist_dir / f"opensearch-{ver}.zip"
    home = install_dir / f"opensearch-{ver}"
    downloaded = unpacked = False
    with locked(cache / f".lock-opensearch-{ver}"):
        remove_leftovers(install_dir, f".unpack-{ver}-")
        if not is_install(home):
            if home.exists():  # not ours or damaged by hand: never trust it
                shutil.rmtree(home)
            if not zip_path.is_file():
                download(ver, zip_path)
                downloaded = True
            unpack(zip_path, home, ver)
            unpacked = True
    return Distribution(ver, home, zip_path, downloaded, unpacked)


def download(version: str, zip_path: Path) -> None:
    """Fetch the ``version`` zip with Maven and move it atomically to ``zip_path``."""
    maven_fetch(f"{ARTIFACT}:{version}:zip", zip_path, what=f"OpenSearch {version}")


def maven_fetch(coords: str, dest: Path, *, what: str) -> None:
    """Copy the Maven artifact ``coords`` (``group:artifact:version:packaging``)
    to ``dest`` through a temp folder beside it and an atomic rename.

    The caller holds the lock guarding ``dest`` (temp folders an interrupted
    fetch left are removed first). Raises LauncherError (with
    Maven's last output lines) when mvn is missing or cannot fetch it.
    """
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LauncherError("mvn not found on PATH: install Maven (apt-get install maven)")
    _group, artifact, version, packaging = coords.split(":")
    prefix = f".download-{dest.stem}-"
    remove_leftovers(dest.parent, prefix)
    with staging_dir(dest.parent, prefix) as tmp:
        progress(f"downloading {what} from Maven Central (mvn)…")
        started = time.monotonic()
        cmd = [mvn, "-B", "-q", DEPENDENCY_PLUGIN, f"-Dartifact={coords}", f"-DoutputDirectory={tmp}"]
        # cwd=tmp: a pom.xml in the caller's folder would otherwise be loaded.
        res = subprocess.run(cmd, cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, check=False)
        got = tmp / f"{artifact}-{version}.{packaging}"
        if res.returncode != 0 or not got.is_file():
            out = "\n".join(res.stdout.strip().splitlines()[-25:])
            raise LauncherError(
                f"mvn could not fetch {coords} (exit {res.returncode}; "
                f"is the version published, is ~/.m2 writable?):\n{out}"
            )
        os.chmod(got, 0o644)
        os.replace(got, dest)
        size_mb = dest.stat().st_size / 1e6
        progress(f"downloaded {size_mb:.0f} MB in {time.monotonic() - started:.1f} s")


def unpack(zip_path: Path, home: Path, version: str) -> None:
    """Unzip ``zip_path`` into a temp folder beside ``home``, then rename it to ``home``.

    Uses the ``unzip`` command because Python's zipfile drops execute bits.
    A zip that unzip rejects is deleted, so the next call fetches it afresh.
    """
    unzip = shutil.which("unzip")
    if unzip is None:
        raise LauncherError("unzip not found on PATH: install it (apt-get install unzip)")
    with staging_dir(home.parent, f".unpack-{version}-") as tmp:
        progress(f"unpacking {zip_path.name}…")
        started = time.monotonic()
        res = subprocess.run([unzip, "-q", str(zip_path), "-d", str(tmp)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, check=False)
        roots = list(tmp.iterdir())
        if res.returncode != 0 or len(roots) != 1 or not is_install(roots[0]):
            zip_path.unlink(missing_ok=True)
            raise LauncherError(
                f"unzip of {zip_path} failed (exit {res.returncode}) or gave no OpenSearch "
                f"tree; the zip was deleted, run again to fetch it afresh\n{res.stdout[-2000:]}"
            )
        make_world_readable(roots[0])
        os.rename(roots[0], home)
        progress(f"unpacked in {time.monotonic() - started:.1f} s")


def is_install(home: Path) -> bool:
    """True if ``home`` looks like a complete unpacked OpenSearch."""
    return os.access(home / "bin" / "opensearch", os.X_OK) and (home / "lib").is_dir()


def make_dir(path: Path) -> None:
    """Create ``path``; as root also make it traversable for the node user."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0 and path.stat().st_uid == 0:
        os.chmod(path, path.stat().st_mode | 0o755)


def make_world_readable(root: Path) -> None:
    """chmod a+rX the tree: the node may run as another user, and unzip may
    have applied a restrictive umask."""
    for dirpath, _dirs, files in os.walk(root):
        os.chmod(dirpath, os.stat(dirpath).st_mode | 0o755)
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            mode = os.stat(path).st_mode
            os.chmod(path, mode | 0o444 | (0o111 if mode & 0o111 else 0))


def remove_leftovers(folder: Path, prefix: str) -> None:
    """Delete temp folders an interrupted run left (we hold the lock)."""
    for entry in folder.glob(prefix + "*"):
        shutil.rmtree(entry, ignore_errors=True)


@contextmanager
def staging_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh temp folder in ``parent`` (so a rename out of it is atomic),
    removed with whatever is left in it when the block ends, error or not.
    ``prefix`` must match what the caller passes to :func:`remove_leftovers`."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` for the duration of the block."""
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for another process holding {path}…")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
