"""Where a client's password comes from: the environment, a private netrc, a prompt; in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowstatus.cli.credentials import NoPassword, password_for


def never(text: str) -> str:
    raise AssertionError(f"asked: {text}")


@pytest.fixture
def netrc(tmp_path: Path) -> Path:
    path = tmp_path / "netrc"
    path.write_text('machine status.example login ci-bot password "from netrc"\n'
                    "machine other.example login ci-bot password elsewhere\n")
    path.chmod(0o600)
    return path


def test_the_environment_comes_first(netrc: Path) -> None:
    env = {"FLOWSTATUS_PASSWORD": "from env", "NETRC": str(netrc)}
    assert password_for("ci-bot", "status.example", env, never) == ("from env", "FLOWSTATUS_PASSWORD")


def test_an_empty_variable_counts_as_unset(netrc: Path) -> None:
    env = {"FLOWSTATUS_PASSWORD": "", "NETRC": str(netrc)}
    assert password_for("ci-bot", "status.example", env, never) == ("from netrc", str(netrc))


def test_netrc_gives_the_entry_of_the_host_and_user_only(netrc: Path) -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed"

    env = {"NETRC": str(netrc)}
    assert password_for("someone-else", "status.example", env, prompt) == ("typed", "the prompt")
    assert password_for("ci-bot", "unknown.example", env, prompt) == ("typed", "the prompt")
    assert asked == ["Password for someone-else at status.example: ", "Password for ci-bot at unknown.example: "]


def test_netrc_is_found_in_home_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, netrc: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    netrc.rename(tmp_path / ".netrc")
    assert password_for("ci-bot", "status.example", {}, never) == ("from netrc", str(tmp_path / ".netrc"))


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o666])
def test_a_netrc_others_may_read_is_refused(netrc: Path, mode: int) -> None:
    netrc.chmod(mode)
    with pytest.raises(NoPassword, match=r"may be read by other users: .*chmod 600"):
        password_for("ci-bot", "status.example", {"NETRC": str(netrc)}, never)


def test_a_netrc_that_does_not_parse_is_named(netrc: Path) -> None:
    netrc.write_text("machine status.example login ci-bot passwd secret\n")
    with pytest.raises(NoPassword, match=f"cannot read {netrc}"):
        password_for("ci-bot", "status.example", {"NETRC": str(netrc)}, never)


def test_an_empty_answer_is_no_password(tmp_path: Path) -> None:
    with pytest.raises(NoPassword, match="empty password"):
        password_for("ci-bot", "status.example", {"NETRC": str(tmp_path / "none")}, lambda text: "")
