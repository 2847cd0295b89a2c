"""The server options of watch and ingest: what is refused before any request, and what is warned about."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from flowstatus.cli import main
from flowstatus.cli.client_options import Target, connect


@pytest.mark.parametrize("args, message", [
    (["ingest", "--user", "ci-bot"], "--user applies to a flowstatus server: give its --url too"),
    (["ingest", "--tenant", "t", "--insecure-skip-verify"],
     "--tenant, --insecure-skip-verify apply to a flowstatus server: give its --url too"),
    (["ingest", "--max-bytes", "4096"], "--max-bytes applies to a flowstatus server: give its --url too"),
    (["watch", "wf", "--url", "ftp://status.example"], "is not an http:// or https:// URL"),
    (["watch", "wf", "--url", "http://status.example:http"], "has a port that is not a number"),
    (["watch", "wf", "--url", "http://status.example:70000"], "has a port that is not a number"),
    (["watch", "wf", "--url", "https://bot:secret@status.example"], "credentials do not belong in the URL"),
    (["ingest", "--url", "https://status.example/?x=1"], "without a query or fragment"),
    (["watch", "wf", "--user", "a:b"], "may not be empty or contain ':'"),
    (["ingest", "--password", "secret"], "No such option '--password'"),
])
def test_refused_before_any_request(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args, input="")
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_a_password_over_plain_http_beyond_loopback_is_warned_about(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FLOWSTATUS_PASSWORD", "secret")
    client = connect(Target("HTTP://status.example:8080", user="ci-bot"))
    assert client.access.password == "secret" and client.access.password_source == "FLOWSTATUS_PASSWORD"
    err = capsys.readouterr().err
    assert "WARNING: the password of ci-bot crosses the network to status.example in clear (http://)" in err
    assert "secret" not in err
    connect(Target("http://127.0.0.1:8080", user="ci-bot"))
    connect(Target("https://status.example", user="ci-bot"))
    connect(Target("http://status.example:8080"))
    assert capsys.readouterr().err == ""
