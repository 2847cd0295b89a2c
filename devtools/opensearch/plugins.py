"""OpenSearch installs with plugins: one install folder per (version, plugin set).

Cache layout (next to distribution.py's)::

    <cache>/plugins/<artifact>-<version>.zip         a plugin zip from Maven Central (or copied in)
    <cache>/plugins/<file>.zip.sha256                 its digest, keyed on the zip's size and mtime
    <cache>/install/opensearch-<V>-<set>-<hash>/      plain install + the set's plugins
    <cache>/install/opensearch-<V>-<set>-<hash>/flowstatus-plugins.json   what was installed
    <cache>/.lock-plugin-<file>, .lock-opensearch-<V>-<set>-<hash>         flocks

``<hash>`` is a short digest of the plugin zips' sha256, in install order, so
a changed zip gets a new folder instead of a stale one. An install folder is
made as a copy of the plain install in a temp folder beside it, the plugins
are installed there with ``bin/opensearch-plugin install --batch``, and only
then is it renamed to its final name: interrupted or concurrent installs are
never trusted, and a second call reuses the folder without running anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .distribution import (
    ensure_distribution,
    is_install,
    locked,
    make_dir,
    make_world_readable,
    maven_fetch,
    remove_leftovers,
    staging_dir,
)
from .runconfig import scrubbed_env
from .settings import LauncherError, LauncherSettings
from .util import progress

MARKER = "flowstatus-plugins.json"


@dataclass(frozen=True)
class Plugin:
    """One plugin zip: from Maven Central (``coords``) or a local file (``path``).

    ``name`` is the component name ``_cat/plugins`` shows (e.g. ``opensearch-ml``);
    ``coords`` is ``group:artifact:version`` of a zip artifact. With ``sha256``
    the zip must have exactly that digest, else installing raises LauncherError.
    ``adapt(zip, cache_dir)``, if given, returns the zip to install instead
    (made once in the cache; see securityzip.py).
    """

    name: str
    coords: str | None = None
    path: Path | None = None
    sha256: str | None = None
    adapt: Callable[[Path, Path], Path] | None = None

    def __post_init__(self) -> None:
        if (self.coords is None) == (self.path is None):
            raise ValueError(f"plugin {self.name}: give exactly one of coords and path")

    @classmethod
    def maven(cls, name: str, group: str, artifact: str, version: str, sha256: str | None = None,
              adapt: Callable[[Path, Path], Path] | None = None) -> Plugin:
        """A plugin published on Maven Central as ``group:artifact:version`` (zip)."""
        return cls(name, coords=f"{group}:{artifact}:{version}", sha256=sha256, adapt=adapt)


@dataclass(frozen=True)
class PluginSet:
    """Plugins installed together, in order, plus what a node running them needs.

    ``settings`` go into the node's opensearch.yml (the caller's own settings
    win); ``heap`` is the heap the set needs unless the caller asks for another.
    """

    name: str
    plugins: tuple[Plugin, ...]
    settings: Mapping[str, object] = field(default_factory=dict)
    heap: str | None = None


@dataclass(frozen=True)
class PluginInstall:
    """An OpenSearch install with a plugin set; ``installed`` is True only if
    this call ran ``opensearch-plugin`` (a reused folder gives False)."""

    version: str
    home: Path
    plugin_set: PluginSet
    zips: tuple[Path, ...]
    installed: bool


def sha256_of(path: Path) -> str:
    """Hex sha256 of the file ``path``."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _cached_sha256(path: Path) -> str:
    """sha256 of a zip in the cache, remembered in ``<zip>.sha256`` beside it.

    The memo is trusted only for the same size and mtime, so a zip replaced
    by hand is hashed afresh; hashing ml-commons' 375 MB zip on every start
    would cost ~0.5 s. The caller holds the zip's lock.
    """
    st = path.stat()
    key = f"{st.st_size} {st.st_mtime_ns}"
    memo = path.with_name(path.name + ".sha256")
    try:
        size_mtime, digest = memo.read_text().rsplit(" ", 1)
        if size_mtime == key:
            return digest.strip()
    except (OSError, ValueError):
        pass
    digest = sha256_of(path)
    tmp = memo.with_name(memo.name + ".tmp")
    tmp.write_text(f"{key} {digest}\n")
    os.replace(tmp, memo)
    return digest


def ensure_plugin_zip(plugin: Plugin, cache_dir: Path) -> tuple[Path, str]:
    """Return (zip path, sha256) of what to install for ``plugin``, fetching a
    Maven plugin into ``<cache>/plugins/`` once (per-zip lock, atomic rename)
    and adapting it if the plugin says so.

    Raises LauncherError when the zip cannot be had or its digest is not the
    expected one (the zip is left in place, for a human to look at).
    """
    if plugin.path is not None:
        if not plugin.path.is_file():
            raise LauncherError(f"plugin {plugin.name}: no zip at {plugin.path}")
        zip_path, digest = plugin.path, sha256_of(plugin.path)
    else:
        assert plugin.coords is not None
        _group, artifact, version = plugin.coords.split(":")
        plugins_dir = cache_dir / "plugins"
        make_dir(cache_dir)
        make_dir(plugins_dir)
        zip_path = plugins_dir / f"{artifact}-{version}.zip"
        with locked(cache_dir / f".lock-plugin-{zip_path.name}"):
            if not zip_path.is_file():
                maven_fetch(f"{plugin.coords}:zip", zip_path, what=f"plugin {artifact} {version}")
            digest = _cached_sha256(zip_path)
    if plugin.sha256 is not None and digest != plugin.sha256:
        raise LauncherError(f"plugin {plugin.name}: {zip_path} has sha256 {digest}, expected "
                            f"{plugin.sha256}; delete or replace it")
    if plugin.adapt is not None:
        adapted = plugin.adapt(zip_path, cache_dir)
        if adapted != zip_path:
            with locked(cache_dir / f".lock-plugin-{adapted.name}"):
                digest = _cached_sha256(adapted)
            zip_path = adapted
    return zip_path, digest


def install_name(version: str, plugin_set: PluginSet, digests: list[str]) -> str:
    """Folder name of the install of ``plugin_set`` (zips with ``digests``) on ``version``."""
    short = hashlib.sha256(" ".join(digests).encode()).hexdigest()[:10]
    # No "+" (or other URL-special character) in the name: OpenSearch 3.x
    # URL-decodes plugin policy paths, so a "+" becomes a space and the
    # plugin install fails with FileNotFoundException.
    return f"opensearch-{version}-{plugin_set.name}-{short}"


def ensure_plugin_install(settings: LauncherSettings, plugin_set: PluginSet) -> PluginInstall:
    """Return the install of ``settings.version`` with ``plugin_set``, making it once.

    Safe to call concurrently from several processes (per-install flock).
    ``settings.java_home`` runs ``opensearch-plugin``. Raises LauncherError
    when a zip cannot be had or a plugin does not install (its output is in
    the message; nothing is left behind).
    """
    cache, ver = settings.cache_dir, settings.version
    fetched = [ensure_plugin_zip(plugin, cache) for plugin in plugin_set.plugins]
    name = install_name(ver, plugin_set, [digest for _, digest in fetched])
    install_dir = cache / "install"
    home = install_dir / name
    installed = False
    with locked(cache / f".lock-{name}"):
        remove_leftovers(install_dir, f".install-{name}-")
        if not (is_install(home) and (home / MARKER).is_file()):
            if home.exists():  # not ours or damaged by hand: never trust it
                shutil.rmtree(home)
            plain = ensure_distribution(ver, cache).home
            with staging_dir(install_dir, f".install-{name}-") as tmp:
                _install_into(tmp / name, plain, plugin_set, fetched, settings.java_home)
                os.rename(tmp / name, home)
            installed = True
    return PluginInstall(ver, home, plugin_set, tuple(path for path, _ in fetched), installed)


def _install_into(target: Path, plain: Path, plugin_set: PluginSet,
                  zips: list[tuple[Path, str]], java_home: Path) -> None:
    """Copy ``plain`` to ``target`` and install the plugins there, in order."""
    started = time.monotonic()
    progress(f"installing plugin set {plugin_set.name} into a copy of {plain.name}…")
    shutil.copytree(plain, target, symlinks=True)
    env = dict(scrubbed_env(), OPENSEARCH_JAVA_HOME=str(java_home))
    for plugin, (zip_path, _digest) in zip(plugin_set.plugins, zips, strict=True):
        cmd = [str(target / "bin" / "opensearch-plugin"), "install", "--batch", zip_path.absolute().as_uri()]
        # cwd=target: bin/opensearch-env cds to OPENSEARCH_HOME anyway; stdin
        # closed so a permission prompt can never block (--batch answers it).
        res = subprocess.run(cmd, cwd=target, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, check=False)
        if res.returncode != 0 or not (target / "plugins" / plugin.name).is_dir():
            out = "\n".join(res.stdout.strip().splitlines()[-25:])
            raise LauncherError(f"installing plugin {plugin.name} from {zip_path} failed "
                                f"(exit {res.returncode}):\n{out}")
    make_world_readable(target)
    record = [{"name": p.name, "zip": str(z), "sha256": d} for p, (z, d) in zip(plugin_set.plugins, zips)]
    (target / MARKER).write_text(json.dumps({"set": plugin_set.name, "plugins": record}, indent=1) + "\n")
    progress(f"installed {len(zips)} plugin(s) in {time.monotonic() - started:.1f} s")
