"""``SERVICES.smtp``: validated with defaults, its password redacted, and what start-up says without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from conexoos.framework.cli import cli
from conexoos.framework.config import load_settings
from conexoos.framework.errors import ConfigError
from conexoos.framework.smtp import smtp_settings


def settings_with(smtp: dict[str, Any] | None, **server: Any) -> Any:
    tree: dict[str, Any] = {"SERVER_ENV": {"PUBLIC_URL": "https://links.example.org", **server}}
    if smtp is not None:
        tree["SERVICES"] = {"smtp": smtp}
    return load_settings(None, overrides=tree, report_warnings=False)


def test_defaults_follow_the_security_and_the_public_url() -> None:
    starttls = smtp_settings(settings_with({"HOST": "mail.example.org"}))
    assert starttls is not None
    assert (starttls.port, starttls.security, starttls.timeout) == (587, "starttls", 10)
    assert starttls.sender == "Conexoos <no-reply@links.example.org>"
    tls = smtp_settings(settings_with({"HOST": "mail.example.org", "SECURITY": "TLS", "PORT": "2465"}))
    assert tls is not None and (tls.port, tls.security) == (2465, "tls")
    assert smtp_settings(settings_with({"HOST": ""})) is None  # an unset ${SMTP_HOST}: no SMTP
    assert smtp_settings(settings_with(None)) is None


@pytest.mark.parametrize(
    ("smtp", "expected"),
    [
        (
            {"HOST": "m", "SECURITY": "ssl"},
            "SERVICES.smtp.SECURITY: 'ssl' is not valid; expected one of none",
        ),
        ({"HOST": "m", "PORT": 70000}, "SERVICES.smtp.PORT: 70000 is not valid; expected an integer from 1"),
        ({"HOST": "m", "FROM": "nobody"}, "SERVICES.smtp.FROM: 'nobody' is not valid; expected an address"),
        (
            {"HOST": "m", "FROM": "a@b.org\nBcc: x@y.org"},
            "SERVICES.smtp.FROM: 'a@b.org\\nBcc: x@y.org' is not",
        ),
        ({"HOST": "m", "TIMEOUT": 0}, "SERVICES.smtp.TIMEOUT: 0 is not valid; expected an integer from 1"),
    ],
)
def test_mistakes_name_the_key(smtp: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_with(smtp)
    assert any(problem.startswith(expected) for problem in raised.value.problems), raised.value.problems


def test_the_password_is_redacted() -> None:
    shown = settings_with({"HOST": "m", "USER": "mailer", "PASSWORD": "hunter2-secret"}).redacted()
    assert shown["SERVICES"]["smtp"]["PASSWORD"] == "***"
    assert "hunter2" not in str(shown)


def write_config(tmp_path: Path, verify: str, smtp: dict[str, Any] | None = None, env: str = "PROD") -> Path:
    tree: dict[str, Any] = {
        "SERVER_ENV": {
            "ENV": env,
            "APP_KEY": "k" * 48,
            "PUBLIC_URL": "https://links.example.org",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        },
        "DATABASE": {"default": "main", "main": {"driver": "sqlite", "database": "c.db"}},
        "APP": {"ACCOUNTS": {"VERIFY_EMAIL": verify}},
    }
    if smtp:
        tree["SERVICES"] = {"smtp": smtp}
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(tree), encoding="utf-8")
    return path


def config_check(path: Path) -> Any:
    return CliRunner().invoke(cli, ["config", "check", "--config", str(path)])


def test_prod_without_smtp_refuses_when_verification_is_required(tmp_path: Path) -> None:
    result = config_check(write_config(tmp_path, "required"))
    assert result.exit_code == 2, result.output
    assert (
        "config error: SERVICES.smtp: is not configured, and under PROD email verification "
        "(APP.ACCOUNTS.VERIFY_EMAIL: required) cannot work without mail"
    ) in result.output


@pytest.mark.parametrize("verify", ["optional", "off"])
def test_prod_without_smtp_warns_otherwise(tmp_path: Path, verify: str) -> None:
    result = config_check(write_config(tmp_path, verify))
    assert result.exit_code == 0, result.output
    assert "warning: SERVICES.smtp: is not configured, and under PROD no mail is sent: password reset" in (
        result.output
    )
    assert "configuration OK" in result.output


def test_prod_with_smtp_or_dev_without_it_says_nothing_about_mail(tmp_path: Path) -> None:
    with_smtp = config_check(write_config(tmp_path, "required", {"HOST": "mail.example.org"}))
    assert with_smtp.exit_code == 0 and "SERVICES.smtp" not in with_smtp.output, with_smtp.output
    dev = config_check(write_config(tmp_path, "required", env="DEV"))
    assert dev.exit_code == 0 and "SERVICES.smtp" not in dev.output, dev.output


def test_serve_refuses_before_starting_when_verification_needs_mail(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--config", str(write_config(tmp_path, "required"))])
    assert result.exit_code == 2, result.output
    assert (
        "config error: SERVICES.smtp: is not configured, and under PROD email verification" in result.output
    )
