"""flask-framework's configuration on Conexoos: CORS_* keys through Flask-CORS, SERVER_DATA and DATABASES
spellings, SESSION: mongodb refused; and an API name the layer does not provide fails loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conexoos.framework import ConfigError, create_app, load_settings
from tests.conftest import AppFactory

from .helpers import write_project

JSON_PROJECT = {
    "server/__init__.py": "from . import web\n",
    "server/web.py": """
        class Route(object):
            def __init__(self, server):
                from controllers.ws import api
                server.add_url_rule("/api/items", "items", api.items, methods=["GET"])
    """,
    "controllers/ws/api.py": """
        from flask import jsonify

        from flask_framework.Server import Process


        def items():
            return jsonify(items=["a", "b"], app=Process.get().name)
    """,
}


def json_config(tmp_path: Path, flask_config: dict[str, object]) -> Path:
    path = tmp_path / "config.yml"
    config = {
        "SERVER_ENV": {"APP_NAME": "Api", "APP_KEY": "c" * 48, "INSTANCE_PATH": str(tmp_path / "instance")},
        "DATABASES": {},
        "FLASK": {"CONFIG": flask_config},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_cors_keys_under_flask_config_apply_through_flask_cors(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "api", JSON_PROJECT)
    config = json_config(
        tmp_path, {"CORS_ORIGINS": ["https://front.example"], "CORS_SUPPORTS_CREDENTIALS": True}
    )
    client = make_app(project, config=config, schema=False).test_client()

    allowed = client.get("/api/items", headers={"Origin": "https://front.example"})
    assert allowed.get_json() == {"items": ["a", "b"], "app": "api"}
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://front.example"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    preflight = client.options(
        "/api/items",
        headers={"Origin": "https://front.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://front.example"
    other = client.get("/api/items", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_without_cors_keys_no_cross_origin_header(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "api", JSON_PROJECT)
    client = make_app(project, config=json_config(tmp_path, {}), schema=False).test_client()
    response = client.get("/api/items", headers={"Origin": "https://front.example"})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers


def test_session_mongodb_is_refused_in_one_line_naming_the_supported_backends() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(overrides={"SERVER_ENV": {"SESSION": "mongodb"}}, report_warnings=False)
    message = str(raised.value)
    assert "SERVER_ENV.SESSION: 'mongodb'" in message and "\n" not in message.strip()
    assert "filesystem, redis, memcached, sqlalchemy" in message


def test_server_data_is_server_env_but_not_both(tmp_path: Path) -> None:
    settings = load_settings(overrides={"SERVER_DATA": {"APP_NAME": "Old"}}, report_warnings=False)
    assert settings.server["APP_NAME"] == "Old"
    with pytest.raises(ConfigError, match="SERVER_DATA: is the same section as SERVER_ENV"):
        load_settings(overrides={"SERVER_DATA": {}, "SERVER_ENV": {}}, report_warnings=False)


UNSUPPORTED = {
    "server/__init__.py": "from . import web\n",
    "server/web.py": """
        class Route(object):
            def __init__(self, server):
                from flask_framework.Server import Process
                Process.{name}
    """,
}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("pid()", r"Process\.pid is not provided .*Conexoos equivalent: .*process manager"),
        ("start(None)", r"Process\.start is not provided .*conexoos run --project \."),
    ],
)
def test_an_unsupported_name_fails_loudly_naming_the_equivalent(
    tmp_path: Path, statement: str, expected: str
) -> None:
    project = write_project(
        tmp_path / "old",
        {**UNSUPPORTED, "server/web.py": UNSUPPORTED["server/web.py"].replace("{name}", statement)},
    )
    with pytest.raises(AttributeError, match=expected):
        create_app(project, overrides={"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "i")}, "DATABASE": {}})


def test_an_unsupported_module_fails_on_import_naming_the_equivalent(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "old",
        {
            "server/__init__.py": "",
            "server/web.py": "from flask_framework.Task import Scheduler\n\nclass Route:\n    pass\n",
        },
    )
    with pytest.raises(
        ModuleNotFoundError, match=r"flask_framework\.Task is not provided .*server/tasks\.py"
    ):
        create_app(project, overrides={"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "i")}, "DATABASE": {}})
    with pytest.raises(AttributeError, match=r"Database\.Database\.to_pandas is not provided .*pandas"):
        from flask_framework.Database import Database  # the layer, served by the hook for this project

        Database.to_pandas  # noqa: B018
