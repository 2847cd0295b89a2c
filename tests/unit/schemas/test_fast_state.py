"""The fast load and render agree with the schemas on every document and state the properties generate."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from flowstatus.domain.model import ResourceCreated, User, WorkflowState
from flowstatus.schemas.fast_state import load_state_fast, render_status_fast
from flowstatus.schemas.state import USER_SHAPES, dump_state, load_state, render_status

text = st.text(max_size=12)
odd = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.integers(-(2**63), 2**63 - 1), text,
                st.lists(st.integers(), max_size=2), st.dictionaries(text, st.integers(), max_size=2))
times = st.one_of(st.integers(min_value=-(2**53), max_value=2**53), st.just("1710435961112"),
                  st.just("2024-03-14T16:26:01Z"), st.floats(min_value=0, max_value=1e13), odd)
strings = st.lists(text, max_size=3)
def _in_shape(shape: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """A user object with exactly ``shape``'s keys, in its order, as a plugin version writes it."""
    values = {"name": text, "backend_roles": strings, "roles": strings, "custom_attribute_names": strings,
              "user_requested_tenant": st.one_of(st.none(), text),
              "user_requested_tenant_access": st.one_of(st.none(), text)}
    return st.tuples(*(values[key] for key in shape)).map(lambda found: dict(zip(shape, found, strict=True)))


user = st.one_of(
    st.sampled_from(USER_SHAPES).flatmap(_in_shape),
    st.fixed_dictionaries(
        {"name": text},
        optional={"backend_roles": st.one_of(strings, odd), "roles": st.one_of(strings, odd),
                  "custom_attribute_names": st.one_of(strings, odd),
                  "user_requested_tenant": st.one_of(st.none(), text, odd),
                  "user_requested_tenant_access": st.one_of(st.none(), text),
                  "something_else": odd}),
    odd,
)
resource = st.one_of(
    st.fixed_dictionaries({"workflow_step_name": text, "workflow_step_id": text,
                           "resource_type": st.one_of(text, st.sampled_from(["index_name", "resource_id"])),
                           "resource_id": text}, optional={"extra": odd, "index_name": text}),
    st.dictionaries(text, text, max_size=3),
    odd,
)
outputs = st.one_of(st.dictionaries(text, st.one_of(text, st.dictionaries(text, text, max_size=2), odd), max_size=3),
                    odd)
document = st.fixed_dictionaries(
    {},
    optional={
        "workflow_id": st.one_of(text, odd), "error": st.one_of(text, odd), "state": st.one_of(text, odd),
        "provisioning_progress": st.one_of(text, odd), "provision_start_time": times,
        "provision_end_time": times, "user": user, "user_outputs": outputs,
        "resources_created": st.one_of(st.lists(resource, max_size=4), odd),
        "tenant_id": st.one_of(text, odd), "all_shared_principals": st.one_of(strings, odd),
        "ui_metadata": odd, "from_a_newer_plugin": odd,
    },
)


def _schema_load(source: dict[str, Any]) -> WorkflowState | None:
    try:
        return load_state(source)
    except ValidationError:
        return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document)
def test_a_fast_load_is_the_schema_load(source: dict[str, Any]) -> None:
    fast = load_state_fast(source)
    if fast is None:
        return  # the caller then loads through the schema
    expected = _schema_load(source)
    assert expected is not None, "the fast path loaded a document the schema refuses"
    assert fast == expected and fast.extra == expected.extra
    assert (fast.user and fast.user.shape) == (expected.user and expected.user.shape)
    for full in (True, False):  # and both render alike, key order included
        assert orjson.dumps(render_status_fast(fast, full=full)) == orjson.dumps(render_status(expected, full=full))


def test_the_common_shapes_take_the_fast_path() -> None:
    source = {"workflow_id": "wf", "state": "COMPLETED", "provisioning_progress": "DONE",
              "provision_start_time": 1, "provision_end_time": 2, "error": "",
              "user": {"name": "alice", "backend_roles": ["a"], "roles": [], "custom_attribute_names": [],
                       "user_requested_tenant": None},
              "user_outputs": {"k": "v"}, "resources_created": [
                  {"workflow_step_name": "create_index", "workflow_step_id": "s", "resource_type": "index_name",
                   "resource_id": "i"}],
              "tenant_id": "t", "all_shared_principals": ["p"]}
    assert load_state_fast(source) == load_state(source)


state = st.builds(
    WorkflowState,
    workflow_id=st.one_of(st.none(), text), error=st.one_of(st.none(), text), state=st.one_of(st.none(), text),
    provisioning_progress=st.one_of(st.none(), text),
    provision_start_time=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    provision_end_time=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    user=st.one_of(st.none(), st.builds(User, name=text, backend_roles=st.tuples(text), roles=st.tuples(),
                                        custom_attribute_names=st.tuples(text, text),
                                        user_requested_tenant=st.one_of(st.none(), text),
                                        shape=st.one_of(st.none(), st.sampled_from(USER_SHAPES)))),
    user_outputs=st.dictionaries(text, st.one_of(text, st.dictionaries(text, text, max_size=2)), max_size=2),
    resources_created=st.lists(st.builds(ResourceCreated, text, text,
                                         st.one_of(text, st.sampled_from(["index_name", "resource_id", "x"])),
                                         text), max_size=3).map(tuple),
    tenant_id=st.one_of(st.none(), text), all_shared_principals=st.lists(text, max_size=2).map(tuple),
)


@settings(max_examples=1000, deadline=None)
@given(state, st.booleans())
def test_a_fast_render_is_the_schema_render(value: WorkflowState, full: bool) -> None:
    assert orjson.dumps(render_status_fast(value, full=full)) == orjson.dumps(render_status(value, full=full))


@settings(max_examples=1000, deadline=None)
@given(state)
def test_every_document_flowstatus_writes_takes_the_fast_path(value: WorkflowState) -> None:
    source = dump_state(value)
    fast = load_state_fast(source)
    expected = load_state(source)
    assert fast is not None and fast == expected
    assert (fast.user and fast.user.shape) == (expected.user and expected.user.shape)
