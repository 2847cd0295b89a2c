"""The long-poll row: many concurrent long polls on workflows that change.

What it measures is the server's side: how many OS threads and how much
memory the flowstatus workers hold while ``waiters`` long polls wait, and how
many OpenSearch requests per second those waiters cause (from flowstatus's
own ``/metrics``).  The pollers are Python threads, which is fine here: each
one is idle in a long poll almost all the time, and client throughput is not
what is measured.

Each poller follows one workflow with ``If-None-Match`` and
``wait_for_completion_timeout``; a changer appends a resource to a random
workflow ``changes_per_s`` times a second through the bulk events endpoint.
For comparison, the same clients polling once a second without long polls
would send ``waiters`` GETs per second to flowstatus, and as many to OpenSearch.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from bench import procfs
from bench.seed import USER, write_doc

STATUS_PATH = "/_plugins/_flow_framework/workflow/%s/_status"
PREFIX = "bench-lp-"


def _os_threads(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _opensearch_calls(server_url: str) -> dict[str, float]:
    """flowstatus's count of OpenSearch calls so far, by operation (all workers)."""
    with urllib.request.urlopen(server_url + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    calls: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("flowstatus_opensearch_request_duration_seconds_count{"):
            op = line.split('operation="', 1)[1].split('"', 1)[0]
            calls[op] = calls.get(op, 0.0) + float(line.rsplit(" ", 1)[1])
    return calls


def _waiters(server_url: str) -> float:
    with urllib.request.urlopen(server_url + "/metrics", timeout=10) as reply:
        return sum(float(line.rsplit(" ", 1)[1]) for line in reply.read().decode().splitlines()
                   if line.startswith("flowstatus_long_poll_waiters"))


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        reply.read()


def workflows(count: int = 100, user: dict[str, Any] = USER) -> list[tuple[str, dict[str, Any]]]:
    """The PROVISIONING workflows the long polls follow; they must be in the server's index before the row."""
    return [(wid, write_doc(wid, user)) for wid in (f"{PREFIX}{i:05d}" for i in range(count))]


def long_poll_row(server: Any, ids: list[str], *, waiters: int = 300, changes_per_s: float = 10.0,
                  duration: float = 20.0, say: Any = print) -> dict[str, Any]:
    """Run the scenario against ``server`` (a bench FlowstatusServer) on workflows ``ids``; return its figures.

    ``worker_os_threads_max_each`` is the most OS threads each worker held at
    any sample; ``worker_os_threads_max`` the most all workers held together.
    """
    workflows = len(ids)
    stop = threading.Event()
    answers = {"200": 0, "304": 0, "error": 0}
    lock = threading.Lock()

    def poll(wid: str) -> None:
        etag = None
        url = server.url + STATUS_PATH % wid
        while not stop.is_set():
            # The first request reads the state at once, then each waits for a change (as `flowstatus watch`).
            request = urllib.request.Request(url + "?wait_for_completion_timeout=30s", headers={"If-None-Match": etag}) \
                if etag else urllib.request.Request(url)
            try:
                with urllib.request.urlopen(request, timeout=60) as reply:
                    etag = reply.headers.get("ETag")
                    reply.read()
                    key = "200"
            except urllib.error.HTTPError as exc:
                key = "304" if exc.code == 304 else "error"
            except OSError:
                key = "error"
            with lock:
                answers[key] += 1

    def change() -> None:
        n = 0
        while not stop.wait(1.0 / changes_per_s):
            n += 1
            event = {"event": "resource_created", "workflow_id": random.choice(ids),
                     "workflow_step_name": "create_index", "workflow_step_id": f"lp_{n}", "resource_id": f"lp-{n}"}
            try:
                _post(server.url + "/_flowstatus/_bulk", json.dumps(event).encode() + b"\n")
            except OSError:
                pass

    threads = [threading.Thread(target=poll, args=(ids[i % workflows],), daemon=True) for i in range(waiters)]
    threads.append(threading.Thread(target=change, daemon=True))
    for t in threads:
        t.start()
    say(f"long polls: {waiters} waiters on {workflows} workflows, {changes_per_s:g} changes/s, {duration:g} s")
    time.sleep(3.0)  # let every poller reach its first wait
    calls_before, answers_before = _opensearch_calls(server.url), dict(answers)
    started = time.monotonic()
    samples = []
    while time.monotonic() - started < duration:
        time.sleep(1.0)
        samples.append(({pid: _os_threads(pid) for pid in server.workers()}, _waiters(server.url)))
    elapsed = time.monotonic() - started
    calls_after, answers_after = _opensearch_calls(server.url), dict(answers)
    rss = [round((procfs.rss_kib(pid) or 0) / 1024, 1) for pid in server.workers()]
    stop.set()
    for t in threads:
        t.join(70)
    pids = sorted({pid for s in samples for pid in s[0]})
    rates = {op: round((calls_after.get(op, 0) - calls_before.get(op, 0)) / elapsed, 1) for op in calls_after}
    return {
        "waiters": waiters,
        "workflows": workflows,
        "changes_per_s": changes_per_s,
        "duration_s": round(elapsed, 1),
        "answers_per_s": {k: round((answers_after[k] - answers_before[k]) / elapsed, 1) for k in answers},
        "opensearch_requests_per_s": rates,
        "opensearch_requests_per_s_total": round(sum(rates.values()), 1),
        "plain_polling_per_s_equivalent": waiters,
        "worker_os_threads_max": max(sum(s[0].values()) for s in samples),
        "worker_os_threads_max_each": [max(s[0].get(pid, 0) for s in samples) for pid in pids],
        "waiters_gauge_min": min(s[1] for s in samples),
        "worker_rss_mib": rss,
    }


def markdown(figures: dict[str, Any]) -> str:
    """The long-poll row as a small Markdown table."""
    f = figures
    os_rates = ", ".join(f"{op} {rate:g}/s" for op, rate in sorted(f["opensearch_requests_per_s"].items()) if rate)
    header = ("| long polls | changes/s | answers/s (200 / 304) | OpenSearch requests/s caused "
              "| OS threads per worker (max) | worker RSS MiB |")
    threads = ", ".join(str(n) for n in f.get("worker_os_threads_max_each") or [f["worker_os_threads_max"]])
    row = (f"| {f['waiters']} waiting (gauge min {f['waiters_gauge_min']:g}) on {f['workflows']} workflows "
           f"| {f['changes_per_s']:g} | {f['answers_per_s']['200']:g} / {f['answers_per_s']['304']:g} "
           f"| {f['opensearch_requests_per_s_total']:g} ({os_rates}); polling each second would be {f['waiters']} "
           f"| {threads} | {', '.join(str(r) for r in f['worker_rss_mib'])} |")
    return f"{header}\n| --- | --- | --- | --- | --- | --- |\n{row}"
