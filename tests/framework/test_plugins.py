"""Plugins are found by their entry point, load after the project only when enabled in the database, and
a plugin that fails to load stops the start with one line naming it. ``conexoos plugins`` switches them."""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from conexoos.framework import create_app, db, migrations
from conexoos.framework.cli import cli
from conexoos.framework.plugins import (
    PluginError,
    PluginState,
    active_plugins,
    installed_plugins,
    plugin_statuses,
)
from tests.conftest import AppFactory
from tests.framework.helpers import free_port
from tests.support.plugins import fake_plugins_fixture, install_fake_plugin, switch_plugin

from .test_cli import ENV_TO_CLEAR, server

HELLO = {
    "server/__init__.py": "",
    "server/web.py": (
        "from flask import render_template\n\n\n"
        "class Route:\n"
        "    def __init__(self, server):\n"
        "        page = lambda: render_template('hello/page.html')  # noqa: E731\n"
        "        server.add_url_rule('/hello-plugin', 'hello_plugin', page)\n"
    ),
    "templates/hello/page.html": "<p>Hello from {{ 'a plugin' | upper }}</p>",
    "static/hello.txt": "static file of the plugin\n",
    "server/commands.py": (
        "import click\n\n\n"
        "class Commands:\n"
        "    def __init__(self, cli):\n"
        "        @cli.command('hello-count')\n"
        "        def hello_count():\n"
        "            click.echo('hello from the plugin')\n"
    ),
}
REPO = Path(__file__).resolve().parents[2]
BROKEN = {"server/__init__.py": "", "server/web.py": "import not_a_module_anywhere  # noqa\n"}


@pytest.fixture
def fake_plugins(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("site-packages")
    install_fake_plugin(root, "hello", "hello_plugin", HELLO, summary="Says hello")
    install_fake_plugin(root, "broken", "broken_plugin", BROKEN)
    yield from fake_plugins_fixture(monkeypatch, root, ("hello_plugin", "broken_plugin"))


def restart(make_app: AppFactory, app: Flask) -> Flask:
    """A new app on the same database, as a restarted server builds."""
    url = app.extensions["conexoos"].settings.default_database.url.render_as_string(hide_password=False)
    return make_app(database_url=url)


def test_installed_plugins_are_found_by_entry_point_with_their_distributions_metadata(
    fake_plugins: Path,
) -> None:
    found = installed_plugins()
    assert found["hello"].module == "hello_plugin"
    assert (found["hello"].version, found["hello"].description) == ("1.2.3", "Says hello")
    assert "broken" in found


def test_a_plugin_is_not_loaded_until_enabled_then_loads_at_the_next_start(
    fake_plugins: Path, make_app: AppFactory
) -> None:
    app = make_app()
    assert app.test_client().get("/hello-plugin").status_code == 404
    assert app.test_client().get("/plugins/hello/static/hello.txt").status_code == 404
    switch_plugin(app, "hello")
    assert app.test_client().get("/hello-plugin").status_code == 404  # not while it runs
    with app.app_context():
        assert {s.name: s.state for s in plugin_statuses(app)}["hello"] == "enabled at next restart"

    restarted = restart(make_app, app)
    client = restarted.test_client()
    page = client.get("/hello-plugin")
    assert page.status_code == 200 and "Hello from A PLUGIN" in page.get_data(as_text=True)
    static = client.get("/plugins/hello/static/hello.txt")
    assert static.status_code == 200 and static.get_data(as_text=True) == "static file of the plugin\n"
    static.close()
    with restarted.app_context():
        states = {status.name: status.state for status in plugin_statuses(restarted)}
    assert states["hello"] == "enabled, active" and states["broken"] == "disabled"

    switch_plugin(restarted, "hello", enabled=False)
    with restarted.app_context():
        assert {s.name: s.state for s in plugin_statuses(restarted)}["hello"] == "disabled at next restart"
    assert restart(make_app, restarted).test_client().get("/hello-plugin").status_code == 404


def test_a_state_left_by_an_uninstalled_plugin_is_shown_as_such(
    fake_plugins: Path, make_app: AppFactory
) -> None:
    app = make_app()
    with app.app_context():
        db.session.add(PluginState(name="gone", enabled=True, changed_by="test"))
        db.session.commit()
        states = {status.name: status.state for status in plugin_statuses(app)}
    assert states["gone"] == "not installed any more"
    restarted = restart(make_app, app)
    assert "gone" not in {rule.endpoint.split(".")[0] for rule in restarted.url_map.iter_rules()}
    gone = (
        "plugin 'gone' is enabled but not installed any more: the site serves without it; install it again, "
        "or run `conexoos plugins disable gone` (its tables and their rows are kept)"
    )
    assert gone in migrations.prepare_databases(restarted)  # what run and serve warn of as they start
    switch_plugin(restarted, "gone", enabled=False)
    assert gone not in migrations.prepare_databases(restarted)


def test_a_broken_plugin_stops_the_start_with_one_line_naming_it(
    fake_plugins: Path, make_app: AppFactory
) -> None:
    app = make_app()
    switch_plugin(app, "broken")
    with pytest.raises(PluginError) as caught:
        restart(make_app, app)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("plugin 'broken' (broken_plugin 1.2.3) failed to load: ModuleNotFoundError: ")
    assert "not_a_module_anywhere" in message and "conexoos plugins disable broken" in message
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    config = tmp_path / "config.yml"
    config.write_text(
        "SERVER_ENV:\n  ENV: DEV\n  INSTANCE_PATH: " + str(tmp_path / "instance") + "\n"
        "  APP_KEY: " + "k" * 48 + "\n"
        f"DATABASE:\n  default: main\n  main: {{url: 'sqlite:///{tmp_path / 'cli.db'}'}}\n",
        encoding="utf-8",
    )
    return config


def conexoos(config: Path, *words: str) -> tuple[int, str]:
    clear = {name: None for name in ENV_TO_CLEAR}
    result = CliRunner().invoke(cli, [*words, "--config", str(config)], prog_name="conexoos", env=clear)
    return result.exit_code, result.output


def test_the_cli_lists_enables_and_disables_plugins_for_the_next_restart(
    fake_plugins: Path, config_file: Path
) -> None:
    assert conexoos(config_file, "db", "upgrade")[0] == 0
    code, output = conexoos(config_file, "plugins", "list")
    assert code == 0
    lines = output.splitlines()
    assert any(line.split()[:3] == ["hello", "1.2.3", "disabled"] and "Says hello" in line for line in lines)
    assert lines[-1] == "A change applies at the next restart of the server."

    assert conexoos(config_file, "plugins", "enable", "hello") == (
        0,
        "hello: enabled; this applies at the next restart of the server.\n",
    )
    assert any(
        line.split()[:3] == ["hello", "1.2.3", "enabled"]
        for line in conexoos(config_file, "plugins", "list")[1].splitlines()
    )
    code, output = conexoos(config_file, "routes")
    assert code == 0 and "/hello-plugin" in output and "/plugins/hello/static/<path:filename>" in output
    assert conexoos(config_file, "hello-count") == (0, "hello from the plugin\n")  # its server/commands.py
    assert conexoos(config_file, "plugins", "disable", "hello")[0] == 0
    assert "/hello-plugin" not in conexoos(config_file, "routes")[1]
    assert conexoos(config_file, "hello-count")[0] == 2  # a disabled plugin's command is no command


def test_the_cli_refuses_an_unknown_name_listing_the_installed_plugins(
    fake_plugins: Path, config_file: Path
) -> None:
    assert conexoos(config_file, "db", "upgrade")[0] == 0
    for verb in ("enable", "disable"):
        code, output = conexoos(config_file, "plugins", verb, "nosuch")
        assert code == 2
        lines = output.strip().splitlines()
        assert len(lines) == 1, output
        assert lines[0].startswith("error: no plugin named 'nosuch' is installed; installed: ")
        assert "broken" in lines[0] and "hello" in lines[0]


def test_a_broken_plugin_is_one_line_at_start_and_can_still_be_disabled(
    fake_plugins: Path, config_file: Path
) -> None:
    assert conexoos(config_file, "db", "upgrade")[0] == 0
    assert conexoos(config_file, "plugins", "enable", "broken")[0] == 0
    for words in (("routes",), ("db", "current")):
        code, output = conexoos(config_file, *words)
        assert code == 2, output
        assert output.count("\n") == 1 and "Traceback" not in output
        assert output.startswith("error: plugin 'broken' (broken_plugin 1.2.3) failed to load: ")
    assert conexoos(config_file, "plugins", "disable", "broken")[0] == 0
    assert conexoos(config_file, "routes")[0] == 0


def test_enabling_needs_the_state_table(fake_plugins: Path, config_file: Path) -> None:
    code, output = conexoos(config_file, "plugins", "enable", "hello")
    assert code == 2
    assert output == "error: the database has no plugin_state table yet: run `conexoos db upgrade` first\n"


def test_a_badly_named_plugin_is_left_out_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """It could never be enabled, and must not stop the other plugins or ``plugins disable``."""
    root = tmp_path_factory.mktemp("bad-site")
    install_fake_plugin(root, "Bad-Name", "bad_name_plugin", {})
    install_fake_plugin(root, "good", "good_plugin", {})
    monkeypatch.syspath_prepend(str(root))
    with caplog.at_level(logging.WARNING, logger="conexoos.plugins"):
        assert "good" in installed_plugins() and "Bad-Name" not in installed_plugins()
    assert any(
        "'Bad-Name' (bad_name_plugin): a plugin's name is 1 to 40 lowercase" in record.getMessage()
        and record.getMessage().endswith("; it is left out")
        for record in caplog.records
    )


def test_a_servers_workers_load_the_plugins_of_its_master_whatever_the_database_says_since(
    fake_plugins: Path, make_app: AppFactory
) -> None:
    app = make_app()
    settings = app.extensions["conexoos"].settings
    worker = create_app(None, settings, plugins=("hello",))  # as GunicornServer.load passes the master's
    without = create_app(None, settings, plugins=False)
    try:
        assert worker.test_client().get("/hello-plugin").status_code == 200
        assert active_plugins(worker).names == ("hello",)
        assert active_plugins(without).names == ()
        assert without.test_client().get("/hello-plugin").status_code == 404
    finally:
        for built in (worker, without):
            with built.app_context():
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()


def test_conexoos_serve_loads_the_enabled_plugins_in_its_patched_workers(
    fake_plugins: Path, config_file: Path, tmp_path: Path
) -> None:
    """``serve``'s default gevent workers come from a re-executed master: it hands them the plugins too."""
    assert conexoos(config_file, "db", "upgrade")[0] == 0
    assert conexoos(config_file, "plugins", "enable", "hello")[0] == 0
    port = free_port()
    path = os.pathsep.join([str(fake_plugins), str(REPO / "src")])
    args = ["serve", "--config", str(config_file), "--port", str(port), "--workers", "1"]
    with server(args, tmp_path, f"http://127.0.0.1:{port}/healthz", env={"PYTHONPATH": path}):
        for address in ("/hello-plugin", "/plugins/hello/static/hello.txt"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{address}", timeout=5) as answer:
                assert answer.status == 200, address


def test_an_unknown_command_never_makes_a_site_where_it_runs(
    fake_plugins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looking for a plugin's command builds the site's app, never a new one in a folder without a site."""
    monkeypatch.chdir(tmp_path)
    clear = {name: None for name in ENV_TO_CLEAR}
    result = CliRunner().invoke(cli, ["hello-cuont"], prog_name="conexoos", env=clear)
    assert result.exit_code == 2 and "no site here" in result.output
    assert not (tmp_path / "instance").exists()
