"""The bench's seed documents, in the plugin's stored format of each version; wrk's output parsed.

Nothing is loaded or timed here.
"""

from __future__ import annotations

import json

import pytest

from bench import seed, wrk
from bench.node import plugin_versions
from bench.state_index import merges_running
from flowstatus.schemas.state import USER_SHAPES, dump_state, load_state

VERSIONS = ["2.19.6", "3.2.0", "3.6.0", None]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("i", [0, 1, 2, 3, 99_999])
def test_read_docs_are_in_the_plugins_stored_format(i: int, version: str | None) -> None:
    doc = seed.read_doc(i, seed.user_for(version))
    assert dump_state(load_state(doc)) == doc  # keys, order and values as flowstatus writes them
    assert list(doc) == list(dump_state(load_state(doc)))
    assert doc["workflow_id"] == seed.read_id(i)


@pytest.mark.parametrize(("version", "shape"), [("2.19.6", 2), ("3.1.0", 2), ("3.2.0", 1), ("3.3.0", 0),
                                                ("3.6.0", 0), (None, 0), ("weird", 0)])
def test_the_user_takes_the_shape_of_the_plugin_version(version: str | None, shape: int) -> None:
    user = seed.user_for(version)
    assert tuple(user) == USER_SHAPES[shape]
    assert user["name"] == "bench" and user["user_requested_tenant"] is None


def test_read_docs_cover_a_range() -> None:
    docs = list(seed.read_docs(998, 1001, seed.user_for("2.19.6")))
    assert [wid for wid, _ in docs] == ["bench-0000998", "bench-0000999", "bench-0001000"]
    assert all(tuple(doc["user"]) == USER_SHAPES[2] for _, doc in docs)


def test_a_third_of_read_docs_carry_ten_resources() -> None:
    counts = [len(seed.read_doc(i).get("resources_created", [])) for i in range(300)]
    assert counts.count(10) == 100
    assert counts.count(0) == 200


def test_write_targets_are_provisioning() -> None:
    doc = seed.write_doc("bench-w-fs-00001", seed.user_for("2.19.6"))
    state = load_state(doc)
    assert (state.state, state.provisioning_progress) == ("PROVISIONING", "IN_PROGRESS")
    assert dump_state(state) == doc


def test_bulk_body_is_index_actions() -> None:
    body = seed.bulk_body("idx", [("a", {"x": 1}), ("b", {"y": 2})])
    lines = body.decode().splitlines()
    assert body.endswith(b"\n")
    assert [json.loads(line) for line in lines] == [
        {"index": {"_index": "idx", "_id": "a"}},
        {"x": 1},
        {"index": {"_index": "idx", "_id": "b"}},
        {"y": 2},
    ]


# -- what the node says -------------------------------------------------------------


def test_plugin_versions_from_cat_plugins() -> None:
    answer = [{"name": "node-0", "component": "opensearch-flow-framework", "version": "2.19.6.0"},
              {"name": "node-0", "component": "opensearch-ml", "version": "2.19.6.0"},
              {"name": "node-1", "component": "opensearch-flow-framework", "version": "2.19.5.0"}]
    assert plugin_versions(answer) == {"opensearch-flow-framework": "2.19.6.0", "opensearch-ml": "2.19.6.0"}
    assert plugin_versions([]) == {}
    assert plugin_versions({"error": "no"}) == {}


def test_merges_running_from_index_stats() -> None:
    assert merges_running({"_all": {"total": {"merges": {"current": 2}}}}) == 2
    assert merges_running({"_all": {"total": {"merges": {"current": 0}}}}) == 0
    assert merges_running({"error": "index_not_found_exception"}) == 0


# -- wrk output -----------------------------------------------------------------


def test_parse_output_reads_the_marker_line() -> None:
    out = (
        "Running 10s test @ http://127.0.0.1:1\n"
        'BENCH_JSON {"requests":2000,"duration_us":2000000,"bytes":1,'
        '"errors":{"connect":0,"read":1,"write":0,"status":5,"timeout":0},'
        '"latency_us":{"p50":1500,"p90":2500,"p99":9000,"max":12000,"mean":1700},'
        '"statuses":{"200":1995,"404":5},"bulk_errors":2,"updated":30,"noops":1}\n'
    )
    r = wrk.parse_output(out)
    assert r.requests == 2000
    assert r.rps == pytest.approx(1000.0)
    assert (r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms) == (1.5, 2.5, 9.0, 12.0)
    assert r.statuses == {"200": 1995, "404": 5}
    assert r.socket_errors["read"] == 1
    assert (r.bulk_errors, r.updated, r.noops) == (2, 30, 1)


def test_parse_output_without_the_marker_fails_clearly() -> None:
    with pytest.raises(ValueError, match="BENCH_JSON"):
        wrk.parse_output("unable to connect to 127.0.0.1:1 Connection refused\n")
