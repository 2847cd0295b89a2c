"""A fast path for the hot shapes, derived from :mod:`flowstatus.schemas.state` and held to it.

Every status read loads one stored document and renders one answer; through
marshmallow that is about 40% of a read's CPU.  These functions do the same
for documents of the shape the plugin and flowstatus write (strings, integer
times, the plugin's ``user`` and resource entries) and answer ``None`` for
anything else, which then goes through the schemas.  Property tests
(tests/unit/schemas/test_fast_state.py) check, on documents and states of
every shape, that whenever the fast path answers it answers exactly what the
schemas do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowstatus.domain.model import ResourceCreated, User, WorkflowState
from flowstatus.schemas.state import SHORT_KEYS, STATE_KEYS, in_shape, load_state, resource_entry, shape_of

_STRINGS = ("workflow_id", "error", "state", "provisioning_progress", "tenant_id")
_TIMES = ("provision_start_time", "provision_end_time")
_USER_LISTS = ("backend_roles", "roles", "custom_attribute_names")
_USER_TENANTS = ("user_requested_tenant", "user_requested_tenant_access")
_USER_FIELDS = frozenset(("name", *_USER_LISTS, *_USER_TENANTS))
_KNOWN = frozenset(STATE_KEYS)
_SHORT = frozenset(SHORT_KEYS)


def _strings(value: Any) -> tuple[str, ...] | None:
    if type(value) is not list or not all(type(v) is str for v in value):
        return None
    return tuple(value)


def _user(value: Any) -> User | None:
    if type(value) is not dict or type(value.get("name")) is not str:
        return None
    lists: dict[str, tuple[str, ...]] = {}
    for key in _USER_LISTS:
        if key in value:
            found = _strings(value[key])
            if found is None:
                return None
            lists[key] = found
    tenants: dict[str, str | None] = {}
    for key in _USER_TENANTS:
        tenant = value.get(key)
        if tenant is not None and type(tenant) is not str:
            return None
        tenants[key] = tenant
    return User(value["name"], **lists, **tenants, shape=shape_of(value, _USER_FIELDS))  # type: ignore[arg-type]


def _resources(value: Any) -> tuple[ResourceCreated, ...] | None:
    if type(value) is not list:
        return None
    out = []
    for entry in value:
        # Spelled out: this loop runs once per resource of every document read.
        if type(entry) is not dict:
            return None
        name, step, kind, rid = (entry.get("workflow_step_name"), entry.get("workflow_step_id"),
                                 entry.get("resource_type"), entry.get("resource_id"))
        if type(name) is not str or type(step) is not str or type(kind) is not str or type(rid) is not str:
            return None
        out.append(ResourceCreated(name, step, kind, rid))
    return tuple(out)


def _user_outputs(value: Any) -> dict[str, Any] | None:
    if type(value) is not dict:
        return None
    for key, output in value.items():
        if type(key) is not str:
            return None
        if type(output) is not str and not (type(output) is dict and all(type(v) is str for v in output.values())):
            return None
    return dict(value)


def load_state_fast(source: Mapping[str, Any]) -> WorkflowState | None:
    """:func:`~flowstatus.schemas.state.load_state` of ``source``, or ``None`` if it is not of the common shape."""
    fields: dict[str, Any] = {}
    for key, value in source.items():
        if key not in _KNOWN or value is None:
            return None  # unknown keys are kept aside and nulls dropped by the schema: leave both to it
        if key in _STRINGS or key in _TIMES:
            if type(value) is not (str if key in _STRINGS else int):
                return None
            fields[key] = value
        elif key == "user":
            if (user := _user(value)) is None:
                return None
            fields[key] = user
        elif key == "resources_created":
            if (resources := _resources(value)) is None:
                return None
            fields[key] = resources
        elif key == "user_outputs":
            if (outputs := _user_outputs(value)) is None:
                return None
            fields[key] = outputs
        else:  # all_shared_principals
            if (principals := _strings(value)) is None:
                return None
            fields[key] = principals
    return WorkflowState(**fields)


def read_state(source: Mapping[str, Any]) -> WorkflowState:
    """Load a stored ``_source``: the fast path when it can, the schema otherwise.

    Raises ``marshmallow.ValidationError`` exactly when :func:`load_state` does.
    """
    return load_state_fast(source) or load_state(source)


def _rendered_user(user: User) -> dict[str, Any]:
    """The user in the shape it was read in (a plugin version's), else the newest shape."""
    values = {
        "name": user.name,
        "backend_roles": list(user.backend_roles),
        "roles": list(user.roles),
        "user_requested_tenant": user.user_requested_tenant,
        "user_requested_tenant_access": user.user_requested_tenant_access,
        "custom_attribute_names": list(user.custom_attribute_names),
    }
    return in_shape(values, user)


def render_status_fast(state: WorkflowState, *, full: bool) -> dict[str, Any]:
    """:func:`~flowstatus.schemas.state.render_status` of ``state``: keys in the plugin's order, absent ones left out."""
    out: dict[str, Any] = {}
    for key in STATE_KEYS:
        if not full and key not in _SHORT:
            continue
        value = getattr(state, key)
        if value is None or value == () or value == {}:
            continue
        if key == "resources_created":
            value = [resource_entry(r, type_keys=True) for r in value]
        elif key == "user":
            value = _rendered_user(value)
        elif key == "all_shared_principals":
            value = list(value)
        elif key == "user_outputs":
            value = dict(value)
        out[key] = value
    return out
