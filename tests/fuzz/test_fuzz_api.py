"""Schema-driven fuzzing: generated requests to every route, against a real node.

schemathesis reads the OpenAPI description the app serves and sends, per
operation, at least 1,000 generated requests (valid and invalid ones) to the
app backed by the session's OpenSearch.  Every answer must be below 500, carry
no stack trace, and (unless ``filter_path`` trimmed it) match the described
schema; a refused request must write nothing; afterwards every stored document
is still in the plugin's format.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from opensearchpy import OpenSearch
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from flowstatus.app import create_app
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.schemas.state import STATE_KEYS, load_state
from flowstatus.settings import Settings

EXAMPLES = int(os.environ.get("FLOWSTATUS_FUZZ_EXAMPLES", "1000"))
SENT: Counter[str] = Counter()
_APP: dict[str, Any] = {}
FUZZ_INDEX = ".flowstatus-test-fuzz"


class _LazyApp:
    """The app under fuzz, rebuilt by the ``fuzz_index`` fixture once the session's node is known.

    schemathesis reads the OpenAPI description through the app when this
    module is imported, before any fixture runs; serving the description
    needs no OpenSearch, so a placeholder app answers that one request.
    """

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if "app" not in _APP:
            _APP["app"] = create_app(Settings(state_index=FUZZ_INDEX))
        return _APP["app"](environ, start_response)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    """The bulk body is described as a string: send it as it is, lone surrogates and all."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


schema = schemathesis.openapi.from_wsgi("/_flowstatus/openapi.json", _LazyApp())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture(scope="module", autouse=True)
def fuzz_index(opensearch_url: str) -> Iterator[str]:
    """A fresh state index for the fuzzer, dropped afterwards."""
    os_settings = Settings(opensearch_hosts=(opensearch_url,), state_index=FUZZ_INDEX, request_timeout=10)
    _APP["app"] = create_app(os_settings)
    raw = OpenSearch([opensearch_url])
    raw.indices.delete(index=FUZZ_INDEX, ignore=404)
    raw.indices.delete(index=f"{FUZZ_INDEX}-flowstatus-steps", ignore=404)
    OpenSearchStateRepository.from_settings(os_settings).ensure_index()
    yield FUZZ_INDEX
    counts = ", ".join(f"{label}: {n}" for label, n in sorted(SENT.items()))
    print(f"\nfuzz: {sum(SENT.values())} generated requests ({counts})")
    raw.indices.delete(index=FUZZ_INDEX, ignore=404)
    raw.indices.delete(index=f"{FUZZ_INDEX}-flowstatus-steps", ignore=404)


def _writes(raw: OpenSearch) -> int:
    stats = raw.indices.stats(index=FUZZ_INDEX, metric="indexing")["_all"]["primaries"]["indexing"]
    return stats["index_total"] + stats["delete_total"]


@schema.parametrize()
@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None, derandomize=True)
def test_generated_requests(case: Any, opensearch_url: str) -> None:
    SENT[case.operation.label] += 1
    raw = OpenSearch([opensearch_url])
    writing = case.method.upper() == "POST" and case.path == "/_flowstatus/_bulk"
    before = _writes(raw) if writing else 0
    response = case.call()
    assert "Traceback (most recent call last)" not in response.text, response.text[:500]
    checks = [not_a_server_error, status_code_conformance, content_type_conformance]
    if not (case.query or {}).get("filter_path"):
        checks.append(response_schema_conformance)  # filter_path may trim any field away
    case.validate_response(response, checks=checks)
    if writing and response.status_code >= 400:
        assert _writes(raw) == before, f"a refused request ({response.status_code}) wrote something"


def test_every_route_got_its_requests_and_every_document_is_still_the_plugins(opensearch_url: str) -> None:
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert set(SENT) == operations, "run the whole module: the fuzz test comes first"
    short = {label: n for label, n in SENT.items() if n < EXAMPLES}
    assert not short, f"fewer than {EXAMPLES} requests: {short}"
    raw = OpenSearch([opensearch_url])
    raw.indices.refresh(index=FUZZ_INDEX)
    hits = raw.search(index=FUZZ_INDEX, body={"size": 10_000, "query": {"match_all": {}}})["hits"]["hits"]
    for hit in hits:
        assert set(hit["_source"]) <= set(STATE_KEYS), hit
        load_state(hit["_source"])
