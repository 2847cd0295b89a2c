"""``flowstatus watch`` follows a workflow to its end, live on a terminal and as lines when piped."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.conftest import new_id
from tests.e2e.conftest import Served


def ingest(served: Served, *events: dict) -> None:
    lines = "".join(json.dumps(e) + "\n" for e in events)
    subprocess.run([sys.executable, "-m", "flowstatus", "ingest", "-"], env=served.env, input=lines, text=True,
                   check=True, capture_output=True, timeout=60)


def start_watch(served: Served, wid: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "flowstatus", "watch", wid, "--url", served.url, "--wait", "5"],
                            env=served.env, text=True, **kwargs)  # type: ignore[call-overload]


R = {"workflow_step_name": "create_connector", "workflow_step_id": "c1", "resource_id": "conn-1"}


@pytest.mark.parametrize("ending, code", [("provision_completed", 0), ("provision_failed", 1)])
def test_piped_watch_prints_each_change_and_exits_by_outcome(served: Served, ending: str, code: int) -> None:
    wid = new_id()
    ingest(served, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid})
    watcher = start_watch(served, wid, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.5)
        ingest(served, {"event": "resource_created", "workflow_id": wid, **R})
        time.sleep(1.5)
        final = {"event": ending, "workflow_id": wid, **({"error": "boom"} if ending == "provision_failed" else {})}
        ingest(served, final)
        out, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == code, err
    lines = out.splitlines()
    assert "PROVISIONING" in lines[0] and "resources=0" in lines[0]
    assert any("+ create_connector connector_id conn-1" in line for line in lines)
    assert ("COMPLETED" if code == 0 else "FAILED") in lines[-1]
    assert code == 0 or "error: boom" in lines[-1]


def test_watching_an_unknown_workflow_exits_3(served: Served) -> None:
    result = subprocess.run([sys.executable, "-m", "flowstatus", "watch", new_id(), "--url", served.url],
                            env=served.env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3
    assert "404" in result.stderr and "Fail to find workflow status" in result.stderr


def read_pty(primary: int, screen: bytearray, until: Callable[[], bool], timeout: float = 60) -> None:
    """Append what the terminal shows to ``screen`` until ``until()`` or the timeout."""
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        if select.select([primary], [], [], 0.2)[0]:
            try:
                screen += os.read(primary, 65536)
            except OSError:  # EIO: the terminal's other side closed
                return


def test_on_a_terminal_watch_draws_a_live_panel(served: Served) -> None:
    wid = new_id()
    ingest(served, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid})
    primary, secondary = pty.openpty()
    watcher = start_watch(served, wid, stdin=secondary, stdout=secondary, stderr=secondary, close_fds=True)
    os.close(secondary)
    screen = bytearray()
    try:
        read_pty(primary, screen, lambda: b"PROVISIONING" in screen)
        assert b"PROVISIONING" in screen, screen.decode(errors="replace")
        ingest(served, {"event": "resource_created", "workflow_id": wid, **R},
               {"event": "provision_completed", "workflow_id": wid})
        read_pty(primary, screen, lambda: watcher.poll() is not None)
        watcher.wait(timeout=30)
        read_pty(primary, screen, lambda: False, timeout=2)  # what it drew last, before exiting
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        os.close(primary)
    text = screen.decode(errors="replace")
    assert watcher.returncode == 0, text
    assert "\x1b[" in text, "no terminal control sequences: not a live display"
    assert "COMPLETED" in text and "conn-1" in text and "elapsed" in text
    assert "✓ c1 completed" in text, "the panel lists the steps"


def step(kind: str, wid: str, step_id: str, **extra: object) -> dict:
    return {"event": kind, "workflow_id": wid, "workflow_step_id": step_id, **extra}


def test_piped_watch_prints_steps_as_they_start_and_end(served: Served) -> None:
    wid, t0 = new_id(), 1_700_000_000_000
    ingest(served, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid},
           step("step_started", wid, "index_1", workflow_step_name="create_index", time=t0))
    watcher = start_watch(served, wid, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.5)
        ingest(served, step("step_completed", wid, "index_1", time=t0 + 1200),
               step("step_started", wid, "model_1", workflow_step_name="register_remote_model", time=t0 + 1300))
        time.sleep(1.5)
        ingest(served, step("step_failed", wid, "model_1", error="connector refused", time=t0 + 1800),
               {"event": "provision_failed", "workflow_id": wid, "error": "model_1 failed"})
        out, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == 1, err
    steps = [line.strip() for line in out.splitlines() if line.strip()[:1] in "▶✓✗?–"]
    assert steps == ["▶ index_1 (create_index) started", "✓ index_1 completed in 1.2s",
                     "▶ model_1 (register_remote_model) started", "✗ model_1 failed in 0.5s: connector refused"], out
    # The step's end and the workflow's end may be seen by one poll or by two in a row (they are
    # written to two indices); either way the last status line is the failure.
    status_lines = [line for line in out.splitlines() if re.match(r"\s*\d+\.\ds ", line)]
    assert "FAILED" in status_lines[-1] and "error: model_1 failed" in status_lines[-1], out
