"""A deterministic generator of hostile search bodies, as raw JSON text.

Raw text, because the attack is in the spelling: ``0.99999999999999999999``
as a JSON number, as a string, signed, padded, with an exponent, hex-like.
Every body is a ``(name, text)`` pair; :func:`hostile_bodies` yields them
all: every numeric parameter in every spelling, every field of the mapping
under every clause and aggregation (at the root and in each nested context),
every refused key, clause and aggregation, and the attacks reported against
the plugin's own search (aggregations that list terms outside the filters,
histograms that fill a node's memory).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from flowstatus.domain.search_fields import FIELDS
from flowstatus.schemas.search.aggregations import AGGREGATIONS
from flowstatus.schemas.search.base import KNOWN_REFUSALS
from flowstatus.schemas.search.queries import CLAUSES

SPELLINGS = (
    "0", "1", "-1", "-0", "1.0", "0.5", "0.99999999999999999999", "1e0", "1E+0", "9.99999999999999999e-1",
    "1e308", "18446744073709551616", '"0"', '"1"', '"0.99999999999999999999"', '"+0.99999999999999999"',
    '"9.99999999999999999e-1"', '" 1"', '"01"', '"0x1"', '"1e0"', "true", "null", "[0]",
)
"""Every numeric parameter is tried with each of these, as written in the body."""

START = "provision_start_time"
WF_TERMS = '{"field": "workflow_id"'
# Numeric parameters, each in context: "@" is replaced by a spelling.
NUMERIC_TEMPLATES = {
    "size": '{"size": @}',
    "from": '{"from": @, "size": 2}',
    "track_total_hits": '{"track_total_hits": @}',
    "terminate_after": '{"terminate_after": @}',
    "min_score": '{"min_score": @}',
    "terms.min_doc_count": '{"size": 0, "aggs": {"wf": {"terms": ' + WF_TERMS + ', "min_doc_count": @}}}}',
    "terms.size": '{"size": 0, "aggs": {"wf": {"terms": ' + WF_TERMS + ', "size": @}}}}',
    "terms.shard_size": '{"size": 0, "aggs": {"wf": {"terms": ' + WF_TERMS + ', "shard_size": @}}}}',
    "tenant terms.min_doc_count": '{"size": 0, "aggs": {"t": {"terms": {"field": "tenant_id", "min_doc_count": @}}}}',
    "multi_terms.min_doc_count": '{"size": 0, "aggs": {"m": {"multi_terms": {"terms": [{"field": "workflow_id"}, '
                                 '{"field": "tenant_id"}], "min_doc_count": @}}}}',
    "nested resource terms.min_doc_count": '{"size": 0, "aggs": {"r": {"nested": {"path": "resources_created"}, '
                                           '"aggs": {"ids": {"terms": {"field": "resources_created.resource_id", '
                                           '"min_doc_count": @}}}}}}',
    "histogram.interval": '{"size": 0, "aggs": {"h": {"histogram": {"field": "' + START + '", "interval": @, '
                          '"min_doc_count": 0, "extended_bounds": {"min": 0, "max": 100000000000}}}}}',
    "histogram.min_doc_count": '{"size": 0, "aggs": {"h": {"histogram": {"field": "' + START + '", "interval": 1, '
                               '"min_doc_count": @, "extended_bounds": {"min": 0, "max": 100000000000}}}}}',
    "histogram.extended_bounds.max": '{"size": 0, "aggs": {"h": {"histogram": {"field": "schema_version", '
                                     '"interval": 1, "min_doc_count": 0, "extended_bounds": {"min": 0, "max": @}}}}}',
    "histogram.hard_bounds.max": '{"size": 0, "aggs": {"h": {"histogram": {"field": "schema_version", "interval": 1, '
                                 '"min_doc_count": 0, "hard_bounds": {"min": 0, "max": @}}}}}',
    "date_histogram.min_doc_count": '{"size": 0, "aggs": {"d": {"date_histogram": {"field": "' + START + '", '
                                    '"fixed_interval": "1ms", "min_doc_count": @, "extended_bounds": {"min": 0, '
                                    '"max": "now"}}}}}',
    "top_hits.size": '{"size": 0, "aggs": {"t": {"top_hits": {"size": @}}}}',
    "top_hits.from": '{"size": 0, "aggs": {"t": {"top_hits": {"from": @}}}}',
    "cardinality.precision_threshold": '{"size": 0, "aggs": {"c": {"cardinality": {"field": "workflow_id", '
                                       '"precision_threshold": @}}}}',
    "range aggregation": '{"size": 0, "aggs": {"r": {"range": {"field": "' + START + '", "ranges": [{"to": @}]}}}}',
    "range query on an integer": '{"query": {"range": {"schema_version": {"gte": @}}}}',
    "term on an integer": '{"query": {"term": {"schema_version": @}}}',
    "range query on a date": '{"query": {"range": {"' + START + '": {"lte": @}}}}',
    "minimum_should_match": '{"query": {"bool": {"should": [{"term": {"state": "FAILED"}}], '
                            '"minimum_should_match": @}}}',
    "boost": '{"query": {"term": {"state": {"value": "FAILED", "boost": @}}}}',
    "match_phrase.slop": '{"query": {"match_phrase": {"error": {"query": "creating index", "slop": @}}}}',
    "search_after": '{"sort": [{"' + START + '": "asc"}], "search_after": [@]}',
}

# Clauses and aggregations tried on every field, "@" replaced by the field name.
FIELD_CLAUSES = {
    "term": '{"term": {"@": "x"}}',
    "terms": '{"terms": {"@": ["x", "wf-bob-1"]}}',
    "prefix": '{"prefix": {"@": "wf"}}',
    "range": '{"range": {"@": {"gte": "a"}}}',
    "exists": '{"exists": {"field": "@"}}',
    "match": '{"match": {"@": "index"}}',
    "simple_query_string": '{"simple_query_string": {"query": "index*", "fields": ["@"]}}',
}
FIELD_AGGREGATIONS = {
    "terms": '{"terms": {"field": "@", "size": 100}}',
    "cardinality": '{"cardinality": {"field": "@"}}',
    "max": '{"max": {"field": "@"}}',
    "value_count": '{"value_count": {"field": "@"}}',
    "top_hits sorted": '{"top_hits": {"size": 5, "sort": [{"@": "asc"}]}}',
}
NOT_FIELDS = ("user", "user_outputs", "user_outputs.x", "_id", "*", "resources_created", "", "workflow_id.keyword")

# The attacks reported against the plugin's search, and their neighbours.
ATTACKS = {
    "min_doc_count read as 0 by a long": '{"size":0,"aggs":{"wf":{"terms":{"field":"workflow_id",'
                                         '"min_doc_count":"0.99999999999999999999"}}}}',
    "signed": '{"size":0,"aggs":{"wf":{"terms":{"field":"workflow_id","min_doc_count":"+0.99999999999999999"}}}}',
    "exponent": '{"size":0,"aggs":{"wf":{"terms":{"field":"workflow_id","min_doc_count":"9.99999999999999999e-1"}}}}',
    "multi_terms": '{"size":0,"aggs":{"m":{"multi_terms":{"terms":[{"field":"workflow_id"},{"field":"state"}],'
                   '"min_doc_count":"0.99999999999999999999"}}}}',
    "nested resource ids": '{"size":0,"aggs":{"r":{"nested":{"path":"resources_created"},"aggs":{"ids":{"terms":'
                           '{"field":"resources_created.resource_id","min_doc_count":"0.99999999999999999999"}}}}}}',
    "tenants": '{"size":0,"aggs":{"t":{"terms":{"field":"tenant_id","min_doc_count":0}}}}',
    "global": '{"size":0,"aggs":{"all":{"global":{},"aggs":{"ids":{"terms":{"field":"workflow_id"}}}}}}',
    "significant_terms": '{"size":0,"aggs":{"s":{"significant_terms":{"field":"workflow_id"}}}}',
    "reverse_nested at the root": '{"size":0,"aggs":{"r":{"reverse_nested":{},"aggs":{"i":{"terms":'
                                  '{"field":"workflow_id"}}}}}}',
    "nested user": '{"query":{"nested":{"path":"user","query":{"match_all":{}}}}}',
    "user names": '{"size":0,"aggs":{"u":{"nested":{"path":"user"},"aggs":{"n":{"terms":'
                  '{"field":"user.name.keyword"}}}}}}',
    "user in _source": '{"_source":["user","user.*"],"size":50}',
    "user in top_hits": '{"size":0,"aggs":{"t":{"top_hits":{"size":50,"_source":{"includes":["user"]}}}}}',
    "sort on user": '{"sort":[{"user.name.keyword":{"nested":{"path":"user"}}}]}',
    "ids of alice": '{"query":{"ids":{"values":["wf-alice-q7x1","wf-alice-q7x2","wf-alice-q7x3"]}},"size":50}',
    "terms of alice": '{"query":{"terms":{"workflow_id":["wf-alice-q7x1","wf-alice-q7x2"]}},"size":50}',
    "tenant of alice": '{"query":{"term":{"tenant_id":"tenant-alice-z3"}},"size":50}',
    "should widening": '{"query":{"bool":{"should":[{"match_all":{}}],"minimum_should_match":0}},"size":50}',
    "must_not only": '{"query":{"bool":{"must_not":[{"term":{"state":"NOPE"}}]}},"size":50}',
    "post_filter everything": '{"post_filter":{"match_all":{}},"size":50}',
    "prefix of alice": '{"query":{"prefix":{"workflow_id":"wf-a"}},"size":50}',
    "resources by prefix": '{"query":{"nested":{"path":"resources_created","query":{"prefix":'
                           '{"resources_created.resource_id":"res-"}}}},"size":50}',
    "histogram that killed a node": '{"size":0,"aggs":{"x":{"histogram":{"field":"provision_start_time",'
                                    '"interval":1,"min_doc_count":0,"extended_bounds":{"min":0,"max":100000000000}}}}}',
    "1 ms date histogram to now": '{"size":0,"aggs":{"x":{"date_histogram":{"field":"provision_start_time",'
                                  '"fixed_interval":"1ms","min_doc_count":0,"extended_bounds":{"min":0,"max":"now"}}}}}',
    "inner_hits on resources": '{"query":{"nested":{"path":"resources_created","query":{"match_all":{}},'
                               '"inner_hits":{}}}}',
    "terms lookup": '{"query":{"terms":{"workflow_id":{"index":".plugins-flow-framework-state","id":"wf-bob-1",'
                    '"path":"workflow_id"}}}}',
    "deep bool": '{"query":' + '{"bool":{"must":[' * 40 + '{"match_all":{}}' + "]}}" * 40 + "}",
    "many clauses": '{"query":{"bool":{"should":[' + ",".join(['{"term":{"state":"x"}}'] * 300) + "]}}}",
    "many aggregations": '{"size":0,"aggs":{' + ",".join(f'"a{i}":{{"max":{{"field":"{START}"}}}}'
                                                         for i in range(60)) + "}}",
    "terms tree": '{"size":0,"aggs":{"a":{"terms":{"field":"workflow_id","size":10000},"aggs":{"b":{"terms":'
                  '{"field":"state","size":10000}}}}}}',
}

REFUSED_TOP_LEVEL = ("stored_fields", "docvalue_fields", "fields", "script_fields", "highlight", "suggest", "collapse",
                     "pit", "slice", "runtime_mappings", "rescore", "explain", "profile", "ext", "indices_boost",
                     "stats", "scroll", "_name")


def _numeric() -> Iterator[tuple[str, str]]:
    for name, template in NUMERIC_TEMPLATES.items():
        for spelling in SPELLINGS:
            yield f"{name} = {spelling}", template.replace("@", spelling)


def _fields() -> Iterator[tuple[str, str]]:
    """Each clause and aggregation on each field: at the root, and in the field's nested context if it has one."""
    for field in (*FIELDS, *NOT_FIELDS):
        path = FIELDS[field].nested if field in FIELDS else None
        parts = [(f"{name} on [{field}]", "query", template.replace("@", field))
                 for name, template in FIELD_CLAUSES.items()]
        parts += [(f"{name} aggregation on [{field}]", "aggs", template.replace("@", field))
                  for name, template in FIELD_AGGREGATIONS.items()]
        for name, kind, part in parts:
            yield name, _body(kind, part, None)
            if path is not None:
                yield f"{name} in nested [{path}]", _body(kind, part, path)
        yield f"sort on [{field}]", f'{{"sort": [{{"{field}": "desc"}}], "size": 50}}'
        yield f"_source of [{field}]", f'{{"_source": ["{field}"], "size": 50}}'


def _body(kind: str, part: str, nested: str | None) -> str:
    """A body holding the query or aggregation ``part``, inside a nested query or aggregation on ``nested``."""
    if kind == "query":
        query = part if nested is None else f'{{"nested": {{"path": "{nested}", "query": {part}}}}}'
        return f'{{"query": {query}, "size": 50}}'
    aggs = f'{{"a": {part}}}' if nested is None else f'{{"n": {{"nested": {{"path": "{nested}"}}, "aggs": {{"a": {part}}}}}}}'
    return f'{{"size": 0, "aggs": {aggs}}}'


def _clauses_and_aggregations() -> Iterator[tuple[str, str]]:
    """Every allowed clause and aggregation by name (minimal bodies), and every refused one OpenSearch knows."""
    minimal_clauses = {
        "match_all": {}, "match_none": {}, "bool": {"filter": [{"match_all": {}}]},
        "constant_score": {"filter": {"match_all": {}}}, "dis_max": {"queries": [{"match_all": {}}]},
        "term": {"state": "FAILED"}, "terms": {"state": ["FAILED"]}, "match": {"error": "index"},
        "match_phrase": {"error": "creating the index"}, "range": {START: {"gte": "now-1d"}},
        "exists": {"field": "error"}, "prefix": {"workflow_id": "wf-b"}, "ids": {"values": ["wf-bob-1"]},
        "nested": {"path": "resources_created", "query": {"match_all": {}}},
        "simple_query_string": {"query": "index", "fields": ["error"]},
    }
    for clause in CLAUSES:
        yield f"clause {clause}", json.dumps({"query": {clause: minimal_clauses[clause]}, "size": 50})
    minimal_aggs = {
        "terms": {"field": "state"}, "multi_terms": {"terms": [{"field": "state"}, {"field": "workflow_id"}]},
        "filter": {"match_all": {}}, "filters": {"filters": {"f": {"match_all": {}}}},
        "range": {"field": START, "ranges": [{"to": 0}, {"from": 0}]},
        "date_range": {"field": START, "ranges": [{"from": "now-1d"}]},
        "histogram": {"field": START, "interval": 60_000, "min_doc_count": 1},
        "date_histogram": {"field": START, "fixed_interval": "1m", "hard_bounds": {"min": "now-2h", "max": "now"}},
        "nested": {"path": "resources_created"}, "reverse_nested": {}, "cardinality": {"field": "workflow_id"},
        "min": {"field": START}, "max": {"field": START}, "avg": {"field": START}, "sum": {"field": START},
        "value_count": {"field": "workflow_id"}, "top_hits": {"size": 50},
    }
    for agg in AGGREGATIONS:
        yield f"aggregation {agg}", json.dumps({"size": 0, "aggs": {"a": {agg: minimal_aggs[agg]}}})
    for key in KNOWN_REFUSALS:
        yield f"refused clause {key}", json.dumps({"query": {key: {}}})
        yield f"refused aggregation {key}", json.dumps({"size": 0, "aggs": {"a": {key: {}}}})
    for key in REFUSED_TOP_LEVEL:
        yield f"refused top-level {key}", json.dumps({key: True})


def hostile_bodies() -> list[tuple[str, str]]:
    """Every body of the suite, in a fixed order."""
    return [*_numeric(), *_fields(), *_clauses_and_aggregations(), *ATTACKS.items()]
