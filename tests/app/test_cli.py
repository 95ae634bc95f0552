"""``conexoos user create``: operators make accounts from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from conexoos.app.models.persistent import User
from conexoos.framework import db
from tests.support.cli import run_cli

from .conftest import PASSWORD, each, form_token


def run(config_file: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """``conexoos --config FILE user create ARGS``."""
    return run_cli(monkeypatch, "--config", str(config_file), "user", "create", *args)


def stored_user(app: Flask, username: str) -> User | None:
    with app.app_context():
        return User.get_by_username(username)


def test_user_create_makes_an_account_that_can_log_in(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(
        config_file,
        monkeypatch,
        "--email",
        "Op@Example.com",
        "--username",
        "Operator",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "created user operator" in result.output
    user = stored_user(cli_app, "operator")
    assert user is not None
    assert (user.email, user.is_admin) == ("op@example.com", False)
    assert user.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(user.password_hash, PASSWORD)

    client = cli_app.test_client()
    token = form_token(client.get("/login"))
    response = client.post("/login", data={"csrf_token": token, "login": "operator", "password": PASSWORD})
    assert response.status_code == 302


def test_user_create_admin(cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(
        config_file,
        monkeypatch,
        "--email",
        "root@example.com",
        "--username",
        "boss",
        "--password",
        PASSWORD,
        "--admin",
    )
    assert result.exit_code == 0, result.output
    assert "administrator" in result.output
    user = stored_user(cli_app, "boss")
    assert user is not None and user.is_admin is True


def test_user_create_refuses_bad_input(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    valid = ["--email", "a@example.com", "--username", "valid_name"]
    cases = {
        "email": ["--email", "not-an-email", "--username", "valid_name", "--password", PASSWORD],
        "username": ["--email", "a@example.com", "--username", "x", "--password", PASSWORD],
        "at least 10 characters": [*valid, "--password", "short"],
        "most common passwords": [*valid, "--password", "qwertyuiop"],
        "built from your username": [*valid, "--password", "Valid_Name2024!"],
        "reserved": ["--email", "a@example.com", "--username", "admin", "--password", PASSWORD],
    }

    def check(case: tuple[str, list[str]]) -> None:
        message, args = case
        result = run(config_file, monkeypatch, *args)
        assert result.exit_code == 2, result.output  # a refused value is a usage error (the password was 1)
        assert message in result.stderr and result.stdout == "", result.output
        assert "Traceback" not in result.output

    each({message: (message, args) for message, args in cases.items()}, check)
    with cli_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_user_create_refuses_a_taken_username(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run(
        config_file, monkeypatch, "--email", "a@example.com", "--username", "dup", "--password", PASSWORD
    )
    assert first.exit_code == 0, first.output
    second = run(
        config_file, monkeypatch, "--email", "b@example.com", "--username", "DUP", "--password", PASSWORD
    )
    assert second.exit_code == 2, second.output  # was 1
    assert "Error: Invalid value for --username: This username is taken." in second.stderr
    with cli_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
