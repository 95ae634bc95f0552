"""`config check` and `config show` as an operator uses them: they write nothing, show no credential, and
every command says so when `--project` names a folder that does not exist; a configuration without any
database serves a project without models and refuses one with models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conexoos.framework.cli import cli
from conexoos.framework.redaction import redact_credentials
from conexoos.framework.scaffold import create_project

from .test_cli import ENV_TO_CLEAR, conexoos, free_port, http_get, server


def snapshot(root: Path) -> dict[str, tuple[int, float]]:
    """Every path under ``root`` with its size and modification time."""
    return {
        path.relative_to(root).as_posix(): (path.stat().st_size, path.stat().st_mtime)
        for path in sorted(root.rglob("*"))
    }


# ---------------------------------------------------------------- config check and show write nothing


@pytest.mark.parametrize("words", [("config", "check"), ("config", "show")], ids=" ".join)
def test_config_commands_write_nothing_in_an_empty_folder(tmp_path: Path, words: tuple[str, ...]) -> None:
    # The embedded default under DEV: the app would generate instance/app_key here; checking must not.
    result = conexoos(*words, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("words", [("config", "check"), ("config", "show")], ids=" ".join)
def test_config_commands_write_nothing_in_a_project(tmp_path: Path, words: tuple[str, ...]) -> None:
    project = tmp_path / "demo"
    create_project("demo", project)  # it declares APP.GREETING in server/config.py, imported by the check
    config = project / "config.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(text.split("APP_KEY: ", 1)[1].split("\n", 1)[0], "''"), encoding="utf-8")
    for path in (project, *project.rglob("*")):
        path.chmod(path.stat().st_mode & ~0o222)  # read-only (root writes anyway: the snapshot decides)
    before = snapshot(tmp_path)
    try:
        result = conexoos(*words, "--project", "demo", cwd=tmp_path)
    finally:
        for path in (project, *project.rglob("*")):
            path.chmod(path.stat().st_mode | 0o200)
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path) == before
    assert not (project / "instance").exists()
    assert not list(project.rglob("__pycache__"))


# ---------------------------------------------------------------- config show hides credentials


def test_config_show_redacts_credentials_in_urls_everywhere(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        """
SERVER_ENV:
  INSTANCE_PATH: instance
FLASK:
  CONFIG:
    SQLALCHEMY_BINDS: {reports: "postgresql://report:pw-one@db.example/reports"}
    CACHE_REDIS_URL: "redis://:pw-two@cache.example:6379/0"
    BROKERS: ["amqp://guest:pw-three@rabbit.example//", "redis://plain.example/1"]
    NOTE: "mirror at https://deploy:pw-four@git.example/repo.git"
    SECRET_KEY: pw-five
SERVICES:
  search: {URL: "http://elastic:p%40ss-six@search.example:9200/"}
DATABASE:
  default: main
  main: {driver: sqlite, database: a.db}
""",
        encoding="utf-8",
    )
    for output_format in ("yaml", "json"):
        result = conexoos("config", "show", "--config", str(config), "--format", output_format, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        for secret in ("pw-one", "pw-two", "pw-three", "pw-four", "pw-five", "ss-six"):
            assert secret not in result.stdout + result.stderr
    tree = json.loads(result.stdout)
    flask = tree["FLASK"]["CONFIG"]
    assert flask["SQLALCHEMY_BINDS"] == {"reports": "postgresql://report:***@db.example/reports"}
    assert flask["CACHE_REDIS_URL"] == "redis://:***@cache.example:6379/0"
    assert flask["BROKERS"] == ["amqp://guest:***@rabbit.example//", "redis://plain.example/1"]
    assert flask["NOTE"] == "mirror at https://deploy:***@git.example/repo.git"
    assert flask["SECRET_KEY"] == "***"
    assert tree["SERVICES"]["search"] == {"URL": "http://elastic:***@search.example:9200/"}


@pytest.mark.parametrize(
    "text",
    [
        "https://example.org:8443/path?a=b:c@d",
        "postgresql://reader@db2/archive",
        "mailto:someone@example.org",
        "no url here: a@b",
    ],
)
def test_text_without_a_password_in_a_url_is_unchanged(text: str) -> None:
    assert redact_credentials(text) == text


# ---------------------------------------------------------------- --project naming a missing folder

COMMANDS = [
    ("run",),
    ("serve",),
    ("routes",),
    ("shell",),
    ("config", "check"),
    ("config", "show"),
    ("db", "current"),
    ("db", "upgrade"),
    ("db", "migrate", "-m", "x"),
    ("user", "create", "--email", "a@example.org", "--username", "alice"),  # a project's own command
]


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("where", ["bare", "relative", "absolute", "group"])
def test_a_missing_project_folder_is_one_line_and_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: tuple[str, ...], where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = {"bare": "nowhere", "relative": "./sites/nowhere", "absolute": str(tmp_path / "nowhere")}.get(
        where, "nowhere"
    )
    args = ["--project", folder, *words] if where == "group" else [*words, "--project", folder]
    monkeypatch.setattr(sys, "argv", ["conexoos", *args])  # project commands are found from the command line
    result = CliRunner().invoke(cli, args, prog_name="conexoos", env={name: None for name in ENV_TO_CLEAR})
    assert result.exit_code == 2, result.output
    assert (
        result.stderr.strip()
        .splitlines()[0]
        .startswith(f"project error: project folder '{folder}' does not exist")
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_project_command_with_a_missing_project_folder_through_the_real_command(tmp_path: Path) -> None:
    result = conexoos(
        "user", "create", "--email", "a@example.org", "--username", "al", "--project", "gone", cwd=tmp_path
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "project error: project folder 'gone' does not exist, and no package of that name is installed\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_project_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "site.yml").write_text("x: 1\n", encoding="utf-8")
    result = conexoos("routes", "--project", "site.yml", cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "project error: project 'site.yml' is a file; expected a project folder",
    )


# ---------------------------------------------------------------- no database at all


@pytest.mark.parametrize("section", ["DATABASE", "DATABASES"])
def test_a_project_without_models_runs_without_any_database(tmp_path: Path, section: str) -> None:
    project = tmp_path / "demo"
    create_project("demo", project)
    config = project / "config.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text[: text.index("DATABASE:")] + f"{section}: {{}}\n" + text[text.index("FLASK:") :])
    check = conexoos("config", "check", "--project", "demo", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    routes = conexoos("routes", "--project", "demo", cwd=tmp_path)
    assert routes.returncode == 0, routes.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server(["serve", "--project", "demo", "--port", str(port), "--workers", "1"], tmp_path, base + "/"):
        status, _content_type, body = http_get(base + "/")
        assert status == 200 and "<h1>demo</h1>" in body
        assert http_get(base + "/api/hello")[0] == 200
    assert not list((project / "instance").glob("*.db"))


@pytest.mark.parametrize("words", [("config", "check"), ("routes",), ("serve",)], ids=" ".join)
def test_a_project_with_models_and_no_database_is_refused(tmp_path: Path, words: tuple[str, ...]) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"SERVER_ENV:\n  INSTANCE_PATH: {tmp_path / 'instance'}\nDATABASES: {{}}\n")
    result = conexoos(*words, "--config", str(config), cwd=tmp_path)  # the product has models
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(
        "config error: DATABASE: no connection is configured, but the project has models ("
    )
    assert "User" in lines[0] and "add one, e.g. DATABASE:" in lines[0]


@pytest.mark.parametrize("words", [("config", "check"), ("routes",)], ids=" ".join)
def test_a_models_module_that_does_not_exist_is_refused_by_check_as_by_the_app(
    tmp_path: Path, words: tuple[str, ...]
) -> None:
    create_project("demo", tmp_path / "demo")
    config = tmp_path / "demo" / "config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace('models: ""', "models: nosuch"))
    result = conexoos(*words, "--project", "demo", cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "config error: DATABASE.main.models: no module models.persistent.nosuch in the project",
    )
    assert not (tmp_path / "demo" / "instance").exists() or words != ("config", "check")


# ---------------------------------------------------------------- secrets under free-form keys


SECRET_LOOKING_NAMES = (
    "apikey",
    "MY_APIKEY",
    "api_key",
    "Credentials",
    "auth",
    "authorization",
    "OAUTH_CLIENT",
    "token",
    "secret",
    "password",
    "db_passwd",
    "user_pwd",
    "private_key",
    # and what an operator tried that was shown: any spelling of a key, a salt, a signing secret, a DSN
    "privatekey",
    "privateKey",
    "signingKey",
    "Bearer",
    "signing",
    "salt",
    "session_cookie_value",
    "stripeSk",
    "sentry-dsn",
    # FLASK.CONFIG.PASSPHRASE and .HMAC were shown though a URL's passphrase= was hidden
    "PASSPHRASE",
    "ssl_passphrase",
    "HMAC",
    "request_hmac",
    "signing_key",
    "client_credentials",
)


def shown_as_json(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """`conexoos config show --format json` of a config.yml holding ``text`` (which it must accept)."""
    config = tmp_path / "config.yml"
    config.write_text(text, encoding="utf-8")
    result = conexoos("config", "show", "--config", str(config), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result


def test_config_show_redacts_secret_looking_names_and_dsn_passwords(tmp_path: Path) -> None:
    lines = [f"    {name}: hidden-{index}-value" for index, name in enumerate(SECRET_LOOKING_NAMES)]
    result = shown_as_json(
        tmp_path,
        "SERVER_ENV:\n  ENV: DEV\nFLASK:\n  CONFIG:\n"
        + "\n".join(lines)
        + "\n    connection: 'host=db.example.org user=app password=dsn-secret dbname=x'\n"
        "    author: Shown Author\nSERVICES:\n  extra:\n    Authorization: Bearer extra-secret\n"
        "    PLAIN: shown-plain\n"
        "DATABASE:\n  main:\n    url: 'postgresql://app:url-secret@db.example.org:5433/x'\n",
    )
    for index in range(len(SECRET_LOOKING_NAMES)):
        assert f"hidden-{index}-value" not in result.stdout
    for secret in ("dsn-secret", "extra-secret", "url-secret"):
        assert secret not in result.stdout
    tree = json.loads(result.stdout)
    shown = tree["FLASK"]["CONFIG"]
    assert all(shown[name] == "***" for name in SECRET_LOOKING_NAMES)
    assert shown["connection"] == "host=db.example.org user=app password=*** dbname=x"
    assert shown["author"] == "Shown Author"
    assert tree["SERVICES"]["extra"] == {"Authorization": "***", "PLAIN": "shown-plain"}
    assert tree["DATABASE"]["main"]["url"] == "postgresql://app:***@db.example.org:5433/x"


def test_config_show_redacts_everything_under_a_secret_key_and_token_parameters(tmp_path: Path) -> None:
    """A mapping under a secret-named key was shown whole; sslpassword=, token= and api_key= in a URL too."""
    result = shown_as_json(
        tmp_path,
        "SERVER_ENV:\n  ENV: DEV\nFLASK:\n  CONFIG:\n"
        "    SECRETKEYS: {k: nested-one}\n"
        "    JWT_PRIVATE_KEYS: {kid1: nested-two, old: [nested-three]}\n"
        "    CREDENTIALS: {user: bob, pass: nested-four}\n"
        "    FEED: 'https://feed.example/x?token=query-one&api_key=query-two&page=2'\n"
        "    PUBLIC: {colour: shown-colour}\n"
        "DATABASE:\n  main:\n    url: 'postgresql://app@db.example.org/x?sslpassword=query-three'\n",
    )
    secrets = (
        "nested-one",
        "nested-two",
        "nested-three",
        "nested-four",
        "query-one",
        "query-two",
        "query-three",
    )
    for secret in secrets:
        assert secret not in result.stdout, secret
    shown = json.loads(result.stdout)["FLASK"]["CONFIG"]
    assert shown["JWT_PRIVATE_KEYS"] == {"kid1": "***", "old": ["***"]}
    assert shown["CREDENTIALS"] == {"user": "***", "pass": "***"}
    assert shown["FEED"] == "https://feed.example/x?token=***&api_key=***&page=2"
    assert shown["PUBLIC"] == {"colour": "shown-colour"}
    assert redact_credentials("host=db sslpassword=query-three") == "host=db sslpassword=***"
    signed = "https://s3.example/b/o?X-Amz-Signature=abc&key=def&sig=ghi&page=2"
    assert redact_credentials(signed) == "https://s3.example/b/o?X-Amz-Signature=***&key=***&sig=***&page=2"
    # A server decodes a parameter's name before reading it: so does the redaction.
    encoded = "https://x.example/a?api%5Fkey=one&%74oken=two&PASS%57ORD=three&next=/b?%6Bey=four&page=2"
    assert redact_credentials(encoded) == (
        "https://x.example/a?api%5Fkey=***&%74oken=***&PASS%57ORD=***&next=/b?%6Bey=***&page=2"
    )
    assert redact_credentials("https://x.example/a?keyfile=kept&m%6Fnth=kept") == (
        "https://x.example/a?keyfile=kept&m%6Fnth=kept"
    )
    assert redact_credentials("https://x.example/a?auth=one&token2=two&credentials=three&author=kept") == (
        "https://x.example/a?auth=***&token2=***&credentials=***&author=kept"
    )
    assert (
        redact_credentials('Authorization: Digest username="a", response="b"') == "Authorization: Digest ***"
    )
    assert redact_credentials("Bearer eyJhbGci.x; The Basic plan") == "Bearer ***; The Basic plan"
    # A header line, YAML, JSON, a double-quoted DSN value, [] after the name, pass= and passphrase=.
    written = {
        "Cookie: session=abc": "Cookie: ***",
        "X-Api-Key: abc": "X-Api-Key: ***",
        "password: abc": "password: ***",
        '{"password": "abc", "token":"def", "page": 2}': '{"password": ***, "token":***, "page": 2}',
        'host=db password="two words" port=5432': "host=db password=*** port=5432",
        "?token[]=abc&pass=def&passphrase=ghi&page=2": "?token[]=***&pass=***&passphrase=***&page=2",
        "https://abc123@o1.ingest.sentry.example/1": "https://***@o1.ingest.sentry.example/1",
        "postgresql://app@db.example/site": "postgresql://app@db.example/site",  # a user name, not a key
        "sk_live_abcdefgh12345678 ghp_abcdefghijklmnopqrstuvwxyz": "*** ***",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl": "***",
        "at 10:30, key ring": "at 10:30, key ring",
        "{'password': 'abc'}": "{'password': ***}",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----": "-----BEGIN PRIVATE KEY-----***",
        "whsec_abcdefgh123 AKIAIOSFODNN7EXAMPLE": "*** ***",
        # MariaDB's fixed phrase is no secret; the same words anywhere else are read as one.
        "denied for user 'u'@'h' (using password: NO)": "denied for user 'u'@'h' (using password: NO)",
        "(using password: YES).": "(using password: YES).",
        "(using password: yes)": "(using password: ***",
        "(using password: YESsecret)": "(using password: ***",
        "(using password: NO)secret": "(using password: ***",
        "using password: YES)": "using password: ***",
        "with password: YES": "with password: ***",
    }
    for text, expected in written.items():
        assert redact_credentials(text) == expected, text


def test_config_check_refuses_an_empty_sslmode_naming_it_and_hiding_the_password(tmp_path: Path) -> None:
    """``?sslmode=${DB_SSLMODE:-}`` with the variable unset: SQLAlchemy dropped the empty ``sslmode``, and
    the connection went without TLS, checked as OK."""
    config = tmp_path / "config.yml"
    config.write_text(
        "SERVER_ENV:\n  ENV: DEV\nDATABASE:\n  main:\n"
        "    url: 'postgresql://app:pw-secret-9@db.example/x?sslmode=${DB_SSLMODE:-}&connect_timeout=5'\n",
        encoding="utf-8",
    )
    result = conexoos("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "config error: DATABASE.main.url: the query gives sslmode an empty value, which SQLAlchemy drops "
        "with the name: the driver would not get sslmode as meant; write ?sslmode=<value>&connect_timeout=5 "
        "(or leave sslmode out, for the driver's default)\n"
    )


def test_a_database_url_that_does_not_parse_is_shown_with_what_may_be_a_password_hidden(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.yml"
    shown = {
        "notaurl": "'notaurl'",
        "postgresql//postgres@127.0.0.1/x": "'postgresql//postgres@127.0.0.1/x'",  # no ':', no password
        "postgresql//postgres:pw-secret@127.0.0.1/x": "'postgresql//***@127.0.0.1/x'",
        "app:pw-secret@nowhere": "'***@nowhere'",
        "dbname=x user=app pw-secret": "***",  # several words: which one is a password cannot be told
    }
    for url, expected in shown.items():
        config.write_text(
            f"SERVER_ENV:\n  ENV: DEV\nDATABASE:\n  main:\n    url: '{url}'\n", encoding="utf-8"
        )
        result = conexoos("config", "check", "--config", str(config), cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith(f"config error: DATABASE.main.url: {expected} is not valid; "), url
        assert "pw-secret" not in result.stderr


@pytest.mark.parametrize(
    ("key", "url", "warned"),
    [
        ("short", "https://links.example.org", ["APP_KEY: only 5 characters"]),
        ("k" * 40, "http://links.example.org", ["PUBLIC_URL: http:// under PROD"]),
        ("short", "http://links.example.org", ["APP_KEY: only 5", "PUBLIC_URL: http://"]),
        ("k" * 40, "https://links.example.org", []),
        ("k" * 40, "http://localhost:8000", []),  # browsers keep Secure cookies on localhost
    ],
)
def test_config_check_warns_of_a_short_key_and_plain_http_under_prod(
    tmp_path: Path, key: str, url: str, warned: list[str]
) -> None:
    """Both work, but should not be left so: a short key is guessable, and a browser on an http:// address
    cannot keep PROD's Secure cookies (every form then fails its CSRF check)."""
    config = tmp_path / "config.yml"
    config.write_text(f"SERVER_ENV:\n  ENV: PROD\n  APP_KEY: {key}\n  PUBLIC_URL: {url}\n", encoding="utf-8")
    result = conexoos("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if "APP_KEY" in line or "PUBLIC_URL" in line]
    assert len(ours) == len(warned), result.stderr
    for line, expected in zip(ours, warned, strict=True):
        assert line.startswith("warning: SERVER_ENV.") and expected in line
