"""Passwords: hashes checked at start, the same bcrypt work whoever asks, bcrypt's 72-byte limit said aloud."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import bcrypt
import pytest
import yaml

from flowstatus.services.passwords import (
    PasswordChecker,
    PasswordTooLong,
    UsersFileError,
    hash_password,
    load_users,
)

PASSWORD = "correct horse battery staple"


def users_file(tmp_path: Path, **hashes: str) -> Path:
    path = tmp_path / "internal_users.yml"
    path.write_text(yaml.safe_dump({"_meta": {"type": "internalusers"},
                                    **{name: {"hash": h, "backend_roles": ["b"]} for name, h in hashes.items()}}))
    return path


def hashed(cost: int, password: str = PASSWORD) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode().replace("$2b$", "$2y$")


@pytest.mark.parametrize("bad", [
    "$2y$12$short", "$2y$04$" + "a" * 53, "$2y$04$" + "a" * 52, "$2x$04$" + hashed(4)[7:], "$1$abc", "plain",
    hashed(4)[:-1] + "b", hashed(4)[:28] + "a" + hashed(4)[29:],
])
def test_a_malformed_hash_stops_the_start_naming_the_user(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UsersFileError, match=r"^user 'mallory': 'hash' is not a bcrypt hash"):
        load_users(users_file(tmp_path, alice=hashed(4), mallory=bad))


@pytest.mark.parametrize("cost", [3, 17, 31])
def test_a_cost_outside_4_to_16_stops_the_start(tmp_path: Path, cost: int) -> None:
    salt = hashed(4)[7:]
    with pytest.raises(UsersFileError, match=rf"^user 'slow': bcrypt cost {cost} is outside 4-16"):
        load_users(users_file(tmp_path, slow=f"$2y${cost:02d}${salt}"))


def test_every_well_formed_hash_is_one_bcrypt_reads(tmp_path: Path) -> None:
    accounts = load_users(users_file(tmp_path, **{f"u{c}": hashed(c) for c in (4, 5)}, b=hashed(4).replace("$2y$", "$2b$")))
    checker = PasswordChecker(accounts)
    assert checker.costs == (4, 5)
    assert all(checker.check(name, PASSWORD) is not None for name in accounts)


def test_passwords_over_72_bytes_are_refused_not_cut(tmp_path: Path) -> None:
    with pytest.raises(PasswordTooLong, match=r"^the password is 73 bytes long; bcrypt reads only the first 72"):
        hash_password("x" * 73, rounds=4)
    with pytest.raises(PasswordTooLong, match="74 bytes"):
        hash_password("é" * 37, rounds=4)  # 37 characters, 74 bytes
    assert bcrypt.checkpw(b"x" * 72, hash_password("x" * 72, rounds=4).encode())
    long_one = "y" * 72
    checker = PasswordChecker(load_users(users_file(tmp_path, alice=hashed(4, long_one))))
    assert checker.check("alice", long_one) is not None
    assert checker.check("alice", long_one + "z") is None, "bcrypt would have cut it and said yes"


def test_an_empty_file_checks_at_the_default_cost() -> None:
    assert PasswordChecker({}).costs == (12,)


def _median_check(checker: PasswordChecker, user: str, tries: int = 5) -> float:
    times = []
    for attempt in range(tries):
        started = time.perf_counter()
        assert checker.check(user, f"wrong-{attempt}") is None
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_unknown_users_and_users_of_every_cost_cost_the_same(tmp_path: Path) -> None:
    # Costs 4 and 9: the cost-9 check is 32 times the cost-4 one, so a check
    # that did only the user's own work would show it at once.
    checker = PasswordChecker(load_users(users_file(tmp_path, cheap=hashed(4), dear=hashed(9))))
    times = {user: _median_check(checker, user) for user in ("cheap", "dear", "nobody")}
    assert max(times.values()) / min(times.values()) < 3, times
