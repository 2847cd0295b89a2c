"""A cluster's generation: parsed from the versions OpenSearch and the plugin report, and what it implies."""

from __future__ import annotations

import pytest

from flowstatus.domain.generation import NEWEST, Generation, version_key


@pytest.mark.parametrize("version, release", [
    ("2.19.6", (2, 19)), ("3.6.0", (3, 6)), ("3.6.0.0", (3, 6)), ("2.12.0", (2, 12)),
    ("3.0.0-alpha1", (3, 0)), ("3.6.0-SNAPSHOT", (3, 6)), (" 3.8.0 ", (3, 8)),
])
def test_a_version_gives_its_release(version: str, release: tuple[int, int]) -> None:
    assert Generation.of(version).release == release
    assert Generation.of(version, "x").plugin_version == "x"


@pytest.mark.parametrize("version", ["", "3", "three.six", "3.6.x", "v3.6.0", "3.6.0 beta"])
def test_anything_else_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="not an OpenSearch version"):
        Generation.of(version)


@pytest.mark.parametrize("release, sharing", [((2, 19), False), ((3, 3), False), ((3, 4), True), ((3, 6), True),
                                              ((4, 0), True)])
def test_resource_sharing_is_mapped_from_3_4_on(release: tuple[int, int], sharing: bool) -> None:
    assert Generation(*release).records_sharing is sharing


def test_versions_order_by_their_numbers() -> None:
    versions = ["3.6.0.0", "2.19.6.0", "2.9.0.0", "3.10.0.0", "3.6.0.0-SNAPSHOT"]
    assert sorted(versions, key=version_key) == ["2.9.0.0", "2.19.6.0", "3.6.0.0", "3.6.0.0-SNAPSHOT", "3.10.0.0"]


def test_it_reads_as_what_it_names() -> None:
    assert str(Generation(2, 19, "2.19.6.0")) == "OpenSearch 2.19 (flow-framework 2.19.6.0)"
    assert str(Generation(3, 6)) == "OpenSearch 3.6 (no flow-framework plugin)"
    assert NEWEST.records_sharing and NEWEST.plugin_version is None
