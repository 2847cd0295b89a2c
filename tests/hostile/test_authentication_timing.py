"""User names cannot be told apart by how long a wrong password takes to refuse.

Measured through HTTP on users of bcrypt costs 4, 7 and 10 (a cost-10 check
is 64 times a cost-4 one) and on an unknown name; only the ratio of medians
is asserted, never a time.
"""

from __future__ import annotations

import base64
import statistics
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from flowstatus.app import create_app
from flowstatus.settings import Settings
from tests.hostile.search_corpus import STATUS, write_users_with_costs

TRIES = 9


def _refusal_time(client: FlaskClient, user: str, attempt: int) -> float:
    token = base64.b64encode(f"{user}:wrong-{attempt}".encode()).decode()
    started = time.perf_counter()
    response = client.get(STATUS.format("wf-timing"), headers={"Authorization": f"Basic {token}"})
    took = time.perf_counter() - started
    assert response.status_code == 401
    return took


def test_wrong_passwords_of_known_and_unknown_users_take_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    costs = {"cheap": 4, "middling": 7, "dear": 10}
    users = write_users_with_costs(tmp_path / "internal_users.yml", dict.fromkeys(costs, ([], ["flow_framework_read_access"])),
                        costs)
    client = create_app(Settings(users_file=str(users), opensearch_hosts=("http://127.0.0.1:9",))).test_client()
    names = (*costs, "nobody-by-this-name")
    _refusal_time(client, "warm-up", 0)
    # Round robin, so that a burst of load on a shared machine hits every name alike.
    times: dict[str, list[float]] = {name: [] for name in names}
    for attempt in range(TRIES):
        for name in names:
            times[name].append(_refusal_time(client, name, attempt))
    medians = {name: statistics.median(found) for name, found in times.items()}
    with capsys.disabled():
        print("\nwrong-password medians (s): " + ", ".join(f"{u} {t:.4f}" for u, t in medians.items()))
    assert max(medians.values()) / min(medians.values()) < 3, medians
