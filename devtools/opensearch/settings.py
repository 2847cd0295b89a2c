"""Launcher settings: environment variables, defaults and their validation.

Every setting can come from a keyword argument (highest priority), an
environment variable, or a built-in default, in that order. Nothing here
touches the network or starts processes.

| setting      | env var                               | default                              |
|--------------|---------------------------------------|--------------------------------------|
| version      | FLOWSTATUS_OPENSEARCH_VERSION         | 2.19.6                               |
| java_home    | FLOWSTATUS_OPENSEARCH_JAVA_HOME       | JDK 17 for 2.x, Temurin 25 for 3.x   |
| heap         | FLOWSTATUS_OPENSEARCH_HEAP            | 512m (per node)                      |
| cache_dir    | FLOWSTATUS_CACHE_DIR                  | see :func:`default_cache_dir`        |
| start_timeout| FLOWSTATUS_OPENSEARCH_START_TIMEOUT   | 180 (seconds)                        |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VERSION = "2.19.6"
# 512m per node: three nodes then need ~1.5 GiB of heap and ~3 GiB resident in
# total, which leaves a 24 GiB machine plenty of room; a bigger heap only makes
# start slower (jvm.options asks for AlwaysPreTouch) without helping tests.
DEFAULT_HEAP = "512m"
DEFAULT_START_TIMEOUT = 180.0
# The JDK each OpenSearch major version is known to start on (see
# docs/opensearch-local.md): 2.x needs the Security Manager, gone in Java 24+;
# 3.x needs Java 21+.
DEFAULT_JAVA_HOMES = {
    2: Path("/usr/lib/jvm/java-17-openjdk-amd64"),
    3: Path("/usr/lib/jvm/temurin-25-jdk-amd64"),
}
ROOT_CACHE_DIR = Path("/var/cache/flowstatus")

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_HEAP_RE = re.compile(r"^\d+[kmgKMG]$")


class LauncherError(RuntimeError):
    """Any failure of the launcher, with a message meant for a human."""


@dataclass(frozen=True)
class LauncherSettings:
    """Resolved, validated launcher settings (immutable)."""

    version: str
    java_home: Path
    heap: str
    cache_dir: Path
    start_timeout: float


def default_cache_dir() -> Path:
    """Return the cache folder used when FLOWSTATUS_CACHE_DIR is unset.

    Root gets /var/cache/flowstatus because /root is mode 700: the unprivileged
    node user could not read an install below it. Others get
    ``${XDG_CACHE_HOME:-~/.cache}/flowstatus``.
    """
    if os.geteuid() == 0:
        return ROOT_CACHE_DIR
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "flowstatus"


def default_java_home(version: str) -> Path:
    """Return the default JDK folder for an OpenSearch ``version``.

    Raises LauncherError for a major version with no known JDK.
    """
    major = int(version.split(".", 1)[0])
    try:
        return DEFAULT_JAVA_HOMES[major]
    except KeyError:
        raise LauncherError(
            f"no default JDK for OpenSearch {version}; set FLOWSTATUS_OPENSEARCH_JAVA_HOME"
        ) from None


def _pick(value: object | None, env: str) -> str | None:
    """Keyword value if given, else the non-empty env var, else None."""
    if value is not None:
        return str(value)
    return os.environ.get(env) or None


def resolve_settings(
    version: str | None = None,
    java_home: str | os.PathLike[str] | None = None,
    heap: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    start_timeout: float | None = None,
    *,
    check_java: bool = True,
    default_version: str = DEFAULT_VERSION,
    default_heap: str = DEFAULT_HEAP,
) -> LauncherSettings:
    """Merge keyword arguments, environment and defaults into LauncherSettings.

    With ``check_java`` (default) the JDK must exist (``bin/java`` executable);
    fetching a distribution does not need Java, so ``fetch`` passes False.
    ``default_version`` and ``default_heap`` replace the built-in defaults
    (a plugin set needs its own) but not an explicit value or env var.
    Raises LauncherError with the env var to set when a value is invalid.
    """
    ver = _pick(version, "FLOWSTATUS_OPENSEARCH_VERSION") or default_version
    if not _VERSION_RE.match(ver):
        raise LauncherError(f"bad OpenSearch version {ver!r}: expected X.Y.Z")
    jh_text = _pick(java_home, "FLOWSTATUS_OPENSEARCH_JAVA_HOME")
    jh = Path(jh_text) if jh_text else default_java_home(ver)
    if check_java and not os.access(jh / "bin" / "java", os.X_OK):
        raise LauncherError(
            f"no Java for OpenSearch {ver} at {jh} ({jh / 'bin' / 'java'} is missing or not "
            "executable); install that JDK or set FLOWSTATUS_OPENSEARCH_JAVA_HOME"
        )
    hp = _pick(heap, "FLOWSTATUS_OPENSEARCH_HEAP") or default_heap
    if not _HEAP_RE.match(hp):
        raise LauncherError(f"bad heap size {hp!r}: expected e.g. 512m or 1g")
    cd_text = _pick(cache_dir, "FLOWSTATUS_CACHE_DIR")
    cd = Path(cd_text).expanduser() if cd_text else default_cache_dir()
    to_text = _pick(start_timeout, "FLOWSTATUS_OPENSEARCH_START_TIMEOUT")
    try:
        to = float(to_text) if to_text else DEFAULT_START_TIMEOUT
    except ValueError:
        raise LauncherError(f"bad start timeout {to_text!r}: expected seconds") from None
    if to <= 0:
        raise LauncherError(f"bad start timeout {to}: must be positive")
    return LauncherSettings(ver, jh, hp, cd.absolute(), to)
