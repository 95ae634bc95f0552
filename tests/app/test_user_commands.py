"""``conexoos user list|show|set-password|delete``: operators read and manage accounts from a shell."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from flask import Flask

from conexoos.app.controllers import accounts, recovery_codes, user_admin
from conexoos.app.models.persistent import Passkey, User
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory, base_overrides
from tests.support.cli import run_cli
from tests.support.stripe_standin import StripeStandIn

from .billing_support import PLAN_OVERRIDES, running_standin, stripe_overrides, subscribe_to_pro
from .conftest import Account, sign_up
from .leaving_support import rows_per_table, seed_account
from .two_factor_support import enrol_totp


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with running_standin() as server:
        yield server


@pytest.fixture
def config_file(tmp_path: Path, standin: StripeStandIn) -> Path:
    """A YAML configuration with its own SQLite file, the test plans and Stripe at the stand-in."""
    path = tmp_path / "config.yml"
    overrides = deep_merge(
        base_overrides(tmp_path), deep_merge(PLAN_OVERRIDES, stripe_overrides(standin.base_url))
    )
    path.write_text(yaml.safe_dump(overrides))
    return path


@pytest.fixture
def cli_app(make_app: AppFactory, config_file: Path) -> Flask:
    """The app the commands work on (built from the same file, so its tables exist)."""
    return make_app(config=str(config_file))


@pytest.fixture
def people(cli_app: Flask) -> dict[str, Account]:
    """alice (one link), bob and carol, signed up through the real form."""
    made = {name: sign_up(cli_app, name) for name in ("alice", "bob", "carol")}
    made["alice"].add_link("Blog", "https://blog.example/")
    return made


def user(config_file: Path, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str | None = None) -> Result:
    """``conexoos --config FILE user ARGS`` through click, as the console script runs it."""
    return run_cli(monkeypatch, "--config", str(config_file), "user", *args, stdin=stdin)


def one_line_error(result: Result, text: str) -> None:
    """Exit status 1 and one ``Error:`` line naming the problem (log lines aside), no traceback."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert result.stdout == "" and "Traceback" not in result.output, result.output
    assert len(errors) == 1 and text in errors[0], result.output


def test_list_pages_and_searches(
    people: dict[str, Account], config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = user(config_file, monkeypatch, "list")
    assert everyone.exit_code == 0, everyone.output
    lines = everyone.stdout.splitlines()
    assert lines[0] == "id\tusername\temail\trole\tplan\tcreated"
    assert [line.split("\t")[1] for line in lines[1:4]] == ["alice", "bob", "carol"]
    assert lines[1].split("\t")[2:5] == ["alice@example.com", "user", "gratis"]
    assert lines[-1] == "page 1 of 1 (3 accounts)"

    found = user(config_file, monkeypatch, "list", "--search", "BO")
    assert [line.split("\t")[1] for line in found.stdout.splitlines()[1:-1]] == ["bob"]
    page = user(config_file, monkeypatch, "list", "--limit", "1", "--page", "2")
    assert [line.split("\t")[1] for line in page.stdout.splitlines()[1:-1]] == ["bob"]
    assert page.stdout.splitlines()[-1] == "page 2 of 3 (3 accounts)"
    assert user(config_file, monkeypatch, "list", "--limit", "0").exit_code == 2
    alone = user(config_file, monkeypatch, "list", "--search", "alice")
    assert alone.stdout.splitlines()[-1] == "page 1 of 1 (1 account)"
    past = user(config_file, monkeypatch, "list", "--search", "alice", "--page", "2")
    one_line_error(past, "there is no page 2: the list has 1 page (1 account)")
    nobody = user(config_file, monkeypatch, "list", "--search", "nobody")
    assert nobody.exit_code == 0 and nobody.stdout.splitlines()[-1] == "page 1 of 1 (0 accounts)"
    unverified = user(config_file, monkeypatch, "list", "--state", "unverified", "--role", "user")
    assert unverified.exit_code == 0 and unverified.stdout.splitlines()[-1] == "page 1 of 1 (3 accounts)"
    staff = user(config_file, monkeypatch, "list", "--role", "admin")
    assert staff.exit_code == 0 and staff.stdout.splitlines()[-1] == "page 1 of 1 (0 accounts)"
    assert user(config_file, monkeypatch, "list", "--state", "gone").exit_code == 2


def test_show_prints_the_account_and_refuses_an_unknown_name(
    people: dict[str, Account], config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = user(config_file, monkeypatch, "show", "Alice")
    assert shown.exit_code == 0, shown.output
    fields = dict(line.split(": ", 1) for line in shown.stdout.splitlines())
    assert fields["username"] == "alice" and fields["email"] == "alice@example.com"
    assert fields["plan"] == "gratis (subscription: none)"
    assert (fields["links"], fields["products"]) == ("1", "0")
    assert fields["created"].endswith("UTC") and fields["last login"].endswith("UTC")  # signed up, logged in
    one_line_error(user(config_file, monkeypatch, "show", "nobody"), "no user named 'nobody'")
    made = ("create", "--email", "dora@example.com", "--username", "dora", "--password", "a long passphrase")
    assert user(config_file, monkeypatch, *made).exit_code == 0
    assert "last login: not recorded" in user(config_file, monkeypatch, "show", "dora").stdout


def test_show_prints_email_verification_and_which_second_factors_as_the_admin_page(
    cli_app: Flask, people: dict[str, Account], config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = dict(
        line.split(": ", 1) for line in user(config_file, monkeypatch, "show", "bob").stdout.splitlines()
    )
    assert (bob["email verified"], bob["two-factor"]) == ("no", "off")
    _, codes = enrol_totp(people["alice"])
    with cli_app.app_context():
        alice = User.get_by_username("alice")
        assert alice is not None and recovery_codes.use(alice, codes[0])
        for name in ("Phone", "Key"):
            db.session.add(
                Passkey(
                    user_id=alice.id,
                    name=name,
                    credential_id=name.encode(),
                    credential_digest=name[0] * 64,
                    public_key=b"key",
                    user_handle=b"handle",
                )
            )
        db.session.commit()
    assert user(config_file, monkeypatch, "verify", "alice").exit_code == 0
    shown = user(config_file, monkeypatch, "show", "alice")
    assert shown.exit_code == 0, shown.output
    fields = dict(line.split(": ", 1) for line in shown.stdout.splitlines())
    assert fields["two-factor"] == "on: authenticator app, 2 passkeys; 9 recovery codes left"
    assert fields["email verified"].startswith("yes (") and fields["email verified"].endswith(" UTC)")
    with cli_app.app_context():  # the same words as the admin account page, from the same function
        again = User.get_by_username("alice")
        assert again is not None
        detail = user_admin.detail(again, links_shown=0)
        assert detail.second_factors.described() == fields["two-factor"] and detail.links == []


def test_show_says_when_a_subscription_set_to_end_ends(
    cli_app: Flask,
    people: dict[str, Account],
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    standin: StripeStandIn,
) -> None:
    subscribe_to_pro(cli_app.test_client(), people["alice"], standin)

    def plan_line() -> str:
        shown = user(config_file, monkeypatch, "show", "alice")
        assert shown.exit_code == 0, shown.output
        return dict(line.split(": ", 1) for line in shown.stdout.splitlines())["plan"]

    assert plan_line() == "pro (subscription: active)"
    for ends, said in (
        (
            datetime(2099, 1, 4, 10, tzinfo=UTC),
            "active, set to end on 2099-01-04 10:00 UTC (does not renew)",
        ),
        (
            datetime(2026, 12, 5, 9, 30, tzinfo=UTC),
            "active, ended on 2026-12-05 09:30 UTC (Stripe has yet to confirm)",
        ),
    ):
        with cli_app.app_context():
            account = db.session.get(User, people["alice"].id)
            assert account is not None
            account.plan_ends_at = ends
            db.session.commit()
        assert plan_line() == f"pro (subscription: {said})"


def logs_in(login: str, password: str) -> bool:
    """Whether ``password`` is the password of the account ``login`` names (in an app context)."""
    return accounts.verify_password(User.get_by_login(login), password)


def test_set_password_asks_twice_and_the_new_password_logs_in(
    cli_app: Flask, people: dict[str, Account], config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = user(config_file, monkeypatch, "set-password", "bob", stdin="a new password\na new password\n")
    assert changed.exit_code == 0, changed.output
    assert "Password: " in changed.output and "Repeat for confirmation: " in changed.output
    assert "password of bob changed" in changed.output
    with cli_app.app_context():
        assert logs_in("bob", "a new password")
        assert not logs_in("bob", people["bob"].password)

    mismatch = user(config_file, monkeypatch, "set-password", "bob", stdin="one password\nanother one\n")
    assert mismatch.exit_code != 0
    short = user(config_file, monkeypatch, "set-password", "bob", "--password", "short")
    assert short.exit_code == 2 and "Use at least 10 characters" in short.output
    common = user(config_file, monkeypatch, "set-password", "bob", "--password", "password1234")
    assert common.exit_code == 2 and "common" in common.output  # the same policy as the web forms
    with cli_app.app_context():
        assert logs_in("bob", "a new password")
    one_line_error(
        user(config_file, monkeypatch, "set-password", "nobody", "--password", "a long password"),
        "no user named 'nobody'",
    )


def test_delete_asks_first_and_then_deletes_as_the_settings_page_does(
    cli_app: Flask,
    people: dict[str, Account],
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    standin: StripeStandIn,
) -> None:
    seed_account(cli_app, people["alice"])
    subscription = subscribe_to_pro(cli_app.test_client(), people["alice"], standin)
    declined = user(config_file, monkeypatch, "delete", "alice", stdin="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert rows_per_table(cli_app, people["alice"].id)["user"] == 1

    deleted = user(config_file, monkeypatch, "delete", "alice", stdin="y\n")
    assert deleted.exit_code == 0, deleted.output
    assert "deleted alice" in deleted.output and "held until" in deleted.output
    after = rows_per_table(cli_app, people["alice"].id)
    assert after == dict.fromkeys(after, 0)
    assert standin.subscription(subscription["id"])["status"] == "canceled"
    assert cli_app.test_client().get("/alice").status_code == 404

    again = user(config_file, monkeypatch, "show", "alice")
    one_line_error(again, "no user named 'alice' (deleted; the name is held until")
    create = user(
        config_file,
        monkeypatch,
        "create",
        "--email",
        "new@example.com",
        "--username",
        "alice",
        "--password",
        "p" * 10,
    )
    assert create.exit_code == 2 and create.stdout == "", create.output  # a refused value: a usage error
    assert "Invalid value for --username: This username was released recently and is held until" in (
        create.stderr
    )


def test_delete_without_prompt_and_a_stripe_failure_deletes_nothing(
    cli_app: Flask,
    people: dict[str, Account],
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    standin: StripeStandIn,
) -> None:
    subscription = subscribe_to_pro(cli_app.test_client(), people["bob"], standin)
    standin.fail_next("DELETE", f"/v1/subscriptions/{subscription['id']}", status=500)
    refused = user(config_file, monkeypatch, "delete", "bob", "--yes")
    one_line_error(refused, "could not cancel your subscription")
    with cli_app.app_context():
        assert User.get_by_username("bob") is not None
    assert user(config_file, monkeypatch, "delete", "bob", "--yes").exit_code == 0
    with cli_app.app_context():
        assert User.get_by_username("bob") is None
        assert db.session.get(User, people["carol"].id) is not None
    one_line_error(user(config_file, monkeypatch, "delete", "nobody", "--yes"), "no user named 'nobody'")


BEYOND = "99999999999999999999"
"""Past 64 bits: SQLite raised OverflowError and MariaDB a syntax error before the options had a maximum."""


@pytest.mark.parametrize(
    "args",
    [
        ("user", "list", "--limit", BEYOND),
        ("user", "list", "--page", BEYOND),
        ("user", "list", "--limit", "10001"),
        ("user", "list", "--page", "1000001"),
        ("user", "list", "--page", "0"),
        ("mail", "status", "--limit", BEYOND),
        ("mail", "retry", "1", BEYOND),
        ("mail", "retry", "2147483648"),
        ("analytics", "quarantine", "--limit", BEYOND),
        ("run", "--port", BEYOND),
    ],
)
def test_a_number_out_of_range_is_a_usage_error(
    cli_app: Flask, config_file: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    result = run_cli(monkeypatch, "--config", str(config_file), *args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "is not in the range" in errors[0], result.output
    assert result.stdout == "" and "Traceback" not in result.output


def test_the_largest_page_and_limit_are_answered(
    people: dict[str, Account], config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = user(config_file, monkeypatch, "list", "--limit", "10000", "--page", "1000000")
    one_line_error(last, "there is no page 1000000: the list has 1 page (3 accounts)")
    retried = run_cli(monkeypatch, "--config", str(config_file), "mail", "retry", "2147483647")
    assert retried.exit_code == 1 and "no failed message with id 2147483647" in retried.output
