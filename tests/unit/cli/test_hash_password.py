"""``flowstatus hash-password``: a hash for the users file, or a clear refusal."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

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


def test_on_a_terminal_the_prompts_stay_out_of_stdout() -> None:
    """``flowstatus hash-password > file`` leaves the hash alone in the file."""
    controller, terminal = os.openpty()
    process = subprocess.Popen([sys.executable, "-m", "flowstatus", "hash-password", "--rounds", "10"],
                               stdin=terminal, stdout=subprocess.PIPE, stderr=terminal, start_new_session=True)
    os.close(terminal)
    try:
        deadline = time.monotonic() + 30
        for prompt in (b"Password:", b"Repeat for confirmation:"):
            seen = b""
            while prompt not in seen:  # answer only once asked: the prompt flushes what was typed before
                assert time.monotonic() < deadline, f"no {prompt!r} on the terminal; stdout: {process.stdout}"
                if select.select([controller], [], [], 0.2)[0]:
                    seen += os.read(controller, 1024)
            time.sleep(0.2)  # the prompt is printed before the terminal stops echoing
            os.write(controller, b"s3cret\n")
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
        os.close(controller)
    assert process.returncode == 0, seen
    assert bcrypt.checkpw(b"s3cret", out.strip()), out
