"""The mapping flowstatus gives the state index: the plugin's of the cluster's generation."""

from __future__ import annotations

import copy

from flowstatus.domain.generation import Generation
from flowstatus.repository.state_mapping import MAPPING, mapping_for


def test_before_3_4_the_mapping_has_no_all_shared_principals() -> None:
    before = copy.deepcopy(MAPPING)
    for release in ((2, 19), (3, 3)):
        mapping = mapping_for(Generation(*release))
        assert set(MAPPING["properties"]) - set(mapping["properties"]) == {"all_shared_principals"}
        assert mapping["_meta"] == {"schema_version": 4} and mapping["dynamic"] is False
    assert MAPPING == before, "the newest mapping is left as it is"


def test_from_3_4_on_it_is_the_newest() -> None:
    for release in ((3, 4), (3, 6)):
        assert mapping_for(Generation(*release)) == MAPPING
        assert MAPPING["properties"]["all_shared_principals"] == {"type": "keyword"}
