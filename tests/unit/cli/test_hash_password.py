"""``flowstatus hash-password``: a hash for the users file, or a clear refusal."""

from __future__ import annotations

import bcrypt
from click.testing import CliRunner

from flowstatus.cli import main


def test_a_password_is_hashed_for_the_users_file() -> None:
    result = CliRunner().invoke(main, ["hash-password", "--rounds", "10"], input="s3cret\n")
    assert result.exit_code == 0, result.output
    assert bcrypt.checkpw(b"s3cret", result.output.strip().encode())


def test_more_than_72_bytes_is_refused_without_a_traceback() -> None:
    result = CliRunner().invoke(main, ["hash-password", "--rounds", "10"], input="x" * 80 + "\n")
    assert result.exit_code == 1
    assert result.output == (
        "Error: the password is 80 bytes long; bcrypt reads only the first 72, so it cannot be hashed: "
        "choose one of at most 72 bytes (UTF-8)\n")
    assert isinstance(result.exception, SystemExit), "a clean exit, not an exception"
