"""The ``conexoos`` command (also ``python -m conexoos``)."""

from __future__ import annotations

import code
import json
import sys
from collections.abc import Callable
from typing import Any

import click
import yaml
from flask import Flask

from .app import create_app
from .config import load_settings
from .errors import ConfigError, ProjectError
from .project import PROJECT_ENV_VAR

CommandFunction = Callable[..., Any]


def project_options(function: CommandFunction) -> CommandFunction:
    """Add ``--project`` and ``--config`` to a command."""
    function = click.option("--config", "config", envvar="CONFIG_FILE", default=None, metavar="FILE",
                            help="YAML or JSON configuration file (default: $CONFIG_FILE, else the embedded "
                                 "SQLite default).")(function)
    function = click.option("--project", "project", envvar=PROJECT_ENV_VAR, default=None, metavar="DIR",
                            help="Project folder or package (default: $CONEXOOS_PROJECT, else the Conexoos "
                                 "product).")(function)
    return function


def load_app(project: str | None, config: str | None) -> Flask:
    """Create the app for a command; configuration and project errors end the command with status 2."""
    return create_app(project, config)


class ConexoosGroup(click.Group):
    """Built-in commands plus those a project adds in ``server/commands.py``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        app = _project_app_from_argv(quiet=True)
        if app is not None:
            names.update(app.cli.list_commands(ctx))
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        app = _project_app_from_argv(quiet=False)
        if app is None:
            return None
        found = app.cli.get_command(ctx, name)
        return _with_app_context(found, app) if found is not None else None


def _project_app_from_argv(quiet: bool) -> Flask | None:
    """Load the project named by ``--project``/``--config`` anywhere on the command line, for its commands."""
    args = sys.argv[1:]
    project = _option_value(args, "--project")
    config = _option_value(args, "--config")
    try:
        return create_app(project, config)
    except (ConfigError, ProjectError):
        if quiet:
            return None
        raise


def _option_value(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _with_app_context(command: click.Command, app: Flask) -> click.Command:
    """Run a project command inside its app context; accept (and ignore) --project/--config."""
    callback = command.callback

    def run_in_context(*args: Any, project: str | None = None, config: str | None = None, **kwargs: Any) -> Any:
        with app.app_context():
            return callback(*args, **kwargs) if callback else None

    if isinstance(command, click.Group):
        for sub_name, sub in list(command.commands.items()):
            command.commands[sub_name] = _with_app_context(sub, app)
        return command
    command.callback = run_in_context
    project_options(command)  # type: ignore[arg-type]
    command.params.extend(getattr(run_in_context, "__click_params__", []))
    return command


@click.group(cls=ConexoosGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="conexoos")
def cli() -> None:
    """Conexoos: the link-in-bio platform and the Flask MVC framework it runs on."""


@cli.command()
@project_options
@click.option("--host", default=None, help="Address to listen on (default: SERVER_ENV.BIND.ADDRESS).")
@click.option("--port", type=int, default=None, help="Port (default: SERVER_ENV.BIND.PORT).")
@click.option("--reload/--no-reload", default=None, help="Restart on code changes (default: on under DEV).")
def run(project: str | None, config: str | None, host: str | None, port: int | None,
        reload: bool | None) -> None:
    """Run the development server (Socket.IO included); creates missing tables first."""
    from .database import create_schema

    app = load_app(project, config)
    runtime = app.extensions["conexoos"]
    settings = runtime.settings
    create_schema(app, settings)
    runtime.scheduler.start()
    bind = settings.server["BIND"]
    use_reload = settings.is_development if reload is None else reload
    runtime.socketio.run(app, host=host or bind["ADDRESS"], port=port or bind["PORT"],
                         debug=settings.is_development, use_reloader=use_reload,
                         allow_unsafe_werkzeug=True, log_output=True)


@cli.command()
@project_options
def routes(project: str | None, config: str | None) -> None:
    """List every URL rule with its endpoint and methods."""
    app = load_app(project, config)
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
    width = max((len(rule.rule) for rule in rules), default=10)
    for rule in rules:
        methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        click.echo(f"{rule.rule:<{width}}  {methods:<20}  {rule.endpoint}")


@cli.group("config")
def config_group() -> None:
    """Check or show the resolved configuration."""


@config_group.command("check")
@project_options
def config_check(project: str | None, config: str | None) -> None:
    """Validate the configuration: exit 0 when usable, 2 with one line per mistake otherwise."""
    settings = load_settings(config)
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"configuration OK ({settings.source or 'embedded default'})")


@config_group.command("show")
@project_options
@click.option("--format", "output", type=click.Choice(["yaml", "json"]), default="yaml", help="Output format.")
def config_show(project: str | None, config: str | None, output: str) -> None:
    """Print the resolved configuration with secrets replaced by ***."""
    settings = load_settings(config)
    tree = settings.redacted()
    if output == "json":
        click.echo(json.dumps(tree, indent=2, default=str))
    else:
        click.echo(yaml.safe_dump(tree, sort_keys=False, default_flow_style=False).rstrip())


@cli.command()
@project_options
def shell(project: str | None, config: str | None) -> None:
    """Open a Python shell inside the app context (``app`` and ``db`` are defined)."""
    from .database import db

    app = load_app(project, config)
    with app.app_context():
        code.interact(banner=f"Conexoos shell: project {app.name}", local={"app": app, "db": db})


def main() -> None:
    """Entry point: configuration mistakes exit with status 2 and no traceback."""
    try:
        cli.main(prog_name="conexoos")
    except ConfigError as error:
        for problem in error.problems:
            click.echo(f"config error: {problem}", err=True)
        sys.exit(2)
    except ProjectError as error:
        click.echo(f"project error: {error}", err=True)
        sys.exit(2)
