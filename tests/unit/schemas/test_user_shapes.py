"""The ``user`` a plugin of each generation writes, and the shape flowstatus writes a user it built in."""

from __future__ import annotations

import pytest

from flowstatus.domain.generation import Generation
from flowstatus.domain.model import User, WorkflowState
from flowstatus.schemas.state import dump_state, load_state, user_shape

# As common-utils' User.toXContent writes it in each release line.
KEYS_2_12_TO_3_1 = ["name", "backend_roles", "roles", "custom_attribute_names", "user_requested_tenant"]
KEYS_3_2 = [*KEYS_2_12_TO_3_1, "user_requested_tenant_access"]
KEYS_3_3_ON = ["name", "backend_roles", "roles", "user_requested_tenant", "user_requested_tenant_access",
               "custom_attribute_names"]


@pytest.mark.parametrize("release, keys", [
    ((2, 12), KEYS_2_12_TO_3_1), ((2, 19), KEYS_2_12_TO_3_1), ((3, 0), KEYS_2_12_TO_3_1), ((3, 1), KEYS_2_12_TO_3_1),
    ((3, 2), KEYS_3_2), ((3, 3), KEYS_3_3_ON), ((3, 6), KEYS_3_3_ON),
])
def test_each_generation_has_its_plugins_user_shape(release: tuple[int, int], keys: list[str]) -> None:
    assert list(user_shape(Generation(*release))) == keys


@pytest.mark.parametrize("release, keys", [((2, 19), KEYS_2_12_TO_3_1), ((3, 2), KEYS_3_2), ((3, 6), KEYS_3_3_ON)])
def test_a_user_flowstatus_built_is_written_in_the_generations_shape(release: tuple[int, int], keys: list[str]) -> None:
    built = WorkflowState.fresh("w", user=User("alice", ("odfe",), ("all_access",)))
    written = dump_state(built, Generation(*release))["user"]
    assert list(written) == keys
    assert {k: written[k] for k in ("name", "backend_roles", "roles")} == {
        "name": "alice", "backend_roles": ["odfe"], "roles": ["all_access"]}
    assert load_state(dump_state(built, Generation(*release))) == built


def test_without_a_generation_it_is_the_newest_shape() -> None:
    assert list(dump_state(WorkflowState(user=User("alice")))["user"]) == KEYS_3_3_ON


def test_a_user_read_in_a_plugins_shape_keeps_it_on_every_generation() -> None:
    for keys in (KEYS_2_12_TO_3_1, KEYS_3_2, KEYS_3_3_ON):
        read = load_state({"workflow_id": "w", "user": dict.fromkeys(keys) | {"name": "bob", "roles": ["r"]}})
        for release in ((2, 19), (3, 6)):
            assert list(dump_state(read, Generation(*release))["user"]) == keys


def test_a_value_the_generations_shape_cannot_hold_keeps_the_newest_shape() -> None:
    built = WorkflowState(user=User("alice", user_requested_tenant_access="WRITE"))
    written = dump_state(built, Generation(2, 19))["user"]
    assert list(written) == KEYS_3_3_ON and written["user_requested_tenant_access"] == "WRITE"
    assert list(dump_state(built, Generation(3, 2))["user"]) == KEYS_3_2
