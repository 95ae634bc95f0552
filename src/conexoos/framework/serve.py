"""Serve a project with gunicorn: ``conexoos serve``.

The master validates the configuration, imports the project and prepares the databases once; then each
worker builds its own app after the fork, so database pools, Redis clients and the scheduler thread
belong to the worker that uses them. The app is never preloaded.

With gevent workers (the default) the master then replaces itself (``exec``, same pid) with a fresh
interpreter whose very first statement is gevent's monkey-patching: every module the workers use
(psycopg's wait function, redis-py, PyMySQL, threading for the scheduler) is imported already patched,
which is not true of a process that has imported them to validate the configuration.
"""

from __future__ import annotations

import atexit
import errno
import json
import logging
import os
import socket
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.util import load_class

from .app import Runtime, create_app
from .config import Settings, load_settings, make_instance_folder, make_private_folder
from .connect_checks import startup_warnings
from .database import db
from .errors import ConfigError
from .logs import (
    LOGGED_PATH,
    ROTATE_AT_BYTES,
    ROTATED_FILES_KEPT,
    RedactingFormatter,
    ReopeningFileHandler,
    SharedSizeRotatingFileHandler,
    configure_logging,
    flush_logs,
    log_redactor,
    logged_target,
    redact_stderr,
)
from .migrations import prepare_databases
from .plugins import active_plugins
from .project import Project, locate_project, project_schema
from .project_config import project_config
from .redaction import redact_credentials as shown
from .serving_lock import hold_while_serving
from .smtp import mail_startup_warnings
from .startup import wait_for_databases
from .startup_gc import made_to_serve

ACCESS_LOG_NAME = "gunicorn.access.log"
ERROR_LOG_NAME = "gunicorn.error.log"
CONTROL_SOCKET_NAME = "gunicorn.ctl"
UNIX_SOCKET_PATH_LIMIT = 100
NEWER_SETTINGS = frozenset({"control_socket", "control_socket_disable"})
"""Settings that older gunicorn versions (before 25.1) do not know and that are then left out."""
PATCHED_WORKERS = frozenset({"gevent"})
"""Worker classes whose master is re-executed monkey-patched before anything else is imported."""
GREEN_BOOT = (
    "from gevent import monkey; monkey.patch_all(); "
    "from conexoos.framework.serve import serve_patched; serve_patched()"
)
WORKER_TIMEOUT = 30
log = logging.getLogger("conexoos.serve")


class GunicornServer(BaseApplication):
    """A gunicorn application whose workers each create the project's app."""

    def __init__(
        self, project: Project, settings: Settings, options: dict[str, Any], plugins: tuple[str, ...] = ()
    ) -> None:
        self._project = project
        self._settings = settings
        self._options = options
        self._plugins = plugins
        """The plugins the master loaded: a worker started later (after a crash) loads the same ones."""
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            if name in NEWER_SETTINGS and name not in self.cfg.settings:
                continue
            self.cfg.set(name, value)

    def load(self) -> Flask:
        # In the worker, which serves this app until it ends (startup_gc).
        return made_to_serve(lambda: create_app(self._project, self._settings, plugins=self._plugins))

    def run(self) -> None:
        """Run the arbiter; for gevent workers, first re-execute this process monkey-patched."""
        if self._options["worker_class"] in PATCHED_WORKERS and not _monkey_patched():
            _exec_patched(self._launch)
        # What is written to stderr without a log record (gevent's hub reporting a greenlet's exception,
        # a warning) hides the secrets the workers' logs hide; the workers inherit it.
        redact_stderr()
        # Held by the master that serves (the re-executed one: exec closed the first process's lock file),
        # shared with the workers it forks: `db restore` waits until it stops.
        hold_while_serving(self._settings)
        super().run()

    _launch: dict[str, Any] = {}


def build_server(
    project: str | None,
    config: str | None,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
) -> tuple[GunicornServer, list[str]]:
    """Validate and prepare in the master; return the gunicorn application and database warnings."""
    settings = require_servable(project, config, host, port)
    configure_logging(settings)  # the retries are logged where the app will log
    wait_for_databases(settings)
    app = create_app(project, project_config(project, config), overrides=bind_overrides(host, port))
    runtime: Runtime = app.extensions["conexoos"]
    options = gunicorn_options(runtime.settings, host=host, port=port, workers=workers)
    mail_warnings = mail_startup_warnings(runtime.settings, runtime.project)  # may refuse (exit 2)
    redis_warnings = mail_warnings + startup_warnings(
        runtime.settings
    )  # before anything is created or forked
    warnings = _log_rotation_warnings(runtime.settings, options["workers"]) + prepare_databases(app)
    hold_while_serving(runtime.settings)  # a restore under way refuses the start at once (see run())
    warnings = redis_warnings + warnings
    _log_worker_count(runtime.settings, workers, options["workers"])  # once nothing refused to start
    _close_engines(app)
    plugins = active_plugins(app).names
    server = GunicornServer(runtime.project, runtime.settings, options, plugins)
    server._launch = {
        **{"project": project, "config": config, "host": host, "port": port, "workers": workers},
        "plugins": list(plugins),  # the re-executed master's workers load them too
    }
    return server, warnings


def bind_overrides(host: str | None, port: int | None) -> dict[str, Any]:
    """The command line's --host/--port as configuration, so that the DEV public URL is the bound one."""
    bind: dict[str, Any] = {}
    if host:
        bind["ADDRESS"] = host
    if port:
        bind["PORT"] = port
    return {"SERVER_ENV": {"BIND": bind}} if bind else {}


def serve_patched() -> None:
    """The re-executed, monkey-patched master: rebuild the gunicorn application and run it.

    The first process already validated the configuration and prepared the databases.
    """
    launch = json.loads(sys.argv[1])
    project, config = launch["project"], launch["config"]
    settings = load_settings(
        project_config(project, config),
        overrides=bind_overrides(launch["host"], launch["port"]),
        report_warnings=False,
    )
    options = gunicorn_options(settings, host=launch["host"], port=launch["port"], workers=launch["workers"])
    atexit.register(_close_logging_before_teardown)  # after logging's own: runs before it
    GunicornServer(locate_project(project), settings, options, tuple(launch["plugins"])).run()


def _close_logging_before_teardown() -> None:
    """Flush and close every log handler at exit, then forget them, so that the interpreter's teardown
    finds none to unregister. Under gevent, a handler freed during teardown unregisters itself through
    logging's lock, a patched one that asks for the current greenlet once greenlets are gone: Python then
    printed "Exception ignored ... RuntimeError: greenlet is being finalized" after every clean stop.
    logging's own weak-reference callback skips the unregistering when its list is empty, which it checks
    for the teardown's sake."""
    logging.shutdown()
    logging._handlerList.clear()  # type: ignore[attr-defined]


def _monkey_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("socket"))


def _exec_patched(launch: dict[str, Any]) -> None:
    """Replace this process (same pid, same environment) by a monkey-patched master."""
    sys.stdout.flush()
    sys.stderr.flush()
    # -P: the working directory is not put in front of sys.path, so a local folder cannot shadow a module.
    os.execv(sys.executable, [sys.executable, "-P", "-c", GREEN_BOOT, json.dumps(launch)])


def gunicorn_options(
    settings: Settings, host: str | None = None, port: int | None = None, workers: int | None = None
) -> dict[str, Any]:
    """Gunicorn settings from SERVER_ENV, with the command line's host, port and worker count on top."""
    server = settings.server
    if workers is not None and workers < 1:
        raise ConfigError([f"--workers: {workers} is not valid; expected an integer from 1"])
    options: dict[str, Any] = {
        "bind": [_bind(host or server["BIND"]["ADDRESS"], port or server["BIND"]["PORT"])],
        "workers": worker_count(settings, workers),
        "worker_class": _worker_class(server["WORKERS"]),
        "threads": server["THREADS_PER_CORE"],
        "capture_output": server["CAPTURE"],
        "loglevel": server["LOG"]["LEVEL"].lower(),
        "proc_name": f"conexoos: {server['APP_NAME']}",
        "preload_app": False,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        # gevent workers bound the time to read a request head by keepalive: slow heads are cut off.
        "keepalive": server.get("HEADER_TIMEOUT", 10),
        "worker_connections": server.get("WORKER_CONNECTIONS", 1000),
        "graceful_timeout": server.get("GRACEFUL_TIMEOUT", 30),
        "timeout": WORKER_TIMEOUT,
        # X-Forwarded-Proto is judged by SERVER_ENV.TRUSTED_PROXIES in the app, not by gunicorn.
        "secure_scheme_headers": {},
        "forwarded_allow_ips": "",
    }
    options.update(_ssl_options(server["SSL"]))
    make_instance_folder(settings.instance_path)  # before the log folder, which may be inside it
    options.update(_log_options(server["LOG"]["DIR"], server["LOG"]["ROTATE"]))
    options.update(_control_socket_options(settings.instance_path))
    return options


def worker_count(settings: Settings, workers: int | None) -> int:
    """``--workers`` when given; else one per CPU with Redis, and one without it.

    Without Redis, Socket.IO has no message queue between workers: an event emitted in one worker never
    reaches the sockets another one holds (live dashboard counters would miss events).
    """
    if workers is not None:
        return workers
    if "redis" not in settings.services:
        return 1
    return os.cpu_count() or 1


def _log_worker_count(settings: Settings, asked: int | None, workers: int) -> None:
    """One line when the worker count depends on Redis being configured."""
    if "redis" in settings.services:
        return
    if asked is None:
        log.info(
            "serving with 1 worker: SERVICES.redis is not configured, and Socket.IO events reach only the "
            "sockets of the worker that emits them; configure SERVICES.redis to run one worker per CPU"
        )
    elif workers > 1:
        log.warning(
            "%d workers without SERVICES.redis: Socket.IO events reach only the sockets of the worker that "
            "emits them; configure SERVICES.redis",
            workers,
        )


def post_worker_init(worker: Any) -> None:
    """Gunicorn hook, in each worker once its app exists: start that worker's task scheduler; a gevent
    worker serving TLS logs a failed handshake in one line (``tls_handshakes``), and a gevent worker gives
    up a request body that stops arriving (``body_timeout``)."""
    if worker.cfg.is_ssl and _monkey_patched():
        from .tls_handshakes import use_quiet_handshakes  # gevent's server: only patched workers have it

        use_quiet_handshakes(worker)
    runtime = _runtime_of(worker)
    if _monkey_patched():
        # A gevent deadline: only patched workers wait in gevent.
        from .body_timeout import time_request_bodies

        time_request_bodies(worker.wsgi, float(runtime.settings.server["BODY_TIMEOUT"]))
    runtime.scheduler.start()


def worker_exit(_server: Any, worker: Any) -> None:
    """Gunicorn hook, in each worker as it stops: stop its task scheduler, then flush the logs."""
    if getattr(worker, "wsgi", None) is not None:
        _runtime_of(worker).scheduler.stop()
    flush_logs()


def _runtime_of(worker: Any) -> Runtime:
    app: Flask = worker.wsgi
    runtime: Runtime = app.extensions["conexoos"]
    return runtime


def _bind(address: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"
    return f"{address}:{port}"


def _worker_class(name: str) -> str:
    """Check that gunicorn can load the worker class named by SERVER_ENV.WORKERS."""
    problem = _worker_problem(name)
    if problem:
        raise ConfigError([problem])
    return name


def require_servable(project: str | None, config: str | None, host: str | None, port: int | None) -> Settings:
    """Refuse, before anything is created or forked, a configuration that :func:`serve_problems` rejects;
    return the validated settings."""
    try:
        settings = startup_settings(project, config, host, port)
    except ConfigError as error:
        raise with_serve_problems(error) from error
    problems = serve_problems(settings)
    if not problems:  # a port taken is no mistake of the configuration: config check does not ask
        problems = [problem for problem in [port_problem(settings.server["BIND"])] if problem]
    if problems:
        raise ConfigError(problems)
    return settings


def port_in_use(bind: dict[str, Any]) -> bool:
    """Whether another process listens on ``bind`` now (the site running?)."""
    error = _bind_error(bind)
    return error is not None and error.errno == errno.EADDRINUSE


def port_problem(bind: dict[str, Any]) -> str | None:
    """Why gunicorn could not listen on ``bind`` now (the port taken, or not ours to take), or None. Gunicorn
    itself retries for 5 seconds, then exits with the reason in its error log only."""
    error = _bind_error(bind)
    if error is not None:
        port = bind["PORT"]
        if error.errno == errno.EADDRINUSE:
            return (
                f"SERVER_ENV.BIND: {bind['ADDRESS']}:{port} is in use by another process (is the site "
                "already running?); stop it, or choose another port (--port)"
            )
        if error.errno == errno.EACCES:
            return f"SERVER_ENV.BIND: port {port} needs privileges this user lacks (ports below 1024)"
        return f"SERVER_ENV.BIND: cannot listen on {bind['ADDRESS']}:{port} ({error.strerror or error})"
    return None


def _bind_error(bind: dict[str, Any]) -> OSError | None:
    """The error of listening on ``bind`` now, as gunicorn binds (None: it could)."""
    address, port = bind["ADDRESS"].strip("[]"), bind["PORT"]
    try:
        family = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
            probe.bind((address, port))
    except OSError as error:
        return error
    return None


def startup_settings(project: str | None, config: str | None, host: str | None, port: int | None) -> Settings:
    """The configuration ``run`` and ``serve`` will use, validated with the project's own keys (no warnings
    shown: the app shows them once it is built)."""
    return load_settings(
        project_config(project, config),
        overrides=bind_overrides(host, port),
        report_warnings=False,
        project_schema=project_schema(locate_project(project)),
    )


def serve_problems(settings: Settings) -> list[str]:
    """What `conexoos serve` would fail on at run time, one line each; used by `serve` and `config check`.

    Nothing is created: a folder that does not exist yet is judged by its nearest existing parent.
    """
    server = settings.server
    problems = [_worker_problem(server["WORKERS"]), _ssl_problem(server["SSL"])]
    problems.append(_folder_problem("SERVER_ENV.INSTANCE_PATH", str(settings.instance_path)))
    if server["LOG"]["DIR"]:
        problems.append(_folder_problem("SERVER_ENV.LOG.DIR", server["LOG"]["DIR"]))
    problems.append(address_problem(server["BIND"]["ADDRESS"]))
    return [problem for problem in problems if problem]


def with_serve_problems(error: ConfigError) -> ConfigError:
    """``error`` and, after its problems, what :func:`serve_problems` finds in the settings as far as they
    were read: every mistake in one run. A check of a key already refused is left out (it saw the default)."""
    if not isinstance(error.read, Settings):
        return error
    refused = [problem.split(":", 1)[0] for problem in error.problems]
    more = [
        problem
        for problem in serve_problems(error.read)
        if not any(_same_key(problem.split(":", 1)[0], key) for key in refused)
    ]
    return ConfigError([*error.problems, *more], error.notes) if more else error


def _same_key(one: str, other: str) -> bool:
    """Whether two keys' paths (``SERVER_ENV.SSL``, ``SERVER_ENV.SSL.Certificate``) name the same setting
    or one holds the other."""
    return one == other or one.startswith(other + ".") or other.startswith(one + ".")


def _worker_problem(name: str) -> str | None:
    try:
        load_class(name, section="gunicorn.workers")
    except (RuntimeError, ImportError, AttributeError, ValueError):
        return (
            f"SERVER_ENV.WORKERS: {shown(name)!r} is not a gunicorn worker class that can be loaded here; "
            "use gevent, gthread or sync, or install the package it needs (eventlet, tornado)"
        )
    return None


def _ssl_problem(files: dict[str, str]) -> str | None:
    """A certificate and key that the workers' TLS context would refuse (they would crash-loop), naming the
    file at fault: the certificate is judged on its own first (also when the key is missing)."""
    certificate, key = files["Certificate"], files["PrivateKey"]
    if not certificate:
        return None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=certificate)
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        return (
            f"SERVER_ENV.SSL.Certificate: {shown(certificate)!r} is not a PEM certificate "
            f"({_ssl_reason(error)})"
        )
    if not key:
        return None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certificate, key, password=_no_passphrase)
    except EncryptedKey:
        return (
            f"SERVER_ENV.SSL.PrivateKey: {shown(key)!r} is encrypted with a passphrase, which nobody is "
            "there to type when the workers start: write it decrypted, readable by the server's user only "
            "(`openssl pkey -in KEY -out KEY.plain`)"
        )
    except (OSError, ValueError) as error:
        return (
            f"SERVER_ENV.SSL.PrivateKey: {shown(key)!r} is not a PEM private key, or not the key of the "
            f"certificate {shown(certificate)!r} ({_ssl_reason(error)})"
        )
    return None


class EncryptedKey(Exception):
    """The private key asks for a passphrase (OpenSSL would prompt on the terminal, and wait)."""


def _no_passphrase() -> str:
    raise EncryptedKey


SSL_REASONS = {
    "PEM lib": "the file holds no readable PEM block of that kind",
    "NO_START_LINE": "the file holds no readable PEM block of that kind",
    "NO_CERTIFICATE_OR_CRL_FOUND": "the file holds no PEM certificate",
    "KEY_VALUES_MISMATCH": "this key is not the certificate's",
}
"""OpenSSL's reasons, in words (``PEM lib`` says nothing of which file or why)."""


def _ssl_reason(error: Exception) -> str:
    reason = str(getattr(error, "reason", None) or str(error).splitlines()[0])
    return next((words for known, words in SSL_REASONS.items() if known in reason), reason)


def _folder_problem(key: str, folder: str) -> str | None:
    """Whether ``folder`` exists as a writable directory or could be created, without creating it."""
    path = Path(folder).expanduser().absolute()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{key}: {shown(folder)!r} cannot be created: {shown(str(existing))!r} is not a directory"
    stats = os.statvfs(existing)
    writable = os.access(existing, os.W_OK | os.X_OK) and not stats.f_flag & os.ST_RDONLY
    if not writable or stats.f_blocks == 0:  # no blocks: a virtual file system such as /proc or /sys
        return (
            f"{key}: {shown(folder)!r} cannot be written: {shown(str(existing))!r} does not accept new files"
        )
    return None


def address_problem(address: str) -> str | None:
    """Why a server cannot listen on ``address`` (``SERVER_ENV.BIND.ADDRESS`` or ``--host``), or None: it
    must be an IP address or a host name that resolves, and one of this machine's (or a wildcard)."""
    host = address.strip("[]")
    try:
        found = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError):
        return (
            f"SERVER_ENV.BIND.ADDRESS: {shown(address)!r} is neither an IP address nor a host name that "
            "resolves"
        )
    family, _, _, _, where = found
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind(where)  # port 0: any free one, so that only the address is judged
    except OSError as error:
        if error.errno == errno.EADDRNOTAVAIL:
            return (
                f"SERVER_ENV.BIND.ADDRESS: {shown(address)!r} is not an address of this machine "
                f"({error.strerror}); use 0.0.0.0 (every address), 127.0.0.1 (this machine only) or one of "
                "its own"
            )
        return f"SERVER_ENV.BIND.ADDRESS: cannot listen on {shown(address)!r} ({error.strerror or error})"
    return None


def _ssl_options(ssl: dict[str, str]) -> dict[str, str]:
    if not ssl["Certificate"]:
        return {}
    return {"certfile": ssl["Certificate"], "keyfile": ssl["PrivateKey"]}


def _log_rotation_warnings(settings: Settings, workers: int) -> list[str]:
    """Size rotation with several workers loses lines: each worker renames the same files on its own."""
    log = settings.server["LOG"]
    if not log["DIR"] or log["ROTATE"] != "size" or workers < 2:
        return []
    return [
        f"SERVER_ENV.LOG.ROTATE: size with {workers} workers: each worker would rotate app.log and "
        "access.log on its own; set it to external and rotate the files with logrotate"
    ]


def _log_options(log_dir: str, rotate: str) -> dict[str, Any]:
    if not log_dir:
        return {"errorlog": "-", "logger_class": AccessLogger}  # its error log hides secrets on stderr too
    folder = Path(log_dir)
    make_private_folder(folder)
    return {
        "accesslog": str(folder / ACCESS_LOG_NAME),
        "errorlog": str(folder / ERROR_LOG_NAME),
        "logger_class": ReopeningAccessLogger if rotate == "external" else SizeRotatingAccessLogger,
    }


REQUEST_ATOMS = ("r", "U", "q", "f")
"""Gunicorn's access-line atoms a client writes: the request line, path, query string and Referer."""


class AccessLogger(GunicornLogger):
    """Gunicorn's logger, whose access lines write the path the app's access log writes: a one-time link's
    token left out (``logs.LOGGED_PATH``), and the secrets of the request's line and Referer hidden as
    the app's log hides them (:func:`logs.log_redactor`)."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        target = logged_target(environ)
        if target is not None:
            atoms.update(
                U=environ[LOGGED_PATH],
                r=f"{environ['REQUEST_METHOD']} {target} {environ.get('SERVER_PROTOCOL')}",
            )
        redactor = log_redactor()
        for name in REQUEST_ATOMS:  # a query string's or a Referer's token=, a configured secret anywhere
            value = atoms.get(name)
            if isinstance(value, str) and value:
                atoms[name] = redactor.in_url(value)
        agent = atoms.get("a")
        if isinstance(agent, str) and agent:
            atoms["a"] = redactor.known(agent)
        return atoms

    file_handler: Callable[[str], logging.FileHandler] | None = None
    """What writes gunicorn's log files instead of its plain handlers (None: those), given the path."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """The access line; first, under ``CAPTURE: true``, the error log's file looked at (once a second at
        most) so that stdout and stderr follow it once it was moved: a worker may print for hours without
        writing an error line, the only other time its handler looks."""
        for handler in self.stdio_files:
            handler.reopenIfNeeded()
        super().access(resp, req, environ, request_time)

    def setup(self, cfg: Any) -> None:
        """Gunicorn's error log (an unhandled error's traceback under DEV, with its request line) hides
        secrets as the app's log does."""
        super().setup(cfg)
        self.stdio_files: list[Any] = []
        if self.file_handler is not None:
            _replace_gunicorn_files(self.access_log, self.file_handler)
            captured = cfg.capture_output and cfg.errorlog != "-"
            made = _replace_gunicorn_files(
                self.error_log, _stdio_following(self.file_handler) if captured else self.file_handler
            )
            self.stdio_files = made if captured else []
        for handler in self.error_log.handlers:  # the logs' redactor when a line is written: set up later
            handler.setFormatter(RedactingFormatter(self.error_fmt, None, self.datefmt, decode=True))


class ReopeningAccessLogger(AccessLogger):
    """:class:`AccessLogger` for ``LOG.ROTATE: external``: ``gunicorn.access.log`` and
    ``gunicorn.error.log`` are reopened once logrotate moved them, as ``app.log`` and ``access.log`` are
    (``logs.ReopeningFileHandler``), in the master and in each worker (which inherits its handlers);
    gunicorn's own handlers kept writing into the moved file until the master was sent SIGUSR1."""

    file_handler = staticmethod(lambda path: ReopeningFileHandler(path, encoding="utf-8"))


class SizeRotatingAccessLogger(AccessLogger):
    """:class:`AccessLogger` for ``LOG.ROTATE: size`` (one worker): ``gunicorn.access.log`` and
    ``gunicorn.error.log`` rotate at the size ``app.log`` does, keeping as many files; the error log, which
    the master writes too, is reopened by the process that did not rotate it
    (``logs.SharedSizeRotatingFileHandler``). Gunicorn's own handlers never rotated: the files grew
    without end."""

    file_handler = staticmethod(
        lambda path: SharedSizeRotatingFileHandler(
            path, maxBytes=ROTATE_AT_BYTES, backupCount=ROTATED_FILES_KEPT, encoding="utf-8"
        )
    )


def _stdio_following(make: Callable[[str], logging.FileHandler]) -> Callable[[str], logging.FileHandler]:
    """``make``, whose handler also points this process's stdout and stderr at the file each time it opens
    it again (after a rotation, or once logrotate moved it), for ``CAPTURE: true``: gunicorn points them
    at the error log once, and again only on SIGUSR1, so what a worker printed went on into the moved file."""

    def made(path: str) -> logging.FileHandler:
        handler = make(path)
        reopen = handler._open

        def opened() -> Any:
            stream = reopen()
            for captured in (sys.stdout, sys.stderr):
                captured.flush()
                os.dup2(stream.fileno(), captured.fileno())
            return stream

        handler._open = opened  # type: ignore[method-assign]
        return handler

    return made


def _replace_gunicorn_files(
    logger: logging.Logger, make: Callable[[str], logging.FileHandler]
) -> list[logging.FileHandler]:
    """Replace each plain file handler gunicorn gave ``logger`` by ``make(path)`` on the same file, with its
    formatter, marked as gunicorn's (a configuration reload replaces it again); the handlers made."""
    made = []
    for handler in list(logger.handlers):
        if type(handler) is not logging.FileHandler or not getattr(handler, "_gunicorn", False):
            continue
        replacement = make(handler.baseFilename)
        replacement.setFormatter(handler.formatter)
        replacement._gunicorn = True  # type: ignore[attr-defined]
        logger.removeHandler(handler)
        handler.close()
        logger.addHandler(replacement)
        made.append(replacement)
    return made


def _control_socket_options(instance: Path) -> dict[str, Any]:
    """One control socket per instance folder: gunicorn's default path is shared by every server of a user."""
    path = instance / CONTROL_SOCKET_NAME
    if len(os.fsencode(path)) <= UNIX_SOCKET_PATH_LIMIT:
        return {"control_socket": str(path)}
    return {"control_socket_disable": True}


def _close_engines(app: Flask) -> None:
    """Close the master's pooled connections so no socket is shared with the forked workers."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
