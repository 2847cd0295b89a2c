"""Query parameters, parsed as OpenSearch's REST layer parses them.

* Booleans follow ``RestRequest.paramAsBoolean``: absent gives the default,
  present but empty (``?all``) is true, whitespace gives the default, only
  ``true``/``false`` otherwise.
* A repeated parameter takes its last value.
* Parameters a route does not consume are refused as ``BaseRestHandler``
  refuses them, with its "did you mean" hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein
from werkzeug.datastructures import MultiDict

from flowstatus.api.errors import IllegalArgument, PluginError
from flowstatus.domain.workflow_ids import workflow_id_problem

# Parameters every OpenSearch route accepts (consumed by its REST channel).
RESPONSE_PARAMS = frozenset({"pretty", "human", "error_trace", "filter_path"})

# Lucene's LevenshteinDistance threshold used by BaseRestHandler.
SUGGESTION_THRESHOLD = 0.5


def last(args: MultiDict[str, str], name: str) -> str | None:
    """The last value of ``name``, as OpenSearch keeps the last of repeated parameters."""
    values = args.getlist(name)
    return values[-1] if values else None


def parse_bool(value: str | None, default: bool = False) -> bool:
    """One boolean parameter value; raises :class:`IllegalArgument` like OpenSearch."""
    if value is None:
        return default
    if value == "":
        return True
    if not value.strip():
        return default
    if value in ("true", "false"):
        return value == "true"
    raise IllegalArgument(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")


def param_bool(args: MultiDict[str, str], name: str, default: bool = False) -> bool:
    """The boolean parameter ``name`` of a request."""
    return parse_bool(last(args, name), default)


@dataclass(frozen=True)
class ResponseOptions:
    """How to write a response body: the common response parameters."""

    pretty: bool = False
    filter_path: str | None = None


def response_options(args: MultiDict[str, str]) -> ResponseOptions:
    """Parse ``pretty``, ``human``, ``error_trace`` and ``filter_path``.

    ``human`` and ``error_trace`` are validated and accepted; they change
    nothing because flowstatus renders no byte sizes or durations and never
    sends stack traces.
    """
    pretty = param_bool(args, "pretty")
    param_bool(args, "human")
    param_bool(args, "error_trace")
    return ResponseOptions(pretty=pretty, filter_path=last(args, "filter_path"))


def _suggestions(invalid: str, candidates: Iterable[str]) -> list[str]:
    scored = [(Levenshtein.normalized_similarity(invalid, c), c) for c in candidates]
    scored = [s for s in scored if s[0] > SUGGESTION_THRESHOLD]
    return [c for _, c in sorted(scored, key=lambda s: (-s[0], s[1]))]


def reject_unrecognized(path: str, args: Mapping[str, object], consumed: Iterable[str]) -> None:
    """Raise :class:`IllegalArgument` if ``args`` holds a parameter the route does not take.

    ``consumed`` names the route's own parameters (path parameters included,
    as OpenSearch counts them); the response parameters are always accepted.
    """
    accepted = set(consumed) | RESPONSE_PARAMS
    invalid = sorted(set(args) - accepted)
    if not invalid:
        return
    parts = []
    for name in invalid:
        part = f"[{name}]"
        keys = _suggestions(name, accepted)
        if len(keys) == 1:
            part += f" -> did you mean [{keys[0]}]?"
        elif keys:
            part += f" -> did you mean any of [{', '.join(keys)}]?"
        parts.append(part)
    noun = "parameters" if len(invalid) > 1 else "parameter"
    raise IllegalArgument(f"request [{path}] contains unrecognized {noun}: {', '.join(parts)}")



def check_workflow_id(workflow_id: str) -> str:
    """Return ``workflow_id`` if flowstatus accepts it, else raise a 400 in the plugin's shape."""
    problem = workflow_id_problem(workflow_id)
    if problem:
        raise PluginError(400, problem)
    return workflow_id


# How OpenSearch reads a time value (TimeValue.parseTimeValue), step by step: the suffixes in its
# order ("m" only in lower case, on the value as given, since "M" would be months), then the number
# before the suffix as a Java long; a number Java reads only as a double is "fractional".
_TIME_UNITS = (("nanos", 1e-9), ("micros", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0),
               ("d", 86400.0))
_JAVA_LONG = re.compile(r"[+-]?\d+")  # Java reads any Unicode decimal digit, as Python's int() does
_JAVA_LONG_RANGE = range(-(2**63), 2**63)
_JAVA_DOUBLE = re.compile(
    r"[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?[fd]?|0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)p[+-]?[0-9]+[fd]?)"
)
_JAVA_BLANK = "".join(map(chr, range(33)))  # what Java's String.trim() removes


def parse_time_value(value: str, name: str) -> float | None:
    """An OpenSearch time value (``30s``, ``500ms``, ``1m``) in seconds; ``-1`` means none (``None``).

    Accepts and refuses exactly what OpenSearch's parser does (``5 S``, ``+5s``
    and ``-1s`` included), and raises :class:`IllegalArgument` with its
    wording otherwise.
    """
    normalized = value.lower().strip(_JAVA_BLANK)
    for unit, seconds in _TIME_UNITS:
        if (value if unit == "m" else normalized).endswith(unit):
            return _time_number(value, normalized[: -len(unit)].strip(_JAVA_BLANK), name, seconds)
    if re.fullmatch(r"-0*1", normalized):
        return None
    if re.fullmatch(r"0+", normalized):
        return 0.0
    raise IllegalArgument(
        f"failed to parse setting [{name}] with value [{value}] as a time value: unit is missing or unrecognized"
    )


def _java_long(number: str) -> int | None:
    """``number`` as Java's ``Long.parseLong`` reads it, or ``None`` where that refuses it."""
    if not _JAVA_LONG.fullmatch(number):
        return None
    try:
        count = int(number)
    except ValueError:  # more digits than Python converts (4,300): far beyond a long
        return None
    return count if count in _JAVA_LONG_RANGE else None


def _time_number(value: str, number: str, name: str, unit_seconds: float) -> float | None:
    count = _java_long(number)
    if count is not None:
        if count == -1:
            return None
        if count < -1:
            raise IllegalArgument(f"failed to parse setting [{name}] with value [{value}] as a time value: "
                                  "negative durations are not supported")
        return count * unit_seconds
    # Java's double also spells "NaN" and "Infinity", in a case the lower-cased number cannot have.
    if _JAVA_DOUBLE.fullmatch(number):
        raise IllegalArgument(f"failed to parse [{value}], fractional time values are not supported")
    raise IllegalArgument(f"failed to parse [{value}]")
