"""A CamelCase flask-framework project runs unchanged: Process, Database with two connections,
Environment, @safe and the default error pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from conexoos.framework import create_app
from tests.conftest import AppFactory

from .compat_projects import camel_case_compat_project
from .helpers import write_project


def test_camel_case_flask_framework_project_runs_unchanged(tmp_path: Path, make_app: AppFactory) -> None:
    project, config = camel_case_compat_project(tmp_path)
    app = make_app(project, config=config)
    client = app.test_client()

    assert client.post("/notes", data={"text": "first"}).status_code == 201
    assert client.post("/notes", data={"text": "second"}).status_code == 201
    assert client.get("/notes").get_json() == {"notes": ["first", "second"], "archive": ["FIRST", "SECOND"]}
    assert (tmp_path / "instance" / "archive.db").stat().st_size > 0

    environment = client.get("/environment").get_json()
    assert environment == {
        "app": "Notes",
        "at_import": "Notes",
        "databases": ["archive", "default", "main"],
        "default": "main.db",
        "services": ["filesystem"],
        "same_services": True,
        "flask": "hello",
        "app_is_process": True,
        "engines": ["archive", "default", "main"],
        "csrf": "CSRFProtect",
        "socket": "SocketIO",
        "openid": None,
    }


def test_default_error_pages_of_flask_framework(tmp_path: Path, make_app: AppFactory) -> None:
    project, config = camel_case_compat_project(tmp_path)
    app = make_app(project, config=config)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # dev mode would raise into the test instead of a 500 page
    client = app.test_client()

    welcome = client.get("/")
    assert welcome.status_code == 200 and "runs on Conexoos" in welcome.get_data(as_text=True)
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "404 Not Found" in missing.get_data(as_text=True)
    broken = client.get("/boom")
    assert broken.status_code == 500 and "500 Internal Server Error" in broken.get_data(as_text=True)


def test_a_broken_error_handler_falls_back_to_flask_framework_pages_with_a_warning(
    tmp_path: Path, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    project, config = camel_case_compat_project(tmp_path)
    (project / "Server" / "ErrorHandler.py").write_text(
        "class Route(object):\n    def __init__(self, server):\n        import controllers\n",
        encoding="utf-8",
    )
    (project / "static").mkdir()
    (project / "static" / "site.css").write_text("body {}\n", encoding="utf-8")
    app = make_app(project, config=config)
    client = app.test_client()

    assert "No module named 'controllers'" in caplog.text
    assert "flask-framework's default error pages" in caplog.text
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "404 Not Found" in missing.get_data(as_text=True)
    assert client.get("/file/site.css").get_data(as_text=True) == "body {}\n"  # flask-framework's static URL


def test_a_project_without_the_layer_still_fails_on_a_broken_error_handler(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "plain",
        {"server/errorhandler.py": "class Route:\n    def __init__(self, server):\n        import nowhere\n"},
    )
    with pytest.raises(ModuleNotFoundError, match="nowhere"):
        create_app(project, overrides={"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "i")}, "DATABASE": {}})


def test_a_package_project_built_after_a_flask_framework_project_gets_no_compatibility_layer(
    tmp_path: Path, make_app: AppFactory
) -> None:
    """The layer's ``flask_framework`` stays imported once a flask-framework project has run in the
    process; the product (a package project) built afterwards must not get the layer (its own CSRF
    protection knows none of the product's exemptions: every sign-up form post would be a 400)."""
    project, config = camel_case_compat_project(tmp_path)
    assert "flask_framework" in make_app(project, config=config).extensions
    product = make_app()
    assert "flask_framework" not in product.extensions
    assert product.view_functions.get("flask_framework_static") is None
