"""The fields of the state index that a search may name, as the index mapping defines them.

The mapping (``flowstatus/repository/mappings/workflow-state.json``) is the
source; this catalogue repeats it as plain values because the domain reads
no files, and a unit test holds the two equal.  A search names a field in a
context: the root document, or the nested objects of one nested path
(``resources_created``, or ``user`` for callers allowed to see it).  A
nested field named outside its nested context matches nothing in
OpenSearch, so it is refused with a hint instead of silently answering
nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

USER_PATH = "user"
RESOURCES_PATH = "resources_created"


class FieldType(enum.Enum):
    KEYWORD = "keyword"
    TEXT = "text"
    DATE = "date"
    INTEGER = "integer"


EXACT = frozenset({FieldType.KEYWORD, FieldType.DATE, FieldType.INTEGER})
"""Field types with doc values: sortable and aggregatable (``text`` has neither)."""
NUMERIC = frozenset({FieldType.DATE, FieldType.INTEGER})
"""Field types a histogram, a ``range`` aggregation or a numeric metric reads."""
ANY = frozenset(FieldType)


@dataclass(frozen=True)
class SearchField:
    """One searchable field: its full name, type, and the nested path it lives under (``None``: the root)."""

    name: str
    type: FieldType
    nested: str | None = None


def _user_fields() -> list[SearchField]:
    fields = []
    for name in ("name", "backend_roles", "roles", "custom_attribute_names"):
        fields.append(SearchField(f"{USER_PATH}.{name}", FieldType.TEXT, USER_PATH))
        fields.append(SearchField(f"{USER_PATH}.{name}.keyword", FieldType.KEYWORD, USER_PATH))
    return fields


FIELDS: dict[str, SearchField] = {
    f.name: f
    for f in [
        SearchField("schema_version", FieldType.INTEGER),
        SearchField("workflow_id", FieldType.KEYWORD),
        SearchField("error", FieldType.TEXT),
        SearchField("state", FieldType.KEYWORD),
        SearchField("provisioning_progress", FieldType.KEYWORD),
        SearchField("provision_start_time", FieldType.DATE),
        SearchField("provision_end_time", FieldType.DATE),
        SearchField("tenant_id", FieldType.KEYWORD),
        SearchField("all_shared_principals", FieldType.KEYWORD),
        *(SearchField(f"{RESOURCES_PATH}.{name}", FieldType.KEYWORD, RESOURCES_PATH)
          for name in ("workflow_step_name", "workflow_step_id", "resource_type", "resource_id")),
        *_user_fields(),
    ]
}
"""Every field of the mapping a search can match, sort or aggregate on, by full name.

``user_outputs`` is mapped as an unindexed object (the mapping is not
dynamic), so nothing under it can be searched and it is not listed.
"""

NESTED_PATHS = (RESOURCES_PATH, USER_PATH)
USER_HIDDEN = (
    "the [user] field is hidden from callers without all_access and cannot be searched, sorted or aggregated"
)


class FieldRefused(ValueError):
    """The field cannot be named here; the message says why (it never repeats the caller's text)."""


def is_user(name: str) -> bool:
    """Whether ``name`` is ``user`` or one of its sub-fields."""
    return name == USER_PATH or name.startswith(USER_PATH + ".")


def nested_paths(*, hide_user: bool) -> tuple[str, ...]:
    """The nested paths a caller may search: ``user`` only for callers who may see it."""
    return tuple(p for p in NESTED_PATHS if not (hide_user and p == USER_PATH))


def resolve(
    name: str, *, nested: str | None, hide_user: bool, types: frozenset[FieldType] = ANY
) -> SearchField:
    """The field ``name`` as one part of a search may use it.

    ``nested`` is the nested path the part runs in (``None``: the root
    document); ``types`` the field types the part can read.  Raises
    :class:`FieldRefused` for ``user`` when it is hidden, a name the mapping
    does not have, a field outside the part's nested context, or a field of
    another type.
    """
    if hide_user and is_user(name):
        raise FieldRefused(USER_HIDDEN)
    field = FIELDS.get(name)
    if field is None:
        visible = sorted(n for n, f in FIELDS.items() if f.nested in (None, nested) and not (hide_user and is_user(n)))
        raise FieldRefused(f"is not a field of the workflow state index here; fields: {', '.join(visible)}")
    if field.nested != nested:
        if field.nested is None:
            raise FieldRefused(f"is a field of the root document, not of the nested [{nested}] objects")
        raise FieldRefused(
            f"lives in the nested [{field.nested}] objects: name it inside a [nested] query, "
            f"aggregation or sort with path [{field.nested}]"
        )
    if field.type not in types:
        wanted = " or ".join(sorted(t.value for t in types))
        raise FieldRefused(f"is a {field.type.value} field; this part reads {wanted} fields")
    return field
