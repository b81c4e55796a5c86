"""Failed logins are throttled per account and per address (429, Retry-After); passwords have a policy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from saylau.cli import app as cli

from .conftest import PASSWORD, P, TestClient, login
from .test_hostile_input import open_client, settings_for


@pytest.fixture
def throttled(database: Any, tmp_path: Path) -> Iterator[TestClient]:
    yield from open_client(
        settings_for(database, tmp_path, login_account_failures=3, login_address_failures=5)
    )


def _login(c: TestClient, user: str, password: str) -> Any:
    return c.post(f"{P}/auth/login", json={"username": user, "password": password})


def test_failed_logins_are_throttled_per_account_and_address(throttled: TestClient) -> None:
    c = throttled
    cec = login(c, "cec")
    for name in ("alice", "bob", "carol"):
        body = {"username": name, "password": PASSWORD, "role": "observer"}
        assert c.post(f"{P}/users", json=body, headers=cec).status_code == 201
    for _ in range(3):
        assert _login(c, "alice", "wrong password 1").status_code == 403
    r = _login(c, "alice", PASSWORD)  # even the right password: the account waits
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0, r.text
    assert "this account" in r.json()["detail"] and PASSWORD not in r.text
    # another account from the same address still logs in, until the address has failed 5 times
    assert _login(c, "bob", PASSWORD).status_code == 200
    for _ in range(2):
        assert _login(c, "bob", "wrong password 2").status_code == 403
    r = _login(c, "carol", PASSWORD)
    assert r.status_code == 429 and "client address" in r.json()["detail"], r.text


def test_the_limiter_window_slides_and_a_success_clears_the_account() -> None:
    from saylau.api.logins import LoginLimiter, TooManyLogins

    now = [1000.0]
    limiter = LoginLimiter(account_failures=2, address_failures=100, window_seconds=60, clock=lambda: now[0])
    limiter.failed("cec", "10.0.0.1")
    now[0] += 30
    limiter.failed("cec", "10.0.0.2")  # from anywhere: the account counts
    with pytest.raises(TooManyLogins) as caught:
        limiter.check("cec", "10.0.0.3")
    assert caught.value.retry_after == 30
    now[0] += 30  # the first failure leaves the window
    limiter.check("cec", "10.0.0.3")
    limiter.failed("cec", "10.0.0.3")
    with pytest.raises(TooManyLogins):
        limiter.check("cec", "10.0.0.3")
    limiter.succeeded("cec")
    limiter.check("cec", "10.0.0.3")
    bounded = LoginLimiter(account_failures=1, address_failures=1, window_seconds=60, clock=lambda: now[0],
                           max_keys=10)
    for i in range(100):
        bounded.failed(f"user{i}", f"addr{i}")
    assert len(bounded._accounts.failures) == 10  # memory stays bounded


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("12345678", "at least 12"),
        ("896223699512", "all digits"),
        ("aaaa aaaa aaaa", "different characters"),
        ("Password1234", "commonly used"),
        ("Election2022!", "commonly used"),
        ("qwertyuiopasdf", "keyboard"),
        ("x" * 201, "at most 200"),
    ],
)
def test_weak_passwords_are_refused(password: str, rule: str) -> None:
    from saylau.store.passwords import check_password

    with pytest.raises(ValueError, match=rule) as caught:
        check_password(password, "cec")
    assert password not in str(caught.value)


def test_the_api_enforces_the_password_policy_for_every_role(client: TestClient) -> None:
    cec = login(client, "cec")
    for role, password in (("cec", "12345678"), ("cec", "896223699512"), ("observer", "observer123!")):
        body = {"username": "n1", "password": password, "role": role}
        r = client.post(f"{P}/users", json=body, headers=cec)
        assert r.status_code == 422 and "field 'password'" in r.json()["detail"], r.text
        assert password not in r.text
    body = {"username": "n1", "password": "four random words here", "role": "cec"}
    assert client.post(f"{P}/users", json=body, headers=cec).status_code == 201


def test_saylau_user_add_enforces_the_password_policy(database: Any, tmp_path: Path) -> None:
    url = database.url
    if database.schema is not None:
        url += f"?options=-csearch_path%3D{database.schema}"
    runner = CliRunner()
    env = {**os.environ, "SAYLAU_PASSWORD": "12345678"}
    r = runner.invoke(cli, ["user", "add", "admin", "--role", "cec", "--database-url", url], env=env)
    assert r.exit_code == 2 and "field 'password'" in r.output and "12345678" not in r.output, r.output
    env["SAYLAU_PASSWORD"] = "a long passphrase of words"
    r = runner.invoke(cli, ["user", "add", "admin", "--role", "cec", "--database-url", url], env=env)
    assert r.exit_code == 0 and "user admin (cec) created" in r.output, r.output
