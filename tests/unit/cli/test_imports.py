"""The command line imports the service lazily (serve relies on it)."""

from __future__ import annotations

import subprocess
import sys

# `flowstatus serve` must patch with gevent before urllib3 is imported, and pick
# the metrics storage before prometheus_client is: importing the commands must
# import neither.
# The clients' HTTP client is imported when a command runs, like the service's modules.
LATE = ("prometheus_client", "urllib3", "opensearchpy", "gunicorn.workers.ggevent", "flowstatus.cli.http_client")


def test_importing_the_commands_imports_no_client_library() -> None:
    probe = f"import sys, flowstatus.cli; print([m for m in {LATE!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"
