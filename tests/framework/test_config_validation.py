"""Validation of the configuration file: one line per mistake naming the key path, the value and the fix."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from conexoos.framework import ConfigError, create_app, load_settings
from conexoos.framework.config import deep_merge
from conexoos.framework.redaction import Redactor

from .helpers import write_files, write_project

APP_KEY = "k" * 48
PUBLIC_URL = "https://links.example.org"


def config_file(tmp_path: Path, text: str, name: str = "config.yml") -> Path:
    return write_files(tmp_path, {name: text}) / name


def problems_of(path: Path | None, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=environ or {})
    assert str(caught.value) == "\n".join(caught.value.problems + caught.value.notes)
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "SERVER_ENV:\n  BIND:\n    PORT: abc\n",
            "SERVER_ENV.BIND.PORT: 'abc' is not valid; expected an integer from 1 to 65535",
            id="wrong-type",
        ),
        pytest.param(
            "SERVER_ENV:\n  BIND:\n    PORT: 70000\n",
            "SERVER_ENV.BIND.PORT: 70000 is not valid; expected an integer from 1 to 65535",
            id="out-of-range",
        ),
        pytest.param(
            "SERVER_ENV:\n  CAPTURE: maybe\n",
            "SERVER_ENV.CAPTURE: 'maybe' is not valid; expected true or false",
            id="not-a-boolean",
        ),
        pytest.param(
            "DATABASE:\n  default: nope\n  main:\n    driver: sqlite\n    database: a.db\n"
            "  other:\n    driver: sqlite\n    database: b.db\n",
            "DATABASE.default: 'nope' is not valid; expected the name of a connection: main, other",
            id="default-names-no-connection",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    driver: sqlite\n  other:\n    driver: sqlite\n",
            "DATABASE.default: is missing; expected the name of a connection: main, other",
            id="default-missing",
        ),
        pytest.param(
            "SERVER_ENV:\n  SESSION: mongo\n",
            "SERVER_ENV.SESSION: 'mongo' is not valid; expected one of filesystem, redis, memcached, "
            "sqlalchemy",
            id="unknown-session",
        ),
        pytest.param(
            "SERVER_ENV:\n  SESSION: redis\n",
            "SERVER_ENV.SESSION: 'redis' needs a SERVICES.redis entry (HOST and PORT); add it or choose "
            "another SESSION",
            id="session-redis-without-service",
        ),
        pytest.param(
            "SERVER_ENV:\n  SESSION: memcached\nSERVICES:\n  redis:\n    HOST: localhost\n",
            "SERVER_ENV.SESSION: 'memcached' needs a SERVICES.memcached entry (HOST and PORT); add it or "
            "choose "
            "another SESSION",
            id="session-memcached-without-service",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    driver: nosuchdb\n",
            "DATABASE.main.driver: 'nosuchdb' is not valid; expected an installed SQLAlchemy driver: sqlite, "
            "postgresql, mysql",
            id="unknown-driver",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: 'mongo://user:pw@x/y'\n",
            "DATABASE.main.url: 'mongo' is not valid; expected a URL whose scheme is sqlite, postgresql or "
            "mysql",
            id="unknown-url-scheme",  # named as the key written (it said DATABASE.main.driver)
        ),
        pytest.param(
            "SERVICES:\n  redis:\n    HOST: ''\n",
            "SERVICES.redis.HOST: '' is not valid; expected a host name or an IP address, not a URL (e.g. "
            "cache.internal or 10.0.0.5)",
            id="redis-host-empty",
        ),
        pytest.param(
            "SERVICES:\n  memcached:\n    HOST: tcp://cache:11211\n",
            "SERVICES.memcached.HOST: 'tcp://cache:11211' is not valid; expected a host name or an IP "
            "address, not a URL (e.g. cache.internal or 10.0.0.5)",
            id="memcached-host-url",
        ),
        pytest.param(
            "SERVICES:\n  smtp:\n    HOST: smtps://mail.example.org\n",
            "SERVICES.smtp.HOST: 'smtps://mail.example.org' is not valid; expected a host name or an IP "
            "address, not a URL (e.g. cache.internal or 10.0.0.5)",
            id="smtp-host-url",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    driver: oracle\n    database: x\n",
            "DATABASE.main.driver: 'oracle' needs the Python module oracledb, which is not installed: "
            "install its package, or choose another driver",
            id="driver-package-missing",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: postgresql+pg8000://u:secret@h/db\n",
            "DATABASE.main.url: 'postgresql+pg8000' needs the Python module pg8000, which is not installed: "
            "install its package, or choose another driver",
            id="driver-package-missing-in-url",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: mysql+pymysql://u:secret@h/db?connect_timeout=soon\n",
            "DATABASE.main.url: the driver refuses its query parameters: invalid literal for int() with base "
            "10: 'soon'",
            id="url-query-not-a-number",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: mysql+pymysql://u:secret@h/db?unknown_param=1\n",
            "DATABASE.main.url: the driver takes no query parameter unknown_param: remove it, or check its "
            "spelling",
            id="url-query-unknown",
        ),
        pytest.param(  # with no query, the URL's port went unchecked: `run` waited until STARTUP_WAIT
            "DATABASE:\n  main:\n    url: postgresql://u:secret@db.example.org:99999/app\n",
            "DATABASE.main.url: port 99999 is no TCP port: it is a number from 1 to 65535",
            id="url-port-out-of-range",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: mysql+pymysql://u:secret@db.example.org:0/app\n",
            "DATABASE.main.url: port 0 is no TCP port: it is a number from 1 to 65535",
            id="url-port-zero",
        ),
        pytest.param(  # psycopg takes any keyword: `run` waited for the server until STARTUP_WAIT
            "DATABASE:\n  main:\n    url: postgresql+psycopg://u:secret@h/db?sslmod=require\n",
            "DATABASE.main.url: PostgreSQL (libpq) knows no connection parameter sslmod (did you mean "
            "sslmode?): remove it, or check its spelling",
            id="url-query-unknown-to-libpq",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    driver: postgresql\n    database: db\n"
            "    params: {foo: 1, appname: x}\n",
            "DATABASE.main.params: PostgreSQL (libpq) knows no connection parameter appname (did you mean "
            "dbname?), foo: remove it, or check its spelling",
            id="params-unknown-to-libpq",
        ),
        pytest.param(  # libpq got the tuple: invalid sslmode value: "('require', 'disable')"
            "DATABASE:\n  main:\n    url: postgresql+psycopg://u:secret@h/db?sslmode=require&sslmode=disable\n",
            "DATABASE.main.url: the query gives sslmode more than once: keep one",
            id="url-query-repeated-postgresql",
        ),
        pytest.param(  # PyMySQL: int() argument must be a string... not 'tuple'
            "DATABASE:\n  main:\n    url: mysql+pymysql://u@h/db?connect_timeout=5&connect_timeout=9\n",
            "DATABASE.main.url: the query gives connect_timeout more than once: keep one",
            id="url-query-repeated-mysql",
        ),
        pytest.param(  # libpq's keywords are lower case
            "DATABASE:\n  main:\n    url: postgresql+psycopg://u:secret@h/db?SSLMODE=require\n",
            "DATABASE.main.url: PostgreSQL (libpq) knows no connection parameter SSLMODE (did you mean "
            "sslmode?): remove it, or check its spelling",
            id="url-query-upper-case-libpq-keyword",
        ),
        pytest.param(  # `run` retried these until STARTUP_WAIT
            "DATABASE:\n  main:\n    url: postgresql+psycopg://u:secret@h/db?connect_timeout=abc"
            "&keepalives_idle=abc&sslmode=requir\n",
            "DATABASE.main.url: PostgreSQL (libpq) cannot use connect_timeout 'abc' (expected a whole "
            "number); keepalives_idle 'abc' (expected a whole number); sslmode 'requir' (expected one of "
            "disable, allow, prefer, require, verify-ca, verify-full)",
            id="url-query-values-libpq-refuses",
        ),
        pytest.param(  # SQLAlchemy dropped the name without a value: no TLS, and not a word
            "DATABASE:\n  main:\n    url: postgresql://u:secret@h/db?sslmode%3Drequire\n",
            "DATABASE.main.url: the query writes sslmode with '=' as %3D, which SQLAlchemy does not read as "
            "a separator in a parameter's name: the driver would not get sslmode as meant; write "
            "?sslmode=require",
            id="url-query-encoded-equals-postgresql",
        ),
        pytest.param(  # a value's %26 is the value's: libpq refuses '5&sslmode=require', not a number
            "DATABASE:\n  main:\n    url: postgresql://u:secret@h/db?connect_timeout=5%26sslmode=require\n",
            "DATABASE.main.url: PostgreSQL (libpq) cannot use connect_timeout '5&sslmode=require' (expected "
            "a whole number)",
            id="url-query-encoded-ampersand-in-a-value-postgresql",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: mysql+pymysql://u:secret@h/db?charset=utf8mb4&ssl_disabled%3Dfalse\n",
            "DATABASE.main.url: the query writes ssl_disabled with '=' as %3D, which SQLAlchemy does not "
            "read as a separator in a parameter's name: the driver would not get ssl_disabled as meant; "
            "write ?charset=utf8mb4&ssl_disabled=false",
            id="url-query-encoded-equals-mysql",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: sqlite:///a.db?timeout=5%26check_same_thread%3Dfalse\n",
            "DATABASE.main.url: the driver refuses its query parameters: could not convert string to "
            "float: '5&check_same_thread=false'",
            id="url-query-encoded-ampersand-in-a-value-sqlite",
        ),
        pytest.param(  # the message is shown and logged: a password meant in the query stays hidden
            "DATABASE:\n  main:\n    url: postgresql://u@h/db?password%3Dhunter22\n",
            "DATABASE.main.url: the query writes password with '=' as %3D, which SQLAlchemy does not read "
            "as a separator in a parameter's name: the driver would not get password as meant; write "
            "?password=***",
            id="url-query-encoded-password",
        ),
        pytest.param(  # a password's own %26 and %3D are no separator: nothing of it in the suggestion
            "DATABASE:\n  main:\n    url: postgresql://u@h/db?password=Tr0ub%26dor%3D42x&sslmode%3Drequire\n",
            "DATABASE.main.url: the query writes sslmode with '=' as %3D, which SQLAlchemy does not read as "
            "a separator in a parameter's name: the driver would not get sslmode as meant; write "
            "?password=***&sslmode=require",
            id="url-query-encoded-equals-beside-an-encoded-password",
        ),
        pytest.param(  # SQLAlchemy decodes once, to a name 'sslmode%3Drequire' it drops: no TLS
            "DATABASE:\n  main:\n    url: postgresql://u:secret@h/db?sslmode%253Drequire\n",
            "DATABASE.main.url: the query writes sslmode with '=' as %253D, which SQLAlchemy does not read "
            "as a separator in a parameter's name: the driver would not get sslmode as meant; write "
            "?sslmode=require",
            id="url-query-twice-encoded-equals",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: mysql+pymysql://u@h/db?ssl_disabled%25253Dfalse%252526password%25253Dhunter22\n",
            "DATABASE.main.url: the query writes ssl_disabled, password with '&' as %252526 and '=' as "
            "%25253D, which SQLAlchemy does not read as a separator in a parameter's name: the driver would "
            "not get ssl_disabled, password as meant; write ?ssl_disabled=false&password=***",
            id="url-query-thrice-encoded-separators",
        ),
        pytest.param(  # a name without '=' is dropped by SQLAlchemy whatever the driver
            "DATABASE:\n  main:\n    url: postgresql://u:secret@h/db?connect_timeout=5&sslmode\n",
            "DATABASE.main.url: the query gives sslmode without '=', a name SQLAlchemy drops: the driver "
            "would not get sslmode as meant; write ?connect_timeout=5&sslmode=<value>",
            id="url-query-bare-name",
        ),
        pytest.param(  # SQLAlchemy drops a name with an empty value too: no TLS, and not a word
            "DATABASE:\n  main:\n    url: postgresql://u:secret@h/db?sslmode=\n",
            "DATABASE.main.url: the query gives sslmode an empty value, which SQLAlchemy drops with the "
            "name: the driver would not get sslmode as meant; write ?sslmode=<value> (or leave sslmode out, "
            "for the driver's default)",
            id="url-query-empty-value",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: postgresql://u:secret@h/db?sslmode=&connect_timeout=5\n",
            "DATABASE.main.url: the query gives sslmode an empty value, which SQLAlchemy drops with the "
            "name: the driver would not get sslmode as meant; write ?sslmode=<value>&connect_timeout=5 (or "
            "leave sslmode out, for the driver's default)",
            id="url-query-empty-value-before-another",
        ),
        pytest.param(  # libpq's refusal named no parameter ("knows no connection parameter : remove it")
            "DATABASE:\n  main:\n    url: postgresql://u@h/db?sslmode=require&=hunter22\n",
            "DATABASE.main.url: the query has 1 item(s) with a value but no parameter name before its '=' "
            "(?=...), which no driver takes: remove it, or write the parameter's name before the '='",
            id="url-query-value-without-a-name",
        ),
        pytest.param(  # a secret's value, given or not, is never in the message
            "DATABASE:\n  main:\n    url: mysql+pymysql://u@h/db?password=hunter22&ssl_disabled=&charset=\n",
            "DATABASE.main.url: the query gives ssl_disabled, charset an empty value, which SQLAlchemy drops "
            "with the name: the driver would not get ssl_disabled, charset as meant; write "
            "?password=***&ssl_disabled=<value>&charset=<value> (or leave ssl_disabled, charset out, for the "
            "driver's default)",
            id="url-query-empty-values-beside-a-password",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: postgresql://u@h/db?password=&sslcert\n",
            "DATABASE.main.url: the query gives sslcert without '=', a name SQLAlchemy drops; the query "
            "gives password an empty value, which SQLAlchemy drops with the name: the driver would not get "
            "sslcert, password as meant; write ?password=***&sslcert=<value> (or leave password out, for "
            "the driver's default)",
            id="url-query-empty-password-and-a-bare-name",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: sqlite:///a.db?timeout&password\n",
            "DATABASE.main.url: the query gives timeout, password without '=', a name SQLAlchemy drops: the "
            "driver would not get timeout, password as meant; write ?timeout=<value>&password=***",
            id="url-query-bare-names-sqlite",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    url: postgresql://u@h/db?%2526sslmode=require&sslcert\n",
            "DATABASE.main.url: the query writes sslmode with '&' as %2526, which SQLAlchemy does not read "
            "as a separator in a parameter's name; the query gives sslcert without '=', a name SQLAlchemy "
            "drops: the driver would not get sslmode, sslcert as meant; write "
            "?sslmode=require&sslcert=<value>",
            id="url-query-twice-encoded-ampersand-and-a-bare-name",
        ),
        pytest.param(  # %26 in a name: the suggestion starts with the parameter, not a stray '&'
            "DATABASE:\n  main:\n    url: postgresql://u@h/db?%26sslmode=require\n",
            "DATABASE.main.url: the query writes sslmode with '&' as %26, which SQLAlchemy does not read as "
            "a separator in a parameter's name: the driver would not get sslmode as meant; write "
            "?sslmode=require",
            id="url-query-encoded-ampersand-in-a-name",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    driver: postgresql\n    database: db\n"
            "    params: {target_session_attrs: master, keepalives_count: -1, require_auth: 'md5,!none'}\n",
            "DATABASE.main.params: PostgreSQL (libpq) cannot use keepalives_count '-1' (expected a whole "
            "number, 0 or more); require_auth 'md5,!none' (expected a comma-separated list of password, md5, "
            "gss, sspi, scram-sha-256, oauth, none, all or none of them after a !); target_session_attrs "
            "'master' (expected one of any, read-write, read-only, primary, standby, prefer-standby)",
            id="params-values-libpq-refuses",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    driver: sqlite\n    database: a.db\n    params: {timeout: long}\n",
            "DATABASE.main.params: the driver refuses its query parameters: could not convert string to "
            "float: 'long'",
            id="params-not-a-number",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    database: a.db\n",
            "DATABASE.main.driver: '' is not valid; expected a driver such as sqlite, postgresql or mysql",
            id="missing-driver",
        ),
        pytest.param(
            "DATABASE:\n  main:\n    driver: sqlite\n    database: a.db\n    password: pw\n    address: h\n",
            "DATABASE.main.password, DATABASE.main.address: SQLite takes only a database file; remove the "
            "user, "
            "password, address and port",
            id="sqlite-with-server-keys",
        ),
        pytest.param(
            "SERVER_ENV: [1, 2]\n",
            "SERVER_ENV: [1, 2] is not valid; expected a mapping of keys to values",
            id="section-not-a-mapping",
        ),
        pytest.param(
            "SERVER_ENV:\n  CSRF: true\n",
            "SERVER_ENV.CSRF: True is not valid; expected a mapping of keys to values; to turn it on, write "
            "`CSRF: {ENABLED: true}`",
            id="switch-given-a-boolean",
        ),
        pytest.param(
            "SERVER_ENV:\n  COMPRESSION: false\n",
            "SERVER_ENV.COMPRESSION: False is not valid; expected a mapping of keys to values; to turn it "
            "off, write `COMPRESSION: {ENABLED: false}`",
            id="switch-given-false",
        ),
        pytest.param(  # the text a ${CSRF_ON:-on} gives, or quoted in the file
            "SERVER_ENV:\n  CSRF: 'on'\n",
            "SERVER_ENV.CSRF: 'on' is not valid; expected a mapping of keys to values; to turn it on, write "
            "`CSRF: {ENABLED: true}`",
            id="switch-given-the-text-on",
        ),
        pytest.param(
            "SERVER_ENV:\n  CSRF: maybe\n",
            "SERVER_ENV.CSRF: 'maybe' is not valid; expected a mapping of keys to values",
            id="switch-given-other-text",
        ),
    ],
)
def test_one_mistake_gives_one_exact_line(tmp_path: Path, text: str, expected: str) -> None:
    assert problems_of(config_file(tmp_path, text)) == [expected]


def test_libpq_connection_parameters_are_accepted(tmp_path: Path) -> None:
    query = (
        "sslmode=require&application_name=links&target_session_attrs=any&options=-c%20work_mem%3D8MB"
        "&connect_timeout=10&keepalives=1&keepalives_idle=30&tcp_user_timeout=0&gssencmode=disable"
        "&channel_binding=prefer&load_balance_hosts=random&ssl_min_protocol_version=tlsv1.2"
        "&require_auth=!md5,!password"
    )
    path = config_file(tmp_path, f"DATABASE:\n  main:\n    url: postgresql://u@h1,h2/db?{query}\n")
    url = load_settings(path, environ={}).databases["main"].url
    assert url.query["sslmode"] == "require" and url.query["options"] == "-c work_mem=8MB"


def test_a_value_may_hold_an_encoded_equals_or_ampersand_and_a_name_an_encoded_letter(tmp_path: Path) -> None:
    query = "options=-c%20search_path%3Dlinks&application_name=links%26more&ssl%6Dode=require"
    path = config_file(tmp_path, f"DATABASE:\n  main:\n    url: postgresql://u@h/db?{query}\n")
    url = load_settings(path, environ={}).databases["main"].url
    assert dict(url.query) == {
        "options": "-c search_path=links",
        "application_name": "links&more",
        "sslmode": "require",
    }


@pytest.mark.parametrize(
    ("url_text", "key", "value"),
    [
        ("postgresql://u@h/db?password=Tr0ub%26dor%3D42x", "password", "Tr0ub&dor=42x"),
        ("postgresql://u@h/db?sslpassword=ab%26cd%3Def", "sslpassword", "ab&cd=ef"),
        ("mysql+pymysql://u@h/db?password=Tr0ub%26dor%3D42x", "password", "Tr0ub&dor=42x"),
        ("postgresql://u@h/db?application_name=a%26b%3Dc", "application_name", "a&b=c"),
    ],
)
def test_a_values_encoded_ampersand_and_equals_are_the_values(
    tmp_path: Path, url_text: str, key: str, value: str
) -> None:
    path = config_file(tmp_path, f"DATABASE:\n  main:\n    url: '{url_text}'\n")
    assert load_settings(path, environ={}).databases["main"].url.query[key] == value


def test_postgresql_hosts_given_as_repeated_host_parameters_are_accepted(tmp_path: Path) -> None:
    # SQLAlchemy's multi-host form for psycopg: the one query parameter a URL may repeat
    url_text = "postgresql+psycopg://u@/db?host=h1:5432&host=h2:5433"
    path = config_file(tmp_path, f"DATABASE:\n  main:\n    url: '{url_text}'\n")
    assert load_settings(path, environ={}).databases["main"].url.query["host"] == ("h1:5432", "h2:5433")


@pytest.mark.parametrize("env", ["UAT", "PROD", "prod", "Uat"])
def test_empty_app_key_is_refused_outside_dev(tmp_path: Path, env: str) -> None:
    path = config_file(
        tmp_path,
        f"SERVER_ENV:\n  ENV: {env}\n  APP_KEY: ${{SECURED_FLASK_TOKEN}}\n  PUBLIC_URL: {PUBLIC_URL}\n",
    )
    assert problems_of(path) == [
        f"SERVER_ENV.APP_KEY: is empty; {env.upper()} needs a secret key: set the variable the "
        "configuration reads it from (a new project's reads ${APP_KEY}) to a long random value",
    ]


def test_empty_app_key_under_dev_is_generated_once_by_the_app_and_kept(tmp_path: Path) -> None:
    path = config_file(tmp_path, "SERVER_ENV:\n  ENV: dev\n  APP_KEY: ''\n")
    route = "class Route:\n    def __init__(self, app):\n        pass\n"
    project = write_project(tmp_path / "project", {"server/web.py": route})
    loaded = load_settings(path, environ={})
    assert loaded.get("SERVER_ENV.APP_KEY") == ""
    assert not (tmp_path / "instance").exists()  # loading (config check, config show) writes nothing
    first = create_app(project, load_settings(path, environ={}))
    second = load_settings(path, environ={})
    assert len(first.config["SECRET_KEY"]) >= 32
    assert second.get("SERVER_ENV.APP_KEY") == first.config["SECRET_KEY"]
    assert (tmp_path / "instance" / "app_key").stat().st_mode & 0o777 == 0o600


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yml"
    assert problems_of(missing) == [
        f"{missing}: cannot read the configuration file (No such file or directory)"
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    # A folder is unreadable as a file even for root, unlike a chmod 000 file.
    folder = tmp_path / "config.yml"
    folder.mkdir()
    assert problems_of(folder) == [f"{folder}: cannot read the configuration file (Is a directory)"]


def test_config_file_named_by_the_environment(tmp_path: Path) -> None:
    path = config_file(tmp_path, "SERVER_ENV:\n  APP_NAME: from-env\n")
    assert load_settings(environ={"CONFIG_FILE": str(path)}).get("SERVER_ENV.APP_NAME") == "from-env"
    missing = tmp_path / "gone.yml"
    assert problems_of(None, {"CONFIG_FILE": str(missing)}) == [
        f"{missing}: cannot read the configuration file (No such file or directory)"
    ]


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = config_file(tmp_path, "SERVER_ENV:\n  APP_NAME: shop\n  BIND:\n    PORT: 80\n     ADDRESS: x: y\n")
    assert problems_of(path) == [f"{path}:5: YAML syntax error: mapping values are not allowed here"]


def test_a_variable_inside_a_flow_mapping_is_told_how_to_be_written(tmp_path: Path) -> None:
    path = config_file(tmp_path, "SERVER_ENV:\n  BIND: {PORT: ${PORT:-4200}}\n")
    assert problems_of(path) == [
        f"{path}:2: YAML syntax error: expected ',' or '}}', but got '{{'; "
        'inside { } or [ ], quote a ${VAR} value ("${PORT:-4200}") or write the mapping in block style'
    ]
    quoted = config_file(tmp_path, 'SERVER_ENV:\n  BIND: {PORT: "${PORT:-4200}"}\n')
    assert load_settings(quoted, environ={}).get("SERVER_ENV.BIND.PORT") == 4200


def test_a_key_given_twice_is_refused_with_its_path_and_line(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        "SERVER_ENV:\n  ENV: DEV\n  ENV: PROD\nDATABASE:\n  main: {driver: sqlite, driver: sqlite}\n",
    )
    problems = problems_of(path)
    assert problems[:2] == [
        f"{path}:3: SERVER_ENV.ENV: duplicate key (first given at line 2); keep only one",
        f"{path}:5: DATABASE.main.driver: duplicate key (first given at line 5); keep only one",
    ]
    # The rest of the file is checked, with the last value of each key: PROD needs its secret key.
    assert problems[2].startswith("SERVER_ENV.APP_KEY: is empty; PROD needs a secret key"), problems


def test_a_key_given_twice_does_not_hide_the_other_mistakes(tmp_path: Path) -> None:
    """Only the duplicate was reported; the other mistakes came one run later."""
    yaml_path = config_file(tmp_path, "SERVER_ENV:\n  BIND: {PORT: 80, PORT: 81}\n  THREADS_PER_CORE: many\n")
    assert problems_of(yaml_path) == [
        f"{yaml_path}:2: SERVER_ENV.BIND.PORT: duplicate key (first given at line 2); keep only one",
        "SERVER_ENV.THREADS_PER_CORE: 'many' is not valid; expected an integer from 1 to 1024",
    ]
    json_path = config_file(
        tmp_path, '{"SERVER_ENV": {"ENV": "DEV", "ENV": "DEV", "THREADS_PER_CORE": 0}}', name="config.json"
    )
    problems = problems_of(json_path)
    assert problems[0] == f"{json_path}: SERVER_ENV.ENV: duplicate key in one object; keep only one"
    assert [problem.split(":")[0] for problem in problems[1:]] == ["SERVER_ENV.THREADS_PER_CORE"], problems


def test_an_alias_inside_its_own_value_is_refused_without_a_traceback(tmp_path: Path) -> None:
    path = config_file(tmp_path, "SERVER_ENV:\n  ENV: DEV\nloop: &a [1, *a]\n")
    assert problems_of(path) == [f"{path}:3: an alias refers to a value that contains it; write it out"]


def test_nested_aliases_that_would_expand_to_billions_are_refused_at_once(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]  # 10**9 values
    path = config_file(tmp_path, "\n".join(lines) + "\n")
    started = time.monotonic()
    assert problems_of(path) == [
        f"{path}: the configuration holds more than 100,000 values once its aliases are expanded "
        "(nested aliases?); write it out plainly"
    ]
    assert time.monotonic() - started < 5  # it never walks the expansion


def test_the_same_key_in_different_mappings_and_merge_keys_are_accepted(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        "SERVICES:\n  a: &base {url: 'redis://x'}\n  b:\n    <<: *base\n    url: 'redis://y'\n"
        "SERVER_ENV:\n  ENV: DEV\n",
    )
    assert load_settings(path, environ={}).services["b"]["url"] == "redis://y"


@pytest.mark.parametrize(
    ("contact", "shown"),
    [
        ("not a contact", "not a contact"),
        ("ftp://example.org/security", "ftp://example.org/security"),
        ("http://example.org/security", "http://example.org/security"),
        ("mailto:", "mailto:"),
        ("https://u:hunter2sec@example.org/sec", "https://u:***@example.org/sec"),  # published: never
    ],
)
def test_security_contact_must_be_an_email_or_https_url(tmp_path: Path, contact: str, shown: str) -> None:
    path = config_file(tmp_path, f"SERVER_ENV:\n  ENV: DEV\n  SECURITY_CONTACT: {json.dumps(contact)}\n")
    assert problems_of(path) == [
        f"SERVER_ENV.SECURITY_CONTACT: {shown!r} is not valid; expected an email address, a mailto: "
        "address or an https:// URL without a user name or password (RFC 9116)"
    ]


@pytest.mark.parametrize(
    "contact", ["security@example.org", "mailto:security@example.org", "https://example.org/security", ""]
)
def test_security_contact_accepts_rfc_9116_forms(tmp_path: Path, contact: str) -> None:
    path = config_file(tmp_path, f"SERVER_ENV:\n  ENV: DEV\n  SECURITY_CONTACT: {json.dumps(contact)}\n")
    assert load_settings(path, environ={}).server["SECURITY_CONTACT"] == contact


def test_yaml_unclosed_quote_names_where_it_started(tmp_path: Path) -> None:
    path = config_file(tmp_path, "SERVER_ENV:\n  APP_NAME: 'shop\n  ENV: DEV\n")
    assert problems_of(path) == [
        f"{path}:4: YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar started "
        "at line 2)"
    ]


def test_json_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = config_file(tmp_path, '{\n  "SERVER_ENV": {\n    "ENV": "DEV",\n  }\n}\n', name="config.json")
    assert problems_of(path) == [
        f"{path}:4: JSON syntax error: Expecting property name enclosed in double quotes"
    ]


def test_a_json_key_given_twice_in_one_object_is_refused(tmp_path: Path) -> None:
    """Python's JSON reader kept the last one without a word; YAML's duplicates were already refused."""
    text = '{"SERVER_ENV": {"APP_NAME": "a", "APP_NAME": "b"}}'
    path = config_file(tmp_path, text, name="config.json")
    assert problems_of(path) == [f"{path}: SERVER_ENV.APP_NAME: duplicate key in one object; keep only one"]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = config_file(tmp_path, "- a\n- b\n")
    assert problems_of(path) == [f"{path}: the top level must be a mapping of sections, found list"]


def test_several_mistakes_give_several_lines(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        """
        SERVER_ENV:
          ENV: staging
          THREADS_PER_CORE: -1
          SESSION: redis
          BIND:
            PORT: abc
        DATABASE:
          default: missing
          main:
            driver: sqlite
    """,
    )
    assert problems_of(path) == [
        "SERVER_ENV.ENV: 'staging' is not valid; expected one of DEV, UAT, PROD",
        "SERVER_ENV.BIND.PORT: 'abc' is not valid; expected an integer from 1 to 65535",
        "SERVER_ENV.THREADS_PER_CORE: -1 is not valid; expected an integer from 1 to 1024",
        "DATABASE.default: 'missing' is not valid; expected the name of a connection: main",
        "SERVER_ENV.SESSION: 'redis' needs a SERVICES.redis entry (HOST and PORT); add it or choose another "
        "SESSION",
    ]


def test_secrets_never_appear_in_error_messages(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        """
        SERVER_ENV:
          ENV: PROD
          APP_KEY: [app-key-secret-1]
        DATABASE:
          default: main
          main:
            driver: postgresql
            user: shop
            password: [db-secret-2]
            port: notaport
          other:
            url: "postgresql://shop:url-secret-3@db.example:notaport/shop"
          third:
            url: "not a url url-secret-4"
        SERVICES:
          redis:
            HOST: localhost
            PASSWORD: [redis-secret-5]
    """,
    )
    problems = problems_of(path)
    text = "\n".join(problems)
    for secret in ("app-key-secret-1", "db-secret-2", "url-secret-3", "url-secret-4", "redis-secret-5"):
        assert secret not in text
    assert "SERVER_ENV.APP_KEY: *** is not valid; expected a string" in problems
    assert "DATABASE.main.password: *** is not valid; expected a string" in problems
    assert "SERVICES.redis.PASSWORD: *** is not valid; expected a string" in problems
    assert "DATABASE.main.port: 'notaport' is not valid; expected an integer from 1 to 65535" in problems
    assert any(  # shown, its password hidden: the mistake (the port) is for the operator to see
        line.startswith(
            "DATABASE.other.url: 'postgresql://shop:***@db.example:notaport/shop' is not valid; expected a "
            "valid SQLAlchemy URL"
        )
        for line in problems
    )
    assert any(
        line.startswith("DATABASE.third.url: *** is not valid; expected a valid SQLAlchemy URL")
        for line in problems
    )


def test_secrets_never_appear_in_logs_or_redacted_view(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = {
        "APP_KEY": "app-key-secret-" + "a" * 40,
        "DB_PASSWORD": "db-secret-pw",
        "STRIPE": "sk_live_secret9",
        "REDIS_PASSWORD": "redis-secret-pw",
    }
    path = config_file(
        tmp_path,
        f"""
        SERVER_ENV:
          APP_KEY: {secrets["APP_KEY"]}
          APP_KEY_OLD: {secrets["APP_KEY"]}
          INSTANCE_PATH: instance
        DATABASE:
          default: main
          main:
            driver: sqlite
            database: shop.db
          reports:
            driver: postgresql
            address: 127.0.0.1
            user: shop
            password: {secrets["DB_PASSWORD"]}
            database: reports
        SERVICES:
          stripe:
            SECRET_KEY: {secrets["STRIPE"]}
            MODE: test
          redis:
            HOST: 127.0.0.1
            PASSWORD: {secrets["REDIS_PASSWORD"]}
    """,
    )
    project = write_project(
        tmp_path / "project",
        {
            "server/web.py": """
        class Route:
            def __init__(self, app):
                app.add_url_rule("/", "home", lambda: "home")
    """
        },
    )
    with caplog.at_level(logging.DEBUG):
        settings = load_settings(path, environ={})
        app = create_app(project, settings)
        app.test_client().get("/?token=query-secret")
        app.test_client().get("/missing")
    assert (
        "unknown key SERVER_ENV.APP_KEY_OLD is ignored; did you mean SERVER_ENV.APP_KEY?" in settings.warnings
    )
    logged = caplog.text + "\n".join(settings.warnings)
    redacted = json.dumps(settings.redacted())
    for secret in (*secrets.values(), "query-secret"):
        assert secret not in logged
        assert secret not in redacted
    assert "GET / 200" in caplog.text
    assert settings.redacted()["SERVICES"]["stripe"] == {"SECRET_KEY": "***", "MODE": "test"}
    assert settings.redacted()["SERVER_ENV"]["APP_KEY"] == "***"
    assert settings.redacted()["DATABASE"]["reports"]["password"] == "***"
    assert secrets["DB_PASSWORD"] not in repr(settings.databases["reports"].url)


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        (
            "SERVER_ENV:\n  SESSION_STORE: redis\n",
            "unknown key SERVER_ENV.SESSION_STORE is ignored; did you mean SERVER_ENV.SESSION?",
        ),
        (
            "SERVER_ENV:\n  BIND:\n    PORT_NUMBER: 80\n",
            "unknown key SERVER_ENV.BIND.PORT_NUMBER is ignored; known keys: ADDRESS, PORT",
        ),
        ("DATABASES_X:\n  main: {}\n", "unknown key DATABASES_X is ignored; did you mean DATABASE?"),
        (
            "DATABASE:\n  main:\n    driver: sqlite\n    passwd: x\n",
            "unknown key DATABASE.main.passwd is ignored; did you mean DATABASE.main.password?",
        ),
        (
            "SERVICES:\n  redis:\n    HOSTNAME: localhost\n",
            "unknown key SERVICES.redis.HOSTNAME is ignored; did you mean SERVICES.redis.HOST?",
        ),
    ],
)
def test_unknown_key_warns_with_the_closest_known_key(
    tmp_path: Path, text: str, warning: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="conexoos.config"):
        settings = load_settings(config_file(tmp_path, text), environ={})
    assert settings.warnings == [warning]
    assert [record.getMessage() for record in caplog.records] == [f"config: {warning}"]


@pytest.mark.parametrize(
    ("text", "key", "meant"),
    [
        ("SERVER_ENV:\n  EVN: PROD\n", "SERVER_ENV.EVN", "SERVER_ENV.ENV"),
        ("SERVER_ENV:\n  EN: PROD\n", "SERVER_ENV.EN", "SERVER_ENV.ENV"),
        ("SERVER_ENV:\n  NV: PROD\n", "SERVER_ENV.NV", "SERVER_ENV.ENV"),
        ("SERVER_ENV:\n  LOG:\n    DR: logs\n", "SERVER_ENV.LOG.DR", "SERVER_ENV.LOG.DIR"),
        ("SERVER-ENV:\n  ENV: PROD\n", "SERVER-ENV", "SERVER_ENV"),
        ("SERVER_ENV:\n  SESION: redis\n", "SERVER_ENV.SESION", "SERVER_ENV.SESSION"),
        ("SERVER_ENV:\n  BIND:\n    PROT: 80\n", "SERVER_ENV.BIND.PROT", "SERVER_ENV.BIND.PORT"),
        ("DATABSE:\n  main: {}\n", "DATABSE", "DATABASE"),
        (
            "DATABASE:\n  main:\n    driver: sqlite\n    pasword: x\n",
            "DATABASE.main.pasword",
            "DATABASE.main.password",
        ),
        ("SERVICES:\n  redis:\n    HOTS: localhost\n", "SERVICES.redis.HOTS", "SERVICES.redis.HOST"),
        ("SERVER_ENV:\n  PUBLIC URL: https://x.example\n", "SERVER_ENV.PUBLIC URL", "SERVER_ENV.PUBLIC_URL"),
    ],
)
def test_a_key_one_slip_from_a_known_one_is_an_error(tmp_path: Path, text: str, key: str, meant: str) -> None:
    """A warning let `config check` pass a file whose `EVN: PROD` (or `SERVER-ENV:`) left the site on its
    default, DEV: debugger on, cookies not Secure, setup open from the server itself."""
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file(tmp_path, text), environ={})
    said = f"{key}: unknown key, a typing slip away from {meant}: write it {meant}"
    assert f"{said} (as written it would be ignored)" in caught.value.problems


def test_a_flask_setting_one_slip_from_a_known_one_is_warned_of(tmp_path: Path) -> None:
    """``FLASK.CONFIG`` is free-form (an extension may read any key), and a misspelt Flask setting was
    passed on without a word: ``MAX_CONTENT_LENGHT`` left the request limit at its default."""
    text = "FLASK:\n  CONFIG:\n    MAX_CONTENT_LENGHT: 5\n    SESSION_COOKIE_SECUR: true\n    MY_OWN: 1\n"
    settings = load_settings(config_file(tmp_path, text), environ={})
    assert settings.warnings == [
        "FLASK.CONFIG.MAX_CONTENT_LENGHT is passed on to Flask, but nothing here reads it: did you mean "
        "FLASK.CONFIG.MAX_CONTENT_LENGTH? (a typing slip away)",
        "FLASK.CONFIG.SESSION_COOKIE_SECUR is passed on to Flask, but nothing here reads it: did you mean "
        "FLASK.CONFIG.SESSION_COOKIE_SECURE? (a typing slip away)",
    ]
    assert settings.tree["FLASK"]["CONFIG"]["MY_OWN"] == 1


def test_databases_is_accepted_as_an_alias(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        """
        DATABASES:
          default: shop
          shop:
            driver: sqlite
            database: shop.db
          stats:
            driver: sqlite
            database: stats.db
            readonly: true
    """,
    )
    settings = load_settings(path, environ={})
    assert settings.warnings == []
    assert sorted(settings.databases) == ["shop", "stats"]
    assert settings.default_database.name == "shop"
    assert settings.databases["shop"].url.database == str(tmp_path / "instance" / "shop.db")
    assert settings.databases["stats"].readonly is True
    assert settings.databases["stats"].bind_key == "stats"


@pytest.mark.parametrize(
    ("written", "resolved"),
    [
        ("dev", "DEV"),
        ("Uat", "UAT"),
        ("prod", "PROD"),
        ("PROD", "PROD"),
        ("development", "DEV"),  # flask-framework's spellings
        ("Development", "DEV"),
        ("production", "PROD"),
        ("PRODUCTION", "PROD"),
        ("uat", "UAT"),
    ],
)
def test_env_in_any_case(tmp_path: Path, written: str, resolved: str) -> None:
    text = f"SERVER_ENV:\n  ENV: {written}\n  APP_KEY: {APP_KEY}\n  PUBLIC_URL: {PUBLIC_URL}\n"
    path = config_file(tmp_path, text)
    settings = load_settings(path, environ={})
    assert settings.env == resolved
    assert settings.is_development is (resolved == "DEV")


@pytest.mark.parametrize("written", ["develop", "prd", "staging"])
def test_other_env_spellings_are_refused(tmp_path: Path, written: str) -> None:
    path = config_file(tmp_path, f"SERVER_ENV:\n  ENV: {written}\n  APP_KEY: {APP_KEY}\n")
    assert problems_of(path) == [f"SERVER_ENV.ENV: {written!r} is not valid; expected one of DEV, UAT, PROD"]


@pytest.mark.parametrize("section", ["DATABASE", "DATABASES"])
def test_an_empty_database_section_means_no_connection(tmp_path: Path, section: str) -> None:
    settings = load_settings(config_file(tmp_path, f"{section}: {{}}\n"), environ={})
    assert settings.databases == {}
    with pytest.raises(ConfigError, match="DATABASE: no connection is configured"):
        _ = settings.default_database
    absent = load_settings(config_file(tmp_path, "SERVER_ENV: {}\n"), environ={})
    assert absent.default_database.url.database == str(tmp_path / "instance" / "conexoos.db")


def test_database_sessions_need_a_database(tmp_path: Path) -> None:
    path = config_file(tmp_path, "SERVER_ENV:\n  SESSION: sqlalchemy\nDATABASE: {}\n")
    assert problems_of(path) == [
        "SERVER_ENV.SESSION: 'sqlalchemy' keeps sessions in the default database, and DATABASE has no "
        "connection; add one or choose another SESSION"
    ]


def test_embedded_default_needs_no_server(tmp_path: Path) -> None:
    settings = load_settings(environ={"CONEXOOS_INSTANCE": str(tmp_path / "instance")})
    assert settings.source is None
    assert settings.env == "DEV"
    assert settings.get("SERVER_ENV.SESSION") == "filesystem"
    assert settings.get("SERVER_ENV.BIND.PORT") == 4200
    database = settings.default_database
    assert database.url.drivername == "sqlite"
    assert database.url.database == str(tmp_path / "instance" / "conexoos.db")
    assert not (tmp_path / "instance").exists()


def test_url_shortcut_and_driver_aliases(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        """
        DATABASE:
          default: pg
          pg:
            url: postgresql://shop@db.example/shop
          my:
            driver: mariadb
            address: db.example
            database: shop
            params:
              charset: utf8mb4
    """,
    )
    settings = load_settings(path, environ={})
    assert settings.databases["pg"].url.drivername == "postgresql+psycopg"
    my_url = settings.databases["my"].url
    assert my_url.drivername == "mysql+pymysql"
    assert my_url.render_as_string() == "mysql+pymysql://db.example/shop?charset=utf8mb4"


def test_database_and_databases_together_are_refused(tmp_path: Path) -> None:
    path = config_file(
        tmp_path, "DATABASE:\n  main:\n    driver: sqlite\nDATABASES:\n  other:\n    driver: sqlite\n"
    )
    assert problems_of(path) == ["DATABASES: is the same section as DATABASE; keep only one of them"]


def test_database_and_databases_together_do_not_hide_the_other_mistakes(tmp_path: Path) -> None:
    """The file's other sections were checked only in the next run, once one spelling was removed."""
    path = config_file(
        tmp_path,
        "SERVER_ENV:\n  SESSION: {TYPE: bogus}\n  PORT_TYPO: 1\nDATABASE:\n  main:\n    driver: sqlite\n"
        "DATABASES:\n  other:\n    driver: nosuchdriver\n",
    )
    problems = problems_of(path)
    assert problems[0] == "DATABASES: is the same section as DATABASE; keep only one of them"
    assert [problem.split(":", 1)[0] for problem in problems[1:]] == ["SERVER_ENV.SESSION"], problems


def test_overrides_merge_into_a_databases_section(tmp_path: Path) -> None:
    path = config_file(
        tmp_path, "DATABASES:\n  default: main\n  main:\n    driver: sqlite\n    database: a.db\n"
    )
    settings = load_settings(path, environ={}, overrides={"DATABASE": {"main": {"readonly": True}}})
    assert settings.databases["main"].readonly is True
    assert settings.databases["main"].url.database == str(tmp_path / "instance" / "a.db")


def test_deep_merge_merges_mappings_key_by_key_and_leaves_its_inputs_alone() -> None:
    base = {"SERVER_ENV": {"ENV": "DEV", "PORT": 4200}, "SERVICES": {"redis": {"url": "redis://a"}}}
    extra = {"SERVER_ENV": {"PORT": 8000}, "SERVICES": {"redis": "off"}, "LOG": {"LEVEL": "INFO"}}
    merged = deep_merge(base, extra)
    assert merged == {
        "SERVER_ENV": {"ENV": "DEV", "PORT": 8000},
        "SERVICES": {"redis": "off"},  # a value that is not a mapping replaces the whole branch
        "LOG": {"LEVEL": "INFO"},
    }
    assert base == {"SERVER_ENV": {"ENV": "DEV", "PORT": 4200}, "SERVICES": {"redis": {"url": "redis://a"}}}
    assert extra["SERVER_ENV"] == {"PORT": 8000}


def test_a_refused_configuration_says_its_warnings_too(tmp_path: Path) -> None:
    """A misspelt key's warning was held back until every error was fixed: one more run to learn of it."""
    path = config_file(tmp_path, "SERVER_ENV:\n  APP_LABEL: typo\n  THREADS_PER_CORE: many\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert [problem.split(":")[0] for problem in caught.value.problems] == ["SERVER_ENV.THREADS_PER_CORE"]
    assert any("unknown key SERVER_ENV.APP_LABEL is ignored" in note for note in caught.value.notes)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("DATABASE:\n  main:\n    url: postgresql://postgres:a@127.0.0.1:5432/db\n", ["DATABASE.main.url"]),
        (
            "DATABASE:\n  main:\n    driver: postgresql\n    password: 'no'\n    database: db\n"
            "    address: db.internal\n"
            "SERVICES:\n  smtp: {HOST: smtp.example.org, PASSWORD: x1}\n",
            ["DATABASE.main.password", "SERVICES.smtp.PASSWORD"],
        ),
        ("DATABASE:\n  main:\n    url: postgresql://postgres:abcd@127.0.0.1:5432/db\n", []),
    ],
)
def test_a_secret_shorter_than_4_characters_is_warned_of_by_its_key_never_its_value(
    tmp_path: Path, text: str, keys: list[str]
) -> None:
    """It cannot be hidden as a free word of a log without garbling the log and giving itself away."""
    settings = load_settings(config_file(tmp_path, text), environ={}, report_warnings=False)
    short = [warning for warning in settings.warnings if "shorter than 4 characters" in warning]
    assert short == [
        f"the secret {key} holds is shorter than 4 characters: it is weak, and the logs hide it only where "
        "its place says it is a secret (a URL's password, a password or token parameter), never as a word "
        "of free text: use a longer one"
        for key in keys
    ]
    assert all(Redactor()(warning) == warning for warning in short)  # logged as written
