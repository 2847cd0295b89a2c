"""The Flow Framework plugin set: job-scheduler + ml-commons + flow-framework.

job-scheduler and ml-commons come from Maven Central (group
``org.opensearch.plugin``, version = OpenSearch version + ``.0``). The
flow-framework plugin is not published there: its zip is a local build, found
by :func:`flow_framework_zip` and checked against the digests below.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from .distribution import locked, make_dir, staging_dir
from .plugins import Plugin, PluginSet, sha256_of
from .settings import LauncherError

GROUP = "org.opensearch.plugin"
ZIPS_ENV = "FLOWSTATUS_PLUGIN_ZIPS"
# sha256 of the flow-framework builds known to work, by OpenSearch version
# (each built from the plugin's git tag <version>.0). A plugin loads only on
# the exact OpenSearch version it was built for.
FLOW_FRAMEWORK_SHA256 = {
    "2.19.6": "ac35fea885a630a43d94243bbda74269885abc88c6fe7eb782d2646277e756d6",
    "3.6.0": "b8ca0714b0e011b96e32112186e5babd309243fa7a63e0a7bcb7d158ac0da954",
}
# ml-commons refuses to run on a small single node without these: it wants a
# dedicated ML node and stops below 90 % free native/heap memory by default.
ML_COMMONS_SETTINGS = {
    "plugins.ml_commons.only_run_on_ml_node": False,
    "plugins.ml_commons.native_memory_threshold": 100,
    "plugins.ml_commons.jvm_heap_memory_threshold": 100,
}
# ml-commons is ~375 MB of jars; 512m of heap starts, but 1g is what the
# plugin's own test clusters use and leaves room for workflows.
FLOW_FRAMEWORK_HEAP = "1g"
_REPO = Path(__file__).resolve().parents[2]


class PluginZipNotFound(LauncherError):
    """A plugin zip that is not on Maven Central was found nowhere.

    Tests turn it into a skip on a developer machine and a failure in CI.
    """


def zip_folders() -> list[Path]:
    """Folders searched for a local plugin zip before the cache, in order:
    $FLOWSTATUS_PLUGIN_ZIPS, ``<repo>/../shared/opensearch-plugins``,
    ``/work/shared/opensearch-plugins``."""
    folders = [Path(os.environ[ZIPS_ENV]).expanduser()] if os.environ.get(ZIPS_ENV) else []
    return folders + [_REPO.parent / "shared" / "opensearch-plugins", Path("/work/shared/opensearch-plugins")]


def flow_framework_zip(version: str, cache_dir: Path, folders: Sequence[Path] | None = None) -> Path:
    """Path of the verified flow-framework zip for OpenSearch ``version``.

    Searches ``folders`` (default :func:`zip_folders`), then
    ``<cache>/plugins``. A copy found outside the cache is copied there
    (atomically) so later runs find it even where the other folders are
    gone. Raises PluginZipNotFound (saying where it looked and which variable
    to set) when there is none, and LauncherError for an unknown version or a
    zip with another sha256.
    """
    expected = FLOW_FRAMEWORK_SHA256.get(version)
    if expected is None:
        raise LauncherError(f"no known flow-framework build for OpenSearch {version}; "
                            f"known: {', '.join(sorted(FLOW_FRAMEWORK_SHA256))}")
    name = f"opensearch-flow-framework-{version}.0.zip"
    cached = cache_dir / "plugins" / name
    searched = [*(zip_folders() if folders is None else folders), cached.parent]
    found = next((folder / name for folder in searched if (folder / name).is_file()), None)
    if found is None:
        looked = ", ".join(str(folder) for folder in searched)
        raise PluginZipNotFound(f"{name} (the Flow Framework plugin, not on Maven Central) is in none of: "
                                f"{looked}; set {ZIPS_ENV} to the folder that holds it")
    digest = sha256_of(found)
    if digest != expected:
        raise LauncherError(f"{found} has sha256 {digest}, expected {expected}: not the known build")
    if found != cached:
        _copy_into_cache(found, cached)
    return cached


def _copy_into_cache(source: Path, cached: Path) -> None:
    """Copy ``source`` to ``cached`` through a temp folder and a rename, once."""
    make_dir(cached.parent.parent)
    make_dir(cached.parent)
    with locked(cached.parent.parent / f".lock-plugin-{cached.name}"):
        if cached.is_file() and sha256_of(cached) == sha256_of(source):
            return
        with staging_dir(cached.parent, f".copy-{cached.name}-") as tmp:
            shutil.copyfile(source, tmp / cached.name)
            os.chmod(tmp / cached.name, 0o644)
            os.replace(tmp / cached.name, cached)


def flow_framework_plugins(version: str, cache_dir: Path) -> PluginSet:
    """The plugin set of a Flow Framework node on OpenSearch ``version``
    (2.19.6 or 3.6.0); raises as :func:`flow_framework_zip` does."""
    plugin_version = f"{version}.0"
    zip_path = flow_framework_zip(version, cache_dir)
    return PluginSet(
        name="flow-framework",
        plugins=(
            Plugin.maven("opensearch-job-scheduler", GROUP, "opensearch-job-scheduler", plugin_version),
            Plugin.maven("opensearch-ml", GROUP, "opensearch-ml-plugin", plugin_version),
            Plugin("opensearch-flow-framework", path=zip_path, sha256=FLOW_FRAMEWORK_SHA256[version]),
        ),
        settings=ML_COMMONS_SETTINGS,
        heap=FLOW_FRAMEWORK_HEAP,
    )
