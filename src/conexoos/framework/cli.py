"""The ``conexoos`` command (also ``python -m conexoos``).

Every command that works on a project takes ``--project DIR`` and ``--config FILE``; the configuration
is ``--config`` (or ``$CONFIG_FILE``), else the project's own ``config.yml``, else the embedded default.
Mistakes a person can fix end the command with status 2 and one line each, without a traceback.
"""

from __future__ import annotations

import code
import json
import logging
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import click
import yaml
from alembic.util import CommandError
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.engine.interfaces import ExceptionContext
from sqlalchemy.exc import DBAPIError

from . import migrations, sqlite_backup
from .app import create_app
from .cache import CacheUnavailable
from .cli_numbers import PORT, ROW_ID, ROWS, WORKERS
from .config import CONFIG_ENV_VAR, DatabaseSettings, Settings, load_settings
from .connect_checks import run_connect_checks, startup_warnings
from .database import import_models, require_database_for_models
from .database_errors import STATEMENT_FAILED, database_cause, describe_connection_error
from .date_header import leave_date_to_the_server
from .dev_debugger import ClosingAfterWebSocket, debug_all_but_websockets
from .errors import ConexoosError, ConfigError, ProjectError
from .logs import configure_logging, redact_stderr
from .plugins import active_plugins, installed_plugins
from .plugins.commands import plugins_group
from .project import PART_NAMES, PROJECT_ENV_VAR, locate_project, project_schema
from .project_config import PROJECT_CONFIG_NAMES
from .reload_wait import build_or_wait, in_reloader_child
from .scaffold import create_project
from .serve import (
    address_problem,
    bind_overrides,
    build_server,
    port_in_use,
    port_problem,
    project_config,
    serve_problems,
    startup_settings,
    with_serve_problems,
)
from .serving_lock import held_for_restore, hold_while_serving
from .signals import database_restored
from .smtp import mail_startup_warnings
from .startup import DatabaseUnavailable, wait_for_databases
from .storage.commands import media_group
from .wording import counted
from .write_buffer import set_aside as set_aside_buffers
from .write_buffer import set_aside_problem

CommandFunction = Callable[..., Any]
USAGE_ERROR = 2
RUNTIME_ERROR = 1


class CommandFailed(click.ClickException):
    """Ends a command with one ``prefix: line`` per problem on stderr, and exit status 2."""

    exit_code = USAGE_ERROR

    def __init__(self, lines: list[str], prefix: str = "error", notes: list[str] | None = None) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
        self.prefix = prefix
        self.notes = notes or []

    def show(self, file: Any = None) -> None:
        for line in self.lines:
            click.echo(f"{self.prefix}: {line}", err=True, file=file)
        for note in self.notes:
            click.echo(f"note: {note}", err=True, file=file)


class OperationFailed(CommandFailed):
    """Like :class:`CommandFailed`, with exit status 1: the operation itself failed (e.g. in Alembic)."""

    exit_code = RUNTIME_ERROR


UNKNOWN_REVISION = re.compile(rf"{migrations.REVISION_NOT_FOUND.pattern}|^Multiple revisions start with")
"""Alembic's words for a REVISION argument its history does not have (or holds twice): a usage error."""


def fail(error: Exception) -> NoReturn:
    """Turn a framework or Alembic error into a :class:`CommandFailed`."""
    if isinstance(error, ConfigError):
        raise CommandFailed(error.problems, prefix="config error", notes=error.notes) from None
    if isinstance(error, ProjectError):
        raise CommandFailed([str(error)], prefix="project error") from None
    if isinstance(error, CommandError):
        if UNKNOWN_REVISION.search(str(error)):  # the operator's input, not a failed operation
            raise CommandFailed([str(error)]) from None
        raise OperationFailed([str(error)]) from None
    if isinstance(error, migrations.SchemaNotReady):
        raise CommandFailed([for_this_site(line) for line in error.problems], notes=error.notes) from None
    if isinstance(error, DatabaseUnavailable):
        raise CommandFailed([str(error)], prefix="database error") from None
    if isinstance(error, DBAPIError):
        raise CommandFailed([describe_database_error(error)], prefix="database error") from None
    raise CommandFailed([str(error)]) from None


FAILED_URL_ATTRIBUTE = "conexoos_url"
CHOSEN_META_KEY = "conexoos.chosen"
SUGGESTED_COMMAND = re.compile(r"`(conexoos [^`]*)`")
"""A command a message tells the operator to run, in backquotes."""


def for_this_site(text: str, project: str | None = None, config: str | None = None) -> str:
    """``text`` with the ``--project``/``--config`` of the site at hand (``project`` and ``config``, else
    those the command was given: :func:`chosen`) added to each command it suggests, so that the command
    can be copied: a site started with ``serve --config FILE`` was told to run ``db upgrade`` without it,
    which then found no site. A suggested command that names its site already is left as it is."""
    if project is None and config is None:
        context = click.get_current_context(silent=True)
        project, config = context.meta.get(CHOSEN_META_KEY, (None, None)) if context else (None, None)
    options = [*(["--project", project] if project else []), *(["--config", config] if config else [])]
    if not options:
        return text

    def with_site(match: re.Match[str]) -> str:
        command = match.group(1)
        if "--project" in command or "--config" in command:
            return match.group()
        return f"`{command} {shlex.join(options)}`"

    return SUGGESTED_COMMAND.sub(with_site, text)


@event.listens_for(Engine, "handle_error")
def _remember_failed_url(context: ExceptionContext) -> None:
    """Keep the URL of the engine an error came from on the error, for :func:`describe_database_error`."""
    if context.engine is not None and context.sqlalchemy_exception is not None:
        setattr(context.sqlalchemy_exception, FAILED_URL_ATTRIBUTE, context.engine.url)


def describe_database_error(error: DBAPIError) -> str:
    """One line: the connection's name, driver and host:port, the cause in words and the driver's reason.

    The password never appears, even when the driver repeats it in its message.
    """
    url: URL | None = getattr(error, FAILED_URL_ATTRIBUTE, None)
    return describe_connection_error(error, url, _connection_name(url) if url is not None else None)


def _connection_name(url: URL) -> str | None:
    """The DATABASE connection whose URL is ``url``, from the configuration the command loaded."""
    context = click.get_current_context(silent=True)
    if context is None or CHOSEN_META_KEY not in context.meta:
        return None
    project, config = context.meta[CHOSEN_META_KEY]
    try:
        settings = load_settings(
            project_config(project, config),
            report_warnings=False,
            project_schema=project_schema(locate_project(project)),
        )
    except ConexoosError:
        return None
    for name, db_settings in settings.databases.items():
        known = db_settings.url
        if (known.get_backend_name(), known.host, known.port, known.database, known.username) == (
            url.get_backend_name(),
            url.host,
            url.port,
            url.database,
            url.username,
        ):
            return name
    return None


def project_options(function: CommandFunction) -> CommandFunction:
    """Add ``--project`` and ``--config`` to a command or group."""
    function = click.option(
        "--config",
        "config",
        envvar=CONFIG_ENV_VAR,
        default=None,
        metavar="FILE",
        help="YAML or JSON configuration file (default: $CONFIG_FILE, else the project's "
        "config.yml, else the embedded SQLite default).",
    )(function)
    function = click.option(
        "--project",
        "project",
        envvar=PROJECT_ENV_VAR,
        default=None,
        metavar="DIR",
        help="Project folder or package (default: $CONEXOOS_PROJECT, else the Conexoos product).",
    )(function)
    return function


def chosen(project: str | None, config: str | None) -> tuple[str | None, str | None]:
    """The command's ``--project``/``--config``, falling back to those given to its groups."""
    context = click.get_current_context(silent=True)
    parent = context.parent if context else None
    while parent is not None:
        project = project or parent.params.get("project")
        config = config or parent.params.get("config")
        parent = parent.parent
    if context is not None:
        context.meta[CHOSEN_META_KEY] = (project, config)  # for naming a connection that fails
    return project, config


def load_app(
    project: str | None,
    config: str | None,
    overrides: dict[str, Any] | None = None,
    plugins: bool = True,
    new_site: bool = False,
) -> Flask:
    """Create the app for a command from its (or its groups') ``--project`` and ``--config``: on a site
    that exists (see :func:`require_a_site`), unless ``new_site`` (``conexoos run`` starts one)."""
    project, config = chosen(project, config)
    chosen_config = project_config(project, config)
    if not new_site:
        require_a_site(chosen_config)
    return create_app(project, chosen_config, overrides=overrides, plugins=plugins)


def require_a_site(config: str | None) -> None:
    """Refuse (exit 2) a command about a site when it would run on the embedded default configuration in
    a folder that holds no site: building the app would make a new, empty one there (an instance folder,
    a key, a database) and the command would report on that, not on the site the operator meant. Only
    ``conexoos run`` and ``serve`` start a new site."""
    if config is not None:
        return
    settings = load_settings(None, report_warnings=False)
    instance = settings.instance_path
    database = sqlite_backup.sqlite_file(settings.default_database) if settings.databases else None
    if instance.exists() and (database is None or database.exists()):
        return
    missing = (
        f"{instance}, which does not exist" if not instance.exists() else f"{database}, which does not exist"
    )
    raise CommandFailed(
        [
            f"no site here: the embedded default configuration keeps its site in {missing}. Run the "
            "command in the folder where `conexoos run` runs the site, or give --config FILE (or "
            f"CONFIG_FILE); `conexoos run` starts a new site.{_configuration_here()}"
        ]
    )


def _configuration_here() -> str:
    """What the configuration file in the working folder suggests: ``--project .`` where it is a project's
    (the folder holds the project's ``server`` package), else ``--config FILE`` (a site's configuration,
    such as the product's, which ``--project .`` would take for an empty project)."""
    found = next((name for name in PROJECT_CONFIG_NAMES if Path(name).is_file()), None)
    if found is None:
        return ""
    if any(Path(name).is_dir() for name in PART_NAMES["server"]):
        return f" This folder holds a project's {found}: give --project ."
    return f" This folder holds a site's configuration, {found}: give --config {found}"


ARGS_META = "conexoos.command_args"
"""Where :class:`ConexoosGroup` keeps the arguments of the command it resolves."""


class ConexoosGroup(click.Group):
    """Built-in commands plus those a project adds in ``server/commands.py``; errors end with status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        names.update(_project_commands())
        return sorted(names)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        ctx.meta[ARGS_META] = list(args)  # the command's own, for a plugin command's --config
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        found = _project_commands(strict=True).get(name) or _plugin_command(ctx, name)
        return _with_app_context(found) if found is not None else None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConexoosError, CommandError, DBAPIError) as error:
            fail(error)


def _project_commands(strict: bool = False) -> dict[str, click.Command]:
    """The commands the project adds, found by importing only its ``server/commands`` module.

    Listing commands (``conexoos --help``) must not build the app: that would open databases and
    create an instance folder wherever the command happens to run. With ``strict`` (a command that is
    not built in was asked for), a project that cannot be found is an error rather than no commands.
    """
    args = sys.argv[1:]
    try:
        project = locate_project(_option_value(args, "--project") or os.environ.get(PROJECT_ENV_VAR) or None)
    except ProjectError as error:
        if strict:
            fail(error)
        return {}
    try:
        server = project.find_module(None, "server")
        module = project.import_part(server, "commands") if server else None
        if module is None or not hasattr(module, "Commands"):
            return {}
        scratch = click.Group()
        module.Commands(scratch)
        broken = _built_in_clash(module, scratch)
    except (Exception, SystemExit) as error:  # noqa: BLE001 - the project's code: one line, no traceback
        said = str(error) if isinstance(error, ProjectError) else f"{type(error).__name__}: {error}"
        broken = ProjectError(f"its commands module cannot be loaded: {said}")
    if broken is not None:
        if strict:
            fail(broken)
        click.echo(f"project error: {broken}; its commands are not listed", err=True)
        return {}
    return dict(scratch.commands)


def _built_in_clash(module: ModuleType, added: click.Group) -> ProjectError | None:
    """An error naming each command the project adds under the name of a built-in one, which would run in
    its place without a word, or None."""
    clashes = sorted(set(added.commands) & set(cli.commands))
    if not clashes:
        return None
    named = "; ".join(
        f"{name!r}, the name of the built-in `conexoos {name}` ({cli.commands[name].get_short_help_str(80)})"
        for name in clashes
    )
    return ProjectError(
        f"{module.__name__} ({module.__file__}) adds the command {named}: the built-in would run instead; "
        "rename it"
    )


def _plugin_command(ctx: click.Context, name: str) -> click.Command | None:
    """The command ``name`` an enabled plugin adds in its ``server/commands.py``, or None. Which plugins
    are enabled is the database's to say, so the site's app is built, only when a plugin is installed and
    for a name nobody else has (a configuration or site that cannot be read is said, as for any command)."""
    if not installed_plugins():
        return None
    app = _project_app_from_argv([*sys.argv[1:], *ctx.meta.get(ARGS_META, ())])
    return app.cli.commands.get(name) if active_plugins(app).names else None


def _project_app_from_argv(args: list[str]) -> Flask:
    """The app of the site named by ``--project``/``--config`` anywhere in ``args`` (else the environment),
    for its commands; :class:`CommandFailed` where no site is."""
    project = _option_value(args, "--project") or os.environ.get(PROJECT_ENV_VAR) or None
    config = _option_value(args, "--config") or os.environ.get(CONFIG_ENV_VAR) or None
    chosen_config = project_config(project, config)
    require_a_site(chosen_config)
    return create_app(project, chosen_config)


def _option_value(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _with_app_context(command: click.Command) -> click.Command:
    """Run a project command inside its app context, building the app only when the command runs;
    accept (and ignore) --project/--config, already read from the command line."""
    if getattr(command, "_conexoos_wrapped", False):
        return command
    command._conexoos_wrapped = True  # type: ignore[attr-defined]
    callback = command.callback

    def run_in_context(
        *args: Any, project: str | None = None, config: str | None = None, **kwargs: Any
    ) -> Any:
        named = [*(["--project", project] if project else []), *(["--config", config] if config else [])]
        app = _project_app_from_argv([*sys.argv[1:], *named])
        redact_stderr(known_only=True)  # its traceback, should it raise, hides the configured secrets
        # An operator command may be the first thing run on a new database (e.g. creating an admin).
        _show_warnings(migrations.prepare_databases(app))
        with app.app_context():
            return callback(*args, **kwargs) if callback else None

    if isinstance(command, click.Group):
        for sub_name, sub in list(command.commands.items()):
            command.commands[sub_name] = _with_app_context(sub)
        return command
    command.callback = run_in_context
    project_options(command)
    command.params.extend(getattr(run_in_context, "__click_params__", []))
    return command


@click.group(cls=ConexoosGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="conexoos")
@project_options
def cli(project: str | None, config: str | None) -> None:
    """Conexoos: the link-in-bio platform and the Flask MVC framework it runs on.

    --project and --config given here apply to the command that follows.
    """


@cli.command()
@click.argument("name")
@click.option(
    "--path",
    "path",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Folder to write the project into (default: ./NAME); it must not exist or be empty.",
)
def new(name: str, path: Path | None) -> None:
    """Create project NAME in the seed-001 layout: a page, a JSON route, a Socket.IO event and a test.

    Its config.yml reads APP_KEY from the environment (holding no secret; under DEV a key is generated in
    the instance folder at the first start) and uses a SQLite database and file sessions.
    """
    target = path if path is not None else Path(name)
    create_project(name, target)
    shown = str(target)
    click.echo(f"Created project {name} in {shown}")
    click.echo(f"  conexoos run --project {shown}          serve it at http://127.0.0.1:4200")
    click.echo(f"  cd {shown} && python -m pytest tests     run its tests")


@cli.command()
@project_options
@click.option("--host", default=None, help="Address to listen on (default: SERVER_ENV.BIND.ADDRESS).")
@click.option("--port", type=PORT, default=None, help="Port (default: SERVER_ENV.BIND.PORT).")
@click.option("--reload/--no-reload", default=None, help="Restart on code changes (default: on under DEV).")
def run(
    project: str | None, config: str | None, host: str | None, port: int | None, reload: bool | None
) -> None:
    """Run the development server (Socket.IO included).

    Waits for each database server (SERVER_ENV.STARTUP_WAIT), then checks each database: an empty one is
    created (through its migrations when it has some); one behind its migrations is refused (exit status
    2) with the `conexoos db upgrade` to run.
    """
    project, config = chosen(project, config)

    def build() -> Flask:
        waited = startup_settings(project, config, host, port)
        unbindable = address_problem(waited.server["BIND"]["ADDRESS"])  # --host as serve checks it
        if not unbindable and not in_reloader_child():  # the reloader's child serves the parent's socket
            unbindable = port_problem(waited.server["BIND"])  # a port in use: one line, as serve says it
        if unbindable:
            raise named_by_options(ConfigError([unbindable]), host, port)
        configure_logging(waited)  # the retries are logged where the app will log
        redact_stderr()  # Werkzeug's debugger and request lines are written there, not logged
        wait_for_databases(waited)
        # --host/--port as configuration too, so that the DEV public URL is the address really served.
        built = load_app(project, config, overrides=bind_overrides(host, port), new_site=True)
        # Checked in every process: the reloader's watcher stops before "Running on" when a schema is
        # refused, and the child it starts checks again after each reload (and says it itself).
        try:
            _show_warnings(migrations.prepare_databases(built))
        except migrations.SchemaNotReady as error:
            problems = [for_this_site(line, project, config) for line in error.problems]
            raise migrations.SchemaNotReady(problems, error.notes) from None
        hold_while_serving(built.extensions["conexoos"].settings)  # `db restore` waits until it stops
        return built

    app = build_or_wait(build, locate_project(project).root)  # a broken edit waits for the next one
    leave_date_to_the_server(app)  # Werkzeug's server writes its own, whatever the app says
    runtime = app.extensions["conexoos"]
    settings = runtime.settings
    use_reload = settings.is_development if reload is None else reload
    if not in_reloader_child():  # once, not again in the reloader's child
        _show_warnings(mail_startup_warnings(settings, runtime.project))
        _show_warnings(startup_warnings(settings))
    # With the reloader, this process only watches files; the child it starts serves.
    if not use_reload or in_reloader_child():
        runtime.scheduler.start()
    bind = settings.server["BIND"]
    _dev_server_lines_to_terminal()
    if settings.is_development:  # tracebacks in the browser under DEV, never a console that runs code
        debug_all_but_websockets(app, evalex=False)  # a closed WebSocket is no 500 (dev_debugger.py)
    runtime.socketio.run(
        app,
        host=host or bind["ADDRESS"],
        port=port or bind["PORT"],
        debug=settings.is_development,
        use_reloader=use_reload,
        extra_files=_configuration_files(project, config),  # an edit of config.yml reloads too
        use_debugger=False,  # the one above, or none
        allow_unsafe_werkzeug=True,
        log_output=True,
        request_handler=ClosingAfterWebSocket,  # no "Bad request syntax" after a WebSocket (dev_debugger.py)
    )


def _dev_server_lines_to_terminal() -> None:
    """Werkzeug's development server writes its lines ("Running on ...", a request line each) to the
    terminal, plainly, through the redacting stderr (:func:`redact_stderr`), as it does when nobody
    configured logging: not to app.log, where the root logger's handler would send them."""
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.handlers = [logging.StreamHandler(sys.stderr)]
    werkzeug.propagate = False
    if werkzeug.level == logging.NOTSET:
        werkzeug.setLevel(logging.INFO)
    if not any(isinstance(kept, WarnedOnce) for kept in werkzeug.filters):
        werkzeug.addFilter(WarnedOnce())


class WarnedOnce(logging.Filter):
    """Leaves out Flask-SocketIO's "Werkzeug appears to be used in a production deployment" line (written
    when stdin is no terminal, in the reloader's watcher and again in each child it starts): Werkzeug's
    own "WARNING: This is a development server" says it, once, when the server starts."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(PRODUCTION_WARNING)


PRODUCTION_WARNING = "Werkzeug appears to be used in a production deployment"


def _configuration_files(project: str | None, config: str | None) -> list[str]:
    """The configuration file the site runs on, for the reloader to watch (none on the embedded default)."""
    chosen_file = project_config(project, config)
    return [str(Path(chosen_file).resolve())] if chosen_file else []


@cli.command("serve")
@project_options
@click.option("--host", default=None, help="Address to listen on (default: SERVER_ENV.BIND.ADDRESS).")
@click.option("--port", type=PORT, default=None, help="Port (default: SERVER_ENV.BIND.PORT).")
@click.option(
    "--workers",
    type=WORKERS,
    default=None,
    help="Worker processes (default: the number of CPUs with SERVICES.redis, else 1). Socket.IO's "
    "long-polling needs sticky sessions in front of more than one worker, or clients set to websocket only.",
)
def serve_command(
    project: str | None, config: str | None, host: str | None, port: int | None, workers: int | None
) -> None:
    """Serve the project with gunicorn for production.

    Uses SERVER_ENV: BIND, WORKERS (worker class), THREADS_PER_CORE, CAPTURE, SSL and LOG.DIR. The
    databases are prepared once, as by `run`, before the workers start; each worker builds its own app.
    """
    project, config = chosen(project, config)
    try:
        server, warnings = build_server(project, config, host=host, port=port, workers=workers)
    except ConfigError as error:
        raise named_by_options(error, host, port) from error
    _show_warnings(warnings)
    server.run()


def named_by_options(error: ConfigError, host: str | None, port: int | None) -> ConfigError:
    """``error`` with its lines about ``SERVER_ENV.BIND`` naming --host and --port where the command line
    gave the address or the port (the configuration file's BIND was not used)."""
    given = "/".join(name for name, value in (("--host", host), ("--port", port)) if value)
    if not given:
        return error
    prefixes = {"SERVER_ENV.BIND:": f"{given}:"}
    if host:
        prefixes["SERVER_ENV.BIND.ADDRESS:"] = "--host:"
    if port:
        prefixes["SERVER_ENV.BIND.PORT:"] = "--port:"
    problems = [_renamed(problem, prefixes) for problem in error.problems]
    return ConfigError(problems, notes=error.notes, read=error.read)


def _renamed(problem: str, prefixes: dict[str, str]) -> str:
    for prefix, option in prefixes.items():
        if problem.startswith(prefix):
            return option + problem[len(prefix) :]
    return problem


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
@project_options
def config_group(project: str | None, config: str | None) -> None:
    """Check or show the resolved configuration."""


def checked_settings(project: str | None, config: str | None) -> Settings:
    """The configuration validated as the app would validate it (the project's own sections included),
    without writing anything: no instance folder, no key file, no bytecode of the project's modules."""
    project, config = chosen(project, config)
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        located = locate_project(project)
        try:
            settings = load_settings(
                project_config(project, config), report_warnings=False, project_schema=project_schema(located)
            )
        except ConfigError as error:
            raise with_serve_problems(error) from error
        import_models(located, settings)  # a models module that is missing or misbound is refused too
        require_database_for_models(located, settings)
        problems = serve_problems(settings)  # what `serve` would refuse, or crash on in its workers
        if problems:
            raise ConfigError(problems)
        settings.warnings.extend(mail_startup_warnings(settings, located))
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return settings


@config_group.command("check")
@project_options
@click.option(
    "--connect",
    is_flag=True,
    help="Also try every database and service (Redis, memcached, and those a project registers): one line "
    "each, ok or FAILED with the cause; exit status 1 when one fails.",
)
def config_check(project: str | None, config: str | None, connect: bool) -> None:
    """Validate the configuration: exit 0 when usable, 2 with one line per mistake otherwise.

    With --connect, then try each connection: exit 1 when one of them fails.
    """
    settings = checked_settings(project, config)
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"configuration OK ({settings.source or 'embedded default'})")
    if connect:
        results = run_connect_checks(settings)
        for result in results:
            click.echo(result.line())
        failed = sum(result.problem is not None for result in results)
        if failed:
            raise OperationFailed([f"{failed} of {counted(len(results), 'connection')} failed"])


@config_group.command("show")
@project_options
@click.option("--format", "output", type=click.Choice(["yaml", "json"]), default="yaml", help="Output format")
def config_show(project: str | None, config: str | None, output: str) -> None:
    """Print the resolved configuration with secrets replaced by ***."""
    settings = checked_settings(project, config)
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    tree = settings.redacted()
    if output == "json":
        click.echo(json.dumps(tree, indent=2, default=str))
    else:
        click.echo(yaml.safe_dump(tree, sort_keys=False, default_flow_style=False).rstrip())


def database_option(function: CommandFunction) -> CommandFunction:
    """Add ``--database NAME`` to a ``db`` command."""
    return click.option(
        "--database",
        "-d",
        "database",
        default=None,
        metavar="NAME",
        help="Connection name under DATABASE (default: the default connection).",
    )(function)


@cli.group("db")
@project_options
def db_group(project: str | None, config: str | None) -> None:
    """Manage each connection's schema with Alembic migrations.

    Each named connection has its own history in the project folder, at migrations/<name>/versions;
    the default connection's may be shipped in migrations/default/versions, whatever its name.
    A connection with readonly: true is never migrated.
    """


@db_group.command("migrate")
@project_options
@database_option
@click.option("--message", "-m", default="auto", help="What the migration does, used in its file name.")
@click.option("--rev-id", default=None, help="The revision's id (default: a random one), e.g. 0002.")
@click.option(
    "--plugin", default=None, metavar="NAME", help="Write it into the history of enabled plugin NAME instead."
)
def db_migrate(
    project: str | None,
    config: str | None,
    database: str | None,
    message: str,
    rev_id: str | None,
    plugin: str | None,
) -> None:
    """Write a new migration from the differences between the models and the database."""
    if plugin is None:
        _refuse_the_products_history(project)
    app = load_app(project, config)
    if plugin is not None:
        _refuse_an_installed_plugins_history(app, plugin)
    chosen_target = (
        migrations.plugin_target(app, plugin) if plugin else migrations.migration_target(app, database)
    )
    with chosen_target as target:
        new_folders = _missing_folders(target.versions)
        try:
            written = migrations.make_migration(target, message, rev_id)
        except BaseException:
            _remove_empty(new_folders)  # a failed migrate leaves no folder of its own behind
            raise
    script = os.path.relpath(written.revision) if written.revision else "a migration"
    for table in written.left_alone:
        click.echo(
            f"Table {table} is in database {target.label!r} but no model names it: left alone, not dropped. "
            f'To drop it with its rows, write op.drop_table("{table}") in the upgrade() of {script} yourself.'
        )
    click.echo(_what_migrate_wrote(target.label, written, message))


def _refuse_the_products_history(project: str | None) -> None:
    """Refuse `db migrate` on the product when no --project names it: its history ships inside the
    installed package, and a site's revision written there forks it (the next release's revisions do
    not follow it). A site's database that lacks a table or column is told what to do by `db upgrade`."""
    project, _ = chosen(project, None)
    if project is not None:
        return
    shipped = locate_project(None).root / "migrations"
    raise CommandFailed(
        [
            f"db migrate: the product's migrations ship inside the installed package ({shipped}); a "
            "revision written there forks the product's history, and the next release's would not follow "
            "it. A database at head that lacks a table or column of the models: `conexoos db upgrade` says "
            "what to do (this release's migrations make it: restore a backup or repair it). Writing the "
            "product's own next revision from a source checkout: give --project src/conexoos/app"
        ]
    )


def _refuse_an_installed_plugins_history(app: Flask, name: str) -> None:
    """Refuse `db migrate --plugin` on a plugin pip installed (not a source checkout): its history
    ships inside its package, as the product's does, and a revision written into that copy forks it (the
    next `pip install -U` of the plugin drops it or conflicts with it). A plugin that is not active is
    left to :func:`migrations.plugin_target`, which says so."""
    active = next((active for active in active_plugins(app).plugins if active.name == name), None)
    installed_in = active.plugin.installed_in() if active is not None else None
    if active is None or installed_in is None:
        return
    package = f"{active.plugin.module} {active.plugin.version}"
    raise CommandFailed(
        [
            f"db migrate --plugin {name}: plugin {name!r} ({package}) is an installed copy, in "
            f"{installed_in}; its migrations ship inside its package ({active.migrations}), and a revision "
            "written there forks the plugin's history: the next `pip install -U` of it would drop the "
            "revision or conflict with it. Ask the plugin's authors for a release with the migration, or "
            "develop the plugin from a source checkout (`pip install -e <its folder>`) and run this again"
        ]
    )


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove each of ``folders`` (deepest first) that holds nothing but Python's byte-code cache."""
    for folder in folders:
        if folder.is_dir() and {entry.name for entry in folder.iterdir()} <= {"__pycache__"}:
            shutil.rmtree(folder)


def _what_migrate_wrote(label: str, written: migrations.WrittenMigration, message: str) -> str:
    """The line `db migrate` ends with: the files written, and what to do next."""
    revision = os.path.relpath(written.revision) if written.revision else None
    if written.baseline is None:
        if revision is None:
            return f"No change between the models and database {label!r}: no migration written."
        return f"Wrote {revision}; review it, then run `conexoos db upgrade`."
    baseline = os.path.relpath(written.baseline)
    if revision is None:
        return (
            f"Database {label!r} had tables but no migration history: wrote {baseline}, a baseline that "
            f"creates its tables as they are; the models have not changed since, so nothing else was "
            f'written, and "{message}" is kept in its docstring. Review it, then run `conexoos db '
            "upgrade`, which records the database at it."
        )
    return (
        f"Database {label!r} had tables but no migration history: wrote {baseline} (a baseline: its "
        f'tables as they are) and {revision} (the models\' changes since, "{message}"); review them, then '
        "run `conexoos db upgrade`, which records the database at the first and applies the second."
    )


MIGRATION_ROLLED_BACK = (
    "the revision that failed was rolled back, the ones before it stay applied (on SQLite and PostgreSQL; "
    "MySQL and MariaDB commit each schema change at once): fix it, then run db upgrade again"
)


@db_group.command("upgrade")
@project_options
@database_option
@click.argument("revision", default="head")
def db_upgrade(project: str | None, config: str | None, database: str | None, revision: str) -> None:
    """Apply migrations up to REVISION (default: head, the latest).

    A database made before the migrations (its tables, no alembic_version) is first stamped with the
    revision its tables match, then upgraded: its rows are kept.
    """
    app = load_app(project, config)
    with migrations.migration_target(app, database) as target:
        try:
            note = migrations.upgrade(target, revision)
        except DBAPIError as error:
            if database_cause(error) is not STATEMENT_FAILED:
                raise  # the connection itself: said as for any command
            raise OperationFailed(
                [f"a migration failed: {describe_database_error(error)}"], notes=[MIGRATION_ROLLED_BACK]
            ) from None
        if note:
            click.echo(note, err=True)
        click.echo(for_this_site(migrations.describe_state(target)))
    if target.database.is_default and revision == "head":
        _upgrade_plugins(app)


def _upgrade_plugins(app: Flask) -> None:
    """Bring each enabled plugin's own history to head, after the project's (its tables may refer to them)."""
    with migrations.plugin_targets(app) as targets:
        for target in targets:
            if target.has_scripts():
                note = migrations.upgrade(target)
                if note:
                    click.echo(note, err=True)
                click.echo(for_this_site(migrations.describe_state(target)))


@db_group.command("downgrade")
@project_options
@database_option
@click.argument("revision", default="-1")
@click.option("--yes", is_flag=True, help="Revert without asking first.")
def db_downgrade(
    project: str | None, config: str | None, database: str | None, revision: str, yes: bool
) -> None:
    """Revert migrations down to REVISION (default: -1, one step; `base` reverts all).

    A revision reverted may drop tables and columns with the rows in them: the command asks first,
    unless --yes is given (back the database up before).
    """
    app = load_app(project, config)
    with migrations.migration_target(app, database) as target:
        target.require_writable("downgrade")
        if not yes:
            click.confirm(
                f"{migrations.describe_state(target)}\nRevert it to {revision}? Reverting may drop tables "
                "and columns, and the rows in them, for good",
                abort=True,
            )
        migrations.downgrade(target, revision)
        click.echo(for_this_site(migrations.describe_state(target)))


@db_group.command("backup")
@project_options
@database_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(project: str | None, config: str | None, database: str | None, file: Path) -> None:
    """Write a consistent copy of a SQLite database to FILE, a new file (the site may be running).

    Through SQLite's backup API, so what its write-ahead log holds is included. PostgreSQL and MariaDB
    have their own tools (pg_dump, mariadb-dump).
    """
    written = sqlite_backup.backup(_database_settings(project, config, database), file)
    click.echo(f"Backed up to {written} (readable by you only).")


@db_group.command("restore")
@project_options
@database_option
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Restore without asking first.")
@click.option(
    "--force",
    is_flag=True,
    help="Restore even while the site seems to run: something listens on its address, or a site serves "
    "the database (it keeps serving what it had read: stop it instead where you can).",
)
def db_restore(
    project: str | None, config: str | None, database: str | None, file: Path, yes: bool, force: bool
) -> None:
    """Replace a SQLite database with the backup FILE, after checking FILE; stop the site first.

    FILE must be a sound database of this site, from this release or an older one. Every page is
    replaced and the write-ahead log emptied, so nothing written after the backup comes back (copying the
    file over the database does not do that); the site's write buffers (events not yet in the database)
    are set aside. Then run `conexoos db upgrade` if the backup is older than this release.
    """
    chosen_database = _database_settings(project, config, database)
    target = sqlite_backup.database_file(chosen_database)
    app = load_app(project, config)
    settings = app.extensions["conexoos"].settings
    bind = settings.server["BIND"]
    if port_in_use(bind) and not force:
        raise CommandFailed(
            [
                f"something listens on {bind['ADDRESS']}:{bind['PORT']}: the site seems to be running; stop "
                "it, then restore (or --force)"
            ]
        )
    buffers_problem = (
        set_aside_problem(app.extensions["conexoos"].services) if chosen_database.is_default else None
    )
    if buffers_problem:
        raise CommandFailed(
            [
                f"{buffers_problem}: the events it buffers could not be set aside, and would be recorded "
                "into the restored database; start Redis, then restore"
            ]
        )
    with migrations.migration_target(app, database) as migration:
        site = sqlite_backup.SiteSchema(
            migration.own_tables(),
            migrations.known_revisions(migration),
            lambda revision: migrations.schema_at(migration, revision),  # replayed on a scratch database
            migration.columns(),
        )
    if not yes:
        click.confirm(
            f"Replace everything in {target} with {file}? What was written since that backup is lost",
            abort=True,
        )
    with held_for_restore(chosen_database, force):  # whatever address a site serving it listens on
        sqlite_backup.restore(chosen_database, file, site)
    click.echo(f"Restored {target} from {file}.")
    if chosen_database.is_default:
        _announce_restore(app)
        stamp = datetime.now(UTC).strftime("set-aside-%Y%m%dT%H%M%SZ")
        moved = set_aside_buffers(settings, app.extensions["conexoos"].services, stamp)
        if moved:
            click.echo(
                f"{counted(moved, 'event')} written after the backup, not yet recorded, set aside ({stamp})."
            )
    with migrations.migration_target(app, database) as migration:
        click.echo(for_this_site(migrations.describe_state(migration)))


def _announce_restore(app: Flask) -> None:
    """Tell the project its database was restored (``signals.database_restored``): a shared cache it
    keeps forgets what it held. A cache out of reach is a warning: the restore itself is done."""
    try:
        database_restored.send(app)
    except CacheUnavailable as error:
        click.echo(
            f"warning: the cache could not be told ({error}); what it kept is served until it expires",
            err=True,
        )


def _database_settings(project: str | None, config: str | None, name: str | None) -> DatabaseSettings:
    """The connection ``name`` (default: the default one) of the site's checked configuration."""
    project, config = chosen(project, config)
    require_a_site(project_config(project, config))
    settings = checked_settings(project, config)
    if name is None:
        return settings.default_database
    if name not in settings.databases:
        known = ", ".join(sorted(settings.databases)) or "none"
        raise CommandFailed([f"--database {name!r}: no such connection in DATABASE; configured: {known}"])
    return settings.databases[name]


@db_group.command("current")
@project_options
@database_option
def db_current(project: str | None, config: str | None, database: str | None) -> None:
    """Show the revision the database is at, and whether it is the latest (and each enabled plugin's)."""
    app = load_app(project, config)
    with migrations.migration_target(app, database) as target:
        click.echo(for_this_site(migrations.describe_state(target)))
    if target.database.is_default:
        with migrations.plugin_targets(app) as targets:
            for plugin_target in targets:
                click.echo(for_this_site(migrations.describe_state(plugin_target)))


@db_group.command("history")
@project_options
@database_option
@click.option(
    "--plugin", default=None, metavar="NAME", help="List the history of enabled plugin NAME instead."
)
def db_history(project: str | None, config: str | None, database: str | None, plugin: str | None) -> None:
    """List the migrations, newest first, marking the head and the one the database is at.

    The first line says where the database stands, as `db current` does.
    """
    app = load_app(project, config)
    chosen_target = (
        migrations.plugin_target(app, plugin) if plugin else migrations.migration_target(app, database)
    )
    with chosen_target as target:
        click.echo(for_this_site(migrations.describe_state(target)))
        for line in migrations.history_lines(target):
            click.echo(f"  {line}")


@db_group.command("stamp")
@project_options
@database_option
@click.argument("revision", default="head")
def db_stamp(project: str | None, config: str | None, database: str | None, revision: str) -> None:
    """Record REVISION as applied without running it (for tables created before the migrations)."""
    app = load_app(project, config)
    with migrations.migration_target(app, database) as target:
        migrations.stamp(target, revision)
        click.echo(for_this_site(migrations.describe_state(target)))


@cli.group("tasks")
@project_options
def tasks_group(project: str | None, config: str | None) -> None:
    """The project's scheduled tasks."""


@tasks_group.command("status")
@project_options
def tasks_status(project: str | None, config: str | None) -> None:
    """One line per task: schedule, last success, last failure and why, lag, OK, LAGGING or FAILING.

    Exits 1 when a task lags or fails 3 runs in a row, 2 when the shared records cannot be read (Redis or
    the folder unavailable): then one line says so and no task is listed, since none of their states is
    known.
    """
    from datetime import UTC, datetime

    from .task_status import task_statuses

    app = load_app(project, config)
    statuses = task_statuses(app)
    book = app.extensions["conexoos"].scheduler.status
    if book.store_error is not None:
        click.echo(
            f"task records in {book.store.place} cannot be read: {book.store_error}; "
            "the state of the tasks is unknown"
        )
        raise SystemExit(2)
    read_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")  # the moment the times compare with
    click.echo(f"task status from {book.source}, read at {read_at}")
    for status in statuses:
        click.echo(status.line())
    if any(status.lagging or status.failing for status in statuses):
        raise SystemExit(1)


@cli.command()
@project_options
def shell(project: str | None, config: str | None) -> None:
    """Open a Python shell inside the app context (``app`` and ``db`` are defined)."""
    from .database import db

    app = load_app(project, config)
    with app.app_context():
        code.interact(banner=f"Conexoos shell: project {app.name}", local={"app": app, "db": db})


@cli.group("mail")
@project_options
def mail_group(project: str | None, config: str | None) -> None:
    """See and retry the outbox of a project that sends mail."""


@mail_group.command("status")
@project_options
@click.option("--limit", default=20, show_default=True, type=ROWS, help="Rows to list.")
def mail_status(project: str | None, config: str | None, limit: int) -> None:
    """Where mail goes, how many messages are in each state, and the failed and waiting ones."""
    from .mail.status import describe_outbox  # declares the outbox table: only for this command

    app = load_app(project, config)
    with app.app_context():
        for line in describe_outbox(app, limit):
            click.echo(line)


@mail_group.command("retry")
@project_options
@click.argument("ids", nargs=-1, type=ROW_ID)
def mail_retry(project: str | None, config: str | None, ids: tuple[int, ...]) -> None:
    """Queue failed messages again: those with the given IDS, or every failed one.

    Exits 1, naming them, when one of the given IDS does not exist or is not failed.
    """
    from .mail.delivery import failed_never_delivered, not_retried, retry_failed

    app = load_app(project, config)
    with app.app_context():
        retried = retry_failed(ids)
        click.echo(f"{counted(len(retried), 'failed message')} queued again")
        left = failed_never_delivered() if not ids else 0  # given IDS are each named below
        if left:
            click.echo(
                f"{counted(left, 'failed message')} to the domain .invalid left failed: it receives no mail"
            )
        problems = not_retried(ids, retried)
    if problems:
        raise OperationFailed(problems)


def _show_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


cli.add_command(media_group(project_options, load_app))
cli.add_command(
    plugins_group(project_options, lambda project, config: load_app(project, config, plugins=False))
)


def main() -> None:
    """Entry point of the ``conexoos`` script and of ``python -m conexoos``."""
    cli.main(prog_name="conexoos")
