"""Make the security plugin of OpenSearch 3.3+ load on the integ-test distribution.

From 3.3 the security plugin extends the ``rule-framework`` plugin (core's
``autotagging-commons`` module), which the full distribution bundles and the
integ-test zip does not; that module is not on Maven Central either. As
published, the plugin then fails to install ("Missing plugin
[rule-framework], dependency of [opensearch-security]"). Marked optional, it
installs and starts, but every privilege check fails with
``NoClassDefFoundError: org/apache/commons/collections4/CollectionUtils``: the
module also put commons-collections4 on the plugin's class path. The adapted
zip marks the dependency optional and bundles commons-collections4 from Maven
Central; what is lost is only rule-based auto-tagging by user or role.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from .distribution import locked, maven_fetch, remove_leftovers, staging_dir

RULE_FRAMEWORK = "rule-framework"
COLLECTIONS4 = "org.apache.commons:commons-collections4:4.4"
_DESCRIPTOR = "plugin-descriptor.properties"


def _extended_plugins(descriptor: str) -> list[str]:
    """Entries of the descriptor's ``extended.plugins`` line, e.g. ``x;optional=true``."""
    for line in descriptor.splitlines():
        if line.startswith("extended.plugins="):
            return [entry.strip() for entry in line.split("=", 1)[1].split(",") if entry.strip()]
    return []


def required_extended_plugins(zip_path: Path) -> list[str]:
    """Names of the plugins the zip's plugin must have (not marked optional)."""
    with zipfile.ZipFile(zip_path) as zf:
        descriptor = zf.read(_DESCRIPTOR).decode()
    return [entry for entry in _extended_plugins(descriptor) if ";" not in entry]


def without_rule_framework(zip_path: Path, cache_dir: Path) -> Path:
    """``zip_path`` itself if it does not require rule-framework, else the
    adapted zip ``<name>-without-rule-framework.zip`` beside it, made once
    (flock, temp folder, atomic rename). Raises LauncherError when
    commons-collections4 cannot be fetched.
    """
    if RULE_FRAMEWORK not in required_extended_plugins(zip_path):
        return zip_path
    dest = zip_path.with_name(f"{zip_path.stem}-without-{RULE_FRAMEWORK}.zip")
    jar = zip_path.with_name("commons-collections4-4.4.jar")
    with locked(cache_dir / f".lock-plugin-{dest.name}"):
        if dest.is_file():
            return dest
        if not jar.is_file():
            maven_fetch(f"{COLLECTIONS4}:jar", jar, what="commons-collections4 4.4")
        prefix = f".adapt-{dest.name}-"
        remove_leftovers(dest.parent, prefix)
        with staging_dir(dest.parent, prefix) as tmp:
            _rewrite(zip_path, tmp / dest.name, jar)
            os.chmod(tmp / dest.name, 0o644)
            os.replace(tmp / dest.name, dest)
    return dest


def _rewrite(source: Path, target: Path, jar: Path) -> None:
    """Copy ``source`` to ``target`` with rule-framework optional and ``jar`` added."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == _DESCRIPTOR:
                lines = data.decode().splitlines()
                for i, line in enumerate(lines):
                    if line.startswith("extended.plugins="):
                        relaxed = [f"{e};optional=true" if e == RULE_FRAMEWORK else e
                                   for e in _extended_plugins(line)]
                        lines[i] = "extended.plugins=" + ",".join(relaxed)
                data = ("\n".join(lines) + "\n").encode()
            zout.writestr(info, data)  # the original ZipInfo keeps each entry's mode bits
        zout.write(jar, jar.name)
