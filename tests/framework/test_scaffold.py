"""``conexoos new``: the project it writes, its refusals, and ``conexoos run`` serving the result."""

from __future__ import annotations

import http.cookiejar
import json
import re
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from conexoos.framework.scaffold import ScaffoldError, create_project, template_files
from tests.conftest import AppFactory

from .test_cli import command_env, conexoos, free_port, http_get, invoke, server

EXPECTED_FILES = {
    "config.yml",
    ".gitignore",
    "server/__init__.py",
    "server/web.py",
    "server/ws.py",
    "server/socket.py",
    "server/config.py",
    "controllers/__init__.py",
    "controllers/web.py",
    "controllers/api.py",
    "controllers/socket.py",
    "models/__init__.py",
    "models/persistent/__init__.py",
    "models/forms/__init__.py",
    "template/index.html",
    "static/style.css",
    "tests/test_app.py",
}


def project_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def test_new_writes_the_seed_layout(tmp_path: Path) -> None:
    result = conexoos("new", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "conexoos run --project demo" in result.stdout
    root = tmp_path / "demo"
    assert project_files(root) == EXPECTED_FILES
    config = yaml.safe_load((root / "config.yml").read_text())
    assert config["SERVER_ENV"]["APP_NAME"] == "demo"
    assert config["SERVER_ENV"]["SESSION"] == "filesystem"
    assert config["DATABASE"]["main"]["driver"] == "sqlite"
    assert config["SERVER_ENV"]["CSRF"] == {"ENABLED": True}  # said in the file, not left to the default
    assert stat.S_IMODE((root / "config.yml").stat().st_mode) == 0o600
    for path in root.rglob("*"):
        if path.is_file():
            assert "__CONEXOOS_" not in path.read_text(), path


def test_no_secret_is_written_with_the_code_and_each_project_makes_its_own(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """config.yml goes with the code: it names APP_KEY from the environment, and DEV generates one at the
    first start in the git-ignored instance folder (UAT and PROD refuse to start without one)."""
    create_project("one", tmp_path / "one")
    create_project("two", tmp_path / "two")
    for name in ("one", "two"):
        assert yaml.safe_load((tmp_path / name / "config.yml").read_text())["SERVER_ENV"]["APP_KEY"] == (
            "${APP_KEY:-}"
        )
        make_app(tmp_path / name, config=str(tmp_path / name / "config.yml"))
    keys = {(tmp_path / name / "instance" / "app_key").read_text().strip() for name in ("one", "two")}
    assert len(keys) == 2 and all(len(key) >= 60 for key in keys)  # different, long secrets
    assert "instance/" in (tmp_path / "one" / ".gitignore").read_text().splitlines()


def test_templates_are_data_files_only() -> None:
    names = [source.name for _relative, source in template_files()]
    assert names and not [name for name in names if name.endswith(".py")]


def test_new_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    existing = tmp_path / "demo"
    existing.mkdir()
    (existing / "notes.txt").write_text("keep me")
    result = conexoos("new", "demo", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {existing} already exists and is not empty; choose another name or --path"
    )
    assert project_files(existing) == {"notes.txt"}
    assert (existing / "notes.txt").read_text() == "keep me"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["demo"]  # no staging folder left behind


def test_new_refuses_a_file_and_a_bad_name(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    result = conexoos("new", "demo", "--path", "taken", cwd=tmp_path)
    assert result.returncode == 2 and "is not a folder" in result.stderr
    invalid = invoke("new", "9lives")
    assert invalid.exit_code == 2
    assert invalid.stderr.startswith("error: project name '9lives' is not valid")
    with pytest.raises(ScaffoldError, match="not valid"):
        create_project("../escape", tmp_path / "x")


def test_new_fills_an_empty_folder_given_by_path(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    result = conexoos("new", "shop", "--path", "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert project_files(tmp_path / "site") == EXPECTED_FILES
    assert yaml.safe_load((tmp_path / "site" / "config.yml").read_text())["SERVER_ENV"]["APP_NAME"] == "shop"


def test_the_new_project_tests_pass(tmp_path: Path) -> None:
    create_project("demo", tmp_path / "demo")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path / "demo",
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_run_serves_the_new_project(tmp_path: Path) -> None:
    assert conexoos("new", "demo", cwd=tmp_path).returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server(["run", "--project", "demo", "--port", str(port)], tmp_path, base + "/") as log:
        status, content_type, body = http_get(base + "/")
        assert status == 200 and content_type.startswith("text/html"), body
        assert "<h1>demo</h1>" in body and re.search(r"/static/style\.[0-9a-f]{12}\.css", body), body
        status, content_type, body = http_get(base + "/api/hello")
        assert status == 200 and content_type.startswith("application/json")
        assert json.loads(body) == {"message": "Hello from demo!", "app": "demo"}
        status, _content_type, body = http_get(base + "/static/style.css")
        assert status == 200 and "font-family" in body
        status, _content_type, body = http_get(base + "/socket.io/?EIO=4&transport=polling")
        assert status == 200 and '"sid"' in body
        assert "GET /api/hello 200" in log.read_text()
    assert (tmp_path / "demo" / "instance" / "sessions").is_dir()


def send(
    opener: urllib.request.OpenerDirector, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    """POST ``body`` to ``url`` through ``opener`` (its cookies): status and body; HTTP errors returned."""
    try:
        with opener.open(urllib.request.Request(url, data=body, headers=headers), timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_served_project_refuses_a_forged_form_and_accepts_its_own(tmp_path: Path) -> None:
    assert conexoos("new", "demo", cwd=tmp_path).returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with server(["run", "--project", "demo", "--port", str(port)], tmp_path, base + "/") as log:
        with browser.open(base + "/", timeout=5) as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
        assert token
        status, body = send(urllib.request.build_opener(), base + "/greet", b"name=Ada", form)  # no cookie
        assert status == 400 and "carries no CSRF token" in body
        status, body = send(browser, base + "/greet", f"name=Ada&csrf_token={token.group(1)}".encode(), form)
        assert status == 200 and "Hello, Ada!" in body
        json_headers = {"Content-Type": "application/json", "X-CSRFToken": token.group(1)}
        status, body = send(browser, base + "/api/greetings", b'{"name": "Ada"}', json_headers)
        assert (status, json.loads(body)) == (200, {"message": "Hello, Ada!"})
        assert "CSRF check refused POST /greet: no token was sent" in log.read_text()
