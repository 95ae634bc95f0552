"""``FLASK.CONFIG``'s typed keys (Flask's own, and those the framework and the product read) are checked with
the rest of the configuration: a value of the wrong type is one line naming the key, not a 500 on every POST
or every login, nor a start that `config check` said was fine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conexoos.framework import ConfigError, load_settings
from conexoos.framework.cli import cli

from .helpers import write_files


def flask_config(tmp_path: Path, text: str) -> Path:
    return write_files(tmp_path, {"config.yml": "FLASK:\n  CONFIG:\n" + text})


def problems_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(flask_config(tmp_path, text) / "config.yml", environ=environ or {})
    return caught.value.problems


def refused_by_config_check(folder: Path) -> str:
    """`config check` of the folder's config.yml, which must refuse it (exit status 2); its output."""
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(folder / "config.yml")])
    assert result.exit_code == 2, result.output
    return result.output


def test_config_check_refuses_the_anonymous_lifetime_the_start_refuses(tmp_path: Path) -> None:
    """`config check` said OK; `run`, `serve` and `user list` stopped with this very line."""
    folder = flask_config(tmp_path, "    ANONYMOUS_SESSION_LIFETIME: two hours\n")
    output = refused_by_config_check(folder)
    assert (
        "config error: FLASK.CONFIG.ANONYMOUS_SESSION_LIFETIME: 'two hours' is not valid; expected a whole "
        "number of seconds above 0"
    ) in output


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "MAX_CONTENT_LENGTH: lots",
            "FLASK.CONFIG.MAX_CONTENT_LENGTH: 'lots' is not valid; expected a number of "
            "bytes (0 or more), or null",
        ),
        (
            "PERMANENT_SESSION_LIFETIME: abc",
            "FLASK.CONFIG.PERMANENT_SESSION_LIFETIME: 'abc' is not valid; expected a whole number of seconds "
            "above 0, up to 315360000 (10 years)",
        ),
        (
            "MAX_FORM_MEMORY_SIZE: -1",
            "FLASK.CONFIG.MAX_FORM_MEMORY_SIZE: -1 is not valid; expected a number of "
            "bytes (0 or more), or null",
        ),
        (
            "MAX_FORM_PARTS: many",
            "FLASK.CONFIG.MAX_FORM_PARTS: 'many' is not valid; expected a number of "
            "parts (0 or more), or null",
        ),
        (
            "SEND_FILE_MAX_AGE_DEFAULT: 1h",
            "FLASK.CONFIG.SEND_FILE_MAX_AGE_DEFAULT: '1h' is not valid; expected a whole number of seconds "
            "(0 or more), up to 315360000 (10 years), or null",
        ),
        (
            "SESSION_COOKIE_SECURE: maybe",
            "FLASK.CONFIG.SESSION_COOKIE_SECURE: 'maybe' is not valid; expected true or false",
        ),
        (
            "SESSION_COOKIE_SAMESITE: loose",
            "FLASK.CONFIG.SESSION_COOKIE_SAMESITE: 'loose' is not valid; expected one of Lax, Strict, None, "
            "or null",
        ),
        (
            "SESSION_COOKIE_NAME: my session",
            "FLASK.CONFIG.SESSION_COOKIE_NAME: 'my session' is not valid; expected a cookie name (letters, "
            "digits, _-.)",
        ),
        (
            "SESSION_REFRESH_EACH_REQUEST: sometimes",
            "FLASK.CONFIG.SESSION_REFRESH_EACH_REQUEST: 'sometimes' is not valid; expected true or false",
        ),
        (
            "PREFERRED_URL_SCHEME: ftp",
            "FLASK.CONFIG.PREFERRED_URL_SCHEME: 'ftp' is not valid; expected one of http, https",
        ),
        (
            "MAX_COOKIE_SIZE: null",
            "FLASK.CONFIG.MAX_COOKIE_SIZE: None is not valid; expected an integer from 0",
        ),
        (
            "SESSION_PROTECTION: strict",
            "FLASK.CONFIG.SESSION_PROTECTION: 'strict' is not valid; expected one of basic, strong, or null",
        ),
        # A cookie domain, fallback keys or a root the site cannot use.
        (
            "SESSION_COOKIE_DOMAIN: 'x y'",
            "FLASK.CONFIG.SESSION_COOKIE_DOMAIN: 'x y' is not valid; expected a domain name "
            "(e.g. example.org or .example.org), or null",
        ),
        (
            "SECRET_KEY_FALLBACKS: [abcdefghijkl, '']",
            "FLASK.CONFIG.SECRET_KEY_FALLBACKS: *** is not valid; expected a list of non-empty strings",
        ),
        (
            "APPLICATION_ROOT: 'x'",
            "FLASK.CONFIG.APPLICATION_ROOT: 'x' is not valid; expected / (a site is never served "
            "under a path)",
        ),
    ],
)
def test_a_flask_setting_of_the_wrong_type_is_one_line_naming_it(
    tmp_path: Path, line: str, expected: str
) -> None:
    assert problems_of(tmp_path, f"    {line}\n") == [expected]


@pytest.mark.parametrize(
    "name", ["ANONYMOUS_SESSION_LIFETIME", "PERMANENT_SESSION_LIFETIME", "SEND_FILE_MAX_AGE_DEFAULT"]
)
def test_config_check_refuses_a_lifetime_the_sessions_cannot_store(tmp_path: Path, name: str) -> None:
    """99999999999999 seconds passed: the start (anonymous) or each login (permanent) raised OverflowError,
    and the filesystem store raised struct.error past about 2.5e9 seconds."""
    folder = flask_config(tmp_path, f"    {name}: 99999999999999\n")
    output = refused_by_config_check(folder)
    assert f"config error: FLASK.CONFIG.{name}: 99999999999999 is not valid;" in output
    assert "up to 315360000 (10 years)" in output
    assert "Traceback" not in output


def test_a_lifetime_of_ten_years_is_kept(tmp_path: Path) -> None:
    text = "    PERMANENT_SESSION_LIFETIME: 315360000\n    ANONYMOUS_SESSION_LIFETIME: 315360000\n"
    settings = load_settings(flask_config(tmp_path, text) / "config.yml", environ={})
    assert settings.tree["FLASK"]["CONFIG"]["PERMANENT_SESSION_LIFETIME"] == 315360000


def test_the_variable_a_wrong_flask_setting_came_from_is_named(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "    MAX_CONTENT_LENGTH: ${UPLOAD_LIMIT}\n", {"UPLOAD_LIMIT": "10 MB"})
    assert problems == [
        "FLASK.CONFIG.MAX_CONTENT_LENGTH: '10 MB' (from $UPLOAD_LIMIT) is not valid; expected a number of "
        "bytes (0 or more), or null"
    ]


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("SESSION_COOKIE_SECURE: 'false'", False),  # a text "false" is a true value to Flask
        ("SESSION_COOKIE_SAMESITE: strict", "Strict"),
        ("MAX_CONTENT_LENGTH: '1048576'", 1048576),
        ("MAX_CONTENT_LENGTH: null", None),
        ("JSON_PATH_PREFIXES: /api/, /hooks/", ["/api/", "/hooks/"]),  # tuple() of a text: its letters
        ("PERMANENT_SESSION_LIFETIME: 3600", 3600),
        # A cookie domain, fallback keys and a root the site can use.
        ("SESSION_COOKIE_DOMAIN: .example.org", ".example.org"),
        ("SECRET_KEY_FALLBACKS: [abcdefghijkl]", ["abcdefghijkl"]),
        ("APPLICATION_ROOT: /", "/"),
    ],
)
def test_a_flask_setting_is_handed_to_flask_as_the_type_it_takes(
    tmp_path: Path, line: str, value: Any
) -> None:
    settings = load_settings(flask_config(tmp_path, f"    {line}\n") / "config.yml", environ={})
    name = line.split(":")[0]
    assert settings.tree["FLASK"]["CONFIG"][name] == value


def test_an_unknown_flask_setting_is_handed_on_as_written(tmp_path: Path) -> None:
    settings = load_settings(
        flask_config(tmp_path, "    MY_EXTENSION_MODE: fast\n") / "config.yml", environ={}
    )
    assert settings.tree["FLASK"]["CONFIG"] == {"MY_EXTENSION_MODE": "fast"}


def test_config_check_refuses_a_rate_limit_storage_limits_does_not_know(tmp_path: Path) -> None:
    """'nope://' passed config check; the start died with limits' ConfigurationError."""
    folder = flask_config(tmp_path, "    RATELIMIT_STORAGE_URI: 'nope://'\n")
    output = refused_by_config_check(folder)
    assert (
        "config error: FLASK.CONFIG.RATELIMIT_STORAGE_URI: 'nope://' is not valid; expected a storage URI of "
        "a scheme limits supports"
    ) in output


@pytest.mark.parametrize("uri", ["async+memory://", "async+redis://cache.internal:6379"])
def test_config_check_refuses_an_asyncio_rate_limit_storage(tmp_path: Path, uri: str) -> None:
    """limits registers them, so they passed; Flask-Limiter's first limited request then failed."""
    output = refused_by_config_check(flask_config(tmp_path, f"    RATELIMIT_STORAGE_URI: '{uri}'\n"))
    assert f"FLASK.CONFIG.RATELIMIT_STORAGE_URI: '{uri}' is not valid" in output
    assert "not async+...: Flask-Limiter cannot use limits' asyncio storages" in output


@pytest.mark.parametrize("uri", ["memory://", "redis://cache.internal:6379", "redis+unix:///run/redis.sock"])
def test_a_rate_limit_storage_limits_knows_is_kept(tmp_path: Path, uri: str) -> None:
    settings = load_settings(
        flask_config(tmp_path, f"    RATELIMIT_STORAGE_URI: '{uri}'\n") / "config.yml", environ={}
    )
    assert settings.tree["FLASK"]["CONFIG"]["RATELIMIT_STORAGE_URI"] == uri


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("    SESSION_COOKIE_SAMESITE: None\n", "DEV"),
        ("    SESSION_COOKIE_SAMESITE: None\n    SESSION_COOKIE_SECURE: false\n", "PROD"),
    ],
)
def test_same_site_none_without_a_secure_cookie_is_refused(tmp_path: Path, text: str, env: str) -> None:
    """Browsers drop a SameSite=None cookie that is not Secure: nobody could log in; config check said OK."""
    folder = write_files(
        tmp_path,
        {"config.yml": f"SERVER_ENV:\n  ENV: {env}\n  APP_KEY: {'k' * 40}\nFLASK:\n  CONFIG:\n{text}"},
    )
    output = refused_by_config_check(folder)
    assert (
        "config error: FLASK.CONFIG.SESSION_COOKIE_SAMESITE: 'None' needs a Secure session cookie" in output
    )


@pytest.mark.parametrize(
    "text",
    [
        "    SESSION_COOKIE_SAMESITE: None\n    SESSION_COOKIE_SECURE: true\n",
        "    SESSION_COOKIE_SAMESITE: Lax\n",
    ],
)
def test_same_site_none_with_a_secure_cookie_is_kept(tmp_path: Path, text: str) -> None:
    settings = load_settings(flask_config(tmp_path, text) / "config.yml", environ={})
    assert settings.tree["FLASK"]["CONFIG"]["SESSION_COOKIE_SAMESITE"] in ("None", "Lax")
