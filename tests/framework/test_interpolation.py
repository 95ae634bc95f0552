"""``${VAR}`` substitution in YAML and JSON configuration files, and the types that come out of it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from conexoos.framework import create_app, load_settings
from conexoos.framework.errors import ConfigError
from conexoos.framework.interpolation import substitute

from .helpers import write_files
from .test_cli import invoke


def yaml_config(tmp_path: Path, text: str) -> Path:
    return write_files(tmp_path, {"config.yml": text}) / "config.yml"


def json_config(tmp_path: Path, tree: dict[str, object]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tree, indent=2), encoding="utf-8")
    return path


def test_several_variables_in_one_string() -> None:
    result = substitute(
        {"url": "${SCHEME}://${HOST}:${PORT}/x"}, {"SCHEME": "https", "HOST": "example.org", "PORT": "8443"}
    )
    assert result.value == {"url": "https://example.org:8443/x"}
    assert result.missing == []


def test_default_is_used_when_unset_or_empty_but_not_when_set() -> None:
    tree = {"a": "${A:-fallback}", "b": "${B:-fallback}", "c": "${C:-fallback}", "d": "${D:-}"}
    result = substitute(tree, {"B": "", "C": "given"})
    assert result.value == {"a": "fallback", "b": "fallback", "c": "given", "d": ""}
    assert result.missing == []


def test_double_dollar_is_a_literal_and_names_no_variable() -> None:
    result = substitute({"template": "cost: $${AMOUNT} of ${CURRENCY}"}, {"CURRENCY": "EUR"})
    assert result.value == {"template": "cost: ${AMOUNT} of EUR"}
    assert result.missing == []


def test_lists_are_walked_and_non_strings_kept() -> None:
    result = substitute({"hosts": ["${H1}", "b"], "n": 3, "flag": True}, {"H1": "a"})
    assert result.value == {"hosts": ["a", "b"], "n": 3, "flag": True}


def test_yaml_file_interpolation_and_types(tmp_path: Path) -> None:
    path = yaml_config(
        tmp_path,
        """
        SERVER_ENV:
          APP_NAME: "${BRAND}-${REGION} $${literal}"
          BIND:
            ADDRESS: ${ADDRESS:-0.0.0.0}
            PORT: ${PORT:-4200}
          THREADS_PER_CORE: ${THREADS}
          CAPTURE: ${CAPTURE:-true}
        FLASK:
          CONFIG:
            MAX_ITEMS: ${MAX_ITEMS}
            RATIO: ${RATIO}
            GREETING: "hello ${NAME}"
            ZIP: ${ZIP}
            OPENING: ${OPENING}
            SWITCH: ${SWITCH}
            CSRF_TIME: ${CSRF_TIME:-null}
            NONE_TOO: ${NONE_TOO}
    """,
    )
    environ = {
        "BRAND": "acme",
        "REGION": "eu",
        "THREADS": "8",
        "MAX_ITEMS": "25",
        "RATIO": "0.5",
        "NAME": "42",
        "ZIP": "01234",
        "OPENING": "12:30",
        "SWITCH": "on",
        "NONE_TOO": "~",
    }
    settings = load_settings(path, environ=environ)

    assert settings.get("SERVER_ENV.APP_NAME") == "acme-eu ${literal}"
    assert settings.get("SERVER_ENV.BIND.ADDRESS") == "0.0.0.0"
    assert settings.get("SERVER_ENV.BIND.PORT") == 4200
    assert settings.get("SERVER_ENV.THREADS_PER_CORE") == 8
    assert settings.get("SERVER_ENV.CAPTURE") is True
    config = settings.get("FLASK.CONFIG")
    assert config["MAX_ITEMS"] == 25 and isinstance(config["MAX_ITEMS"], int)
    assert config["RATIO"] == 0.5
    # A variable inside a longer string stays text, whatever it holds.
    assert config["GREETING"] == "hello 42"
    # Text that only YAML 1.1 would read as a number or a boolean stays exactly as written.
    assert config["ZIP"] == "01234"
    assert config["OPENING"] == "12:30"
    assert config["SWITCH"] == "on"
    assert config["CSRF_TIME"] is None and config["NONE_TOO"] is None  # null, as YAML reads it
    assert settings.warnings == []


def test_port_from_environment_is_an_integer(tmp_path: Path) -> None:
    path = yaml_config(tmp_path, "SERVER_ENV:\n  BIND:\n    PORT: ${PORT:-4200}\n")
    assert load_settings(path, environ={"PORT": "8080"}).get("SERVER_ENV.BIND.PORT") == 8080


def test_json_file_interpolation_and_types(tmp_path: Path) -> None:
    path = json_config(
        tmp_path,
        {
            "SERVER_ENV": {
                "APP_NAME": "${BRAND:-shop} $${X}",
                "BIND": {"PORT": "${PORT:-4200}"},
                "CAPTURE": "${CAPTURE}",
            },
            "FLASK": {"CONFIG": {"PAGE_SIZE": "${PAGE_SIZE}", "LABEL": "v${PAGE_SIZE}"}},
            "SERVICES": {"redis": {"HOST": "${REDIS_HOST:-localhost}", "PORT": "${REDIS_PORT:-6380}"}},
        },
    )
    settings = load_settings(path, environ={"PAGE_SIZE": "50", "CAPTURE": "false"})
    assert settings.source == path
    assert settings.get("SERVER_ENV.APP_NAME") == "shop ${X}"
    assert settings.get("SERVER_ENV.BIND.PORT") == 4200
    assert settings.get("SERVER_ENV.CAPTURE") is False
    assert settings.get("FLASK.CONFIG.PAGE_SIZE") == 50
    assert settings.get("FLASK.CONFIG.LABEL") == "v50"
    assert settings.services["redis"] == {"HOST": "localhost", "PORT": 6380, "DB": 0, "PASSWORD": ""}


def test_flask_config_integer_reaches_the_app(tmp_path: Path) -> None:
    path = yaml_config(
        tmp_path,
        """
        SERVER_ENV:
          APP_KEY: test-key-for-interpolation-000000000000000
          INSTANCE_PATH: instance
        FLASK:
          CONFIG:
            PAGE_SIZE: ${PAGE_SIZE}
    """,
    )
    project = write_files(tmp_path / "project", {"README": "empty project"})
    settings = load_settings(path, environ={"PAGE_SIZE": "30"})
    app = create_app(project, settings)
    assert app.config["PAGE_SIZE"] == 30


def test_unset_variables_become_empty_and_are_named_in_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = yaml_config(
        tmp_path,
        """
        SERVER_ENV:
          APP_NAME: "shop${SUFFIX}"
          LOG:
            DIR: ${LOG_DIR}
            LEVEL: ${LOG_LEVEL}
        FLASK:
          CONFIG:
            BANNER: "${SUFFIX}"
    """,
    )
    with caplog.at_level(logging.WARNING, logger="conexoos.config"):
        settings = load_settings(path, environ={})

    assert settings.get("SERVER_ENV.APP_NAME") == "shop"
    assert settings.get("FLASK.CONFIG.BANNER") == ""
    # An empty LOG.DIR / LEVEL means "use the default": stderr at INFO.
    assert settings.get("SERVER_ENV.LOG") == {"DIR": "", "LEVEL": "INFO", "ROTATE": "size"}
    assert settings.warnings == ["environment variables not set, used empty: SUFFIX, LOG_DIR, LOG_LEVEL"]
    messages = [record.getMessage() for record in caplog.records if "not set" in record.getMessage()]
    assert messages == ["config: environment variables not set, used empty: SUFFIX, LOG_DIR, LOG_LEVEL"]


def test_a_refused_value_that_came_from_an_unset_variable_names_it(tmp_path: Path) -> None:
    path = yaml_config(tmp_path, "SERVER_ENV:\n  BIND:\n    PORT: ${PORT_X}\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(path, environ={})
    assert refused.value.problems == [
        "SERVER_ENV.BIND.PORT: '' is not valid; expected an integer from 1 to 65535"
    ]
    assert refused.value.notes == ["environment variables not set, used empty: PORT_X"]


def test_create_app_reports_the_missing_variables_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUFFIX", raising=False)
    path = yaml_config(
        tmp_path,
        """
        SERVER_ENV:
          APP_KEY: test-key-for-interpolation-000000000000000
          APP_NAME: "shop${SUFFIX}"
    """,
    )
    project = write_files(tmp_path / "project", {"README": "empty project"})
    with caplog.at_level(logging.WARNING, logger="conexoos"):
        create_app(project, path)
    messages = [record.getMessage() for record in caplog.records if "not set" in record.getMessage()]
    assert messages == ["config: environment variables not set, used empty: SUFFIX"]


MALFORMED = {
    "${S2_APP_KEY": "a closing brace missing?",
    "${S2_APP_KEY:default}": "the - is missing: write ${S2_APP_KEY:-default} for a default",
    "${1KEY}": "a variable's name is letters, digits and _, not starting with a digit",
    "key-${X}-${": "a closing brace missing?",
    "${S2_APP_KEY:-${X}}": "the default of ${S2_APP_KEY} holds another ${...}, which is not substituted",
}


@pytest.mark.parametrize("written", MALFORMED)
def test_a_dollar_brace_that_starts_no_expression_is_refused(tmp_path: Path, written: str) -> None:
    """``${S2_APP_KEY`` (its brace missing) was kept as written: under PROD, the site signed its tokens with
    that public text, and ``config check`` said OK."""
    path = yaml_config(
        tmp_path,
        f"SERVER_ENV:\n  ENV: PROD\n  PUBLIC_URL: https://links.example.org\n  APP_KEY: '{written}'\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"S2_APP_KEY": "k" * 40, "X": "x"})
    assert caught.value.problems == [
        "SERVER_ENV.APP_KEY: holds a ${ that starts no ${VAR} or ${VAR:-default} "
        f"({MALFORMED[written]}); write $${{ for a literal ${{"
    ]
    assert written not in str(caught.value)  # a secret's text is not repeated


def test_a_malformed_dollar_brace_is_one_problem_not_also_a_type_error(tmp_path: Path) -> None:
    """``${PORT:4200}`` (its ``-`` missing) is no port either; saying so too was a second line."""
    path = yaml_config(tmp_path, "SERVER_ENV:\n  BIND:\n    PORT: ${PORT:4200}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.problems == [
        "SERVER_ENV.BIND.PORT: holds a ${ that starts no ${VAR} or ${VAR:-default} (the - is missing: "
        "write ${PORT:-default} for a default); write $${ for a literal ${"
    ]


def test_a_literal_dollar_brace_is_written_doubled() -> None:
    result = substitute({"k": "a$${b and ${A}", "plain": "cost $5 {x}"}, {"A": "v"})
    assert result.value == {"k": "a${b and v", "plain": "cost $5 {x}"}
    assert result.malformed == []


def test_config_check_gives_the_unset_variables_as_a_note_not_a_second_error(tmp_path: Path) -> None:
    path = yaml_config(tmp_path, "SERVER_ENV:\n  BIND:\n    PORT: ${PORT_X}\n")
    result = invoke("config", "check", "--config", str(path))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "config error: SERVER_ENV.BIND.PORT: '' is not valid; expected an integer from 1 to 65535",
        "note: environment variables not set, used empty: PORT_X",
    ]


def test_a_refused_value_names_the_environment_variable_it_came_from(tmp_path: Path) -> None:
    """`PORT=abc` said SERVER_ENV.BIND.PORT is not valid, not that the mistake was in $PORT."""
    path = tmp_path / "config.yml"
    path.write_text('SERVER_ENV:\n  BIND: {PORT: "${PORT}"}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"PORT": "abc"})
    assert caught.value.problems == [
        "SERVER_ENV.BIND.PORT: 'abc' (from $PORT) is not valid; expected an integer from 1 to 65535"
    ]
