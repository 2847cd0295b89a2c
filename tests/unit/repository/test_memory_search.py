"""The in-memory search refuses what it does not implement, rather than answer wrongly."""

from __future__ import annotations

from typing import Any

import pytest

from flowstatus.repository.errors import SearchIndexMissing
from flowstatus.repository.memory import in_memory_store


@pytest.mark.parametrize(("body", "named"), [
    ({"query": {"match": {"error": "boom"}}}, "[match] queries"),
    ({"query": {"term": {"error": "boom"}}}, "field [error]"),
    ({"query": {"nested": {"path": "other", "query": {"match_all": {}}}}}, "nested path [other]"),
    ({"aggs": {"x": {"histogram": {"field": "provision_start_time", "interval": 1}}}}, "[histogram] aggregations"),
    ({"aggs": {"x": {"terms": {"field": "state"}, "aggs": {"y": {"max": {"field": "provision_end_time"}}}}}},
     "[max] aggregations"),
    ({"aggs": {"x": {"min": {"field": "provision_end_time"}, "aggs": {"y": {"terms": {"field": "state"}}}}}},
     "sub-aggregations under [min]"),
    ({"aggs": {"x": {"top_hits": {"size": 1, "from": 1}}}}, "[top_hits] aggregations"),
    ({"suggest": {}}, "search keys ['suggest']"),
    ({"_source": {"includes": ["resources_created.resource_id"]}}, "_source includes below the top level"),
    # Let through by the search schema, not modelled here: refused rather than answered wrongly.
    ({"query": {"term": {"state": {"value": "failed", "case_insensitive": True}}}}, "case_insensitive matching"),
    ({"query": {"prefix": {"state": {"value": "fail", "case_insensitive": True}}}}, "case_insensitive matching"),
    ({"query": {"range": {"provision_start_time": {"gte": "now-1d"}}}}, "range bounds that are not numbers"),
    ({"query": {"bool": {"should": [{"match_all": {}}], "minimum_should_match": "50%"}}},
     "minimum_should_match as a percentage"),
    ({"sort": [{"provision_start_time": {"order": "asc", "mode": "max"}}]}, "sort options ['mode']"),
    ({"query": {"term": {"provision_start_time": "now-1d/d"}}}, "dates or numbers written as strings"),
    ({"query": {"bool": {"should": [{"match_all": {}}], "minimum_should_match": -1}}}, "a negative count"),
    ({"search_after": [1], "sort": ["state"]}, "search keys ['search_after']"),
])
def test_what_it_does_not_implement_is_refused_by_name(body: dict[str, Any], named: str) -> None:
    repository, search = in_memory_store()
    repository.ensure_index()
    repository.put_raw("wf", {"workflow_id": "wf", "state": "FAILED", "error": "boom"})
    with pytest.raises(ValueError, match="the in-memory search does not implement") as exc:
        search.search(body)
    assert named in str(exc.value)


def test_a_missing_index_is_opensearchs_error() -> None:
    _, search = in_memory_store("missing")
    with pytest.raises(SearchIndexMissing) as exc:
        search.search({})
    assert exc.value.cause["type"] == "index_not_found_exception"


def test_the_clauses_it_adds_for_the_schema_answer_as_opensearch_does() -> None:
    repository, search = in_memory_store()
    repository.ensure_index()
    repository.put_raw("wf", {"workflow_id": "wf", "state": "FAILED", "provision_start_time": 5})

    def ids(query: dict[str, Any]) -> list[str]:
        return [hit["_id"] for hit in search.search({"query": query})["hits"]["hits"]]

    assert ids({"match_none": {}}) == []
    assert ids({"constant_score": {"filter": {"term": {"state": "FAILED"}}, "boost": 2}}) == ["wf"]
    assert ids({"range": {"provision_start_time": {"gte": 5, "boost": 2.0}}}) == ["wf"]
    assert ids({"term": {"state": {"value": "FAILED", "case_insensitive": False}}}) == ["wf"]
