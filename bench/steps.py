"""What the step observer costs: OpenSearch requests per second and CPU, while N workflows provision.

    python bench/steps.py [--workflows 0,100,1000] [--processes 2] [--seconds 20] [--interval 1]

For each N, on a fresh state index (and its companion index, both dropped
afterwards):

1. N workflows are PROVISIONING, in the plugin's stored format, and a driver
   appends one resource to each every ``--step-seconds`` (as the plugin does
   when a step ends), rewriting the whole document with raw ``_bulk``;
2. ``--processes`` observer processes run the observer loop of
   ``flowstatus serve`` (the same collaborators, the same lease) for
   ``--seconds``; each reports the OpenSearch calls it made, by operation
   (flowstatus's own ``flowstatus_opensearch_request_duration_seconds``
   counts), its CPU time in the loop (``time.process_time``), its ticks as
   the lease holder and the sightings it wrote.

:func:`observer_rows` is self-contained: it needs an OpenSearch URL only.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` and `flowstatus` importable
    sys.path.insert(0, str(ROOT))

from bench.rawhttp import OpenSearchHttp
from bench.report import Section
from bench.state_index import drop, init_index

PREFIX = ".flowstatus-bench-steps-"


def _observe(url: str, index: str, seconds: float, interval: float) -> dict[str, Any]:
    """Run one process's observer loop for ``seconds``; what it cost (the child's side)."""
    from flowstatus.composition import Components
    from flowstatus.observability import metrics
    from flowstatus.settings import Settings

    built = Components(Settings(opensearch_hosts=(url,), state_index=index, step_observer_interval=interval))
    observer = built.step_observer
    observing = sightings = 0
    cpu, started = time.process_time(), time.monotonic()
    while time.monotonic() - started < seconds:
        tick = time.monotonic()
        report = observer.tick()
        observing += report.observing
        sightings += report.sightings
        time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    cpu, elapsed = time.process_time() - cpu, time.monotonic() - started
    calls: dict[str, float] = {}
    for metric in metrics.OPENSEARCH_LATENCY.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                calls[sample.labels["operation"]] = sample.value
    observer.stop()
    return {"seconds": elapsed, "cpu_seconds": cpu, "observing_ticks": observing, "sightings": sightings,
            "calls": calls}


def _state(workflow_id: str, start: int, resources: int) -> dict[str, Any]:
    return {"workflow_id": workflow_id, "state": "PROVISIONING", "provisioning_progress": "IN_PROGRESS",
            "provision_start_time": start, "resources_created": [
                {"workflow_step_name": "create_index", "workflow_step_id": f"step_{i}", "resource_type": "index_name",
                 "resource_id": f"{workflow_id}-{i}"} for i in range(resources)]}


def _write(client: OpenSearchHttp, index: str, docs: dict[str, dict[str, Any]]) -> None:
    lines = []
    for workflow_id, source in docs.items():
        lines += [json.dumps({"index": {"_index": index, "_id": workflow_id}}), json.dumps(source)]
    if lines:
        status, body = client.request("POST", "/_bulk", ("\n".join(lines) + "\n").encode(), ndjson=True)
        assert status == 200 and not body["errors"], (status, str(body)[:300])


def _drive(client: OpenSearchHttp, index: str, workflows: int, step_seconds: float, stop: threading.Event) -> int:
    """Append a resource to each workflow every ``step_seconds``, spread evenly; how many were appended."""
    start = int(time.time() * 1000)
    counts = dict.fromkeys((f"bench-steps-{i}" for i in range(workflows)), 0)
    _write(client, index, {wid: _state(wid, start, 0) for wid in counts})
    client.request("POST", f"/{index}/_refresh")
    appended, slot, slots = 0, 0, 10
    while not stop.wait(step_seconds / slots):
        due = [wid for n, wid in enumerate(counts) if n % slots == slot]
        for wid in due:
            counts[wid] += 1
        _write(client, index, {wid: _state(wid, start, counts[wid]) for wid in due})
        appended += len(due)
        slot = (slot + 1) % slots
    return appended


def observer_row(url: str, workflows: int, *, processes: int = 2, seconds: float = 20.0, interval: float = 1.0,
                 step_seconds: float = 2.0) -> dict[str, Any]:
    """The observer's cost with ``workflows`` PROVISIONING and ``processes`` processes competing for the lease."""
    client = OpenSearchHttp(url)
    index = f"{PREFIX}{secrets.token_hex(4)}"
    init_index(url, index)
    stop = threading.Event()
    appended: list[int] = []
    driver = threading.Thread(target=lambda: appended.append(_drive(client, index, workflows, step_seconds, stop)))
    driver.start()
    try:
        children = [subprocess.Popen([sys.executable, __file__, "--observe", url, index, str(seconds), str(interval)],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(processes)]
        reports = [json.loads(child.communicate(timeout=seconds + 120)[0]) for child in children]
    finally:
        stop.set()
        driver.join()
        drop(client, index)
        client.close()
    for report in reports:
        report["requests_per_s"] = sum(report["calls"].values()) / report["seconds"]
        report["cpu_percent"] = 100 * report["cpu_seconds"] / report["seconds"]
    reports.sort(key=lambda r: -r["observing_ticks"])
    return {"workflows": workflows, "processes": processes, "interval": interval, "seconds": seconds,
            "resources_appended_per_s": appended[0] / seconds if appended else 0.0, "reports": reports}


def observer_rows(url: str, sizes: list[int], **options: Any) -> list[dict[str, Any]]:
    """:func:`observer_row` for each size."""
    return [observer_row(url, n, **options) for n in sizes]


def markdown(rows: list[dict[str, Any]]) -> str:
    """One table: per N, the lease holder's and the other processes' requests per second and CPU."""
    out = [("| workflows provisioning | resources appended /s | holder: OpenSearch requests /s (by operation) "
            "| holder CPU % | each other process: requests /s | CPU % | sightings written |"),
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        holder, *others = row["reports"]
        ops = ", ".join(f"{op} {n / holder['seconds']:.2f}" for op, n in sorted(holder["calls"].items()))
        other_rate = max((o["requests_per_s"] for o in others), default=0.0)
        other_cpu = max((o["cpu_percent"] for o in others), default=0.0)
        out.append(f"| {row['workflows']} | {row['resources_appended_per_s']:.1f} | {holder['requests_per_s']:.2f} "
                   f"({ops}) | {holder['cpu_percent']:.2f} | {other_rate:.2f} | {other_cpu:.2f} "
                   f"| {sum(r['sightings'] for r in row['reports'])} |")
    return "\n".join(out)


SECTION_SIZES = (0, 100, 1000)


def bench_section(opensearch_url: str, say: Callable[[str], None]) -> Section:
    """``make bench``'s section: the observer's cost with 0, 100 and 1,000 workflows provisioning."""
    rows = []
    for workflows in SECTION_SIZES:
        say(f"step observer: {workflows} workflows provisioning, 2 processes")
        rows.append(observer_row(opensearch_url, workflows))
    return Section("steps", "The step observer", markdown(rows), rows)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] == ["--observe"]:
        url, index, seconds, interval = args[1:5]
        print(json.dumps(_observe(url, index, float(seconds), float(interval))))
        return 0
    parser = argparse.ArgumentParser(prog="bench/steps.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="OpenSearch (default: OPENSEARCH_URL)")
    parser.add_argument("--workflows", default="0,100,1000", help="PROVISIONING workflows per row")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--step-seconds", type=float, default=2.0, help="seconds between two resources of a workflow")
    options = parser.parse_args(args)
    url = options.url or os.environ["OPENSEARCH_URL"].split(",")[0]
    sizes = [int(n) for n in options.workflows.split(",") if n.strip()]
    rows = observer_rows(url, sizes, processes=options.processes, seconds=options.seconds,
                         interval=options.interval, step_seconds=options.step_seconds)
    print(markdown(rows))
    print(json.dumps(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
