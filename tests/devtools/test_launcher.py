"""Tests of devtools.opensearch against real OpenSearch processes (no mocks).

Each test that starts a node costs ~10-15 s on 2 cores; the 3-node test is
marked ``cluster`` and takes ~1 min. Nothing is skipped: a missing JDK, mvn or
unzip makes the tests fail with the launcher's explanation.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from devtools.opensearch import (
    LauncherError,
    LocalNode,
    ensure_distribution,
    local_opensearch,
    resolve_settings,
    start_cluster,
)
from devtools.opensearch.privileges import NODE_USER
from devtools.opensearch.util import get_json, http_request

from .helpers import REPO
from .helpers import child_env as _env

LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1"}


def _gone(pid: int) -> bool:
    """True if ``pid`` no longer runs: absent, or a zombie awaiting its reaper.

    Every thread is checked, not just the leader: a killed JVM's leader shows
    as a zombie while its other threads (and its sockets) are still closing.
    """
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        states = [(task / "stat").read_text().rsplit(")", 1)[1].split()[0] for task in tasks]
    except FileNotFoundError:
        return True
    return all(state in "ZX" for state in states)


def _wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE).group(1))  # type: ignore[union-attr]


def _decode(hex_addr: str) -> str:
    """Address of a /proc/net/tcp{,6} entry (32-bit words in host order)."""
    raw = bytes.fromhex(hex_addr)
    fixed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, fixed)


def _listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket ``pid`` listens on."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            match = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
        except OSError:
            continue
        if match:
            inodes.add(match.group(1))
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                found.append((_decode(address), int(port, 16)))
    return found


def _local_node_info(url: str) -> tuple[int, Path]:
    """(pid, path.data) of the node answering at ``url``, from its own API."""
    nodes = get_json(url + "/_nodes/_local/process,settings")["nodes"]
    info = next(iter(nodes.values()))
    data = info["settings"]["path"]["data"]  # a list when set in opensearch.yml
    return info["process"]["id"], Path(data[0] if isinstance(data, list) else data)


def _refused(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        try:
            sock.connect((host, port))
        except OSError:  # refused, or no such local address
            return True
    return False


def _port_freed_by_node(port: int, run_dir: str, timeout: float = 10.0) -> bool:
    """Nothing of the killed node answers on its port any more.

    On a busy machine another process may take the freed port at once; that
    is fine as long as it is not a process of the killed node (its run dir).
    """
    deadline = time.monotonic() + timeout
    while not _refused("127.0.0.1", port):
        if time.monotonic() > deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_nodes/_local/settings", timeout=5) as reply:
                node = next(iter(json.load(reply)["nodes"].values()))
            return run_dir not in json.dumps(node["settings"].get("path", {}))
        time.sleep(0.2)
    return True


def test_settings_defaults_and_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FLOWSTATUS_OPENSEARCH_VERSION", "FLOWSTATUS_OPENSEARCH_JAVA_HOME",
                "FLOWSTATUS_OPENSEARCH_HEAP", "FLOWSTATUS_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="127.0.0.1"):
        LocalNode(settings={"network.host": "0.0.0.0"})
    s = resolve_settings(check_java=False)
    assert (s.version, s.heap, s.start_timeout) == ("2.19.6", "512m", 180.0)
    assert s.java_home == Path("/usr/lib/jvm/java-17-openjdk-amd64")
    assert resolve_settings("3.3.2", check_java=False).java_home.name == "temurin-25-jdk-amd64"
    if os.geteuid() == 0:  # /root is mode 700: the node user could not read there
        assert s.cache_dir == Path("/var/cache/flowstatus")
    monkeypatch.setenv("FLOWSTATUS_OPENSEARCH_JAVA_HOME", "/nonexistent/jdk")
    with pytest.raises(LauncherError, match="FLOWSTATUS_OPENSEARCH_JAVA_HOME"):
        resolve_settings()
    monkeypatch.setenv("FLOWSTATUS_OPENSEARCH_HEAP", "lots")
    with pytest.raises(LauncherError, match="heap"):
        resolve_settings(check_java=False)


def test_fetch_into_empty_cache_then_reuse_without_mvn(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "empty-cache"
    first = ensure_distribution(cache_dir=cache)
    assert first.downloaded and first.unpacked
    assert os.access(first.home / "bin" / "opensearch", os.X_OK), "execute bits lost in unpack"
    assert first.home == cache / "install" / f"opensearch-{first.version}"

    # Second call: tools that record being run sit first on PATH; neither may run.
    fake_bin, marker = tmp_path / "bin", tmp_path / "invoked"
    fake_bin.mkdir()
    for tool in ("mvn", "unzip"):
        (fake_bin / tool).write_text(f"#!/bin/sh\necho {tool} >> {marker}\nexit 1\n")
        (fake_bin / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    second = ensure_distribution(cache_dir=cache)
    assert not second.downloaded and not second.unpacked
    assert not marker.exists(), f"{marker.read_text()} was run on a warm cache"
    monkeypatch.undo()

    # A half tree (interrupted unpack by hand, stale temp dir) is never trusted.
    stale = cache / "install" / f".unpack-{first.version}-stale"
    stale.mkdir()
    (first.home / "bin" / "opensearch").unlink()
    third = ensure_distribution(cache_dir=cache)
    assert third.unpacked and not third.downloaded
    assert os.access(third.home / "bin" / "opensearch", os.X_OK)
    assert not stale.exists()


def test_node_serves_loopback_only_and_stops_without_trace() -> None:
    with local_opensearch() as url:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        pid, data_dir = _local_node_info(url)
        assert get_json(url + "/_cluster/health")["status"] == "green"
        assert http_request("PUT", url + "/launcher-probe", {})[0] == 200
        health = get_json(url + "/_cluster/health/launcher-probe?wait_for_status=green&timeout=30s")
        assert health["status"] == "green", "single node must default new indices to 0 replicas"
        listening = _listening(pid)
        assert port in {p for _, p in listening}
        assert {a for a, _ in listening} <= LOOPBACK, f"node listens beyond 127.0.0.1: {listening}"
        assert _refused("127.0.0.2", port) and _refused("::1", port)
        if os.geteuid() == 0:
            assert _uid(pid) == pwd.getpwnam(NODE_USER).pw_uid
    assert _wait_gone(pid, 5), f"node pid {pid} still runs after stop"
    assert _refused("127.0.0.1", port)
    assert not data_dir.parent.exists(), f"run dir {data_dir.parent} left behind"


def test_failed_start_reports_log_and_leaves_nothing() -> None:
    node = LocalNode(settings={"no.such.setting": "x"})
    with pytest.raises(LauncherError, match=r"unknown setting \[no.such.setting\]"):
        node.start()
    assert node.pid is not None and _gone(node.pid)
    assert not node.run_dir.exists()


def test_node_dies_with_its_launcher_process() -> None:
    script = ("import time; from devtools.opensearch import start_node; n = start_node(); "
              "print(n.pid, n.http_port, n.run_dir, flush=True); time.sleep(600)")
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                          env=_env(), cwd=REPO) as launcher:
        assert launcher.stdout is not None
        line = launcher.stdout.readline()
        assert line, "launcher subprocess printed nothing (see stderr above)"
        pid_text, port_text, run_dir = line.split()
        pid, port = int(pid_text), int(port_text)
        try:
            assert not _gone(pid)
            if os.geteuid() == 0:  # the death signal must survive the uid switch
                assert _uid(pid) != 0
            launcher.send_signal(signal.SIGKILL)
            launcher.wait()
            assert _wait_gone(pid, 15), f"node {pid} survived the SIGKILL of its launcher"
            assert _port_freed_by_node(port, run_dir)
        finally:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
            shutil.rmtree(run_dir, ignore_errors=True)  # abrupt death cannot clean up


def test_cli_run_sets_url_propagates_exit_code_and_stops_node() -> None:
    probe = ("import json, os, sys, urllib.request; u = os.environ['OPENSEARCH_URL']; "
             "n = json.load(urllib.request.urlopen(u + '/_nodes/_local/process'))['nodes']; "
             "print(next(iter(n.values()))['process']['id']); sys.exit(5)")
    cmd = [sys.executable, "-m", "devtools.opensearch", "run", "--", sys.executable, "-c", probe]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, env=_env(), cwd=REPO, timeout=300)
    assert res.returncode == 5, res.stderr
    pid = int(res.stdout.strip())
    assert _wait_gone(pid, 5), "node still runs after `run` returned"

    # With OPENSEARCH_URL already set no node is started.
    cmd = [sys.executable, "-m", "devtools.opensearch", "run", "--", "sh", "-c",
           'test "$OPENSEARCH_URL" = http://127.0.0.1:1 && exit 7']
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=REPO, timeout=60,
                         env=_env(OPENSEARCH_URL="http://127.0.0.1:1"))
    assert res.returncode == 7 and "started" not in res.stderr, res.stderr


def test_cli_start_runs_until_sigterm() -> None:
    cmd = [sys.executable, "-m", "devtools.opensearch", "start"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=_env(), cwd=REPO) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert proc.stdout.readline().strip() == f"export OPENSEARCH_URL={url}"
        pid, _ = _local_node_info(url)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    assert _wait_gone(pid, 5)


@pytest.mark.cluster
def test_cluster_survives_a_killed_node_and_takes_it_back() -> None:
    cluster = start_cluster(3)
    pids: list[int] = []
    try:
        names = sorted(row["name"] for row in cluster.get_json("/_cat/nodes?format=json"))
        assert names == ["node-0", "node-1", "node-2"]
        pids = [node.pid for node in cluster.nodes if node.pid is not None]
        index = cluster.url + "/launcher-cluster"
        body = {"settings": {"number_of_shards": 1, "number_of_replicas": 1}}
        assert http_request("PUT", index, body)[0] == 200
        assert http_request("PUT", index + "/_doc/1?refresh=true", {"v": 1})[0] == 201
        assert cluster.wait_healthy()["status"] == "green"

        victim = cluster.primary_node_of("launcher-cluster")
        cluster.kill_node(victim)
        assert _gone(pids[victim])
        health = cluster.wait_healthy(timeout=90)
        assert health["number_of_nodes"] == 2 and health["status"] in ("green", "yellow")
        survivor = next(i for i in range(3) if i != victim)
        status, doc = http_request("GET", cluster.nodes[survivor].url + "/launcher-cluster/_doc/1")
        assert status == 200 and json.loads(doc)["_source"] == {"v": 1}
        assert cluster.primary_node_of("launcher-cluster") != victim

        cluster.start_node(victim)
        assert len(cluster.get_json("/_cat/nodes?format=json")) == 3
        pids.append(cluster.nodes[victim].pid or 0)
    finally:
        cluster.stop()
    assert all(_wait_gone(pid, 5) for pid in pids)
    assert not cluster.base_dir.exists()
