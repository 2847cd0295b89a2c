"""``flowstatus serve --access-log`` writes one JSON line per request with its request id, plain status
reads (served without Flask's per-request machinery) included."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import new_id
from tests.e2e.conftest import serving


def test_each_status_read_has_one_access_line_with_its_request_id(opensearch_url: str, unique_index: str,
                                                         tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(opensearch_url, unique_index, log, "--access-log", "--workers", "1") as served:
        for n in range(3):
            request = urllib.request.Request(f"{served.url}/_plugins/_flow_framework/workflow/{new_id()}/_status",
                                             headers={"X-Request-Id": f"served-{n}"})
            try:
                urllib.request.urlopen(request, timeout=30)
            except urllib.error.HTTPError as err:
                assert err.code == 404
        deadline = time.monotonic() + 10
        while log.read_text().count('"served-') < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "flowstatus.access" and line["route"].endswith("_status")]
    assert [(line["request_id"], line["status"]) for line in access] == [(f"served-{n}", 404) for n in range(3)]
