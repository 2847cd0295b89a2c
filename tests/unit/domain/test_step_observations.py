"""The observer's looks, the graph's order, and the lease rules, as pure functions."""

from __future__ import annotations

from flowstatus.domain.model import ResourceCreated, WorkflowState
from flowstatus.domain.step_graph import descendants, followers_of, ordered
from flowstatus.domain.step_observations import Lease, LeaseMove, lease_decision, look
from flowstatus.domain.steps import Sighting, StepGraph, StepNode

RUN = 5_000


def provisioning(*steps: str, run: int = RUN) -> WorkflowState:
    resources = tuple(ResourceCreated("create_index", s, "index_name", f"i-{s}") for s in steps)
    return WorkflowState("wf", state="PROVISIONING", provision_start_time=run, resources_created=resources)


def test_a_first_look_sees_everything_present_with_no_earlier_look() -> None:
    first, fresh = look(provisioning("a"), None, 6_000)
    assert fresh == (Sighting("a", "create_index", 6_000, None),)
    assert first.entries == frozenset({("a", "create_index")})


def test_a_later_look_sees_only_new_entries_between_the_two_looks() -> None:
    first, _ = look(provisioning("a"), None, 6_000)
    second, fresh = look(provisioning("a", "b"), first, 7_000)
    assert fresh == (Sighting("b", "create_index", 7_000, 6_000),)
    assert look(provisioning("a", "b"), second, 8_000)[1] == ()


def test_a_look_at_a_new_run_ignores_the_previous_runs_look() -> None:
    first, _ = look(provisioning("a"), None, 6_000)
    _, fresh = look(provisioning("a", run=RUN + 100), first, 7_000)
    assert fresh == (Sighting("a", "create_index", 7_000, None),)


def test_the_lease_is_taken_when_free_or_expired_kept_or_renewed_by_its_holder() -> None:
    ttl = 10_000
    assert lease_decision(None, "me", 0, ttl) is LeaseMove.TAKE
    assert lease_decision(Lease("other", 100), "me", 100, ttl) is LeaseMove.TAKE
    assert lease_decision(Lease("other", 5_000), "me", 100, ttl) is LeaseMove.WAIT
    assert lease_decision(Lease("me", 9_000), "me", 0, ttl) is LeaseMove.KEEP
    assert lease_decision(Lease("me", 4_000), "me", 0, ttl) is LeaseMove.RENEW


def test_steps_are_ordered_after_their_dependencies_and_cycles_go_last() -> None:
    graph = StepGraph((
        StepNode("c", "noop", ("b",)), StepNode("b", "noop", ("a", "missing")), StepNode("a", "noop"),
        StepNode("x", "noop", ("y",)), StepNode("y", "noop", ("x",)),
    ))
    assert [n.id for n in ordered(graph)] == ["a", "b", "c", "x", "y"]
    assert descendants(followers_of(graph), "a") == {"b", "c"}
