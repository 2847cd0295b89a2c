"""Query parameters parsed the way OpenSearch parses them."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from flowstatus.api.errors import IllegalArgument, PluginError
from flowstatus.api.params import (
    check_workflow_id,
    param_bool,
    parse_time_value,
    reject_unrecognized,
    response_options,
)


@pytest.mark.parametrize(
    "query, expected",
    [([], False), ([("all", "")], True), ([("all", "true")], True), ([("all", "false")], False),
     ([("all", " ")], False), ([("all", "false"), ("all", "true")], True)],
)
def test_booleans(query: list, expected: bool) -> None:
    assert param_bool(MultiDict(query), "all") is expected


@pytest.mark.parametrize("value", ["TRUE", "1", "yes", "foo", "True", "on"])
def test_anything_else_is_refused_with_opensearchs_reason(value: str) -> None:
    with pytest.raises(IllegalArgument) as exc:
        param_bool(MultiDict([("all", value)]), "all")
    assert exc.value.body()["error"]["reason"] == (
        f"Failed to parse value [{value}] as only [true] or [false] are allowed."
    )
    assert exc.value.status == 400


def test_response_options() -> None:
    opts = response_options(MultiDict([("pretty", ""), ("filter_path", "state"), ("human", "false")]))
    assert opts.pretty and opts.filter_path == "state"
    with pytest.raises(IllegalArgument):
        response_options(MultiDict([("error_trace", "yes")]))


def reason(args: dict, consumed: tuple = ("workflow_id", "all")) -> str:
    with pytest.raises(IllegalArgument) as exc:
        reject_unrecognized("/p", args, consumed)
    return exc.value.body()["error"]["reason"]


def test_unrecognized_parameter_messages() -> None:
    assert reason({"foo": "1"}) == "request [/p] contains unrecognized parameter: [foo]"
    assert reason({"al": "1"}) == "request [/p] contains unrecognized parameter: [al] -> did you mean [all]?"
    assert reason({"alll": "1", "prety": "1"}) == (
        "request [/p] contains unrecognized parameters: [alll] -> did you mean [all]?, "
        "[prety] -> did you mean [pretty]?"
    )
    assert reason({"filter": "1"}, ("filter_a",)) == (
        "request [/p] contains unrecognized parameter: [filter] -> did you mean any of [filter_a, filter_path]?"
    )


def test_known_parameters_pass() -> None:
    reject_unrecognized("/p", {"all": "", "pretty": "", "filter_path": "x", "human": "", "error_trace": ""}, ("all",))


@pytest.mark.parametrize(
    "workflow_id, message",
    [("x" * 513, "workflow_id is too long: 513 bytes, at most 512 are allowed"),
     ("é" * 257, "workflow_id is too long: 514 bytes, at most 512 are allowed"),
     ("a\nb", "workflow_id must not contain control characters"),
     ("a\x00", "workflow_id must not contain control characters"),
     ("a\x85", "workflow_id must not contain control characters"),
     ("a/b", "workflow_id must not contain '/'")],
)
def test_ids_opensearch_cannot_hold_are_refused(workflow_id: str, message: str) -> None:
    with pytest.raises(PluginError) as exc:
        check_workflow_id(workflow_id)
    assert (exc.value.status, exc.value.message) == (400, message)


def test_ordinary_ids_pass() -> None:
    for wid in ("8xL8bowB8y25Tqfenm50", "x" * 512, "ünïcode-✓", "with space", "_status"):
        assert check_workflow_id(wid) == wid


@pytest.mark.parametrize("value, seconds", [
    ("5s", 5.0), ("5 S", 5.0), ("+5s", 5.0), ("500ms", 0.5), ("2m", 120.0), ("1h", 3600.0), ("1d", 86400.0),
    ("10micros", pytest.approx(1e-5)), ("0", 0.0), ("00", 0.0), ("-0s", 0.0), ("-1", None), ("-01", None), ("-1s", None),
    ("\u0665s", 5.0),
])
def test_time_values_read_as_opensearch_reads_them(value: str, seconds: float | None) -> None:
    """How long each accepted spelling waits (``None``: no limit of its own, the server's cap)."""
    assert parse_time_value(value, "wait") == seconds


@pytest.mark.parametrize("number", ["9223372036854775808", "1" * 5000])
def test_a_number_beyond_a_java_long_is_refused_as_fractional_as_opensearch_does(number: str) -> None:
    """Java reads it as a double; beyond Python's digit limit for int() it must still be a 400, not an error."""
    with pytest.raises(IllegalArgument, match=r"fractional time values are not supported"):
        parse_time_value(f"{number}s", "wait")
