"""The plugin's state index as the bench uses it.

The bench's workflows live where the plugin's ``_status`` reads them, in
``.plugins-flow-framework-state``.  :class:`StateIndex` creates it with
``flowstatus init-index`` when it is absent, grows its read workflows to each
size in turn (raw ``_bulk`` in the plugin's stored format, refresh off
meanwhile, then a refresh and a wait for merges to end), adds other documents
(write targets, long-poll workflows), and at the end deletes the index if the
bench created it, or else deletes only the documents the bench wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from bench.rawhttp import OpenSearchHttp
from bench.seed import read_docs, read_id, seed
from bench.server import flowstatus_command
from flowstatus.repository.opensearch_steps import steps_index

STATE_INDEX = ".plugins-flow-framework-state"


def merges_running(stats: Any) -> int:
    """Merges in progress in an index's ``_stats/merge`` answer (0 if it says nothing)."""
    try:
        return int(stats["_all"]["total"]["merges"]["current"])
    except (KeyError, TypeError, ValueError):
        return 0


def init_index(opensearch_url: str, index: str) -> str:
    """``flowstatus init-index`` for ``index`` (and its step history), with this environment's credentials; its line."""
    env = {**os.environ, "OPENSEARCH_URL": opensearch_url, "FLOWSTATUS_STATE_INDEX": index}
    done = subprocess.run([*flowstatus_command(), "init-index"], env=env, capture_output=True, text=True,
                          check=False, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"flowstatus init-index failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


def drop(client: OpenSearchHttp, index: str) -> None:
    """Delete ``index`` and the step-history index init-index made beside it."""
    for name in (index, steps_index(index)):
        client.request("DELETE", f"/{name}")


class StateIndex:
    def __init__(self, client: OpenSearchHttp, name: str, user: dict[str, Any],
                 say: Callable[[str], None] = print) -> None:
        self.client = client
        self.name = name
        self.user = user
        self.say = say
        self.created = False
        self.read_size = 0  # read workflows bench-0000000 .. present
        self.extra_ids: list[str] = []

    def ensure(self, opensearch_url: str) -> None:
        """Create the index with ``flowstatus init-index`` unless it exists (then it is left as it is)."""
        status, _ = self.client.request("HEAD", f"/{self.name}")
        if status == 200:
            self.say(f"{self.name} exists: the bench adds its documents and deletes only those at the end")
            return
        line = init_index(opensearch_url, self.name)
        self.created = True
        self.say(f"flowstatus init-index: {line}")

    def count(self) -> int | None:
        _, body = self.client.request("GET", f"/{self.name}/_count")
        return body.get("count") if isinstance(body, dict) else None

    def _refresh_interval(self) -> Any:
        _, body = self.client.request("GET", f"/{self.name}/_settings?flat_settings=true")
        entry: dict[str, Any] = next(iter(body.values()), {}) if isinstance(body, dict) else {}
        return entry.get("settings", {}).get("index.refresh_interval")

    def _write(self, docs: Iterable[tuple[str, dict[str, Any]]], what: str, total: int | None) -> int:
        """Send ``docs`` with refresh off, restore the refresh interval, refresh, wait for merges."""
        began = time.monotonic()
        interval = self._refresh_interval()
        self.client.request("PUT", f"/{self.name}/_settings", {"index": {"refresh_interval": "-1"}})

        def tick(done: int) -> None:
            if sys.stderr.isatty():
                sys.stderr.write(f"\r  {what}: {done:,}" + (f"/{total:,}" if total else ""))
                sys.stderr.flush()

        try:
            sent = seed(self.client, self.name, docs, on_progress=tick)
        finally:
            if sys.stderr.isatty():
                sys.stderr.write("\r\033[K")
            self.client.request("PUT", f"/{self.name}/_settings", {"index": {"refresh_interval": interval}})
        self.client.request("POST", f"/{self.name}/_refresh")
        waited = self.wait_for_merges()
        self.say(f"{what}: {sent:,} documents in {time.monotonic() - began:.1f} s (merges waited {waited:.1f} s); "
                 f"{self.name} holds {self.count() or 0:,} documents")
        return sent

    def grow(self, size: int) -> None:
        """Make read workflows ``0 .. size-1`` present (only the missing ones are written)."""
        if size <= self.read_size:
            return
        self._write(read_docs(self.read_size, size, self.user), f"seeding read workflows up to {size:,}",
                    size - self.read_size)
        self.read_size = size

    def add(self, docs: list[tuple[str, dict[str, Any]]], what: str) -> None:
        self.extra_ids += [wid for wid, _ in docs]
        self._write(docs, what, len(docs))

    def wait_for_merges(self, timeout: float = 180.0) -> float:
        """Seconds waited until no merge runs in the index (at most ``timeout``), so a load does not pay for one."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            _, stats = self.client.request("GET", f"/{self.name}/_stats/merge")
            if not merges_running(stats):
                break
            time.sleep(1.0)
        return time.monotonic() - began

    def written_ids(self) -> list[str]:
        return [read_id(i) for i in range(self.read_size)] + self.extra_ids

    def clean_up(self) -> None:
        """Delete the index if the bench created it, else the documents it wrote (by id, ``_bulk``)."""
        if self.created:
            drop(self.client, self.name)
            self.say(f"deleted {self.name} and its step history")
            return
        ids = self.written_ids()
        for start in range(0, len(ids), 5000):
            lines = "".join(json.dumps({"delete": {"_index": self.name, "_id": wid}}) + "\n"
                            for wid in ids[start:start + 5000])
            self.client.request("POST", "/_bulk", lines.encode(), ndjson=True)
        self.client.request("POST", f"/{self.name}/_refresh")
        self.say(f"deleted the bench's {len(ids):,} documents from {self.name}")
