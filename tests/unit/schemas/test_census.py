"""The census record survives the cache file; another version's record is refused, not misread."""

from __future__ import annotations

import orjson
import pytest
from marshmallow import ValidationError

from flowstatus.domain.census import DurationHistogram, WorkflowCensus
from flowstatus.schemas.census import CENSUS_RECORD

CENSUS = WorkflowCensus(
    taken_at=1700000000.5,
    by_state={"PROVISIONING": 2, "other": 1},
    by_progress={"IN_PROGRESS": 2},
    finished_last_hour={"COMPLETED": 1, "FAILED": 0},
    oldest_provisioning_start=1699999000.25,
    durations={"COMPLETED": DurationHistogram.of([3.5, 70])},
    failed_by_error={"boom": 1, "other": 0},
    by_tenant={"t1": {"PROVISIONING": 2}},
)


def test_a_record_round_trips_through_json() -> None:
    record = {"attempted_at": 1700000001.0, "stale": True, "census": CENSUS}
    loaded = CENSUS_RECORD.load(orjson.loads(orjson.dumps(CENSUS_RECORD.dump(record))))
    assert loaded == record


def test_a_record_without_a_census_round_trips() -> None:
    record = {"attempted_at": 1.0, "stale": True, "census": None}
    assert CENSUS_RECORD.load(CENSUS_RECORD.dump(record)) == record


@pytest.mark.parametrize("change", [
    lambda doc: doc["census"]["durations"]["COMPLETED"].update(counts=[0, 1]),
    lambda doc: doc["census"]["by_state"].update(PROVISIONING=-1),
    lambda doc: doc.update(unexpected=1),
    lambda doc: doc.pop("stale"),
])
def test_a_record_of_another_layout_is_refused(change) -> None:  # type: ignore[no-untyped-def]
    doc = CENSUS_RECORD.dump({"attempted_at": 1.0, "stale": False, "census": CENSUS})
    change(doc)
    with pytest.raises(ValidationError):
        CENSUS_RECORD.load(doc)
