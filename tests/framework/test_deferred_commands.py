"""A project's ``server/commands.py`` is imported when ``app.cli``'s commands are first read, not when the
app is made (``framework/deferred_commands.py``): a server's worker never reads them."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest

from conexoos.framework.deferred_commands import DeferredCommands
from tests.conftest import AppFactory

from .helpers import write_project

COMMANDS = {
    "server/__init__.py": "",
    "server/commands.py": """
        import click

        IMPORTS = []
        IMPORTS.append("imported")


        class Commands:
            def __init__(self, cli):
                @cli.command("hello")
                @click.argument("name")
                def hello(name):
                    click.echo(f"hello {name}")
    """,
}


def _commands_module(project: Path) -> str | None:
    return next(
        (
            name
            for name, module in sys.modules.items()
            if name.endswith("commands") and str(getattr(module, "__file__", "")).startswith(str(project))
        ),
        None,
    )


def test_the_commands_module_waits_for_the_first_use_of_app_cli(tmp_path: Path, make_app: AppFactory) -> None:
    project = write_project(tmp_path / "deferred", COMMANDS)
    app = make_app(project)
    assert _commands_module(project) is None  # the app is made and serves without it
    assert app.test_client().get("/missing").status_code == 404
    assert _commands_module(project) is None

    result = app.test_cli_runner().invoke(args=["hello", "operator"], catch_exceptions=False)
    assert result.output == "hello operator\n"
    module = sys.modules[_commands_module(project) or ""]
    assert module.IMPORTS == ["imported"]
    assert "hello" in app.cli.list_commands(click.Context(app.cli))  # loaded once, kept
    assert len(app.test_cli_runner().invoke(args=["hello", "again"]).output.splitlines()) == 1


def test_a_broken_commands_module_fails_when_its_commands_are_read(
    tmp_path: Path, make_app: AppFactory
) -> None:
    """The error is the project's own, unchanged, at the command line that needs the module."""
    project = write_project(
        tmp_path / "broken", {"server/__init__.py": "", "server/commands.py": "raise ValueError('typo')\n"}
    )
    app = make_app(project)
    with pytest.raises(ValueError, match="typo"):
        app.cli.get_command(click.Context(app.cli), "anything")


def test_loaders_run_once_in_order_and_late_ones_at_the_next_read() -> None:
    group = DeferredCommands(name="app")
    calls: list[str] = []

    def first(cli: click.Group) -> None:
        calls.append("first")
        cli.add_command(click.Command("one"))  # reads the commands inside the loader: no second run

    group.defer(first)
    group.defer(lambda cli: calls.append("second"))
    assert calls == []
    assert list(group.commands) == ["one"] and calls == ["first", "second"]
    group.defer(lambda cli: calls.append("third"))
    assert group.get_command(click.Context(group), "one") is not None
    assert calls == ["first", "second", "third"]
