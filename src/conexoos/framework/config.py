"""Load, interpolate, type-convert and validate the one configuration file.

``load_settings()`` is the only entry point: it returns a :class:`Settings` or raises
:class:`~conexoos.framework.errors.ConfigError` whose ``problems`` has one line per mistake.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from . import schema
from .errors import ConfigError
from .interpolation import substitute
from .proxy import trusted_proxies_problems
from .schema import Key
from .urls import public_url_problems

log = logging.getLogger("conexoos.config")

CONFIG_ENV_VAR = "CONFIG_FILE"
DEFAULT_CONFIG = Path(__file__).with_name("default.yml")
DRIVER_ALIASES = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}
REDACTED = "***"


@dataclass(frozen=True)
class DatabaseSettings:
    """One named connection, resolved to a SQLAlchemy URL."""

    name: str
    url: URL
    readonly: bool
    models: str
    is_default: bool

    @property
    def bind_key(self) -> str | None:
        """The Flask-SQLAlchemy bind key: ``None`` for the default connection."""
        return None if self.is_default else self.name


@dataclass
class Settings:
    """The resolved configuration: a typed tree plus the facts derived from it."""

    tree: dict[str, Any]
    source: Path | None
    base_dir: Path
    warnings: list[str] = field(default_factory=list)
    databases: dict[str, DatabaseSettings] = field(default_factory=dict)

    def get(self, dotted: str, default: Any = None) -> Any:
        """Return the value at a dotted key path such as ``SERVER_ENV.BIND.PORT``."""
        node: Any = self.tree
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def server(self) -> dict[str, Any]:
        return dict(self.tree["SERVER_ENV"])

    @property
    def env(self) -> str:
        return str(self.tree["SERVER_ENV"]["ENV"])

    @property
    def is_development(self) -> bool:
        return self.env == "DEV"

    @property
    def instance_path(self) -> Path:
        return Path(self.tree["SERVER_ENV"]["INSTANCE_PATH"])

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return dict(self.tree["SERVICES"])

    @property
    def default_database(self) -> DatabaseSettings:
        return next(db for db in self.databases.values() if db.is_default)

    def redacted(self) -> dict[str, Any]:
        """The tree with every secret replaced by ``***``, for display."""
        return _redact(self.tree, path=())


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    report_warnings: bool = True,
) -> Settings:
    """Read the configuration named by ``path``, ``$CONFIG_FILE``, or the embedded default.

    ``overrides`` is merged over the file before validation (used by tests and the CLI). With
    ``report_warnings=False`` the caller logs ``settings.warnings`` itself (once its logging is set up).
    """
    environ = os.environ if environ is None else environ
    chosen = path or environ.get(CONFIG_ENV_VAR) or None
    source = Path(chosen).expanduser().resolve() if chosen else None
    raw = _database_alias(_read(source or DEFAULT_CONFIG))
    if overrides:
        raw = deep_merge(raw, _database_alias(dict(overrides)))
    substituted = substitute(raw, environ)
    warnings: list[str] = []
    if substituted.missing:
        names = ", ".join(substituted.missing)
        warnings.append(f"environment variables not set, used empty: {names}")
    base_dir = source.parent if source else Path.cwd()
    validator = _Validator(substituted.whole, warnings)
    tree = validator.validate(substituted.value)
    settings = Settings(tree=tree, source=source, base_dir=base_dir, warnings=warnings)
    _resolve_paths(settings, validator)
    settings.databases = _resolve_databases(settings, validator)
    _cross_check(settings, validator)
    if validator.problems:
        raise ConfigError(validator.problems)
    _ensure_app_key(settings)
    if report_warnings:
        log_warnings(settings)
    return settings


def log_warnings(settings: Settings) -> None:
    """Log each configuration warning (unknown keys, unset variables) once."""
    for warning in settings.warnings:
        log.warning("config: %s", warning)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            [f"{path}: cannot read the configuration file ({error.strerror or error})"]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: the configuration file is not UTF-8 text"]) from None
    data = _parse(path, text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{path}: the top level must be a mapping of sections, found {type(data).__name__}"]
        )
    return data


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json" or (
        path.suffix.lower() not in (".yml", ".yaml") and text.lstrip()[:1] == "{"
    ):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError([f"{path}:{error.lineno}: JSON syntax error: {error.msg}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError([_yaml_problem(path, error)]) from None


def _yaml_problem(path: Path, error: yaml.YAMLError) -> str:
    """``file:line: YAML syntax error: problem``, plus where the unfinished construct began if elsewhere."""
    mark = getattr(error, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and context_mark is not None and (mark is None or context_mark.line != mark.line):
        problem += f" ({context} started at line {context_mark.line + 1})"
    return f"{path}{line}: YAML syntax error: {problem}"


def _database_alias(tree: dict[str, Any]) -> dict[str, Any]:
    """Rename ``DATABASES`` (accepted as an alias) to ``DATABASE``, before any merge."""
    if "DATABASES" not in tree:
        return tree
    if "DATABASE" in tree:
        raise ConfigError(["DATABASES: is the same section as DATABASE; keep only one of them"])
    return {("DATABASE" if key == "DATABASES" else key): value for key, value in tree.items()}


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``extra`` merged in: mappings merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Validator:
    """Walks the raw tree against :mod:`schema`, converting types and collecting problems."""

    def __init__(self, whole: set[str], warnings: list[str]) -> None:
        self.whole = whole
        self.warnings = warnings
        self.problems: list[str] = []

    def problem(self, path: str, value: Any, expected: str, secret: bool = False) -> None:
        shown = REDACTED if secret and value not in ("", None) else repr(value)
        self.problems.append(f"{path}: {shown} is not valid; expected {expected}")

    def validate(self, raw: dict[str, Any]) -> dict[str, Any]:
        self._warn_unknown(raw, schema.TOP_LEVEL, prefix="")
        return {
            "SERVER_ENV": self.section(raw.get("SERVER_ENV"), schema.SERVER_ENV, "SERVER_ENV"),
            "DATABASE": self.databases(raw.get("DATABASE")),
            "FLASK": self.section(raw.get("FLASK"), schema.FLASK, "FLASK"),
            "SERVICES": self.services(raw.get("SERVICES")),
            "APP": self.mapping(raw.get("APP"), "APP"),
        }

    def mapping(self, node: Any, path: str) -> dict[str, Any]:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.problem(path, node, "a mapping of keys to values")
            return {}
        return {str(key): self.free_value(value, f"{path}.{key}") for key, value in node.items()}

    def free_value(self, value: Any, path: str) -> Any:
        """A value with no schema: a whole ``${VAR}`` string holding a number or true/false is converted."""
        if isinstance(value, dict):
            return self.mapping(value, path)
        if isinstance(value, str) and path in self.whole:
            return _scalar(value)
        return value

    def section(self, node: Any, shape: schema.Schema, path: str) -> dict[str, Any]:
        if node is None:
            node = {}
        if not isinstance(node, dict):
            self.problem(path, node, "a mapping of keys to values")
            node = {}
        self._warn_unknown(node, tuple(shape), prefix=path + ".")
        result: dict[str, Any] = {}
        for name, spec in shape.items():
            child_path = f"{path}.{name}"
            if isinstance(spec, Key):
                result[name] = self.value(node.get(name), spec, child_path, present=name in node)
            else:
                result[name] = self.section(node.get(name), spec, child_path)
        return result

    def value(self, raw: Any, key: Key, path: str, present: bool) -> Any:
        if not present or raw is None:
            return _copy_default(key.default)
        if raw == "" and key.empty_means_default:
            return _copy_default(key.default)
        converted, ok = _convert(raw, key)
        if not ok:
            self.problem(path, raw, key.expectation(), key.secret)
            return _copy_default(key.default)
        if key.kind == "dict":
            return self.mapping(converted, path)
        return converted

    def databases(self, node: Any) -> dict[str, Any]:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.problem("DATABASE", node, "a mapping with `default` and named connections")
            return {}
        result: dict[str, Any] = {"default": node.get("default")}
        for name, connection in node.items():
            if name == "default":
                continue
            result[str(name)] = self.section(connection, schema.DATABASE_CONNECTION, f"DATABASE.{name}")
        return result

    def services(self, node: Any) -> dict[str, Any]:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.problem("SERVICES", node, "a mapping of service names to their settings")
            return {}
        result: dict[str, Any] = {}
        for name, settings in node.items():
            path = f"SERVICES.{name}"
            known = schema.SERVICES.get(str(name))
            if isinstance(known, dict):
                result[str(name)] = self.section(settings, known, path)
            else:
                result[str(name)] = self.mapping(settings, path)
        return result

    def _warn_unknown(self, node: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for name in node:
            if name in known:
                continue
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f"; did you mean {prefix}{close[0]}?" if close else f"; known keys: {', '.join(known)}"
            self.warnings.append(f"unknown key {prefix}{name} is ignored{hint}")


def _convert(raw: Any, key: Key) -> tuple[Any, bool]:
    if key.kind == "str":
        return (
            (str(raw), True)
            if isinstance(raw, (str, int, float)) and not isinstance(raw, bool)
            else (raw, False)
        )
    if key.kind == "int":
        return _to_int(raw, key)
    if key.kind == "bool":
        return _to_bool(raw)
    if key.kind == "choice":
        text = str(raw).strip()
        for choice in key.choices:
            if text.lower() == choice.lower():
                return choice, True
        return raw, False
    if key.kind == "dict":
        return (raw, True) if isinstance(raw, dict) else (raw, False)
    raise AssertionError(f"unknown key kind {key.kind}")


_INTEGER = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?[0-9]+\.[0-9]+")


def _scalar(text: str) -> Any:
    """Read an environment value as an int, a float or a bool when it plainly is one, else keep the text.

    Stricter than YAML 1.1 on purpose: ``01234``, ``12:30`` and ``on`` stay text.
    """
    stripped = text.strip()
    if _INTEGER.fullmatch(stripped):
        return int(stripped)
    if _DECIMAL.fullmatch(stripped):
        return float(stripped)
    if stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    return text


def _to_int(raw: Any, key: Key) -> tuple[Any, bool]:
    if isinstance(raw, bool):
        return raw, False
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        number = int(raw.strip())
    else:
        return raw, False
    if key.minimum is not None and number < key.minimum:
        return raw, False
    if key.maximum is not None and number > key.maximum:
        return raw, False
    return number, True


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _to_bool(raw: Any) -> tuple[Any, bool]:
    if isinstance(raw, bool):
        return raw, True
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True, True
    if text in _FALSE:
        return False, True
    return raw, False


def _copy_default(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def _resolve_paths(settings: Settings, validator: _Validator) -> None:
    server = settings.tree["SERVER_ENV"]
    instance = Path(server["INSTANCE_PATH"]).expanduser()
    server["INSTANCE_PATH"] = str(
        instance if instance.is_absolute() else (settings.base_dir / instance).resolve()
    )
    if server["LOG"]["DIR"]:
        server["LOG"]["DIR"] = str(_under(settings.instance_path, server["LOG"]["DIR"]))
    filesystem = settings.tree["SERVICES"].setdefault("filesystem", {"PATH": "sessions"})
    filesystem["PATH"] = str(_under(settings.instance_path, filesystem.get("PATH") or "sessions"))
    ssl = server["SSL"]
    for name in ("Certificate", "PrivateKey"):
        if ssl[name]:
            ssl[name] = str(_under(settings.base_dir, ssl[name]))
            if not os.access(ssl[name], os.R_OK):
                validator.problem(f"SERVER_ENV.SSL.{name}", ssl[name], "a readable PEM file")
    if bool(ssl["Certificate"]) != bool(ssl["PrivateKey"]):
        validator.problems.append("SERVER_ENV.SSL: Certificate and PrivateKey must be set together")


def _under(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _resolve_databases(settings: Settings, validator: _Validator) -> dict[str, DatabaseSettings]:
    section = settings.tree["DATABASE"]
    if not section:
        section.update(
            {
                "default": "main",
                "main": {**_connection_defaults(), "driver": "sqlite", "database": "conexoos.db"},
            }
        )
    default = section.get("default")
    names = [name for name in section if name != "default"]
    if not names:
        validator.problems.append(
            "DATABASE: no connection is defined; add one, e.g. DATABASE.main.driver: sqlite"
        )
        return {}
    if default is None and len(names) == 1:
        default = section["default"] = names[0]
    if default is None:
        validator.problems.append(
            "DATABASE.default: is missing; expected the name of a connection: " + ", ".join(names)
        )
        return {}
    if default not in names:
        validator.problem("DATABASE.default", default, "the name of a connection: " + ", ".join(names))
        return {}
    result = {}
    for name in names:
        url = _database_url(section[name], f"DATABASE.{name}", settings.instance_path, validator)
        if url is not None:
            result[name] = DatabaseSettings(
                name=name,
                url=url,
                readonly=bool(section[name]["readonly"]),
                models=section[name]["models"],
                is_default=name == default,
            )
    return result


def _connection_defaults() -> dict[str, Any]:
    return {
        name: _copy_default(key.default)
        for name, key in schema.DATABASE_CONNECTION.items()
        if isinstance(key, Key)
    }


def _database_url(conn: dict[str, Any], path: str, instance: Path, validator: _Validator) -> URL | None:
    try:
        if conn["url"]:
            url = make_url(conn["url"])
        else:
            if not conn["driver"]:
                validator.problem(f"{path}.driver", "", "a driver such as sqlite, postgresql or mysql")
                return None
            url = URL.create(
                drivername=DRIVER_ALIASES.get(conn["driver"].lower(), conn["driver"]),
                username=conn["user"] or None,
                password=conn["password"] or None,
                host=conn["address"] or None,
                port=conn["port"],
                database=conn["database"] or None,
                query={str(k): str(v) for k, v in conn["params"].items()},
            )
        url = url.set(drivername=DRIVER_ALIASES.get(url.drivername, url.drivername))
        url.get_dialect()
    except NoSuchModuleError:  # a subclass of ArgumentError: catch it first
        validator.problem(
            f"{path}.driver",
            conn["driver"] or conn["url"].split(":")[0],
            "an installed SQLAlchemy driver: sqlite, postgresql, mysql",
        )
        return None
    except (ArgumentError, ValueError) as error:
        if conn["url"]:
            validator.problem(f"{path}.url", conn["url"], f"a valid SQLAlchemy URL ({error})", secret=True)
        else:
            validator.problems.append(f"{path}: cannot build a database URL from these keys ({error})")
        return None
    if url.get_backend_name() == "sqlite":
        return _sqlite_url(url, conn, path, instance, validator)
    return url


def _sqlite_url(
    url: URL, conn: dict[str, Any], path: str, instance: Path, validator: _Validator
) -> URL | None:
    """The plain SQLite driver takes a file (relative to the instance folder): no user, password or server."""
    extra = [name for name in ("user", "password", "address", "port") if conn[name] not in ("", None)]
    has_server_parts = bool(extra or url.username or url.password or url.host or url.port)
    if has_server_parts and url.get_driver_name() == "pysqlite":
        names = ", ".join(f"{path}.{name}" for name in extra) or f"{path}.url"
        validator.problems.append(
            f"{names}: SQLite takes only a database file; remove the user, password, address and port"
        )
        return None
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        url = url.set(database=str(_under(instance, url.database)))
    return url


def _cross_check(settings: Settings, validator: _Validator) -> None:
    server = settings.tree["SERVER_ENV"]
    session = server["SESSION"]
    if session in ("redis", "memcached") and session not in settings.tree["SERVICES"]:
        validator.problems.append(
            f"SERVER_ENV.SESSION: {session!r} needs a SERVICES.{session} entry (HOST and PORT); add it or "
            "choose another SESSION"
        )
    if server["ENV"] in ("UAT", "PROD") and not server["APP_KEY"]:
        validator.problems.append(
            f"SERVER_ENV.APP_KEY: is empty; {server['ENV']} needs a secret key (e.g. APP_KEY: "
            "${SECURED_FLASK_TOKEN} with a long random value in that variable)"
        )
    validator.problems += public_url_problems(server) + trusted_proxies_problems(server["TRUSTED_PROXIES"])


def _ensure_app_key(settings: Settings) -> None:
    """Under DEV with no APP_KEY, generate one once and keep it in the instance folder."""
    server = settings.tree["SERVER_ENV"]
    if server["APP_KEY"]:
        return
    key_file = settings.instance_path / "app_key"
    if key_file.exists():
        server["APP_KEY"] = key_file.read_text(encoding="utf-8").strip()
        return
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    server["APP_KEY"] = key


def _redact(node: Any, path: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        return {key: _redact(value, (*path, str(key))) for key, value in node.items()}
    if node in ("", None) or not path:
        return node
    if _is_secret(path):
        return REDACTED
    return node


def _is_secret(path: tuple[str, ...]) -> bool:
    spec: Any = {"SERVER_ENV": schema.SERVER_ENV, "SERVICES": schema.SERVICES, "FLASK": schema.FLASK}
    if path[0] == "DATABASE" and len(path) == 3:
        spec = schema.DATABASE_CONNECTION.get(path[2])
        return isinstance(spec, Key) and spec.secret
    for part in path:
        spec = spec.get(part) if isinstance(spec, dict) else None
    if isinstance(spec, Key):
        return spec.secret
    return schema.is_secret_name(path[-1])
