"""The ``conexoos`` command: help, configuration checks, and ``serve`` with real gunicorn workers.

Commands that start servers run as subprocesses (``python -m conexoos``) in a temporary folder and are
always stopped in ``finally`` blocks; the helpers here are shared by the scaffold and migration tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import click.testing
import pytest
from click.testing import CliRunner

from conexoos.framework.cli import cli
from conexoos.framework.config import load_settings
from conexoos.framework.scaffold import create_project
from conexoos.framework.serve import build_server, gunicorn_options

ENV_TO_CLEAR = (
    "CONFIG_FILE",
    "CONEXOOS_PROJECT",
    "APP_KEY",
    "PORT",
    "CONEXOOS_ENV",
    "CONEXOOS_ADDRESS",
    "CONEXOOS_INSTANCE",
    "LOG_DIR",
    "LOG_LEVEL",
    "WERKZEUG_RUN_MAIN",
    "WERKZEUG_SERVER_FD",
)
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def command_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without the variables the embedded configurations read."""
    env = {name: value for name, value in os.environ.items() if name not in ENV_TO_CLEAR}
    env.update(extra or {})
    return env


def python(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run this interpreter with ``ARGS`` in ``cwd`` (``input`` on its stdin); return status and output."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=command_env(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def conexoos(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m conexoos ARGS`` in ``cwd`` and return its exit status and output."""
    return python("-m", "conexoos", *args, cwd=cwd, env=env)


def invoke(*args: str) -> click.testing.Result:
    """Run ``conexoos ARGS`` in this process (for commands that load no folder project)."""
    return CliRunner().invoke(
        cli, list(args), prog_name="conexoos", env={name: None for name in ENV_TO_CLEAR}
    )


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(url: str) -> tuple[int, str, str]:
    """GET ``url``: status, Content-Type and body; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


@contextlib.contextmanager
def server(
    args: list[str],
    cwd: Path,
    ready_url: str,
    env: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    stdin: int | None = None,
) -> Iterator[Path]:
    """Start ``python -m conexoos ARGS``, wait until ``ready_url`` answers (over ``tls`` for an https one
    with a test certificate), yield its log; stop it after. ``stdin``: Popen's (default: inherited)."""
    log_path = cwd / f"server-{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "conexoos", *args],
            cwd=cwd,
            env=command_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=stdin,
            start_new_session=True,
        )
    try:
        _wait_until_ready(process, ready_url, log_path, tls)
        yield log_path
    finally:
        _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[bytes], url: str, log_path: Path, tls: ssl.SSLContext | None
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with status {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1, context=tls):
                return
        except urllib.error.HTTPError:
            return  # it answers, even if with an error status: the test decides what is right
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"server did not answer {url} within {START_TIMEOUT}s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and every process it started (reloader child, gunicorn workers)."""
    with contextlib.suppress(ProcessLookupError):  # it may already be gone: that is the goal
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def all_commands() -> list[tuple[str, ...]]:
    """Every command and group of ``conexoos``, as the words that name it."""
    found: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            found.append((*prefix, name))
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))

    walk(cli, ())
    return found


EXPECTED_COMMANDS = {
    ("new",),
    ("run",),
    ("serve",),
    ("routes",),
    ("shell",),
    ("config",),
    ("config", "check"),
    ("config", "show"),
    ("db",),
    ("db", "migrate"),
    ("db", "upgrade"),
    ("db", "downgrade"),
    ("db", "current"),
    ("db", "history"),
    ("db", "stamp"),
    ("db", "backup"),
    ("db", "restore"),
    ("mail",),
    ("mail", "status"),
    ("mail", "retry"),
    ("media",),
    ("media", "migrate"),
    ("plugins",),
    ("plugins", "list"),
    ("plugins", "enable"),
    ("plugins", "disable"),
    ("tasks",),
    ("tasks", "status"),
}


def test_every_expected_command_exists() -> None:
    assert set(all_commands()) == EXPECTED_COMMANDS  # a new command must get its --help test here


@pytest.mark.parametrize("words", sorted(EXPECTED_COMMANDS), ids=" ".join)
def test_help_says_what_each_command_does(
    words: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["conexoos", *words, "--help"])
    result = CliRunner().invoke(cli, [*words, "--help"], prog_name="conexoos")
    assert result.exit_code == 0, result.output
    assert f"Usage: conexoos {' '.join(words)}" in result.output
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group)
        command = command.commands[word]
    summary = (command.help or "").strip().splitlines()[0]
    assert summary and summary in " ".join(result.output.split())
    if words != ("new",):
        assert "--project DIR" in result.output and "--config FILE" in result.output


def test_python_dash_m_lists_the_commands(tmp_path: Path) -> None:
    result = conexoos("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("new", "run", "serve", "routes", "config", "db", "shell"):
        assert f"\n  {name} " in result.stdout
    version = conexoos("--version", cwd=tmp_path)
    assert version.returncode == 0 and "conexoos, version" in version.stdout


def test_config_check_accepts_a_valid_file(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "ok.yml",
        "SERVER_ENV:\n  APP_KEY: a-long-enough-test-key\n  ENV: prod\n  PUBLIC_URL: https://links.example.org\n",
    )
    result = conexoos("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"configuration OK ({config})" in result.stdout


def test_config_check_prints_one_line_per_mistake_and_exits_2(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bad.yml",
        (
            "SERVER_ENV:\n  ENV: PROD\n  BIND:\n    PORT: eighty\n  SESSION: mongo\n"
            "DATABASE:\n  default: missing\n  main:\n    driver: sqlite\n"
        ),
    )
    result = conexoos("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("config error: ")]
    assert len(errors) == 5, result.stderr
    joined = "\n".join(errors)
    for key in (
        "SERVER_ENV.BIND.PORT: 'eighty'",
        "SERVER_ENV.SESSION: 'mongo'",
        "DATABASE.default: 'missing'",
        "SERVER_ENV.APP_KEY",
        "SERVER_ENV.PUBLIC_URL",
    ):
        assert key in joined
    assert result.stdout == ""


def test_config_check_reports_a_yaml_syntax_error_with_its_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "broken.yml", "SERVER_ENV:\n  APP_NAME: [unclosed\n")
    result = conexoos("--config", str(config), "config", "check", cwd=tmp_path)  # --config on the group
    assert result.returncode == 2
    assert result.stderr.startswith(f"config error: {config}:")
    assert "YAML syntax error" in result.stderr and "Traceback" not in result.stderr


def test_config_check_finds_the_project_config(tmp_path: Path) -> None:
    create_project("demo", tmp_path / "demo")
    result = conexoos("config", "check", "--project", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"({tmp_path / 'demo' / 'config.yml'})" in result.stdout


SECRETS = (
    "app-key-5ecret-value",
    "db-pa55word-value",
    "redis-pa55word",
    "url-pa55word",
    "stripe-t0ken-value",
)


def test_config_show_redacts_secrets(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "secret.yml",
        (
            f"SERVER_ENV:\n  APP_NAME: Shown\n  APP_KEY: {SECRETS[0]}\n"
            "DATABASE:\n  default: main\n"
            f"  main:\n    driver: postgresql\n    user: app\n    password: {SECRETS[1]}\n    database: cx\n"
            "    address: db.example\n"
            f"  other:\n    url: postgresql://app:{SECRETS[3]}@db.example/other\n"
            f"SERVICES:\n  redis:\n    HOST: cache.example\n    PASSWORD: {SECRETS[2]}\n"
            f"  mailer:\n    API_TOKEN: {SECRETS[4]}\n"
        ),
    )
    shown = invoke("config", "show", "--config", str(config))
    assert shown.exit_code == 0, shown.output
    result = conexoos("config", "show", "--config", str(config), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for output in (shown.output, result.stdout + result.stderr):
        assert "Shown" in output and "cache.example" in output
        for secret in SECRETS:
            assert secret not in output
    assert "APP_KEY: '***'" in shown.output
    tree = json.loads(result.stdout)
    assert tree["SERVER_ENV"]["APP_KEY"] == "***"
    assert tree["DATABASE"]["main"]["password"] == "***"
    assert tree["DATABASE"]["main"]["user"] == "app"
    assert tree["DATABASE"]["other"]["url"] == "postgresql://app:***@db.example/other"
    assert tree["SERVICES"]["redis"]["PASSWORD"] == "***"
    assert tree["SERVICES"]["mailer"]["API_TOKEN"] == "***"


def test_routes_lists_the_project_routes(tmp_path: Path) -> None:
    create_project("demo", tmp_path / "demo")
    result = conexoos("routes", "--project", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split() == ["/", "GET", "home"] for line in lines), result.stdout
    assert any(line.split() == ["/api/hello", "GET", "api_hello"] for line in lines), result.stdout


@pytest.mark.parametrize(
    "command", [["db", "current"], ["tasks", "status"], ["user", "list"], ["setup-token"]]
)
def test_a_command_about_a_site_refuses_a_folder_without_one(tmp_path: Path, command: list[str]) -> None:
    """On the embedded default, a folder without its instance holds no site: building the app there would
    make a new, empty one and report on it. Nothing is written; ``conexoos run`` starts a site there."""
    result = conexoos(*command, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith(
        f"error: no site here: the embedded default configuration keeps its site in {tmp_path / 'instance'}"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_project_folder_is_not_taken_for_the_products_site(tmp_path: Path) -> None:
    """Inside a project's folder (its instance folder there, no --project), a command worked on the
    product's embedded default: it made instance/conexoos.db and reported on that empty database."""
    project = tmp_path / "demo"
    create_project("demo", project)
    (project / "instance").mkdir()
    result = conexoos("plugins", "list", cwd=project)
    assert result.returncode == 2, result.stdout
    assert f"keeps its site in {project / 'instance' / 'conexoos.db'}, which does not exist" in result.stderr
    assert result.stderr.rstrip().endswith("This folder holds a project's config.yml: give --project .")
    assert list((project / "instance").iterdir()) == []


def test_a_sites_configuration_in_the_folder_is_suggested_as_config(tmp_path: Path) -> None:
    """A site's folder (its config.yml, such as the product's, and no project code) was told to give
    --project ., which took the folder for an empty project."""
    (tmp_path / "config.yml").write_text("SERVER_ENV:\n  INSTANCE_PATH: instance\n", encoding="utf-8")
    result = conexoos("db", "upgrade", "--database", "main", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stderr.rstrip().endswith(
        "This folder holds a site's configuration, config.yml: give --config config.yml"
    )
    assert "--project ." not in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.yml"]


def test_unknown_project_exits_2() -> None:
    result = invoke("routes", "--project", "./nowhere")
    assert result.exit_code == 2
    assert result.stderr.strip() == "project error: project folder './nowhere' does not exist"


TASK_MODULE = """
import os
from pathlib import Path

from flask import current_app


def record_worker() -> None:
    with open(Path(current_app.instance_path) / "task-ran", "a") as handle:
        handle.write(f"{os.getpid()}\\n")


class Schedule:
    def __init__(self, scheduler):
        scheduler.every(0.3, record_worker)
"""

MODEL_MODULE = """
from conexoos.framework import db


class Visit(db.Model):
    __tablename__ = "visit"
    id = db.Column(db.Integer, primary_key=True)
"""


def test_serve_runs_gunicorn_workers_that_answer(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    create_project("demo", project)
    (project / "server" / "tasks.py").write_text(TASK_MODULE)
    (project / "models" / "persistent" / "main.py").write_text(MODEL_MODULE)
    config = project / "config.yml"
    config.write_text(config.read_text().replace('models: ""', "models: main"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--project", "demo", "--port", str(port), "--workers", "2"]
    with server(args, tmp_path, base + "/", env={"LOG_DIR": "logs"}):
        status, content_type, body = http_get(base + "/")
        assert status == 200 and content_type.startswith("text/html") and "<h1>demo</h1>" in body
        status, content_type, body = http_get(base + "/api/hello")
        assert status == 200 and json.loads(body) == {"message": "Hello from demo!", "app": "demo"}
        assert http_get(base + "/nowhere")[0] == 404
        assert _socket_ping(base) == {"echo": {"n": 7}}
        logs = project / "instance" / "logs"
        error_log = logs / "gunicorn.error.log"
        _wait_for(lambda: error_log.read_text().count("Booting worker") == 2, f"two workers in {error_log}")
        task_file = project / "instance" / "task-ran"
        _wait_for(task_file.exists, "a scheduled task run by a worker")
        assert "GET /api/hello" in (logs / "gunicorn.access.log").read_text()
        master_pid = _master_pid(error_log.read_text())
        assert master_pid not in task_file.read_text().split()  # tasks run in workers, never the master
    database = project / "instance" / "demo.db"
    assert "visit" in _sqlite_tables(database)


def test_serve_refuses_an_unknown_worker_class(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yml", "SERVER_ENV:\n  WORKERS: no.such.Worker\n")
    result = invoke("serve", "--config", str(config), "--port", str(free_port()))
    assert result.exit_code == 2
    assert result.stderr.startswith("config error: SERVER_ENV.WORKERS: 'no.such.Worker'")
    assert result.stdout == ""


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):  # the file may not be written yet
            if condition():
                return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _socket_ping(base: str) -> object:
    """Emit 'ping' over a WebSocket and return the data of the 'pong' that answers it."""
    import socketio

    answered = threading.Event()
    received: list[object] = []
    client = socketio.Client()
    client.on("pong", lambda data: (received.append(data), answered.set()))
    client.connect(base, transports=["websocket"], wait_timeout=10)
    try:
        client.emit("ping", {"n": 7})
        assert answered.wait(10), "no pong within 10 s"
    finally:
        client.disconnect()
    return received[0]


def _master_pid(error_log: str) -> str:
    for line in error_log.splitlines():
        if "Listening at:" in line:
            return line.rsplit("(", 1)[1].rstrip(")")
    raise AssertionError(f"no 'Listening at' line in:\n{error_log}")


def _sqlite_tables(path: Path) -> set[str]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_wsgi_module_builds_the_project_named_by_the_environment(tmp_path: Path) -> None:
    create_project("demo", tmp_path / "demo")
    code = (
        "from conexoos.framework.wsgi import app; print(app.name, app.config['APP_NAME'], app.instance_path)"
    )
    code += "; import gc; print(gc.isenabled(), gc.get_freeze_count() > 1000)"
    result = python("-c", code, cwd=tmp_path, env={"CONEXOOS_PROJECT": "demo"})
    assert result.returncode == 0, result.stderr
    # the collector runs again, and leaves what start-up made alone (framework/startup_gc.py)
    assert result.stdout.split() == ["demo", "demo", str(tmp_path / "demo" / "instance"), "True", "True"]


def test_shell_runs_code_in_the_app_context(tmp_path: Path) -> None:
    create_project("demo", tmp_path / "demo")
    script = "from flask import current_app\nprint('app is', current_app.config['APP_NAME'], app.name)\n"
    result = python("-m", "conexoos", "shell", "--project", "demo", cwd=tmp_path, input=script)
    assert result.returncode == 0, result.stderr
    assert "app is demo demo" in result.stdout


def test_gunicorn_options_come_from_server_env(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("certificate")
    (tmp_path / "key.pem").write_text("key")
    config = write_config(
        tmp_path / "config.yml",
        (
            "SERVER_ENV:\n  APP_KEY: test-key-for-options\n  WORKERS: sync\n  THREADS_PER_CORE: 8\n"
            "  CAPTURE: true\n"
            "  BIND:\n    ADDRESS: 0.0.0.0\n    PORT: 8123\n  LOG:\n    DIR: logs\n    LEVEL: WARNING\n"
            "  SSL:\n    Certificate: cert.pem\n    PrivateKey: key.pem\n"
        ),
    )
    options = gunicorn_options(load_settings(config, environ={}))
    assert options["bind"] == ["0.0.0.0:8123"]
    assert options["workers"] == 1  # no SERVICES.redis: one worker (see test_serve_workers.py)
    assert (options["worker_class"], options["threads"], options["capture_output"]) == ("sync", 8, True)
    assert options["certfile"] == str(tmp_path / "cert.pem") and options["keyfile"] == str(
        tmp_path / "key.pem"
    )
    assert options["accesslog"] == str(tmp_path / "instance" / "logs" / "gunicorn.access.log")
    assert options["errorlog"] == str(tmp_path / "instance" / "logs" / "gunicorn.error.log")
    assert options["loglevel"] == "warning" and options["preload_app"] is False
    overridden = gunicorn_options(load_settings(config, environ={}), host="::1", port=9000, workers=3)
    assert overridden["bind"] == ["[::1]:9000"] and overridden["workers"] == 3


@pytest.mark.parametrize(
    ("rotate", "workers", "warned"),
    [("size", 2, True), ("size", 1, False), ("external", 4, False), ("", 3, True)],
)
def test_serve_warns_when_several_workers_would_each_rotate_the_logs(
    tmp_path: Path, rotate: str, workers: int, warned: bool
) -> None:
    config = write_config(
        tmp_path / "config.yml",
        "SERVER_ENV:\n  APP_KEY: test-key-for-rotation\n"
        f"  LOG:\n    DIR: logs\n    ROTATE: '{rotate}'\n"
        "DATABASE:\n  main:\n    url: sqlite:///main.db\n",
    )
    create_project("site", tmp_path / "site")
    _server, warnings = build_server(str(tmp_path / "site"), str(config), workers=workers)
    expected = (
        f"SERVER_ENV.LOG.ROTATE: size with {workers} workers: each worker would rotate app.log and "
        "access.log on its own; set it to external and rotate the files with logrotate"
    )
    assert (expected in warnings) is warned, warnings


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_host_that_cannot_be_listened_on_is_refused_before_anything_starts(
    tmp_path: Path, command: str
) -> None:
    project = tmp_path / "demo"
    create_project("demo", project)
    done = conexoos(
        command, "--project", "demo", "--host", "bad host!", "--port", str(free_port()), cwd=tmp_path
    )
    assert done.returncode == 2
    assert "--host: 'bad host!' is neither an IP address nor a host name that resolves" in (
        done.stdout + done.stderr
    )
    assert "Serving Flask app" not in done.stdout + done.stderr


def test_a_broken_commands_module_is_one_line_and_help_still_shows(tmp_path: Path) -> None:
    """`conexoos --project demo --help` printed a SyntaxError's traceback and no help at all."""
    create_project("demo", tmp_path / "demo")
    (tmp_path / "demo" / "server" / "commands.py").write_text("def broken(:\n")
    helped = conexoos("--project", "demo", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "Usage: conexoos" in helped.stdout
    said = "project error: its commands module cannot be loaded: SyntaxError: invalid syntax"
    assert said in helped.stderr and "Traceback" not in helped.stderr
    asked = conexoos("--project", "demo", "greet", cwd=tmp_path)
    assert asked.returncode == 2 and said in asked.stderr and "Traceback" not in asked.stderr
    (tmp_path / "demo" / "server" / "commands.py").write_text("raise SystemExit(3)\n")
    exiting = conexoos("--project", "demo", "--help", cwd=tmp_path)  # it printed nothing, status 3
    assert exiting.returncode == 0 and "Usage: conexoos" in exiting.stdout
    assert "project error: its commands module cannot be loaded: SystemExit: 3" in exiting.stderr


FAILING_COMMAND = """
import click
from flask import current_app


class Commands:
    def __init__(self, cli):
        @cli.command("explode")
        def explode():
            secret = current_app.config["DB_PASSWORD"]
            raise RuntimeError(f"the command fails with {secret} and postgresql://u:{secret}@db/x")
"""


def test_a_project_commands_traceback_hides_the_configured_secrets(tmp_path: Path) -> None:
    """A project command that raised printed its traceback to the terminal with the secrets in clear."""
    project = tmp_path / "demo"
    create_project("demo", project)
    (project / "server" / "commands.py").write_text(FAILING_COMMAND)
    config = project / "config.yml"
    config.write_text(
        config.read_text().replace("  CONFIG: {}", "  CONFIG: {DB_PASSWORD: zq9-command-secret}")
    )
    failed = conexoos("--project", "demo", "explode", cwd=tmp_path)
    assert failed.returncode == 1
    assert "Traceback (most recent call last)" in failed.stderr
    assert "RuntimeError: the command fails with *** and postgresql://u:***@db/x" in failed.stderr
    assert "zq9" not in failed.stdout + failed.stderr


def test_a_part_whose_class_cannot_take_the_server_is_one_project_error(tmp_path: Path) -> None:
    create_project("demo", tmp_path / "demo")
    web = tmp_path / "demo" / "server" / "web.py"
    web.write_text(
        web.read_text().replace("def __init__(self, server: Flask) -> None:", "def __init__(self) -> None:")
    )
    result = conexoos("routes", "--project", "demo", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("project error: server.web.Route() -> None (")
    assert "cannot be called with the Flask alone; the seed layout expects `class Route`" in result.stderr


def test_a_project_route_at_the_health_check_address_is_refused(tmp_path: Path) -> None:
    """The framework's /healthz, added first, answered it: the project's view never ran, without a word."""
    create_project("demo", tmp_path / "demo")
    web = tmp_path / "demo" / "server" / "web.py"
    web.write_text(
        web.read_text().replace(
            'server.add_url_rule("/", "home", web.home, methods=["GET"])',
            'server.add_url_rule("/", "home", web.home, methods=["GET"])\n'
            '        server.add_url_rule("/healthz", "my_health", web.home, methods=["GET"])',
        )
    )
    result = conexoos("routes", "--project", "demo", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith(
        "project error: the route /healthz (endpoint 'my_health') is the framework's health check"
    )


@pytest.mark.parametrize("command", [["config", "check"], ["routes"], ["run", "--no-reload"]])
def test_a_syntax_error_in_a_controller_is_one_project_error_naming_its_file_and_line(
    tmp_path: Path, command: list[str]
) -> None:
    """It was Python's traceback through the framework's import of the project's server package."""
    create_project("demo", tmp_path / "demo")
    controller = tmp_path / "demo" / "controllers" / "web.py"
    controller.write_text(controller.read_text() + "\n\ndef broken(:\n    pass\n")
    line = controller.read_text().splitlines().index("def broken(:") + 1
    port = ["--port", str(free_port())] if command[0] == "run" else []
    result = conexoos(*command, "--project", "demo", *port, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr == (
        f"project error: SyntaxError: invalid syntax in {controller.resolve()}, line {line}: def broken(:\n"
    )


@pytest.mark.parametrize("command", [["config", "check"], ["routes"]])
def test_a_nul_byte_in_a_controller_is_one_project_error_naming_its_file_and_line(
    tmp_path: Path, command: list[str]
) -> None:
    """It was 'project error: SyntaxError: source code string cannot contain null bytes', naming nothing."""
    create_project("demo", tmp_path / "demo")
    controller = tmp_path / "demo" / "controllers" / "web.py"
    controller.write_bytes(b"# a stray NUL byte: \0\n" + controller.read_bytes())
    result = conexoos(*command, "--project", "demo", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr == (
        "project error: SyntaxError: source code string cannot contain null bytes in "
        f"{controller.resolve()}, line 1\n"
    )


CLASHING_COMMANDS = """
import click


class Commands:
    def __init__(self, cli):
        @cli.command("routes")
        def routes() -> None:
            \"\"\"The project's own list.\"\"\"
            click.echo("the project's routes")

        @cli.command("greet")
        def greet() -> None:
            click.echo("hello")
"""


def test_a_project_command_named_like_a_built_in_one_is_a_project_error(tmp_path: Path) -> None:
    """`conexoos routes` ran the built-in and the project's `routes` was dropped without a word."""
    create_project("demo", tmp_path / "demo")
    commands = tmp_path / "demo" / "server" / "commands.py"
    commands.write_text(CLASHING_COMMANDS)
    said = (
        f"project error: server.commands ({commands.resolve()}) adds the command 'routes', the name of the "
        "built-in `conexoos routes` (List every URL rule with its endpoint and methods.): the built-in would "
        "run instead; rename it"
    )
    helped = conexoos("--project", "demo", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "Usage: conexoos" in helped.stdout
    assert helped.stderr == f"{said}; its commands are not listed\n"
    greeted = conexoos("--project", "demo", "greet", cwd=tmp_path)
    assert greeted.returncode == 2 and greeted.stderr == f"{said}\n" and "hello" not in greeted.stdout
    commands.write_text(CLASHING_COMMANDS.replace('"routes"', '"my-routes"'))
    renamed = conexoos("--project", "demo", "my-routes", cwd=tmp_path)
    assert renamed.returncode == 0 and renamed.stdout == "the project's routes\n", renamed.stderr


@pytest.mark.parametrize("command", ["routes", "run"])
def test_a_route_target_that_does_not_resolve_stops_the_start_naming_the_route(
    tmp_path: Path, command: str
) -> None:
    """`run` served, and the route answered each request with a 500."""
    create_project("demo", tmp_path / "demo")
    web = tmp_path / "demo" / "server" / "web.py"
    web.write_text(web.read_text().replace("web.home, methods", '"controllers.web.hom", methods'))
    port = ["--no-reload", "--port", str(free_port())] if command == "run" else []
    result = conexoos(command, "--project", "demo", *port, cwd=tmp_path)
    assert result.returncode == 2 and "Running on" not in result.stderr, result.stderr
    assert result.stderr == (
        "project error: the route / (endpoint 'home') has the view 'controllers.web.hom': module "
        "controllers.web has no attribute 'hom'; give the function itself, or a dotted path to it "
        "(package.module.function)\n"
    )
