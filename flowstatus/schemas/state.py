"""marshmallow schemas: the only place where documents change shape.

Two shapes of a workflow state exist:

* the **stored document** in the state index, exactly as the Flow Framework
  plugin writes it (:class:`StoredStateSchema`), read leniently so that
  documents of every plugin version from 2.12 on load, and written strictly so
  that the plugin's strict parser accepts what flowstatus writes;
* the **status response** of ``GET …/_status`` (:data:`STATUS_FULL` and
  :data:`STATUS_SHORT`), rendered as the plugin renders it, plus the
  ``"<resource_type>": "<resource_id>"`` key that the Flow Framework
  documentation page shows on each resource.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Container, Iterable, Mapping
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, post_dump, post_load

from flowstatus.domain.generation import Generation
from flowstatus.domain.model import ResourceCreated, User, WorkflowState

# Top-level keys older plugins wrote that no current plugin accepts: they are
# dropped when a document is rewritten, so the rewrite is readable again.
OBSOLETE_KEYS = frozenset({"ui_metadata", "schema_version"})

# The plugin's toXContent key order (model/WorkflowState.java).
STATE_KEYS = (
    "workflow_id",
    "error",
    "state",
    "provisioning_progress",
    "provision_start_time",
    "provision_end_time",
    "user",
    "user_outputs",
    "resources_created",
    "tenant_id",
    "all_shared_principals",
)
SHORT_KEYS = ("workflow_id", "error", "state", "resources_created")


class EpochMillis(fields.Field):
    """Epoch milliseconds as a JSON integer.

    The plugin always writes integers; the index mapping also accepts
    ``strict_date_time`` strings, so other writers may have stored those:
    they are read as the same instant.
    """

    default_error_messages = {  # noqa: RUF012 - marshmallow's convention
        "invalid": "Not an epoch-millisecond integer or ISO date-time."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            if value.lstrip("-").isdigit():
                return int(value)
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                raise self.make_error("invalid") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return int(parsed.timestamp() * 1000)
        raise self.make_error("invalid")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else int(value)


def _drop_absent(data: dict[str, Any]) -> dict[str, Any]:
    """The plugin renders a field only when it is non-null and, for lists and maps, non-empty."""
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}


RESOURCE_KEYS = ("workflow_step_name", "workflow_step_id", "resource_type", "resource_id")


class Resources(fields.Field):
    """``resources_created``: a list of flat objects of the four string keys.

    A hand-written field rather than ``List(Nested(...))``: a workflow can
    hold thousands of resources and every append re-reads and rewrites all of
    them, so per-entry cost matters (about 20x less than a nested schema).
    Unknown keys in an entry are ignored, as the plugin's parser ignores them.
    ``type_keys`` adds the ``"<resource_type>": "<resource_id>"`` key of the
    Flow Framework documentation page's examples when dumping.
    """

    default_error_messages = {  # noqa: RUF012 - marshmallow's convention
        "invalid": "Not a list of resources.",
        "entry": "Resource {index} needs the string keys " + ", ".join(RESOURCE_KEYS) + ".",
    }

    def __init__(self, *, type_keys: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.type_keys = type_keys

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[ResourceCreated, ...]:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        entries = []
        for index, entry in enumerate(value):
            try:
                values = [entry[key] for key in RESOURCE_KEYS]
            except (KeyError, TypeError):
                raise self.make_error("entry", index=index) from None
            if not all(type(v) is str for v in values):
                raise self.make_error("entry", index=index)
            entries.append(ResourceCreated(*values))
        return tuple(entries)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> list[dict[str, str]] | None:
        if value is None:
            return None
        return [resource_entry(r, type_keys=self.type_keys) for r in value]


def resource_entry(r: ResourceCreated, *, type_keys: bool) -> dict[str, str]:
    """One ``resources_created`` entry as stored (``type_keys``: as rendered, with ``"<type>": "<id>"``)."""
    entry = {
        "workflow_step_name": r.workflow_step_name,
        "workflow_step_id": r.workflow_step_id,
        "resource_type": r.resource_type,
        "resource_id": r.resource_id,
    }
    if type_keys and r.resource_type not in entry:
        entry[r.resource_type] = r.resource_id
    return entry


# The complete ``user`` objects plugins write (common-utils ``User.toXContent``), newest first.
USER_SHAPES = (
    # 3.3 on
    ("name", "backend_roles", "roles", "user_requested_tenant", "user_requested_tenant_access",
     "custom_attribute_names"),
    # 3.2
    ("name", "backend_roles", "roles", "custom_attribute_names", "user_requested_tenant",
     "user_requested_tenant_access"),
    # 2.12 to 3.1
    ("name", "backend_roles", "roles", "custom_attribute_names", "user_requested_tenant"),
)
# The first release writing each shape of USER_SHAPES, in the same order.
USER_SHAPES_SINCE = ((3, 3), (3, 2), (2, 12))


def shape_of(keys: Iterable[str], known: Container[str]) -> tuple[str, ...] | None:
    """The shape of a stored ``user`` with ``keys``: its ``known`` keys in order, if they are a plugin's shape."""
    found = tuple(k for k in keys if k in known)
    return found if found in USER_SHAPES else None


def in_shape(values: Mapping[str, Any], user: User) -> dict[str, Any]:
    """``values`` of ``user``'s keys in the shape it was read in (a plugin version's), else the newest shape."""
    return {key: values[key] for key in user.shape or USER_SHAPES[0]}


def user_shape(generation: Generation) -> tuple[str, ...]:
    """The ``user`` keys, in order, that the plugin of ``generation`` writes and renders."""
    return next((shape for shape, since in zip(USER_SHAPES, USER_SHAPES_SINCE, strict=True)
                 if generation.release >= since), USER_SHAPES[-1])


def _shaped_for(user: User, generation: Generation) -> User:
    """``user``, given ``generation``'s shape unless it has one of its own or holds a value that shape lacks."""
    if user.shape is not None:
        return user
    shape = user_shape(generation)
    if user.user_requested_tenant_access is not None and "user_requested_tenant_access" not in shape:
        return user  # kept in the newest shape rather than lose a value; older plugins ignore the key
    return dataclasses.replace(user, shape=shape)


class UserSchema(Schema):
    """common-utils ``User``; unknown keys are ignored as the plugin's parser does.

    A plugin writes and renders the complete shape of its own version
    (:data:`USER_SHAPES`).  A user read in one of those shapes is dumped in
    it again, so a document a plugin wrote is rendered as that plugin renders
    it and survives a rewrite unchanged; any other user (fewer keys, or built
    by flowstatus) is dumped in the newest shape.  Tenants are explicit nulls.
    """

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True)
    backend_roles = fields.List(fields.String(), load_default=(), allow_none=True)
    roles = fields.List(fields.String(), load_default=(), allow_none=True)
    user_requested_tenant = fields.String(allow_none=True, load_default=None)
    user_requested_tenant_access = fields.String(allow_none=True, load_default=None)
    custom_attribute_names = fields.List(fields.String(), load_default=(), allow_none=True)

    @post_load(pass_original=True)
    def _make(self, data: dict[str, Any], original: Mapping[str, Any], **kwargs: Any) -> User:
        lists = ("backend_roles", "roles", "custom_attribute_names")
        shape = shape_of(original, self.fields)
        return User(**{k: tuple(v or ()) if k in lists else v for k, v in data.items()}, shape=shape)  # type: ignore[arg-type]

    @post_dump(pass_original=True)
    def _in_shape(self, data: dict[str, Any], original: User, **kwargs: Any) -> dict[str, Any]:
        return in_shape(data, original)


def _user_output_value(value: Any) -> None:
    """The plugin accepts a string or an object of strings as a user output."""
    if isinstance(value, str):
        return
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return
    raise ValidationError("A user output is a string or an object of strings.")


class StoredStateSchema(Schema):
    """The state document as stored in the index.

    Load: null fields count as absent, unknown keys are kept in
    ``WorkflowState.extra`` (obsolete ones are dropped), so a document of any
    plugin version loads.  Dump: the plugin's key order, absent and empty
    fields left out, ``extra`` appended, so a rewrite keeps what a newer
    plugin added.
    """

    class Meta:
        unknown = INCLUDE

    workflow_id = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    provisioning_progress = fields.String(allow_none=True)
    provision_start_time = EpochMillis(allow_none=True)
    provision_end_time = EpochMillis(allow_none=True)
    user = fields.Nested(UserSchema, allow_none=True)
    user_outputs = fields.Dict(
        keys=fields.String(), values=fields.Raw(validate=_user_output_value), allow_none=True
    )
    resources_created = Resources(allow_none=True)
    tenant_id = fields.String(allow_none=True)
    all_shared_principals = fields.List(fields.String(), allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> WorkflowState:
        known = {k: v for k, v in data.items() if k in STATE_KEYS and v is not None}
        extra = {k: v for k, v in data.items() if k not in STATE_KEYS and k not in OBSOLETE_KEYS}
        if "all_shared_principals" in known:
            known["all_shared_principals"] = tuple(known["all_shared_principals"])
        return WorkflowState(**known, extra=extra)

    @post_dump(pass_original=True)
    def _plugin_format(
        self, data: dict[str, Any], original: WorkflowState, **kwargs: Any
    ) -> dict[str, Any]:
        return {**_drop_absent(data), **original.extra}


class StatusSchema(Schema):
    """The ``GET …/_status`` body, keys in the plugin's order, absent fields left out."""

    workflow_id = fields.String()
    error = fields.String()
    state = fields.String()
    provisioning_progress = fields.String()
    provision_start_time = EpochMillis()
    provision_end_time = EpochMillis()
    user = fields.Nested(UserSchema)
    user_outputs = fields.Dict()
    # The Flow Framework documentation page shows "connector_id": "<id>";
    # every released plugin shows resource_type/resource_id.  Both are given
    # so that clients written against either read the entry.
    resources_created = Resources(type_keys=True)
    tenant_id = fields.String()
    all_shared_principals = fields.List(fields.String())

    @post_dump
    def _omit_absent(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _drop_absent(data)


STORED_STATE = StoredStateSchema()
STATUS_FULL = StatusSchema()
STATUS_SHORT = StatusSchema(only=SHORT_KEYS)


def load_state(source: Mapping[str, Any]) -> WorkflowState:
    """Load a stored ``_source``; raises ``marshmallow.ValidationError`` if it is malformed."""
    return STORED_STATE.load(source)


def dump_state(state: WorkflowState, generation: Generation | None = None) -> dict[str, Any]:
    """The ``_source`` to store for ``state``, in the plugin's format.

    A user read in some plugin's shape keeps it; any other user (one flowstatus
    built) is written in the shape of ``generation``'s plugin, or the newest
    shape without a ``generation``.
    """
    if generation is not None and state.user is not None:
        state = state.evolve(user=_shaped_for(state.user, generation))
    return STORED_STATE.dump(state)


def render_status(state: WorkflowState, *, full: bool) -> dict[str, Any]:
    """The status response body for ``state`` (``full`` is the ``all`` parameter)."""
    return (STATUS_FULL if full else STATUS_SHORT).dump(state)
