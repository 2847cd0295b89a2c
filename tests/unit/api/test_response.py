"""Pretty output looks like OpenSearch's (Jackson's printer as OpenSearch sets it up)."""

from __future__ import annotations

from flowstatus.api.response import encode


def test_compact() -> None:
    assert encode({"a": [1, "é"], "b": {}}) == '{"a":[1,"é"],"b":{}}'.encode()


def test_pretty_matches_opensearch() -> None:
    # Copied from a `GET .x/_doc/a?pretty` answer of OpenSearch 2.19.6.
    expected = (
        "{\n"
        '  "_source" : {\n'
        '    "a" : [ ],\n'
        '    "b" : { },\n'
        '    "c" : [\n'
        "      {\n"
        '        "x" : 1\n'
        "      },\n"
        "      {\n"
        '        "y" : [\n'
        "          1,\n"
        "          2\n"
        "        ]\n"
        "      }\n"
        "    ]\n"
        "  }\n"
        "}\n"
    )
    body = {"_source": {"a": [], "b": {}, "c": [{"x": 1}, {"y": [1, 2]}]}}
    assert encode(body, pretty=True).decode() == expected
