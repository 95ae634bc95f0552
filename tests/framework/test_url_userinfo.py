"""A URL whose user name or password holds an '@' (or a '/', '?', '#') written as such: programs end the
password at different '@'s, so the part SQLAlchemy took for the host ('wor@d@127.0.0.1') was printed by
`config check --connect` and `db current` while `config show` hid it (outside tester). Such a URL is
refused by the configuration, hidden up to its last '@' by the redactor, and a database URL that does not
parse is shown with only what may be a password hidden."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from conexoos.framework import ConfigError, load_settings
from conexoos.framework.cli import cli
from conexoos.framework.database_errors import connection_label, without_password
from conexoos.framework.redaction import Redactor, redact_credentials, redact_tree, secret_values

from .test_cli import ENV_TO_CLEAR

REPORTED = "postgresql://postgres:pa:ss@wor@d@127.0.0.1/stranger27"


def problems_of(overrides: dict[str, Any]) -> list[str]:
    """The configuration's problems with ``overrides`` over the embedded default; [] when it is accepted."""
    try:
        load_settings(None, environ={}, overrides=overrides)
    except ConfigError as error:
        return error.problems
    return []


def database(url: str) -> dict[str, Any]:
    return {"DATABASE": {"main": {"url": url}}}


# ---------------------------------------------------------------- the configuration refuses an ambiguous URL


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        pytest.param(database(REPORTED), "DATABASE.main.url", id="reported"),
        pytest.param(database("postgresql://us@er:secret-pw@127.0.0.1/x"), "DATABASE.main.url", id="user-@"),
        pytest.param(database("postgresql://app:sec/ret-pw@127.0.0.1/x"), "DATABASE.main.url", id="pw-slash"),
        pytest.param(database("postgresql://app:sec?ret-pw@127.0.0.1/x"), "DATABASE.main.url", id="pw-query"),
        pytest.param(database("mysql+pymysql://app:sec@ret-pw@db:3306/x"), "DATABASE.main.url", id="mysql"),
        pytest.param(  # SQLAlchemy would take 'ret-pw:1' for the host's port, and quote it in its error
            database("postgresql://app:sec@ret-pw:1@127.0.0.1/x"), "DATABASE.main.url", id="pw-@-and-colon"
        ),
        pytest.param(
            {"FLASK": {"CONFIG": {"CACHE_REDIS_URL": "redis://:sec@ret-pw@cache.internal:6379/0"}}},
            "FLASK.CONFIG.CACHE_REDIS_URL",
            id="redis-url",
        ),
        pytest.param(
            {"FLASK": {"CONFIG": {"RATELIMIT_STORAGE_URI": "redis://:sec@ret-pw@cache.internal:6379"}}},
            "FLASK.CONFIG.RATELIMIT_STORAGE_URI",
            id="rate-limit-storage",
        ),
        pytest.param(
            {"FLASK": {"CONFIG": {"BROKERS": ["redis://plain/1", "memcached://u:sec@ret-pw@m:11211"]}}},
            "FLASK.CONFIG.BROKERS[1]",
            id="memcached-in-a-list",
        ),
        pytest.param(
            {"SERVICES": {"search": {"URL": "http://elastic:sec@ret-pw@search.internal:9200/"}}},
            "SERVICES.search.URL",
            id="service-url",
        ),
    ],
)
def test_an_ambiguous_user_name_or_password_is_refused_without_showing_it(
    overrides: dict[str, Any], key: str
) -> None:
    problems = problems_of(overrides)
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        f"{key}: its user name or password holds an '@', '/', '?' or '#' written as "
    )
    assert "Percent-encode them: '@' as %40, '/' as %2F, '?' as %3F, '#' as %23" in problems[0]
    for fragment in ("sec", "ret-pw", "pa:ss", "wor@d", "secret"):
        assert fragment not in problems[0]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:pa:ss%40wor%40d@127.0.0.1/stranger27",
        "postgresql://us%40er:secret-pw@127.0.0.1/x",
        "postgresql://app:sec%2Fret%3Fpw@127.0.0.1/x",
        "postgresql://app@127.0.0.1/x?application_name=a@b",  # no password: the '@' of the query is its own
    ],
)
def test_the_same_url_percent_encoded_is_accepted(url: str) -> None:
    assert problems_of(database(url)) == []


def test_the_reported_url_percent_encoded_is_read_as_meant_and_labelled_by_its_host() -> None:
    encoded = REPORTED.replace("ss@wor@d@", "ss%40wor%40d@")
    main = load_settings(None, environ={}, overrides=database(encoded)).databases["main"]
    assert (main.url.password, main.url.host) == ("pa:ss@wor@d", "127.0.0.1")
    assert connection_label(main.url, "main") == "connection 'main' (postgresql at 127.0.0.1:5432)"


def test_config_check_connect_refuses_the_reported_url_before_connecting(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f'DATABASE:\n  main:\n    url: "{REPORTED}"\n', encoding="utf-8")
    env = {name: None for name in ENV_TO_CLEAR}
    for words in (["config", "check"], ["config", "check", "--connect"], ["config", "show"]):
        result = CliRunner().invoke(cli, [*words, "--config", str(config)], env=env)
        assert result.exit_code == 2, result.output
        assert "config error: DATABASE.main.url: its user name or password holds an '@'" in result.output
        assert "wor@d" not in result.output and "pa:ss" not in result.output


# ---------------------------------------------------------------- the redactor hides to the last '@'


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (REPORTED, "postgresql://***@127.0.0.1/stranger27"),
        (f"connecting to {REPORTED} failed", "connecting to postgresql://***@127.0.0.1/stranger27 failed"),
        ("redis://:p@ss@cache.internal:6379/0", "redis://***@cache.internal:6379/0"),
        ("postgresql://us@er:secretpw@127.0.0.1/x", "postgresql://***@127.0.0.1/x"),  # it was shown whole
        ("postgresql://app:sec/ret@127.0.0.1/x", "postgresql://***@127.0.0.1/x"),  # it was shown whole
        ("postgresql://app:sec@ret/pw@127.0.0.1/x", "postgresql://***@127.0.0.1/x"),
        ("postgresql://app:pw@db/x?application_name=a@b", "postgresql://***@b"),  # which '@' ends it?
        ("https://u:pw@example.org/@alice", "https://***@alice"),
        (
            "https://example.org/?next=https://u:pw@evil.example",
            "https://example.org/?next=https://u:***@evil.example",
        ),
        ("redis://:p@ss@h and postgresql://app:pw@db/x", "redis://***@h and postgresql://app:***@db/x"),
    ],
)
def test_an_ambiguous_url_is_hidden_up_to_its_last_at(text: str, shown: str) -> None:
    assert redact_credentials(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "https://mastodon.social/@alice",
        "https://example.org:8443/path?a=b:c@d",
        "sqlite:////srv/me@host/site.db",
        "postgresql://app@db.internal/x",
        "postgresql://app:@db.internal/x",
    ],
)
def test_a_url_without_a_password_is_shown_whole(text: str) -> None:
    assert redact_credentials(text) == text


def test_config_show_and_the_logs_hide_the_whole_ambiguous_user_name_and_password() -> None:
    tree = {"FLASK": {"CONFIG": {"CACHE_REDIS_URL": "redis://:p@ss-word@cache.internal:6379/0"}}}
    assert redact_tree(tree)["FLASK"]["CONFIG"]["CACHE_REDIS_URL"] == "redis://***@cache.internal:6379/0"
    redactor = Redactor(secret_values(tree))
    assert redactor("auth with p@ss-word failed") == "auth with *** failed"


def test_connection_label_and_the_drivers_message_hide_a_password_read_as_the_host() -> None:
    url = make_url(REPORTED)  # SQLAlchemy's reading: password 'pa:ss', host 'wor@d@127.0.0.1'
    assert connection_label(url, "main") == "connection 'main' (postgresql at ***@127.0.0.1:5432)"
    reason = "failed to resolve host 'wor@d@127.0.0.1': [Errno -2] Name or service not known"
    assert without_password(reason, url) == (
        "failed to resolve host '***@127.0.0.1': [Errno -2] Name or service not known"
    )
    split = make_url("postgresql://app:pass@wo/rd@db.internal/x")  # host 'wo', database 'rd@db.internal/x'
    assert connection_label(split, "main") == "connection 'main' (postgresql at ***:5432)"
    assert without_password("could not translate host name 'wo'", split) == (
        "could not translate host name '***'"
    )
    socket = make_url("postgresql://app@/x?host=@abstract")  # libpq's abstract socket: a leading '@'
    assert "the Unix socket in @abstract" in connection_label(socket, "main")


# ---------------------------------------------------------------- a URL that does not parse is shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql//postgres@127.0.0.1/x", "'postgresql//postgres@127.0.0.1/x'"),
        ("postgresql//postgres:secret-pw@127.0.0.1/x", "'postgresql//***@127.0.0.1/x'"),
        ("postgresql:postgres:secret-pw@127.0.0.1/x", "'***@127.0.0.1/x'"),
        ("postgres:secret-pw@127.0.0.1", "'***@127.0.0.1'"),
        ("postgresql://app:secret-pw@127.0.0.1:fivefour/x", "'postgresql://app:***@127.0.0.1:fivefour/x'"),
        ("host=db user=app secret-pw", "***"),
    ],
)
def test_a_database_url_that_does_not_parse_is_shown_with_only_a_possible_password_hidden(
    url: str, shown: str
) -> None:
    problems = problems_of(database(url))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"DATABASE.main.url: {shown} is not valid; expected a valid SQLAlchemy URL")
    assert "secret" not in problems[0]


# ---------------------------------------------------------------- properties: no fragment of a password

LETTERS = "JKQVWXZ"
"""The password's letters: none appears in the messages or in the rest of the URLs, so a fragment of the
password found in an output was printed from it."""
passwords = st.text(alphabet=LETTERS + "@:/%", min_size=1, max_size=24).filter(
    lambda password: any(letter in password for letter in LETTERS)
)


def fragments(password: str) -> set[str]:
    """Each piece of 3 characters or more of ``password`` that holds one of its letters."""
    pieces = {
        password[start:end] for start in range(len(password)) for end in range(start + 3, len(password) + 1)
    }
    return {piece for piece in pieces if any(letter in piece for letter in LETTERS)}


def assert_hidden(password: str, *outputs: str) -> None:
    for output in outputs:
        leaked = [piece for piece in fragments(password) if piece in output]
        assert not leaked, (password, output, leaked)


@settings(max_examples=300, deadline=None)
@given(password=passwords)
def test_no_fragment_of_a_database_password_is_ever_shown(password: str) -> None:
    url = f"postgresql://app:{password}@db.internal/site"
    assert_hidden(password, redact_credentials(url), redact_credentials(f"'{url}'"))
    assert_hidden(password, connection_label(make_url(url), "main") if _parses(url) else "")
    problems = problems_of(database(url))
    assert_hidden(password, *problems)
    assert bool(problems) == ("@" in password or "/" in password)  # else every program reads it alike
    if not problems:
        loaded = load_settings(None, environ={}, overrides=database(url))
        main = loaded.databases["main"].url
        assert (main.password, main.host) == (password, "db.internal")
        assert_hidden(password, json.dumps(loaded.redacted()), connection_label(main, "main"))
    malformed = url.replace("://", "//", 1)  # the password keeps its own
    assert_hidden(password, *problems_of(database(malformed)))


@settings(max_examples=200, deadline=None)
@given(password=passwords)
def test_no_fragment_of_a_redis_password_is_ever_shown(password: str) -> None:
    url = f"redis://:{password}@cache.internal:6379/0"
    overrides = {"FLASK": {"CONFIG": {"CACHE_REDIS_URL": url, "RATELIMIT_STORAGE_URI": url}}}
    problems = problems_of(overrides)
    assert_hidden(password, redact_credentials(url), *problems)
    assert bool(problems) == ("@" in password or "/" in password)
    if not problems:
        loaded = load_settings(None, environ={}, overrides=overrides)
        assert_hidden(password, json.dumps(loaded.redacted()))


@settings(max_examples=40, deadline=None)
@given(password=passwords)
def test_config_check_never_prints_a_fragment_of_the_password(password: str) -> None:
    env = {name: None for name in ENV_TO_CLEAR}
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.json"
        text = {
            "SERVER_ENV": {"INSTANCE_PATH": folder},
            **database(f"postgresql://app:{password}@db.internal/x"),
        }
        config.write_text(json.dumps(text), encoding="utf-8")
        for words in (["config", "check"], ["config", "show"]):
            result = CliRunner().invoke(cli, [*words, "--config", str(config)], env=env)
            assert result.exit_code == (2 if "@" in password or "/" in password else 0), result.output
            assert_hidden(password, result.output)


def _parses(url: str) -> bool:
    """Whether SQLAlchemy reads ``url`` at all (``app:J@K:Q@db``: the port 'Q@db' is no number)."""
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        return False
    return True
