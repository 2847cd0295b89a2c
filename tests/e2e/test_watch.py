"""``flowstatus watch`` follows a workflow to its end, live on a terminal and as lines when piped."""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import select
import subprocess
import sys
import threading
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


class PipedWatch:
    """``flowstatus watch`` with its output piped; the test waits for what it prints, never for a time."""

    def __init__(self, served: Served, wid: str) -> None:
        self.process = start_watch(served, wid, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.out: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, wanted: str, timeout: float = 60) -> None:
        """Read what it prints until a line holds ``wanted``."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.out.append(line)
            if wanted in line:
                return
        raise AssertionError(f"watch printed no {wanted!r}: {self.out}")

    def finish(self) -> tuple[int, list[str], str]:
        """Its exit status, every line it printed, and its stderr."""
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self.reader.join(timeout=10)
        while not self.lines.empty():
            line = self.lines.get_nowait()
            if line is not None:
                self.out.append(line)
        assert self.process.stdout is not None and self.process.stderr is not None
        with self.process.stdout, self.process.stderr:
            return self.process.returncode, self.out, self.process.stderr.read()


@pytest.mark.parametrize("ending, code", [("provision_completed", 0), ("provision_failed", 1)])
def test_piped_watch_prints_each_change_and_exits_by_outcome(served: Served, ending: str, code: int) -> None:
    wid = new_id()
    ingest(served, {"event": "create", "workflow_id": wid}, {"event": "provision_started", "workflow_id": wid})
    watcher = PipedWatch(served, wid)
    try:
        watcher.until("PROVISIONING")
        ingest(served, {"event": "resource_created", "workflow_id": wid, **R})
        watcher.until("+ create_connector")
        final = {"event": ending, "workflow_id": wid, **({"error": "boom"} if ending == "provision_failed" else {})}
        ingest(served, final)
    finally:
        returncode, lines, err = watcher.finish()
    assert returncode == code, err
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
    watcher = PipedWatch(served, wid)
    try:
        watcher.until("▶ index_1")
        ingest(served, step("step_completed", wid, "index_1", time=t0 + 1200),
               step("step_started", wid, "model_1", workflow_step_name="register_remote_model", time=t0 + 1300))
        watcher.until("▶ model_1")
        ingest(served, step("step_failed", wid, "model_1", error="connector refused", time=t0 + 1800),
               {"event": "provision_failed", "workflow_id": wid, "error": "model_1 failed"})
    finally:
        returncode, lines, err = watcher.finish()
    assert returncode == 1, err
    out = "\n".join(lines)
    steps = [line.strip() for line in out.splitlines() if line.strip()[:1] in "▶✓✗?–"]
    assert steps == ["▶ index_1 (create_index) started", "✓ index_1 completed in 1.2s",
                     "▶ model_1 (register_remote_model) started", "✗ model_1 failed in 0.5s: connector refused"], out
    # The step's end and the workflow's end may be seen by one poll or by two in a row (they are
    # written to two indices); either way the last status line is the failure.
    status_lines = [line for line in out.splitlines() if re.match(r"\s*\d+\.\ds ", line)]
    assert "FAILED" in status_lines[-1] and "error: model_1 failed" in status_lines[-1], out
