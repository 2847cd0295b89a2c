"""Lay out one node's run directory so many nodes can share one read-only install.

Layout::

    <run>/config/       copy of <install>/config (OPENSEARCH_PATH_CONF)
    <run>/data/         path.data
    <run>/logs/         path.logs, gc.log, hs_err files
    <run>/tmp/          OPENSEARCH_TMPDIR (java.io.tmpdir)
    <run>/console.log   the node's stdout+stderr
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

# Inherited variables that would silently change the JVM or the paths we set.
_SCRUBBED_ENV = ("JAVA_HOME", "JAVA_TOOL_OPTIONS", "JAVA_OPTS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
                 "OPENSEARCH_HOME", "OPENSEARCH_PATH_CONF", "OPENSEARCH_JAVA_OPTS",
                 "OPENSEARCH_TMPDIR", "KEYSTORE_PASSWORD")
# bin/opensearch-env ends with `cd "$OPENSEARCH_HOME"`, so the relative paths in
# the stock jvm.options (gc log, heap dump, JVM error file) point into the
# shared install: nodes would clobber each other's gc.log and an unprivileged
# node user cannot even create it there (the JVM then refuses to start).
_RELATIVE_JVM_PATHS = re.compile(r"(HeapDumpPath=|ErrorFile=|file=|Xloggc:)(data\b|logs/)")


def node_settings(
    *,
    run_dir: Path,
    name: str,
    cluster_name: str,
    http_port: int,
    transport_port: int,
    seed_hosts: Sequence[str] | None,
    initial_cluster_managers: Sequence[str] | None,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Return the opensearch.yml settings of one loopback-only node.

    Without ``seed_hosts`` the node is a single-node cluster; with them it
    joins the listed nodes. ``extra`` wins
    over everything, except that ``network.host`` can never leave 127.0.0.1.
    """
    settings: dict[str, object] = {
        "cluster.name": cluster_name,
        "node.name": name,
        "network.host": "127.0.0.1",
        "http.port": http_port,
        "transport.port": transport_port,
        "path.data": str(run_dir / "data"),
        "path.logs": str(run_dir / "logs"),
        # Tests fill no disk; the watermarks would only make shards unassignable
        # on a nearly full developer disk.
        "cluster.routing.allocation.disk.threshold_enabled": False,
    }
    if seed_hosts is None:
        # cluster.default_number_of_replicas is NOT set here: accepted in
        # opensearch.yml but ignored by index creation (2.19.6); LocalNode puts
        # it into the persistent cluster settings instead.
        settings["discovery.type"] = "single-node"
    else:
        settings["discovery.seed_hosts"] = list(seed_hosts)
        settings["cluster.initial_cluster_manager_nodes"] = list(initial_cluster_managers or [])
    settings.update(extra or {})
    for key in ("network.host", "network.bind_host", "http.host", "transport.host"):
        if key in settings and settings[key] != "127.0.0.1":
            raise ValueError(f"{key} must stay 127.0.0.1, got {settings[key]!r}")
    return settings


def prepare_run_dir(run_dir: Path, home: Path, settings: Mapping[str, object]) -> None:
    """Create the run directory layout from ``home``'s config and ``settings``.

    Replaces an existing ``config/`` (so a restart picks up the same settings
    afresh) but never touches existing ``data/`` or ``logs/``.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    conf = run_dir / "config"
    if conf.exists():
        shutil.rmtree(conf)
    shutil.copytree(home / "config", conf, symlinks=True)
    for sub in ("data", "logs", "tmp"):
        (run_dir / sub).mkdir(exist_ok=True)
    jvm_options = conf / "jvm.options"
    if jvm_options.exists():
        text = jvm_options.read_text()
        jvm_options.write_text(_RELATIVE_JVM_PATHS.sub(rf"\g<1>{run_dir}/\g<2>", text))
    # JSON scalars and lists are valid YAML flow values, so json.dumps quotes
    # every value safely without a YAML library.
    lines = [f"{key}: {json.dumps(value)}" for key, value in settings.items()]
    (conf / "opensearch.yml").write_text("\n".join(lines) + "\n")


def scrubbed_env() -> dict[str, str]:
    """Our environment minus variables that would change the JVM or the paths
    OpenSearch's scripts use (for bin/opensearch and bin/opensearch-plugin)."""
    return {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}


def child_env(run_dir: Path, java_home: Path, heap: str, user: str | None) -> dict[str, str]:
    """Environment for bin/opensearch: :func:`scrubbed_env` plus the JDK, the
    run dir's config and tmp folders and the heap size."""
    env = scrubbed_env()
    env.update(OPENSEARCH_JAVA_HOME=str(java_home),
               OPENSEARCH_PATH_CONF=str(run_dir / "config"),
               # Set, so bin/opensearch skips a JVM run that makes a /tmp folder.
               OPENSEARCH_TMPDIR=str(run_dir / "tmp"),
               # Applied after jvm.options, so it overrides its -Xms1g/-Xmx1g.
               # PerfDisableSharedMem: no /tmp/hsperfdata_<user>/<pid> file,
               # which a SIGKILLed JVM would leave behind.
               OPENSEARCH_JAVA_OPTS=f"-Xms{heap} -Xmx{heap} -XX:+PerfDisableSharedMem")
    if user is not None:
        env.update(HOME=str(run_dir), USER=user, LOGNAME=user)
    return env
