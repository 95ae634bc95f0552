"""Roles on the command line: ``user create --admin / --role``, ``user set-role``, ``user list``, and
``setup-token`` (a link to /setup while the site has no administrator)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from conexoos.app.controllers import setup
from conexoos.app.models.persistent import AuditEntry, User
from conexoos.framework import db
from tests.support.cli import run_cli

from .conftest import PASSWORD


def conexoos(config: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    return run_cli(monkeypatch, "--config", str(config), *args)


def create(config: Path, monkeypatch: pytest.MonkeyPatch, name: str, *flags: str) -> Result:
    return conexoos(
        config,
        monkeypatch,
        "user",
        "create",
        "--email",
        f"{name}@example.com",
        "--username",
        name,
        "--password",
        PASSWORD,
        *flags,
    )


def role_of(app: Flask, username: str) -> str:
    with app.app_context():
        user = User.get_by_username(username)
        assert user is not None
        return user.role


def test_create_with_a_role_and_list_shows_it(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert create(config_file, monkeypatch, "moddy", "--role", "moderator").exit_code == 0
    assert create(config_file, monkeypatch, "boss", "--admin").exit_code == 0
    clash = create(config_file, monkeypatch, "both", "--admin", "--role", "user")
    assert clash.exit_code == 2 and "--admin gives the role admin" in clash.output
    assert create(config_file, monkeypatch, "odd", "--role", "overlord").exit_code == 2
    assert (role_of(cli_app, "moddy"), role_of(cli_app, "boss")) == ("moderator", "admin")
    listed = conexoos(config_file, monkeypatch, "user", "list").stdout.splitlines()
    assert [line.split("\t")[3] for line in listed[1:3]] == ["moderator", "admin"]
    with cli_app.app_context():
        logged = list(db.session.scalars(select(AuditEntry.summary).order_by(AuditEntry.id)))
    assert logged == ["moddy created with role moderator", "boss created with role admin"]


def test_set_role_changes_it_and_logs_it(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert create(config_file, monkeypatch, "plain").exit_code == 0
    result = conexoos(config_file, monkeypatch, "user", "set-role", "plain", "admin")
    assert result.exit_code == 0 and "plain now has the role admin" in result.output
    assert role_of(cli_app, "plain") == "admin"
    with cli_app.app_context():
        created, entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert created.summary == "plain created with role user"  # every role is logged, users too
        assert (entry.action, entry.actor_id, entry.actor_name) == (
            "user.role",
            None,
            "operator (command line)",
        )
    shown = conexoos(config_file, monkeypatch, "user", "show", "plain").stdout
    assert "role: admin" in shown and "suspended: no" in shown


def test_setup_token_prints_a_working_link_until_there_is_an_admin(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed = conexoos(config_file, monkeypatch, "setup-token")
    assert printed.exit_code == 0, printed.output
    link = printed.stdout.strip()
    assert link.startswith("http://localhost/setup?token=")
    remote = cli_app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert remote.get(link.removeprefix("http://localhost")).status_code == 200
    with cli_app.app_context():
        assert setup.token_valid(link.split("token=")[1])
    assert create(config_file, monkeypatch, "boss", "--admin").exit_code == 0
    done = conexoos(config_file, monkeypatch, "setup-token")
    assert done.exit_code == 1 and "setup is done" in done.output
    assert remote.get(link.removeprefix("http://localhost")).status_code == 404


def test_setup_token_counts_only_active_administrators(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert create(config_file, monkeypatch, "boss", "--admin").exit_code == 0
    with cli_app.app_context():
        boss = User.get_by_username("boss")
        assert boss is not None
        boss.suspended_at = boss.created_at
        db.session.commit()
    told = conexoos(config_file, monkeypatch, "setup-token")
    assert told.exit_code == 1 and "no active administrator is left" in told.output  # no "admin exists"
    assert "set-role USERNAME admin" in told.output


def test_set_role_does_not_demote_the_last_admin_without_force(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert create(config_file, monkeypatch, "boss", "--admin").exit_code == 0
    refused = conexoos(config_file, monkeypatch, "user", "set-role", "boss", "user")
    assert refused.exit_code == 1 and "only active administrator" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert role_of(cli_app, "boss") == "admin"
    forced = conexoos(config_file, monkeypatch, "user", "set-role", "boss", "user", "--force")
    assert forced.exit_code == 0 and role_of(cli_app, "boss") == "user"
