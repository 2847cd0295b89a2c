"""The searchable fields: the catalogue is the mapping's, and each is named only where it can match."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowstatus.domain.search_fields import (
    EXACT,
    FIELDS,
    NUMERIC,
    USER_HIDDEN,
    FieldRefused,
    FieldType,
    nested_paths,
    resolve,
)

MAPPING = Path(__file__).parents[3] / "flowstatus" / "repository" / "mappings" / "workflow-state.json"


def _mapped(properties: dict[str, Any], prefix: str = "", nested: str | None = None) -> dict[str, tuple[str, Any]]:
    """Every indexed leaf field of the mapping: full name -> (type, nested path)."""
    found: dict[str, tuple[str, Any]] = {}
    for name, spec in properties.items():
        full = f"{prefix}{name}"
        if "properties" in spec:
            found.update(_mapped(spec["properties"], f"{full}.", full if spec.get("type") == "nested" else nested))
            continue
        if spec["type"] == "object":
            continue  # not dynamic: nothing below it is indexed
        found[full] = (spec["type"], nested)
        for sub, sub_spec in spec.get("fields", {}).items():
            found[f"{full}.{sub}"] = (sub_spec["type"], nested)
    return found


def test_the_catalogue_is_the_mapping() -> None:
    mapping = json.loads(MAPPING.read_text())
    assert {n: (f.type.value, f.nested) for n, f in FIELDS.items()} == _mapped(mapping["properties"])


def test_user_is_hidden_from_callers_without_all_access() -> None:
    for name in ("user", "user.name", "user.backend_roles.keyword"):
        with pytest.raises(FieldRefused, match=r"^the \[user\] field is hidden") as refused:
            resolve(name, nested="user", hide_user=True)
        assert str(refused.value) == USER_HIDDEN
    assert resolve("user.name.keyword", nested="user", hide_user=False).type is FieldType.KEYWORD
    assert nested_paths(hide_user=True) == ("resources_created",)
    assert nested_paths(hide_user=False) == ("resources_created", "user")


def test_a_nested_field_is_named_only_in_its_nested_context() -> None:
    with pytest.raises(FieldRefused, match=r"inside a \[nested\] query, aggregation or sort with path \[resources"):
        resolve("resources_created.resource_id", nested=None, hide_user=True)
    assert resolve("resources_created.resource_id", nested="resources_created", hide_user=True).nested
    with pytest.raises(FieldRefused, match=r"of the root document, not of the nested \[resources_created\]"):
        resolve("state", nested="resources_created", hide_user=True)


def test_unknown_fields_and_wrong_types_are_refused_with_what_is_allowed() -> None:
    with pytest.raises(FieldRefused) as unknown:
        resolve("user_outputs.anything", nested=None, hide_user=True)
    assert "fields: all_shared_principals, error," in str(unknown.value)
    assert "user" not in str(unknown.value).split("fields:")[1]
    with pytest.raises(FieldRefused, match=r"^is a text field; this part reads date or integer or keyword fields$"):
        resolve("error", nested=None, hide_user=True, types=EXACT)
    with pytest.raises(FieldRefused, match=r"^is a keyword field; this part reads date or integer fields$"):
        resolve("state", nested=None, hide_user=True, types=NUMERIC)
