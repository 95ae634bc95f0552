"""Logging: one access line per request, LOG.LEVEL, and rotating app.log / access.log files in LOG.DIR."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from conexoos.framework import logs
from conexoos.framework.scaffold import create_project
from conexoos.framework.startup import try_connection
from tests.conftest import AppFactory
from tests.support.services import server_url

from .helpers import free_port, write_project
from .test_cli import http_get, server

ROUTES = """
    import logging

    from flask import abort, current_app

    log = logging.getLogger(__name__)


    def hello():
        log.info("the project's own info line")
        current_app.logger.info("the project's app logger info line")
        log.debug("a debug line below LOG.LEVEL")
        return "hello"


    def crash():
        raise RuntimeError("crash on purpose for the log")


    def leak():
        secret = current_app.config["DB_PASSWORD"]
        log.warning("connecting with password=%s to postgresql://bob:%s@db/x", secret, secret)
        current_app.logger.warning("the app logger says token=%s", secret)
        raise RuntimeError(f"cannot open postgresql://bob:{secret}@db/x (kept as {secret})")


    class Route:
        def __init__(self, app):
            app.add_url_rule("/hello", "hello", hello)
            app.add_url_rule("/api/items", "items", hello, methods=["POST"])
            app.add_url_rule("/crash", "crash", crash)
            app.add_url_rule("/leak", "leak", leak)
"""
ACCESS_LINE = re.compile(r"^(GET|POST|PUT) (/\S*) (\d{3}) (\d+\.\d)ms$")


def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "logged", {"server/web.py": ROUTES})


def test_one_access_line_per_request(
    tmp_path: Path, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(project(tmp_path), {"FLASK": {"CONFIG": {"TESTING": False}}})
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="conexoos.access"):
        client.get("/hello?token=abc")
        client.post("/api/items")
        client.put("/hello")
        client.get("/missing")
        client.get("/crash")
    lines = [record.getMessage() for record in caplog.records if record.name == "conexoos.access"]
    parsed = [ACCESS_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [match.group(1, 2, 3) for match in parsed if match] == [
        ("GET", "/hello", "200"),
        ("POST", "/api/items", "200"),
        ("PUT", "/hello", "405"),
        ("GET", "/missing", "404"),
        ("GET", "/crash", "500"),
    ]


def test_log_level_filters_framework_messages(
    tmp_path: Path, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    make_app(project(tmp_path), {"SERVER_ENV": {"LOG": {"LEVEL": "warning"}}})
    assert logging.getLogger("conexoos").getEffectiveLevel() == logging.WARNING
    make_app(project(tmp_path), {"SERVER_ENV": {"LOG": {"LEVEL": "DEBUG"}}})
    assert logging.getLogger("conexoos").getEffectiveLevel() == logging.DEBUG


def test_log_dir_writes_app_and_access_logs(tmp_path: Path, make_app: AppFactory) -> None:
    log_dir = tmp_path / "logs"
    app = make_app(
        project(tmp_path),
        {
            "SERVER_ENV": {"LOG": {"DIR": str(log_dir)}, "APP_NAME_OLD": "typo"},
            "FLASK": {"CONFIG": {"TESTING": False}},
        },
    )
    client = app.test_client()
    client.get("/hello")
    client.get("/crash")
    for handler in logging.getLogger("conexoos").handlers + logging.getLogger("conexoos.access").handlers:
        handler.flush()

    access = (log_dir / "access.log").read_text(encoding="utf-8").splitlines()
    messages = [line.split(" INFO conexoos.access: ", 1)[1] for line in access]
    parsed = [ACCESS_LINE.match(message) for message in messages]
    assert [match.group(1, 2, 3) for match in parsed if match] == [
        ("GET", "/hello", "200"),
        ("GET", "/crash", "500"),
    ]

    app_log = (log_dir / "app.log").read_text(encoding="utf-8")
    # The configuration's warnings and the project's unhandled exceptions land in app.log, not on stderr.
    assert "unknown key SERVER_ENV.APP_NAME_OLD is ignored; did you mean SERVER_ENV.APP_NAME?" in app_log
    assert "RuntimeError: crash on purpose for the log" in app_log
    assert "Traceback (most recent call last)" in app_log
    assert "GET /hello" not in app_log
    # The project's own loggers follow LOG.LEVEL (INFO) too: Python's root logger dropped their INFO lines.
    assert "INFO server.web: the project's own info line" in app_log
    assert "the project's app logger info line" in app_log
    assert "a debug line below LOG.LEVEL" not in app_log


@pytest.mark.parametrize("to_files", [True, False], ids=["app.log", "stderr"])
def test_configured_secrets_never_reach_the_log(
    tmp_path: Path, make_app: AppFactory, capsys: pytest.CaptureFixture[str], to_files: bool
) -> None:
    """A project's log line or exception that holds a configured secret: written in clear before."""
    log_dir = tmp_path / "logs"
    secret = "zq9-runtime-pw"
    app = make_app(
        project(tmp_path),
        {
            "SERVER_ENV": {"LOG": {"DIR": str(log_dir) if to_files else ""}},
            "FLASK": {"CONFIG": {"TESTING": False, "DB_PASSWORD": secret}},
            "SERVICES": {"smtp": {"HOST": "smtp.example.org", "PASSWORD": "smtp-pass-77"}},
        },
    )
    assert app.test_client().get("/leak").status_code == 500
    logging.getLogger("conexoos").warning("a library said: smtp-pass-77 refused")
    logs.flush_logs()
    written = (log_dir / "app.log").read_text(encoding="utf-8") if to_files else capsys.readouterr().err
    assert "RuntimeError: cannot open postgresql://bob:***@db/x (kept as ***)" in written
    assert "connecting with password=*** to postgresql://bob:***@db/x" in written
    assert "the app logger says token=***" in written
    assert "a library said: *** refused" in written
    assert secret not in written and "smtp-pass-77" not in written


@pytest.mark.parametrize("secret", ["a", "not", "12"])
def test_a_short_secret_is_hidden_where_its_place_says_so_and_free_words_stay_whole(
    tmp_path: Path, make_app: AppFactory, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    """A password of one to three characters was hidden as a free word too: ``This is *** development
    server``, ``role "u" does *** exist``: logs garbled, and the password given away as the word missing.
    It is hidden where its place says it is one (a URL's password, ``password=``, ``token=``); the start
    warns that it cannot be kept out of the logs, naming its key."""
    app = make_app(project(tmp_path), {"FLASK": {"CONFIG": {"TESTING": False, "DB_PASSWORD": secret}}})
    assert app.test_client().get("/leak").status_code == 500
    words = (
        f'This is {secret} development server; role "u" does {secret} exist; GET /{secret} 404; '
        f"{secret}.example.org, 06:{secret}:34"
    )
    logging.getLogger("conexoos").warning("%s", words)
    logs.flush_logs()
    written = capsys.readouterr().err
    assert words in written
    assert f"RuntimeError: cannot open postgresql://bob:***@db/x (kept as {secret})" in written
    assert "connecting with password=*** to postgresql://bob:***@db/x" in written
    assert "the app logger says token=***" in written
    for place in (f":{secret}@", f"password={secret}", f"token={secret}"):
        assert place not in written
    warning = "the secret FLASK.CONFIG.DB_PASSWORD holds is shorter than 4 characters: it is weak"
    assert written.count(warning) == 1


@pytest.mark.parametrize("secret", ["abcd", "zq9-runtime-pw"])
def test_a_secret_of_4_characters_or_more_is_hidden_anywhere_without_a_warning(
    tmp_path: Path, make_app: AppFactory, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    app = make_app(project(tmp_path), {"FLASK": {"CONFIG": {"TESTING": False, "DB_PASSWORD": secret}}})
    assert app.test_client().get("/leak").status_code == 500
    logging.getLogger("conexoos").warning("free: %s, inside: x%sx, %s.example.org", secret, secret, secret)
    logs.flush_logs()
    written = capsys.readouterr().err
    assert "free: ***, inside: x***x, ***.example.org" in written
    assert "RuntimeError: cannot open postgresql://bob:***@db/x (kept as ***)" in written
    assert secret not in written and "shorter than 4 characters" not in written


@pytest.mark.services
@pytest.mark.parametrize("password", ["wrong-pw-123", "YES"])
def test_mariadbs_using_password_phrase_is_logged_whole_and_the_password_stays_hidden(
    tmp_path: Path, make_app: AppFactory, capsys: pytest.CaptureFixture[str], password: str
) -> None:
    """MariaDB's real "Access denied for user 'root'@'h' (using password: YES)" was logged as "(using
    password: ***", its parenthesis gone too: YES is the server's fixed phrase, not the password (the server
    never repeats that). A password of ``YES`` stays hidden where its place says it is one."""
    make_app(project(tmp_path), {"FLASK": {"CONFIG": {"TESTING": False, "DB_PASSWORD": password}}})
    url = server_url("mariadb").set(password=password)
    error = try_connection(url, timeout=2)
    assert error is not None
    log = logging.getLogger("conexoos")
    log.error("cannot connect to %s: %s", url.render_as_string(hide_password=False), error)
    log.warning("retrying with password: %s; then password=%s", password, password)
    logs.flush_logs()
    written = capsys.readouterr().err
    assert re.search(
        r"""\(1045, "Access denied for user 'root'@'[^']+' \(using password: YES\)"\)""", written
    )
    assert f"cannot connect to mysql+pymysql://root:***@{url.host}" in written
    assert "retrying with password: ***; then password=***" in written
    assert f":{password}@" not in written and "wrong-pw-123" not in written


def test_relative_log_dir_is_under_the_instance_folder(tmp_path: Path, make_app: AppFactory) -> None:
    app = make_app(project(tmp_path), {"SERVER_ENV": {"LOG": {"DIR": "logs"}}})
    app.test_client().get("/hello")
    instance = tmp_path / "instance"
    assert app.extensions["conexoos"].settings.get("SERVER_ENV.LOG.DIR") == str(instance / "logs")
    assert (instance / "logs" / "access.log").exists()
    assert (instance / "logs" / "app.log").exists()


def test_external_rotation_reopens_a_log_that_logrotate_moved_within_a_second(
    tmp_path: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_dir = tmp_path / "logs"
    app = make_app(project(tmp_path), {"SERVER_ENV": {"LOG": {"DIR": str(log_dir), "ROTATE": "external"}}})
    client = app.test_client()
    now = [time.monotonic()]
    monkeypatch.setattr(logs, "_clock", lambda: now[0])
    client.get("/hello")
    (log_dir / "access.log").rename(log_dir / "access.log.1")  # what logrotate does, in any process
    client.get("/hello?soon")  # within the second: no stat yet, the moved file still gets the line
    now[0] += logs.REOPEN_CHECK_SECONDS
    client.get("/hello?after")
    client.post("/api/items")
    for handler in logging.getLogger("conexoos.access").handlers:
        handler.flush()

    def paths(name: str) -> list[str]:
        lines = (log_dir / name).read_text(encoding="utf-8").splitlines()
        return [line.split(" INFO conexoos.access: ", 1)[1].rsplit(" ", 2)[0] for line in lines]

    assert paths("access.log.1") == ["GET /hello", "GET /hello"]
    assert paths("access.log") == ["GET /hello", "POST /api/items"]


def test_size_rotation_counts_its_bytes_and_keeps_every_line(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text("x" * 50 + "\n", encoding="utf-8")  # a file from an earlier run counts too
    handler = logs.SizeRotatingFileHandler(path, maxBytes=200, backupCount=5, encoding="utf-8")
    logger = logging.Logger("rotation-test")
    logger.addHandler(handler)
    for number in range(20):
        logger.warning("line %02d é %s", number, "-" * 20)  # 32 bytes a line with its newline
    handler.close()

    files = [tmp_path / name for name in ("access.log.3", "access.log.2", "access.log.1", "access.log")]
    lines = [line for file in files for line in file.read_text(encoding="utf-8").splitlines()]
    assert lines == ["x" * 50] + [f"line {number:02d} é {'-' * 20}" for number in range(20)]
    sizes = [file.stat().st_size for file in files]
    assert sizes == [51 + 5 * 32, 7 * 32, 7 * 32, 32]  # rotated at the first line that reached 200 bytes


BOOM = """

def boom():
    secret = server_secret()
    raise RuntimeError(f"boom with {secret} and postgresql://u:{secret}@db/x")


def server_secret():
    from flask import current_app

    return current_app.config["DB_PASSWORD"]
"""


@pytest.mark.parametrize("log_dir", ["", "logs"])
def test_the_development_servers_traceback_and_request_lines_hide_secrets(
    tmp_path: Path, log_dir: str
) -> None:
    """Werkzeug's debugger writes a traceback, and its server a request line with the query string, to
    stderr without a log record: both showed a configured secret and a URL's password in clear."""
    project = tmp_path / "demo"
    create_project("demo", project)
    web = project / "server" / "web.py"
    web.write_text(
        web.read_text().replace(
            'server.add_url_rule("/", "home", web.home, methods=["GET"])',
            'server.add_url_rule("/", "home", web.home, methods=["GET"])\n'
            '        server.add_url_rule("/boom", "boom", boom)',
        )
        + BOOM
    )
    config = project / "config.yml"
    config.write_text(config.read_text().replace("  CONFIG: {}", "  CONFIG: {DB_PASSWORD: zq9-dev-secret}"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["run", "--project", "demo", "--port", str(port), "--no-reload"]
    with server(args, tmp_path, base + "/", env={"LOG_DIR": log_dir}) as output:
        assert http_get(base + "/boom")[0] == 500
        assert http_get(base + "/?token=zq9-query-token&x=zq9-dev-secret")[0] == 200
        written = ""
        for _ in range(50):  # the server writes its lines after answering
            written = output.read_text() + "".join(
                path.read_text() for path in (project / "instance").rglob("*.log")
            )
            if "RuntimeError: boom with" in written and "token=" in written:
                break
            time.sleep(0.1)
    assert "RuntimeError: boom with *** and postgresql://u:***@db/x" in written
    assert "token=***&x=***" in written
    assert "zq9" not in written
