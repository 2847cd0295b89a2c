"""Several local OpenSearch nodes forming one cluster on 127.0.0.1, for failure tests."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from .node import LocalNode
from .settings import LauncherError
from .util import Leftovers, free_ports, get_json, poll_until, progress

_LIVE: Leftovers[LocalCluster] = Leftovers(lambda cluster: cluster.stop(timeout=10.0))


class LocalCluster:
    """``size`` nodes named node-0 … node-<size-1> sharing one cluster name.

    Every node is cluster-manager eligible and a data node, with its own ports
    and run dir under ``base_dir``; ``discovery.seed_hosts`` lists all
    transport ports and ``cluster.initial_cluster_manager_nodes`` all names
    (the 2.x+ names of the former ``*master*`` settings). Indices keep
    OpenSearch's default of 1 replica, so one node can die without data loss.
    Node indexes (``i``) are positions in :attr:`nodes`. Other keyword
    arguments are LocalNode's and apply to every node.
    """

    def __init__(self, size: int = 3, *, cluster_name: str | None = None,
                 base_dir: str | os.PathLike[str] | None = None, keep_run_dir: bool = False,
                 settings: Mapping[str, object] | None = None, **node_kwargs: Any) -> None:
        if size < 1:
            raise LauncherError(f"a cluster needs at least one node, not {size}")
        self.cluster_name = cluster_name or f"flowstatus-cluster-{secrets.token_hex(3)}"
        self._owns_base = base_dir is None
        self.base_dir = Path(base_dir) if base_dir else Path(tempfile.gettempdir()) / (
            f"flowstatus-opensearch-{self.cluster_name}")
        self.keep_run_dir = keep_run_dir
        ports = free_ports(2 * size)
        names = [f"node-{i}" for i in range(size)]
        seeds = [f"127.0.0.1:{ports[2 * i + 1]}" for i in range(size)]
        self.nodes = [
            LocalNode(name=names[i], cluster_name=self.cluster_name, http_port=ports[2 * i],
                      transport_port=ports[2 * i + 1], seed_hosts=seeds,
                      initial_cluster_managers=names, settings=settings,
                      run_dir=self.base_dir / names[i], keep_run_dir=True, **node_kwargs)
            for i in range(size)
        ]
        self._up: set[int] = set()  # nodes started and not stopped/killed by us

    @property
    def urls(self) -> list[str]:
        """Every node's URL, by node index (also of nodes that are down)."""
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """URL of the first node that should be up."""
        if not self._up:
            raise LauncherError("no node of the cluster is up")
        return self.nodes[min(self._up)].url

    def start(self, wait: bool = True) -> Self:
        """Start every node; with ``wait``, block until :meth:`wait_healthy`.

        On failure every node is killed, the base dir removed (if ours), and
        the error re-raised.
        """
        # Root-owned but traversable: each node's run dir below is chowned to
        # the node user, who must be able to reach it.
        self.base_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chmod(self.base_dir, 0o755)
        _LIVE.add(self)
        try:
            for i, node in enumerate(self.nodes):
                node.start(wait=False)
                self._up.add(i)
            if wait:
                self.wait_healthy()
        except BaseException:
            for node in self.nodes:
                node.kill()
            self.stop()
            raise
        return self

    def wait_healthy(self, timeout: float | None = None, status: str | None = None) -> dict[str, Any]:
        """Block until every up node serves HTTP and the cluster reaches ``status``.

        ``status=None`` means green when the state allows it (no delayed
        unassigned shards and no index with more replicas than other nodes),
        else yellow. Returns the final ``_cluster/health`` body. Raises
        LauncherError if an up node dies or ``timeout`` (default: the start
        timeout) passes.
        """
        limit = self.nodes[0].config.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        health = self._wait_status(status or "yellow", deadline)
        if status is None and health["status"] != "green":
            max_rep = max((int(row["rep"]) for row in self.get_json(
                "/_cat/indices?format=json&h=index,rep&expand_wildcards=all")), default=0)
            if health.get("delayed_unassigned_shards", 0) == 0 and max_rep < len(self._up):
                health = self._wait_status("green", deadline)
        progress(f"cluster {self.cluster_name}: {len(self._up)} nodes, {health['status']}")
        return health

    def _wait_status(self, status: str, deadline: float) -> dict[str, Any]:
        """Poll health with wait_for_nodes=<up nodes> until ``status`` or ``deadline``."""
        query = f"/_cluster/health?wait_for_status={status}&wait_for_nodes={len(self._up)}&timeout=2s"
        found: dict[str, Any] = {}

        def ready() -> bool:
            if any(self.nodes[i].answers("/") != 200 for i in sorted(self._up)):
                return False
            try:
                found.update(get_json(self.url + query, timeout=10.0))
            except (OSError, ValueError):
                return False  # 408 while waiting, 503 before a manager is elected
            return True

        def alive() -> None:
            for i in sorted(self._up):
                self.nodes[i].check_alive()

        try:
            poll_until(ready, what=f"cluster {self.cluster_name} ({status})",
                       timeout=max(0.0, deadline - time.monotonic()), alive=alive)
        except TimeoutError as err:
            logs = "\n".join(f"--- {self.nodes[i].name}:\n{self.nodes[i].log_tail(15)}"
                             for i in sorted(self._up))
            raise LauncherError(f"{err}\n{logs}") from None
        return found

    def stop_node(self, i: int, timeout: float = 30.0) -> None:
        """Stop node ``i`` gracefully (SIGTERM), keeping its data for start_node(i)."""
        self._up.discard(i)
        self.nodes[i].stop(timeout, keep_run_dir=True)

    def kill_node(self, i: int) -> None:
        """SIGKILL node ``i`` now, keeping its data for start_node(i)."""
        self._up.discard(i)
        self.nodes[i].kill()

    def start_node(self, i: int, wait: bool = True) -> None:
        """(Re)start node ``i`` on its old ports and data dir so it rejoins.

        With ``wait``, blocks until :meth:`wait_healthy`; if that fails the
        node is killed again and the error re-raised.
        """
        self.nodes[i].start(wait=False)
        self._up.add(i)
        if wait:
            try:
                self.wait_healthy()
            except BaseException:
                self.kill_node(i)
                raise

    def get_json(self, path: str) -> Any:
        """GET ``path`` from the first up node that answers 200; decode JSON."""
        errors = []
        for i in sorted(self._up):
            try:
                return get_json(self.nodes[i].url + path)
            except (OSError, ValueError) as err:
                errors.append(f"{self.nodes[i].name}: {err}")
        raise LauncherError(f"no node answered GET {path}: {errors or 'no node is up'}")

    def primary_node_of(self, index: str, shard: int = 0) -> int:
        """Index (in :attr:`nodes`) of the node holding the started primary of
        ``index``'s shard ``shard``. Raises LauncherError if there is none."""
        rows = self.get_json(f"/_cat/shards/{urllib.parse.quote(index)}"
                             "?format=json&h=index,shard,prirep,state,node")
        names = [node.name for node in self.nodes]
        for row in rows:
            if (row["shard"] == str(shard) and row["prirep"] == "p"
                    and row["state"] == "STARTED" and row["node"] in names):
                return names.index(row["node"])
        raise LauncherError(f"no started primary of {index}[{shard}]: {rows}")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node (SIGKILL after ``timeout`` s) and remove the base dir
        unless keep_run_dir or the caller supplied it. Idempotent."""
        self._up.clear()
        for node in self.nodes:
            node.stop(timeout, keep_run_dir=True)
        if self._owns_base and not self.keep_run_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)
        _LIVE.discard(self)

    def __enter__(self) -> Self:
        return self if self._up else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LocalCluster {self.cluster_name} up={sorted(self._up)} of {len(self.nodes)}>"

