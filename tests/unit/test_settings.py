"""load_settings: every variable read, bad values named, nothing else read."""

from __future__ import annotations

import pytest

from flowstatus.settings import ENV_VARS, Settings, load_settings


def test_no_variables_give_the_defaults() -> None:
    assert load_settings({}) == Settings()


def test_values_are_parsed_by_type() -> None:
    settings = load_settings({
        "OPENSEARCH_URL": " http://a:9200 , https://b:9200 ,",
        "FLOWSTATUS_FILTER_BY_BACKEND_ROLES": "true",
        "FLOWSTATUS_REQUEST_TIMEOUT": "2.5",
        "FLOWSTATUS_POOL_SIZE": "8",
        "FLOWSTATUS_PROXY_TRUSTED": "10.0.0.0/8, 127.0.0.1",
        "FLOWSTATUS_WAIT_FOR_ACTIVE_SHARDS": "all",
    })
    assert settings.opensearch_hosts == ("http://a:9200", "https://b:9200")
    assert settings.filter_by_backend_roles is True
    assert (settings.request_timeout, settings.pool_size) == (2.5, 8)
    assert settings.proxy_trusted == ("10.0.0.0/8", "127.0.0.1")
    assert settings.wait_for_active_shards == "all"


def test_empty_variables_count_as_unset_and_others_are_ignored() -> None:
    assert load_settings({"FLOWSTATUS_POOL_SIZE": "", "HOME": "/root", "FLOWSTATUS_NOT_A_SETTING": "x"}) == Settings()


@pytest.mark.parametrize(("name", "value"), [
    ("OPENSEARCH_URL", "ftp://x"),
    ("FLOWSTATUS_POOL_SIZE", "0"),
    ("FLOWSTATUS_POOL_SIZE", "many"),
    ("FLOWSTATUS_REFRESH", "sometimes"),
    ("FLOWSTATUS_STATE_INDEX", "Upper"),
    ("FLOWSTATUS_PROXY_TRUSTED", "not-a-network"),
    ("FLOWSTATUS_LOG_LEVEL", "TRACE"),
    ("FLOWSTATUS_WAIT_FOR_ACTIVE_SHARDS", "0"),
    ("FLOWSTATUS_WORKFLOW_METRICS_INTERVAL", "0.5"),
    ("FLOWSTATUS_WORKFLOW_METRICS_TENANTS", "1000"),
])
def test_a_bad_value_stops_the_start_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"invalid configuration: .*{name}"):
        load_settings({name: value})


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ValueError) as exc:
        load_settings({"FLOWSTATUS_POOL_SIZE": "0", "FLOWSTATUS_RETRY_AFTER": "-1"})
    assert "FLOWSTATUS_POOL_SIZE" in str(exc.value) and "FLOWSTATUS_RETRY_AFTER" in str(exc.value)


def test_every_setting_has_exactly_one_variable() -> None:
    assert len(ENV_VARS) == len(set(ENV_VARS)) == len(Settings.__dataclass_fields__)


def test_the_tenant_breakdown_needs_multi_tenancy() -> None:
    with pytest.raises(ValueError, match="FLOWSTATUS_WORKFLOW_METRICS_TENANTS: .*FLOWSTATUS_MULTI_TENANCY=true"):
        load_settings({"FLOWSTATUS_WORKFLOW_METRICS_TENANTS": "5"})
    settings = load_settings({"FLOWSTATUS_WORKFLOW_METRICS_TENANTS": "5", "FLOWSTATUS_MULTI_TENANCY": "true"})
    assert settings.workflow_metrics_tenants == 5
