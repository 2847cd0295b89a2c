"""Plugin installs and Flow Framework nodes, against real processes (no mocks).

The Flow Framework tests need the flow-framework zip (not on Maven Central):
without it they fail under CI=true and are skipped elsewhere. A cold cache
adds ~25 s per version for fetching and installing the plugins.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devtools.opensearch import (
    LauncherError,
    Plugin,
    PluginSet,
    PluginZipNotFound,
    ensure_distribution,
    ensure_plugin_install,
    flow_framework_plugins,
    flow_framework_zip,
    resolve_settings,
    start_node,
)
from devtools.opensearch.flowframework import ZIPS_ENV, zip_folders
from devtools.opensearch.plugins import MARKER, ensure_plugin_zip, sha256_of

from .conftest import require_flow_framework_zip
from .helpers import REPO, child_env
from .workflows import plugins, provision_and_wait

FLOW_FRAMEWORK_PLUGINS = ["opensearch-flow-framework", "opensearch-job-scheduler", "opensearch-ml"]
JOB_SCHEDULER_COORDS = ("opensearch-job-scheduler", "org.opensearch.plugin", "opensearch-job-scheduler", "2.19.6.0")
JOB_SCHEDULER = Plugin.maven(*JOB_SCHEDULER_COORDS)


@pytest.fixture
def seeded_cache(tmp_path: Path) -> Path:
    """An otherwise empty cache holding the 2.19.6 distribution zip and the
    job-scheduler zip (links into the real cache), so no mvn runs."""
    real = resolve_settings(check_java=False).cache_dir
    sources = [ensure_distribution("2.19.6").zip_path, ensure_plugin_zip(JOB_SCHEDULER, real)[0]]
    cache = tmp_path / "cache"
    for source, sub in zip(sources, ("dist", "plugins"), strict=True):
        (cache / sub).mkdir(parents=True)
        try:
            os.link(source, cache / sub / source.name)
        except OSError:  # another file system
            shutil.copyfile(source, cache / sub / source.name)
    return cache


def test_plugin_install_is_made_once_even_concurrently_and_never_trusted_half_done(seeded_cache: Path) -> None:
    script = ("import sys; from devtools.opensearch import Plugin, PluginSet, ensure_plugin_install, "
              "resolve_settings; s = resolve_settings('2.19.6', cache_dir=sys.argv[1]); "
              f"js = Plugin.maven(*{JOB_SCHEDULER_COORDS!r}); "
              "i = ensure_plugin_install(s, PluginSet('js', (js,))); "
              "print(i.installed, i.home, i.home.stat().st_ino)")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(seeded_cache)], stdout=subprocess.PIPE,
                              text=True, env=child_env(), cwd=REPO) for _ in range(2)]
    results = sorted(proc.communicate(timeout=300)[0].split() for proc in procs)
    assert all(proc.returncode == 0 for proc in procs)
    assert [r[0] for r in results] == ["False", "True"], "exactly one of two concurrent calls installs"
    assert results[0][1:] == results[1][1:], "both get the same folder"
    home = Path(results[0][1])
    assert home.parent == seeded_cache / "install" and home.name.startswith("opensearch-2.19.6-js-")
    assert (home / "plugins" / "opensearch-job-scheduler").is_dir()
    assert os.access(home / "bin" / "opensearch", os.X_OK)

    settings, plugin_set = resolve_settings("2.19.6", cache_dir=seeded_cache), PluginSet("js", (JOB_SCHEDULER,))
    before = home.stat()
    again = ensure_plugin_install(settings, plugin_set)
    assert not again.installed and again.home == home
    assert (home.stat().st_ino, home.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    # A leftover temp folder is removed; a folder without the marker (a half
    # install, or one made by hand) is rebuilt, never used.
    stale = home.parent / f".install-{home.name}-stale"
    stale.mkdir()
    (home / MARKER).unlink()
    third = ensure_plugin_install(settings, plugin_set)
    assert third.installed and (home / MARKER).is_file() and not stale.exists()
    assert json.loads((home / MARKER).read_text())["plugins"][0]["name"] == "opensearch-job-scheduler"

    # A zip with another digest than the one asked for is refused.
    wrong = Plugin("opensearch-job-scheduler", path=third.zips[0], sha256="0" * 64)
    with pytest.raises(LauncherError, match="sha256"):
        ensure_plugin_install(settings, PluginSet("js", (wrong,)))


def test_flow_framework_zip_is_looked_up_verified_and_kept_in_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_zip = require_flow_framework_zip("2.19.6")
    cache, empty = tmp_path / "cache", tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PluginZipNotFound) as missing:
        flow_framework_zip("2.19.6", cache, folders=[empty])
    for expected in (ZIPS_ENV, str(empty), str(cache / "plugins")):
        assert expected in str(missing.value)

    found = flow_framework_zip("2.19.6", cache, folders=[real_zip.parent])
    assert found == cache / "plugins" / real_zip.name and sha256_of(found) == sha256_of(real_zip)
    assert flow_framework_zip("2.19.6", cache, folders=[empty]) == found, "the cached copy is found later"

    monkeypatch.setenv(ZIPS_ENV, str(empty))
    assert zip_folders()[0] == empty
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / real_zip.name).write_bytes(b"not the plugin")
    with pytest.raises(LauncherError, match="sha256"):
        flow_framework_zip("2.19.6", tmp_path / "other-cache", folders=[bad])
    with pytest.raises(LauncherError, match="no known flow-framework build"):
        flow_framework_zip("2.19.5", cache, folders=[empty])


def test_cli_run_flow_framework_provisions_a_workflow_on_a_reused_install() -> None:
    require_flow_framework_zip("2.19.6")
    settings = resolve_settings("2.19.6")
    plugin_set = flow_framework_plugins("2.19.6", settings.cache_dir)
    before = ensure_plugin_install(settings, plugin_set)  # installs only on a cold cache
    stat = before.home.stat()

    cmd = [sys.executable, "-m", "devtools.opensearch", "run", "--plugins", "flow-framework",
           "--opensearch-version", "2.19.6", "--", sys.executable, "-m", "tests.devtools.workflows"]
    # On a timeout subprocess.run SIGKILLs the launcher; the node dies with it (pdeathsig).
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, env=child_env(), cwd=REPO, timeout=400)
    assert res.returncode == 0, res.stdout + res.stderr
    out = json.loads(res.stdout)
    assert out["plugins"] == FLOW_FRAMEWORK_PLUGINS
    assert out["status"]["state"] == "COMPLETED" and out["status"]["provisioning_progress"] == "DONE"
    assert [r["resource_id"] for r in out["status"]["resources_created"]] == [out["index"]]
    assert "installing plugin set" not in res.stderr

    after = ensure_plugin_install(settings, plugin_set)
    assert not after.installed and after.home == before.home
    assert (after.home.stat().st_ino, after.home.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_flow_framework_node_on_3_6_provisions_a_workflow() -> None:
    require_flow_framework_zip("3.6.0")
    node = start_node("flow-framework", version="3.6.0", start_timeout=300)
    try:
        assert node.install is not None and node.install.home.name.startswith("opensearch-3.6.0-flow-framework-")
        assert plugins(node.url) == FLOW_FRAMEWORK_PLUGINS
        index = f"launcher-wf-{uuid.uuid4().hex[:8]}"
        final = provision_and_wait(node.url, index, separate_provision=True)
        assert final["state"] == "COMPLETED", final
        assert [r["resource_id"] for r in final["resources_created"]] == [index]
    finally:
        node.stop()
