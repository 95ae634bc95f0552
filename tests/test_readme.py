"""The README's examples work: every YAML block is valid YAML, the configuration example passes
`conexoos config check` with its variables set, and the project-schema example validates as described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conexoos.framework import load_settings
from conexoos.framework.config import ConfigError
from conexoos.framework.scaffold import create_project
from tests.framework.test_cli import conexoos, python

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    """The README's fenced code blocks written in ``language``."""
    return [body for lang, body in FENCE.findall(README.read_text(encoding="utf-8")) if lang == language]


def configuration_example() -> str:
    """The example of the Configuration section: the YAML block that sets SERVER_ENV and APP."""
    return next(block for block in blocks("yaml") if block.startswith("SERVER_ENV:") and "\nAPP:" in block)


def test_the_readme_has_yaml_blocks() -> None:
    assert len(blocks("yaml")) >= 1


@pytest.mark.parametrize("number", range(len(blocks("yaml"))))
def test_every_yaml_block_is_valid_yaml(number: int) -> None:
    loaded = yaml.safe_load(blocks("yaml")[number])
    assert isinstance(loaded, dict) and loaded


def test_the_configuration_example_passes_config_check(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(configuration_example(), encoding="utf-8")
    variables = {
        "SECURED_FLASK_TOKEN": "t" * 48,
        "DB_PASSWORD": "db-pass-word",
        "STRIPE_SECRET_KEY": "sk_test_readme",
        "STRIPE_WEBHOOK_SECRET": "whsec_readme",
        "SMTP_PASSWORD": "smtp-readme-password",
    }
    result = conexoos("config", "check", "--config", str(config), cwd=tmp_path, env=variables)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no unknown key, no unset variable
    shown = conexoos(
        "config", "show", "--config", str(config), "--format", "json", cwd=tmp_path, env=variables
    )
    assert shown.returncode == 0, shown.stderr
    for secret in variables.values():
        assert secret not in shown.stdout
    assert list(tmp_path.iterdir()) == [config]


def test_the_project_schema_example_validates_as_described(tmp_path: Path) -> None:
    (example,) = [block for block in blocks("python") if "SCHEMA = {" in block]
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)  # the README's own example, run as written
    declared = namespace["SCHEMA"]
    assert isinstance(declared, dict)
    config = tmp_path / "config.yml"
    config.write_text(
        "APP:\n  SHOPS:\n    main: {url: https://shop.example}\n  MODE: test\n"
        "SERVICES:\n  mailer: {TOKEN: tok-secret}\n",
        encoding="utf-8",
    )
    settings = load_settings(config, environ={}, project_schema=declared)
    assert settings.tree["APP"] == {
        "SHOPS": {"main": {"URL": "https://shop.example", "DAILY_LIMIT": None}},
        "MODE": "test",
    }
    assert settings.warnings == ["APP.SHOPS.main.url is read as APP.SHOPS.main.URL; write it URL"]
    assert settings.redacted()["SERVICES"]["mailer"] == {"TOKEN": "***"}
    config.write_text(
        "APP:\n  SHOPS:\n    main: {URL: https://shop.example}\n    other: {URL: https://shop.example}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={}, project_schema=declared)
    assert caught.value.problems == ["APP.SHOPS: two shops share one URL"]


def example(marker: str) -> str:
    """The README's Python block that starts with the comment ``marker``."""
    (found,) = [block for block in blocks("python") if block.startswith(marker)]
    return found


def test_the_task_and_command_examples_run_in_a_new_project(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    create_project("demo", project)
    (project / "server" / "tasks.py").write_text(example("# server/tasks.py"), encoding="utf-8")
    (project / "server" / "commands.py").write_text(example("# server/commands.py"), encoding="utf-8")

    greeted = conexoos("greet", "Ada", "--project", "demo", cwd=tmp_path)
    assert (greeted.returncode, greeted.stdout, greeted.stderr) == (0, "Hello, Ada!\n", "")

    listed = conexoos("tasks", "status", "--project", "demo", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "heartbeat" in listed.stdout and "every 300s" in listed.stdout
    assert "nightly" in listed.stdout and "cron 30 2 * * *" in listed.stdout

    ran = python("-c", RUN_THE_TASKS, str(project), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["heartbeat", "nightly"]
    assert "demo is alive" in ran.stderr and "nightly report for demo" in ran.stderr


RUN_THE_TASKS = """
import logging, sys
from conexoos.framework import create_app
logging.basicConfig(level=logging.INFO)
app = create_app(sys.argv[1], sys.argv[1] + "/config.yml")
scheduler = app.extensions["conexoos"].scheduler
scheduler.run_pending(now=1_767_000_000.0)  # the first pass notes the current slots
print(*scheduler.run_pending(now=1_767_000_000.0 + 86_400))  # a day later: both are due
"""


RUN_THE_ROUTES = """
import sys
from conexoos.framework import create_app
client = create_app(sys.argv[1], sys.argv[1] + "/config.yml").test_client()
print(*(client.post(path).status_code for path in ("/greet", "/webhook", "/hooks/payment")))
"""


def test_the_csrf_exempt_example_runs_in_a_new_project(tmp_path: Path) -> None:
    """The form's route is checked (a POST without its token is a 400); the webhook and the exempt
    blueprint's route are not."""
    project = tmp_path / "demo"
    create_project("demo", project)
    (project / "server" / "web.py").write_text(example("# server/web.py"), encoding="utf-8")
    ran = python("-c", RUN_THE_ROUTES, str(project), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["400", "204", "204"]


def test_the_quick_start_sends_the_operator_to_setup_before_signing_up() -> None:
    """It said "Open the page, sign up, add links": the administrator, made at /setup, came first, and only
    the log said so; under DEV the sign-up mail is a file."""
    quick_start = README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "http://127.0.0.1:4200/setup" in quick_start and "conexoos setup-token" in quick_start
    assert quick_start.index("/setup") < quick_start.index("sign up")
    assert "instance/mail/*.eml" in quick_start
