"""Load, interpolate, type-convert and validate the one configuration file.

``load_settings()`` is the only entry point: it returns a :class:`Settings` or raises
:class:`~conexoos.framework.errors.ConfigError` whose ``problems`` has one line per mistake.
"""

from __future__ import annotations

import difflib
import inspect
import json
import logging
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from . import libpq, schema
from .csrf_settings import flask_wtf_problems
from .errors import ConfigError
from .interpolation import substitute
from .lazy import lazy_module
from .proxy import trusted_proxies_problems
from .redaction import (
    REDACTED,
    redact_credentials,
    redact_tree,
    short_secret_warnings,
    shown_malformed_url,
)
from .schema import MAX_PORT, Entries, Key
from .smtp import smtp_config_problems
from .url_queries import encoded_separator_problem
from .url_userinfo import ambiguous_url_problem
from .urls import normalised_public_url, public_url_problems

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy_module("yaml")  # 1 MiB and 50 ms a worker, for a YAML file only (a server may have JSON)

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


EMPTY_FILE = (
    "the configuration file holds no settings (it is empty, or only comments): every key takes its default, "
    "a DEV site on an SQLite file in the instance folder; was another file meant?"
)


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long one connection may wait, in seconds (``DATABASE.<name>.*_timeout``; 0: no bound)."""

    connect: int = 4
    pool: int = 5
    request: int = 5
    lock: int = 10


@dataclass(frozen=True)
class DatabaseSettings:
    """One named connection, resolved to a SQLAlchemy URL."""

    name: str
    url: URL
    readonly: bool
    models: str
    is_default: bool
    timeouts: DatabaseTimeouts = field(default_factory=DatabaseTimeouts)

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
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    """The file after ``${VAR}`` substitution, before validation."""
    whole: set[str] = field(default_factory=set, repr=False)
    project_schema: schema.Schema | None = None
    """The project's own sections (``SCHEMA`` of its ``server/config.py``) this tree was validated with."""

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
    def key_prefix(self) -> str:
        """What every key this app keeps in a shared store starts with (sessions, task locks, rate limits)."""
        return f"{self.server['APP_NAME'].lower()}:"

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
        """The default connection; a ConfigError when the configuration has none (``DATABASE: {}``)."""
        for database in self.databases.values():
            if database.is_default:
                return database
        raise ConfigError(
            ["DATABASE: no connection is configured; add one, e.g. DATABASE.main.driver: sqlite"]
        )

    def redacted(self) -> dict[str, Any]:
        """The tree with every secret (and every password inside a URL) replaced by ``***``, for display."""
        return redact_tree(self.tree, self.project_schema)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    report_warnings: bool = True,
    project_schema: schema.Schema | None = None,
) -> Settings:
    """Read the configuration named by ``path``, ``$CONFIG_FILE``, or the embedded default.

    ``overrides`` is merged over the file before validation (used by tests and the CLI). With
    ``report_warnings=False`` the caller logs ``settings.warnings`` itself (once its logging is set up).
    ``project_schema`` declares the project's own keys (see :func:`project.project_schema`). Nothing is
    written: the DEV key is generated by :func:`ensure_app_key`, called by the app factory.
    """
    environ = os.environ if environ is None else environ
    chosen = path or environ.get(CONFIG_ENV_VAR) or None
    source = Path(chosen).expanduser().resolve() if chosen else None
    # Keys given twice, a section under both its spellings: the file is still read, and checked as a whole.
    read_problems: list[str] = []
    read = _read(source or DEFAULT_CONFIG, read_problems)
    empty = [f"{source}: {EMPTY_FILE}"] if source is not None and not read else []
    raw = _database_alias(read, read_problems)
    if overrides:
        raw = _merge_overrides(raw, _database_alias(dict(overrides), read_problems))
    substituted = substitute(raw, environ)
    missing = ", ".join(substituted.missing)
    unset = [f"environment variables not set, used empty: {missing}"] if missing else []
    warnings: list[str] = empty + unset
    base_dir = source.parent if source else Path.cwd()
    validator = _Validator(substituted.whole, warnings, substituted.malformed, substituted.variables)
    validator.unset = substituted.unset
    validator.problems += read_problems
    validator.problems += [
        f"{path}: holds a ${{ that starts no ${{VAR}} or ${{VAR:-default}} ({substituted.hints[path]}); "
        "write $${ for a literal ${"
        for path in substituted.malformed
    ]
    tree = validator.validate(substituted.value, project_schema or {})
    tree["LOGINS"] = validator.logins(substituted.value, base_dir)
    settings = Settings(
        tree=tree,
        source=source,
        base_dir=base_dir,
        warnings=warnings,
        raw=substituted.value,
        whole=substituted.whole,
        project_schema=project_schema,
    )
    _resolve_paths(settings, validator)
    settings.databases = _resolve_databases(settings, validator)
    _cross_check(settings, validator)
    if validator.problems:
        # With its warnings (an empty ${VAR} above may be a cause; a misspelt key ignored, another):
        # all at once, not one more run each.
        raise ConfigError(validator.problems, notes=warnings, read=settings)
    warnings.extend(short_secret_warnings(settings.tree, project_schema))
    _read_app_key(settings)
    if report_warnings:
        log_warnings(settings)
    return settings


def apply_project_schema(settings: Settings, project_schema: schema.Schema) -> list[str]:
    """Validate the project's own sections of ``settings`` (loaded without them); return the new warnings.

    Raises :class:`ConfigError` with one line per mistake, as :func:`load_settings` does.
    """
    if settings.project_schema is project_schema:
        return []
    warnings: list[str] = []
    validator = _Validator(settings.whole, warnings)
    _project_sections(settings, validator, project_schema)
    if validator.problems:
        raise ConfigError(validator.problems)
    short = short_secret_warnings(settings.tree, project_schema)  # a key the project declares secret
    warnings.extend(warning for warning in short if warning not in settings.warnings)
    settings.warnings.extend(warnings)
    return warnings


@dataclass
class Checked:
    """One value validated on its own: the typed value, and one line per problem and warning."""

    value: Any
    problems: list[str]
    warnings: list[str]


def check_value(raw: Any, spec: Key | Entries | schema.Schema, path: str) -> Checked:
    """Validate ``raw`` as the configuration would at ``path`` (a key, a mapping of entries or a section)."""
    warnings: list[str] = []
    validator = _Validator(set(), warnings)
    if isinstance(spec, Key):
        value = validator.value(raw, spec, path, present=True)
    elif isinstance(spec, Entries):
        value = validator.entries(raw, spec, path)
    else:
        value = validator.section(raw, spec, path)
    return Checked(value, validator.problems, warnings)


def check_flask_setting(name: str, raw: Any) -> Checked:
    """Validate ``raw`` as the value of ``FLASK.CONFIG.<name>``, a key of :data:`schema.FLASK_CONFIG_KEYS`."""
    warnings: list[str] = []
    validator = _Validator(set(), warnings)
    key = schema.FLASK_CONFIG_KEYS[name]
    assert isinstance(key, Key), name
    value = validator.flask_setting(raw, key, f"FLASK.CONFIG.{name}")
    return Checked(value, validator.problems, warnings)


def _project_sections(settings: Settings, validator: _Validator, project_schema: schema.Schema) -> None:
    """Validate ``APP``, the ``SERVICES`` entries and the ``FLASK.CONFIG`` keys the project declares,
    replacing their free-form trees (the framework's own sections were validated when the file was
    loaded)."""
    raw = settings.raw
    app_shape = project_schema.get("APP")
    if isinstance(app_shape, dict):
        settings.tree["APP"] = validator.section(raw.get("APP"), app_shape, "APP")
    raw_config = _as_schema(raw.get("FLASK")).get("CONFIG")
    for name, key in project_flask_keys(project_schema).items():
        if isinstance(raw_config, dict) and name in raw_config and isinstance(key, Key):
            path = f"FLASK.CONFIG.{name}"
            settings.tree["FLASK"]["CONFIG"][name] = validator.flask_setting(raw_config[name], key, path)
    raw_services = raw.get("SERVICES")
    for name, shape in _as_schema(project_schema.get("SERVICES")).items():
        if isinstance(raw_services, dict) and name in raw_services and isinstance(shape, dict):
            settings.tree["SERVICES"][name] = validator.section(raw_services[name], shape, f"SERVICES.{name}")
    settings.project_schema = project_schema


def project_flask_keys(project_schema: schema.Schema) -> schema.Schema:
    """The ``FLASK.CONFIG`` keys a project declares (``FLASK: {CONFIG: {...}}`` in its ``SCHEMA``): settings
    its own pages rely on, such as the product's forms on ``WTF_CSRF_FIELD_NAME``."""
    return _as_schema(_as_schema(project_schema.get("FLASK")).get("CONFIG"))


def _as_schema(node: Any) -> schema.Schema:
    return node if isinstance(node, dict) else {}


def log_warnings(settings: Settings, warnings: list[str] | None = None) -> None:
    """Log each configuration warning (unknown keys, unset variables) once: ``warnings``, else all."""
    for warning in settings.warnings if warnings is None else warnings:
        log.warning("config: %s", warning)


def _read(path: Path, problems: list[str]) -> dict[str, Any]:
    """The configuration file's tree; a key given twice is added to ``problems`` (its last value kept, so
    that the rest of the file is checked too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            [f"{path}: cannot read the configuration file ({error.strerror or error})"]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: the configuration file is not UTF-8 text"]) from None
    data = _parse(path, text, problems)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{path}: the top level must be a mapping of sections, found {type(data).__name__}"]
        )
    return data


def _yaml_loader() -> Any:
    """PyYAML's safe loader, in C when PyYAML was built with libyaml (its wheels are): the pure-Python one
    took 12 ms of each app's creation to read the embedded defaults. (A function: ``yaml`` is imported at
    its first use, never for a JSON configuration.)"""
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as read, its keys in order and repeated as given (made a dict by :func:`_objects`)."""


def _objects(node: Any, path: str, problems: list[str], source: Path) -> Any:
    """``node`` with its JSON objects made dicts; a key given twice is added to ``problems`` with its path
    (Python's reader would keep the last one silently), and its last value kept."""
    if isinstance(node, _Pairs):
        found: dict[str, Any] = {}
        for key, value in node:
            where = f"{path}.{key}" if path else key
            if key in found:
                problems.append(f"{source}: {where}: duplicate key in one object; keep only one")
            found[key] = _objects(value, where, problems, source)
        return found
    if isinstance(node, list):
        return [_objects(item, f"{path}[{index}]", problems, source) for index, item in enumerate(node)]
    return node


def _parse(path: Path, text: str, problems: list[str]) -> Any:
    if not text.strip():  # an empty file holds no settings, in JSON as in YAML (it gets EMPTY_FILE's warning)
        return None
    if path.suffix.lower() == ".json" or (
        path.suffix.lower() not in (".yml", ".yaml") and text.lstrip()[:1] == "{"
    ):
        try:
            return _objects(json.loads(text, object_pairs_hook=_Pairs), "", problems, path)
        except json.JSONDecodeError as error:
            raise ConfigError([f"{path}:{error.lineno}: JSON syntax error: {error.msg}"]) from None
    try:
        document = yaml.compose(text, Loader=_yaml_loader())
        _check_aliases(path, document)
        problems += [
            f"{path}:{line}: {key}: {message}" for key, line, message in _duplicate_keys(document, "")
        ]
        return yaml.load(text, Loader=_yaml_loader())  # a safe loader
    except yaml.YAMLError as error:
        raise ConfigError([_yaml_problem(path, _python_yaml_error(text, error), text)]) from None


def _python_yaml_error(text: str, error: yaml.YAMLError) -> yaml.YAMLError:
    """The error of PyYAML's Python parser for ``text``: the same words with or without libyaml (whose
    own differ: "not allowed in this context" for "not allowed here")."""
    if _yaml_loader() is yaml.SafeLoader:
        return error
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as python_error:
        return python_error
    return error  # the C parser alone refused it: its words, then


MAX_EXPANDED_VALUES = 100_000
"""The most values a YAML configuration may hold once its aliases (``*name``) are expanded: a real one
holds hundreds; nested aliases ("billion laughs") would hold billions and hang every reader."""


def _check_aliases(path: Path, document: yaml.Node | None) -> None:
    """Refuse an alias inside what its anchor names (a value that contains itself), and aliases that expand
    to more than :data:`MAX_EXPANDED_VALUES` values."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, inside: tuple[int, ...]) -> int:
        if id(node) in inside:
            line = node.start_mark.line + 1
            raise ConfigError([f"{path}:{line}: an alias refers to a value that contains it; write it out"])
        if id(node) not in sizes:
            children: list[yaml.Node] = []
            if isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            elif isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            sizes[id(node)] = 1 + sum(size(child, (*inside, id(node))) for child in children)
            if sizes[id(node)] > MAX_EXPANDED_VALUES:
                raise ConfigError(
                    [
                        f"{path}: the configuration holds more than {MAX_EXPANDED_VALUES:,} values once its "
                        "aliases are expanded (nested aliases?); write it out plainly"
                    ]
                )
        return sizes[id(node)]

    if document is not None:
        size(document, ())


def _duplicate_keys(node: yaml.Node | None, prefix: str) -> list[tuple[str, int, str]]:
    """Each key given twice in one YAML mapping (YAML would silently keep the last), with its line."""
    found: list[tuple[str, int, str]] = []
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, f"{prefix}[{index}]")
    if not isinstance(node, yaml.MappingNode):
        return found
    first_lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
        line = key_node.start_mark.line + 1
        if key_node.value in first_lines:
            message = f"duplicate key (first given at line {first_lines[key_node.value]}); keep only one"
            found.append((path, line, message))
        else:
            first_lines[key_node.value] = line
        found += _duplicate_keys(value_node, path)
    return found


def _yaml_problem(path: Path, error: yaml.YAMLError, text: str = "") -> str:
    """``file:line: YAML syntax error: problem``, plus where the unfinished construct began if elsewhere,
    and how to write a ``${VAR}`` the line holds (its braces read as YAML's inside ``{ }`` or ``[ ]``)."""
    mark = getattr(error, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and context_mark is not None and (mark is None or context_mark.line != mark.line):
        problem += f" ({context} started at line {context_mark.line + 1})"
    lines = text.splitlines()
    if mark is not None and mark.line < len(lines) and "${" in lines[mark.line]:
        problem += (
            '; inside { } or [ ], quote a ${VAR} value ("${PORT:-4200}") or write the mapping in block style'
        )
    return f"{path}{line}: YAML syntax error: {problem}"


SECTION_ALIASES = {"DATABASES": "DATABASE", "SERVER_DATA": "SERVER_ENV"}
"""Spellings accepted for a section (flask-framework's ``DATABASES``; ``SERVER_DATA``, its runtime name)."""


def _database_alias(tree: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """Rename the aliases of :data:`SECTION_ALIASES` (``DATABASES``, ``SERVER_DATA``), before any merge.
    Both spellings given is a problem (added to ``problems``); the section's own spelling is then read, so
    that the rest of the file is still checked."""
    for alias, section in SECTION_ALIASES.items():
        if alias not in tree:
            continue
        if section in tree:
            problems.append(f"{alias}: is the same section as {section}; keep only one of them")
            tree = {key: value for key, value in tree.items() if key != alias}
            continue
        tree = {(section if key == alias else key): value for key, value in tree.items()}
    return tree


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``extra`` merged in: mappings merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _merge_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` merged over the file's ``raw`` tree, a connection given by ``url`` in one and by its keys
    in the other taken whole from ``overrides`` (``url`` and the keys it replaces never meet)."""
    merged = deep_merge(raw, overrides)
    base, given = raw.get("DATABASE"), overrides.get("DATABASE")
    if not isinstance(base, dict) or not isinstance(given, dict):
        return merged
    for name, connection in given.items():
        if not isinstance(connection, dict) or not isinstance(base.get(name), dict):
            continue
        replaced = (
            ("driver", *URL_PARTS) if "url" in connection else ("url",) if "driver" in connection else ()
        )
        merged["DATABASE"][name] = {
            key: value
            for key, value in merged["DATABASE"][name].items()
            if key not in replaced or key in connection
        }
    return merged


def _switch_hint(node: Any, shape: schema.Schema, path: str) -> str:
    """The way to write ``node``, a true or false given to a section that is turned on and off by its
    ``ENABLED`` key (``CSRF: true``, or the text ``'on'`` a ``${VAR}`` gave, for ``CSRF: {ENABLED: true}``);
    else nothing to add."""
    switched, is_boolean = _to_bool(node) if isinstance(node, bool | str) else (None, False)
    if not is_boolean or not isinstance(shape.get("ENABLED"), Key):
        return ""
    name = path.rsplit(".", 1)[-1]
    return f"; to turn it {'on' if switched else 'off'}, write `{name}: {{ENABLED: {str(switched).lower()}}}`"


class _Validator:
    """Walks the raw tree against :mod:`schema`, converting types and collecting problems."""

    def __init__(
        self,
        whole: set[str],
        warnings: list[str],
        malformed: Iterable[str] = (),
        variables: dict[str, list[str]] | None = None,
    ) -> None:
        self.whole = whole
        self.variables = variables or {}
        self.warnings = warnings
        self.malformed = frozenset(malformed)
        """Paths already refused for a malformed ``${``: their value is not judged again."""
        self.unset: dict[str, list[str]] = {}
        """For each key path, the environment variables its string names that are not set."""
        self.problems: list[str] = []

    def problem(
        self, path: str, value: Any, expected: str, secret: bool = False, shown: str | None = None
    ) -> None:
        """One line: ``path``, the value (``***`` when ``secret``; ``shown`` when given, its own redaction)
        and what is ``expected``."""
        if shown is None:
            shown = REDACTED if secret and value not in ("", None) else redact_credentials(repr(value))
        names = self.variables.get(path)
        source = f" (from {', '.join('$' + name for name in names)})" if names else ""
        self.problems.append(f"{path}: {shown}{source} is not valid; expected {expected}")

    def validate(self, raw: dict[str, Any], project_schema: schema.Schema) -> dict[str, Any]:
        """The typed tree: the framework's sections, and the project's as it declares them."""
        self._warn_unknown(raw, schema.TOP_LEVEL, prefix="")
        app_shape = project_schema.get("APP")
        declared_services = project_schema.get("SERVICES")
        return {
            "SERVER_ENV": self.section(raw.get("SERVER_ENV"), schema.SERVER_ENV, "SERVER_ENV"),
            "DATABASE": self.databases(raw.get("DATABASE")),
            "FLASK": self.flask(raw.get("FLASK"), project_flask_keys(project_schema)),
            "SERVICES": self.services(
                raw.get("SERVICES"), {**schema.SERVICES, **_as_schema(declared_services)}
            ),
            "APP": (
                self.section(raw.get("APP"), app_shape, "APP")
                if isinstance(app_shape, dict)
                else self.mapping(raw.get("APP"), "APP")
            ),
        }

    def flask(self, node: Any, project_keys: schema.Schema | None = None) -> dict[str, Any]:
        """The ``FLASK`` section, each key of ``FLASK.CONFIG`` that has a type checked and converted; a key
        the project declares (``project_keys``: its pages rely on a value) is checked by its declaration."""
        section = self.section(node, schema.FLASK, "FLASK")
        config = section["CONFIG"]
        declared = {**schema.FLASK_CONFIG_KEYS, **(project_keys or {})}
        for name, key in declared.items():
            if name in config and isinstance(key, Key):
                config[name] = self.flask_setting(config[name], key, f"FLASK.CONFIG.{name}")
        from flask import Flask  # Flask's own settings, for the slips below; loaded by the app anyway

        self._warn_of_slips(config, (*declared, *Flask.default_config))
        return section

    def _warn_of_slips(self, config: dict[str, Any], known: tuple[str, ...]) -> None:
        """A warning for each ``FLASK.CONFIG`` key one typing slip from a setting Flask or this site reads
        (``MAX_CONTENT_LENGHT``): the section is free-form (an extension may read any key), so it is passed
        on, but most likely nothing reads it."""
        for name in config:
            meant = None if name in known else _one_typo_from(str(name), known)
            if meant is not None:
                self.warnings.append(
                    f"FLASK.CONFIG.{name} is passed on to Flask, but nothing here reads it: did you mean "
                    f"FLASK.CONFIG.{meant}? (a typing slip away)"
                )

    def flask_setting(self, raw: Any, key: Key, path: str) -> Any:
        """``raw`` as the Flask setting ``key`` takes it; written as null, it is null only where Flask reads
        null (elsewhere it would reach Flask as None, not mean a default)."""
        if raw is None and not key.nullable:
            self.problem(path, raw, key.expectation())
            return None
        return self.value(raw, key, path, present=True)

    def logins(self, raw: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        """The ``LOGINS`` section, each backend validated with its own schema (see :mod:`.logins.config`)."""
        from .logins.config import logins_section  # its backends' modules load only when configured

        return logins_section(raw, base_dir, self)

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

    def section(
        self, node: Any, shape: schema.Schema, path: str, case_tolerant: bool = False
    ) -> dict[str, Any]:
        """Validate a mapping of declared keys; unknown keys are warnings naming the closest known key."""
        if node is None:
            node = {}
        if not isinstance(node, dict):
            self.problem(path, node, "a mapping of keys to values" + _switch_hint(node, shape, path))
            node = {}
        if case_tolerant:
            node = self._canonical_names(node, tuple(shape), path)
        else:
            self._warn_unknown(node, tuple(shape), prefix=path + ".")
        result: dict[str, Any] = {}
        for name, spec in shape.items():
            child_path = f"{path}.{name}"
            if isinstance(spec, Key):
                result[name] = self.value(node.get(name), spec, child_path, present=name in node)
            elif isinstance(spec, Entries):
                result[name] = self.entries(node.get(name), spec, child_path)
            else:
                result[name] = self.section(node.get(name), spec, child_path)
        return result

    def entries(self, node: Any, spec: Entries, path: str) -> dict[str, Any]:
        """Validate a mapping of free-form ids, each entry following ``spec.shape``."""
        if node is None or node == {}:
            node = dict(spec.default)
        elif not isinstance(node, dict):
            self.problem(path, node, f"a mapping of {spec.label}s to their settings")
            node = dict(spec.default)
        for required in spec.required:
            if required not in node:
                self.problems.append(f"{path}: {required!r} is required; add {path}.{required}")
        result: dict[str, Any] = {}
        for ident, entry in node.items():
            entry_path = f"{path}.{ident}"
            if isinstance(ident, bool):  # plans: {yes: ...} is a plan called True
                self.problems.append(f"{entry_path}: {_yaml_boolean_read(ident)}; an id is a text")
                continue
            if not isinstance(entry, dict):
                self.problem(entry_path, entry, "a mapping of keys to values")
                continue
            result[str(ident)] = self.section(entry, spec.shape, entry_path, spec.case_tolerant)
        if spec.check is not None:
            self.problems.extend(f"{path}: {problem}" for problem in spec.check(result))
        return result

    def value(self, raw: Any, key: Key, path: str, present: bool) -> Any:
        if path in self.malformed:  # one line for one mistake: `${PORT:4200}` is no port either
            return raw if key.kind == "str" else _copy_default(key.default)  # a text is not "empty" too
        if present and raw is None and key.nullable:
            return None
        missing = not present or raw is None or raw == ""
        if missing and key.required:
            self.problems.append(f"{path}: is missing; expected {key.expectation()}")
            return _copy_default(key.default)
        if not present or raw is None or (raw == "" and key.empty_means_default):
            return _copy_default(key.default)
        converted, ok = _convert(raw, key)
        if ok and key.convert is not None:
            try:
                converted = key.convert(converted)
            except ValueError:
                ok = False
            except Exception as error:  # noqa: BLE001 (a project's convert with a bug: one line naming the key)
                self.problems.append(
                    f"{path}: its check failed ({type(error).__name__}: {error}); a convert function "
                    "raises ValueError for a value it refuses"
                )
                return _copy_default(key.default)
        if not ok and isinstance(raw, bool) and key.kind in ("str", "choice"):
            self.problems.append(f"{path}: {_yaml_boolean_read(raw)}; expected {key.expectation()}")
            return _copy_default(key.default)
        if not ok:
            self.problem(path, raw, key.expectation(), key.secret)
            return _copy_default(key.default)
        if key.kind == "dict":
            return self.mapping(converted, path)
        return converted

    def databases(self, node: Any) -> dict[str, Any] | None:
        """The named connections; None when the section is absent (the embedded SQLite applies)."""
        if node is None:
            return None
        if not isinstance(node, dict):
            self.problem("DATABASE", node, "a mapping with `default` and named connections")
            return {}
        if not node:
            return {}  # no connection at all
        result: dict[str, Any] = {"default": node.get("default")}
        for name, connection in node.items():
            if name == "default":
                continue
            result[str(name)] = self.section(connection, schema.DATABASE_CONNECTION, f"DATABASE.{name}")
        return result

    def services(self, node: Any, known_services: schema.Schema) -> dict[str, Any]:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.problem("SERVICES", node, "a mapping of service names to their settings")
            return {}
        result: dict[str, Any] = {}
        for name, settings in node.items():
            path = f"SERVICES.{name}"
            known = known_services.get(str(name))
            if isinstance(known, dict):
                result[str(name)] = self.section(settings, known, path)
            else:
                result[str(name)] = self.mapping(settings, path)
        return result

    def _canonical_names(self, node: dict[Any, Any], known: tuple[str, ...], path: str) -> dict[str, Any]:
        """``node`` by the declared names: a known key in another case (``max_links``) is read with a
        warning; a key set twice in two cases is a problem; an unknown key a warning."""
        by_upper = {name.upper(): name for name in known}
        result: dict[str, Any] = {}
        for name, value in node.items():
            canonical = by_upper.get(str(name).upper())
            if canonical is None:
                self._warn_unknown({name: value}, known, prefix=path + ".")
                continue
            if canonical in result:
                self.problems.append(f"{path}.{name}: {canonical} is set twice; keep only {path}.{canonical}")
                continue
            if name != canonical:
                self.warnings.append(f"{path}.{name} is read as {path}.{canonical}; write it {canonical}")
            result[canonical] = value
        return result

    def _warn_unknown(self, node: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
        by_upper = {name.upper(): name for name in known}
        for name in node:
            if name in known:
                continue
            cased = by_upper.get(str(name).upper())
            if cased is not None:  # ignored, it would change nothing silently (Env: PROD serving as DEV)
                self.problems.append(
                    f"{prefix}{name}: keys are read as declared here; write it {prefix}{cased} (as written "
                    "it would be ignored)"
                )
                continue
            typo = _one_typo_from(str(name), known)
            if typo is not None:  # ignored, the key it misspells would keep its default (ENV: DEV)
                self.problems.append(
                    f"{prefix}{name}: unknown key, a typing slip away from {prefix}{typo}: write it "
                    f"{prefix}{typo} (as written it would be ignored)"
                )
                continue
            close = difflib.get_close_matches(str(name).upper(), list(by_upper), n=1, cutoff=0.6)
            hint = (
                f"; did you mean {prefix}{by_upper[close[0]]}?"
                if close
                else f"; known keys: {', '.join(known)}"
            )
            self.warnings.append(f"unknown key {prefix}{name} is ignored{hint}")


def _one_typo_from(name: str, known: tuple[str, ...]) -> str | None:
    """The known key ``name`` misspells by one slip (a letter left out, added, changed or two swapped, a
    ``-`` or space for ``_``, in any case), or None: ``EVN``, ``SESION``, ``SERVER-ENV``. Such a key is an
    error, not a warning: a misspelt ``ENV: PROD`` served the site as DEV, and ``config check`` passed it."""
    typed = _key_letters(name)
    for candidate in known:
        if _at_most_one_edit(typed, _key_letters(candidate)):
            return candidate
    return None


def _key_letters(name: str) -> str:
    return re.sub(r"[-\s]", "_", name).upper()


def _at_most_one_edit(first: str, second: str) -> bool:
    """Whether ``first`` (as typed) becomes ``second`` (a known key of 3 letters or more) by at most one
    insertion, deletion, change or swap of two neighbouring letters: ``EN`` is ``ENV`` with a letter left
    out; two letters apart from a 2-letter key are no slip."""
    if len(second) < 3 or len(first) < 2 or abs(len(first) - len(second)) > 1:
        return False
    if first == second:
        return True
    start = next(
        (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
        min(len(first), len(second)),
    )
    if len(first) == len(second):
        rest_same = first[start + 1 :] == second[start + 1 :]
        swapped = (
            first[start : start + 2] == second[start : start + 2][::-1]
            and first[start + 2 :] == second[start + 2 :]
        )
        return rest_same or swapped
    longer, shorter = (first, second) if len(first) > len(second) else (second, first)
    return longer[start + 1 :] == shorter[start:]


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
        if isinstance(raw, bool):  # YAML reads an unquoted off, no, on or yes as a boolean
            raw = _boolean_choice(raw, key.choices)
        text = str(raw).strip().lower()
        for spelling, choice in (*((choice, choice) for choice in key.choices), *key.aliases):
            if text == spelling.lower():
                return choice, True
        return raw, False
    if key.kind == "dict":
        return (raw, True) if isinstance(raw, dict) else (raw, False)
    if key.kind == "list":
        return _to_list(raw)
    raise AssertionError(f"unknown key kind {key.kind}")


YAML_BOOLEAN_WORDS = {False: ("off", "no", "false"), True: ("on", "yes", "true")}
"""The words YAML 1.1 reads as a boolean when unquoted."""


def _yaml_boolean_read(raw: bool) -> str:
    """What YAML made of an unquoted word where a text was meant, and how to write the word instead."""
    words = YAML_BOOLEAN_WORDS[raw]
    return (
        f"YAML reads an unquoted {', '.join(words[:-1])} or {words[-1]} as the boolean {str(raw).lower()}; "
        "put the word in quotes if you meant it"
    )


def _boolean_choice(raw: bool, choices: tuple[str, ...]) -> bool | str:
    """The choice a YAML boolean was written as (``VERIFY_EMAIL: off``), when a choice is one of its words."""
    for word in YAML_BOOLEAN_WORDS[raw]:
        if word in (choice.lower() for choice in choices):
            return word
    return raw


_INTEGER = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?[0-9]+\.[0-9]+")


def _scalar(text: str) -> Any:
    """Read an environment value as an int, a float, a bool or null (``null``, ``~``) when it plainly is
    one, else keep the text.

    Stricter than YAML 1.1 on purpose: ``01234``, ``12:30`` and ``on`` stay text.
    """
    stripped = text.strip()
    if stripped.lower() in ("null", "~"):
        return None
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


def _to_list(raw: Any) -> tuple[Any, bool]:
    """A list of scalars, each as a string; a string is split on commas (``${VAR}`` holding ``a, b``)."""
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()], True
    if isinstance(raw, list) and all(isinstance(item, (str, int, float)) for item in raw):
        return [str(item) for item in raw], True
    return raw, False


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
    if isinstance(value, list):
        return list(value)
    return dict(value) if isinstance(value, dict) else value


def _resolve_paths(settings: Settings, validator: _Validator) -> None:
    server = settings.tree["SERVER_ENV"]
    instance = Path(server["INSTANCE_PATH"]).expanduser()
    server["INSTANCE_PATH"] = str(
        instance if instance.is_absolute() else (settings.base_dir / instance).resolve()
    )
    if server["LOG"]["DIR"]:
        server["LOG"]["DIR"] = str(_under(settings.instance_path, server["LOG"]["DIR"]))
    media = server["MEDIA"]
    media["PATH"] = str(_under(settings.instance_path, media["PATH"] or "uploads"))
    filesystem = settings.tree["SERVICES"].setdefault("filesystem", {"PATH": "sessions"})
    filesystem["PATH"] = str(_under(settings.instance_path, filesystem.get("PATH") or "sessions"))
    ssl = server["SSL"]
    for name in ("Certificate", "PrivateKey"):
        if ssl[name]:
            ssl[name] = str(_under(settings.base_dir, ssl[name]))
            if not os.access(ssl[name], os.R_OK):
                validator.problem(f"SERVER_ENV.SSL.{name}", ssl[name], "a readable PEM file")
    if bool(ssl["Certificate"]) != bool(ssl["PrivateKey"]):
        # Named by the missing key: the certificate given alone is still judged (serve.py's TLS check).
        given, missing = (
            ("Certificate", "PrivateKey") if ssl["Certificate"] else ("PrivateKey", "Certificate")
        )
        validator.problems.append(
            f"SERVER_ENV.SSL.{missing}: must be set with SERVER_ENV.SSL.{given} (both, or neither)"
        )


def _under(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _resolve_databases(settings: Settings, validator: _Validator) -> dict[str, DatabaseSettings]:
    section = settings.tree["DATABASE"]
    if section is None:  # absent: the embedded SQLite file
        section = settings.tree["DATABASE"] = {
            "default": "main",
            "main": {**_connection_defaults(), "driver": "sqlite", "database": "conexoos.db"},
        }
    if not section:  # `DATABASE: {}`: no connection at all, for a project without models
        return {}
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
                timeouts=DatabaseTimeouts(
                    connect=section[name]["connect_timeout"],
                    pool=section[name]["pool_timeout"],
                    request=section[name]["request_timeout"],
                    lock=section[name]["lock_timeout"],
                ),
            )
    return result


def _connection_defaults() -> dict[str, Any]:
    return {
        name: _copy_default(key.default)
        for name, key in schema.DATABASE_CONNECTION.items()
        if isinstance(key, Key)
    }


def connect_arguments_problem(url: URL) -> str | None:
    """Why the driver would refuse the arguments ``url``'s query parameters make (one given twice, which
    the driver would get as a tuple; one that is no number where it needs one; one it does not take), or
    None. psycopg's ``connect`` takes any keyword and hands it to libpq, which refuses an unknown one or a
    value it cannot use only when connecting: those are checked against libpq's own (framework.libpq).
    Another driver whose ``connect`` takes any keyword is not judged here. A port outside 1 to MAX_PORT,
    which the driver would only refuse when connecting, is refused too."""
    if url.port is not None and not 1 <= url.port <= MAX_PORT:
        return f"port {url.port} is no TCP port: it is a number from 1 to {MAX_PORT}"
    if not url.query:
        return None
    repeated = _repeated_query_parameters(url)
    if repeated:
        return f"the query gives {', '.join(repeated)} more than once: keep one"
    dialect_class = url.get_dialect()
    dbapi = dialect_class.import_dbapi()
    try:
        dialect = cast(Any, dialect_class)(dbapi=dbapi)  # a DefaultDialect: the protocol has no __init__
        _, params = dialect.create_connect_args(url)
    except (ValueError, TypeError) as error:
        return f"the driver refuses its query parameters: {error}"
    try:
        parameters = inspect.signature(dbapi.connect).parameters
    except (TypeError, ValueError):  # a connect written in C: nothing to read
        return None
    if url.get_driver_name() == "psycopg":
        libpq_params = {name: value for name, value in params.items() if name not in parameters}
        return libpq.keywords_problem(set(libpq_params)) or libpq.values_problem(libpq_params)
    if any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters.values()):
        return None
    unknown = sorted(set(params) - set(parameters))
    if unknown:
        return f"the driver takes no query parameter {', '.join(unknown)}: remove it, or check its spelling"
    return None


def _repeated_query_parameters(url: URL) -> list[str]:
    """The query parameters ``url`` gives more than once (SQLAlchemy keeps their values as a tuple), but
    PostgreSQL's ``host``: SQLAlchemy makes ``?host=h1:5432&host=h2:5432`` a list of hosts."""
    multihost = "host" if url.get_backend_name() == "postgresql" else None
    return sorted(name for name, value in url.query.items() if isinstance(value, tuple) and name != multihost)


def _database_url(conn: dict[str, Any], path: str, instance: Path, validator: _Validator) -> URL | None:
    try:
        if conn["url"]:
            written = _written_url(conn["url"], f"{path}.url", validator)
            if written is None:
                return None
            url = written
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
        unused = _unused_beside_url(conn, url) if conn["url"] else []
        if unused:
            validator.problems.append(
                f"{path}: url overrides {', '.join(unused)} (a key beside url is not used): put "
                f"{'it' if len(unused) == 1 else 'them'} in the URL, or drop url and keep the keys"
            )
            return None
        url.get_dialect().import_dbapi()  # the driver's own package too: engines import it anyway
        refused = connect_arguments_problem(url)
        if refused is not None:
            validator.problems.append(f"{path}.{'url' if conn['url'] else 'params'}: {refused}")
            return None
        if not conn["url"] and not _server_named(conn, url):
            validator.problems.append(_empty_address(url, f"{path}.address", validator))
            return None
    except ImportError as error:  # the dialect is SQLAlchemy's, its driver package is not installed
        where = f"{path}.driver" if conn["driver"] else f"{path}.url"
        validator.problems.append(
            f"{where}: {url.drivername!r} needs the Python module {error.name or 'of its driver'}, which is "
            "not installed: install its package, or choose another driver"
        )
        return None
    except NoSuchModuleError:  # a subclass of ArgumentError: catch it first
        if conn["driver"]:
            validator.problem(
                f"{path}.driver", conn["driver"], "an installed SQLAlchemy driver: sqlite, postgresql, mysql"
            )
        else:  # the scheme of the url the key holds (no driver key was written); the rest may be secret
            validator.problem(
                f"{path}.url", conn["url"].split(":")[0], "a URL whose scheme is sqlite, postgresql or mysql"
            )
        return None
    except (ArgumentError, ValueError) as error:
        if conn["url"]:
            shown = shown_malformed_url(str(conn["url"]))  # the mistake is worth showing, not a password
            shown = shown if shown == REDACTED else repr(shown)
            validator.problem(f"{path}.url", conn["url"], f"a valid SQLAlchemy URL ({error})", shown=shown)
        else:
            validator.problems.append(f"{path}: cannot build a database URL from these keys ({error})")
        return None
    if url.get_backend_name() == "sqlite":
        return _sqlite_url(url, conn, path, instance, validator)
    return url


def _written_url(text: str, path: str, validator: _Validator) -> URL | None:
    """``text`` as SQLAlchemy reads it; None, with the problem added, when its user name or password is
    ambiguous (checked first: SQLAlchemy's error could quote the part of the password it took for the host)
    or its query would not reach the driver as written. SQLAlchemy's own errors are raised."""
    ambiguous = ambiguous_url_problem(text)
    if ambiguous is not None:
        validator.problems.append(f"{path}: {ambiguous}")
        return None
    url = make_url(text)
    encoded = encoded_separator_problem(text)
    if encoded is not None:
        validator.problems.append(f"{path}: {encoded}")
        return None
    return url


URL_PARTS = ("user", "password", "address", "port", "database", "params")
"""The keys of a connection that a ``url`` replaces."""
SOCKET_PARAMETERS = ("host", "unix_socket")
"""``params`` that name the server without ``address``: PostgreSQL's socket folder, MySQL's socket file."""


def _unused_beside_url(conn: dict[str, Any], url: URL) -> list[str]:
    """The keys written beside ``url`` that it overrides: each part of the URL, and a ``driver`` of another
    database than the URL's (``driver: mysql`` beside a ``mysql+pymysql://`` URL agrees with it)."""
    unused = [name for name in URL_PARTS if conn[name] not in ("", None, {})]
    if conn["driver"] and not _same_database(conn["driver"], url):
        unused.insert(0, "driver")
    return unused


def _same_database(driver: str, url: URL) -> bool:
    """Whether the ``driver`` key names the URL's own driver, or (without a ``+driver``) its database."""
    named = DRIVER_ALIASES.get(driver.lower(), driver).lower()
    if "+" in driver:
        return named == url.drivername.lower()
    return _family(named) == _family(url.drivername.lower())


def _family(drivername: str) -> str:
    """The database a SQLAlchemy driver name speaks to; MySQL's drivers reach MariaDB too."""
    backend = drivername.split("+", 1)[0]
    return "mysql" if backend in ("mysql", "mariadb") else backend


def _server_named(conn: dict[str, Any], url: URL) -> bool:
    """Whether a connection built from keys names its server: SQLite has none; PostgreSQL and MySQL/MariaDB
    without an address would use a server on this host, whichever it is."""
    if _family(url.get_backend_name()) not in ("postgresql", "mysql"):
        return True
    return bool(str(conn["address"]).strip()) or any(name in conn["params"] for name in SOCKET_PARAMETERS)


def _empty_address(url: URL, path: str, validator: _Validator) -> str:
    """The line refusing an empty ``address``, naming the variable it came from."""
    unset = validator.unset.get(path) or []
    names = validator.variables.get(path) or []
    source = f" (from ${', $'.join(names)})" if names else ""
    if unset:
        source = f" (from ${', $'.join(unset)}, {'which is' if len(unset) == 1 else 'which are'} not set)"
    return (
        f"{path}: is empty{source}; a {url.get_backend_name()} connection needs the host name or IP address "
        "of its server (localhost for this machine)"
    )


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
    if session == "sqlalchemy" and not settings.databases:
        validator.problems.append(
            "SERVER_ENV.SESSION: 'sqlalchemy' keeps sessions in the default database, and DATABASE has no "
            "connection; add one or choose another SESSION"
        )
    validator.problems += media_problems(settings)
    if server["ENV"] in ("UAT", "PROD") and not server["APP_KEY"]:
        validator.problems.append(
            f"SERVER_ENV.APP_KEY: is empty; {server['ENV']} needs a secret key: set the variable the "
            "configuration reads it from (a new project's reads ${APP_KEY}) to a long random value"
        )
    validator.warnings.extend(deployment_warnings(server))
    public_url = public_url_problems(server)
    if not public_url and server["PUBLIC_URL"]:
        server["PUBLIC_URL"] = normalised_public_url(server["PUBLIC_URL"])  # as used: in logs, config show
    validator.problems += public_url + trusted_proxies_problems(server["TRUSTED_PROXIES"])
    validator.problems += security_contact_problems(server.get("SECURITY_CONTACT") or "")
    validator.problems += smtp_config_problems(settings.tree["SERVICES"])
    validator.problems += flask_wtf_problems(
        settings.tree["FLASK"]["CONFIG"] or {}, server["CSRF"]["ENABLED"]
    )
    validator.problems += same_site_problems(settings.tree["FLASK"]["CONFIG"] or {}, server["ENV"])
    validator.problems += ambiguous_url_problems(settings.tree["SERVICES"], "SERVICES")
    validator.problems += ambiguous_url_problems(settings.tree["FLASK"]["CONFIG"] or {}, "FLASK.CONFIG")


def ambiguous_url_problems(node: Any, path: str) -> list[str]:
    """One line per string below ``node`` holding a URL whose user name or password programs would read
    differently (a redis, memcached or rate-limit storage URL: :func:`url_userinfo.ambiguous_url_problem`),
    as the database URLs are checked."""
    if isinstance(node, dict):
        return [
            line for key, value in node.items() for line in ambiguous_url_problems(value, f"{path}.{key}")
        ]
    if isinstance(node, list):
        return [
            line
            for index, item in enumerate(node)
            for line in ambiguous_url_problems(item, f"{path}[{index}]")
        ]
    problem = ambiguous_url_problem(node) if isinstance(node, str) else None
    return [f"{path}: {problem}"] if problem else []


def same_site_problems(config: dict[str, Any], env: str) -> list[str]:
    """``SESSION_COOKIE_SAMESITE: None`` on a session cookie that is not Secure (DEV's default, or
    ``SESSION_COOKIE_SECURE: false``): browsers drop such a cookie, so nobody could log in."""
    secure = config.get("SESSION_COOKIE_SECURE", env != "DEV")  # sessions.py: Secure unless DEV
    if config.get("SESSION_COOKIE_SAMESITE") != "None" or secure:
        return []
    return [
        "FLASK.CONFIG.SESSION_COOKIE_SAMESITE: 'None' needs a Secure session cookie (browsers drop a "
        "SameSite=None cookie that is not Secure: nobody could log in); use Lax, or serve over HTTPS with "
        "SESSION_COOKIE_SECURE: true"
    ]


APP_KEY_ADVISED_LENGTH = 32
"""Characters an UAT or PROD ``APP_KEY`` should have at least: it signs sessions, tokens and links."""
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""Hosts on which browsers accept ``Secure`` cookies over plain HTTP."""


def deployment_warnings(server: dict[str, Any]) -> list[str]:
    """What works under UAT and PROD but should not be left so: a short ``APP_KEY``, a ``PUBLIC_URL`` over
    plain HTTP (cookies are ``Secure`` there, so a browser on that address could not log in)."""
    if server["ENV"] not in ("UAT", "PROD"):
        return []
    found = []
    key = str(server["APP_KEY"] or "")
    if key and len(key) < APP_KEY_ADVISED_LENGTH:
        found.append(
            f"SERVER_ENV.APP_KEY: only {len(key)} characters; use at least {APP_KEY_ADVISED_LENGTH} random "
            "ones (e.g. from python -c 'import secrets; print(secrets.token_urlsafe(48))'): it signs "
            "sessions and links"
        )
    try:
        parts = urlsplit(str(server.get("PUBLIC_URL") or "").strip())
    except ValueError:  # refused by public_url_problems
        return found
    if parts.scheme == "http" and (parts.hostname or "") not in LOCAL_HOSTS:
        found.append(
            f"SERVER_ENV.PUBLIC_URL: http:// under {server['ENV']}, whose cookies are sent over HTTPS only: "
            "nobody could log in on that address; serve the site over HTTPS and give its https:// address"
        )
    return found


def media_problems(settings: Settings) -> list[str]:
    """``SERVER_ENV.MEDIA.BACKEND`` needs what it stores in: a database, or ``SERVICES.s3.BUCKET``."""
    problem = media_backend_problem(settings, settings.tree["SERVER_ENV"]["MEDIA"]["BACKEND"])
    return [f"SERVER_ENV.MEDIA.BACKEND: {problem}"] if problem else []


def media_backend_problem(settings: Settings, backend: str) -> str | None:
    """What the media ``backend`` lacks in ``settings`` (a database, ``SERVICES.s3.BUCKET``), or None."""
    if backend == "database" and not settings.databases:
        return (
            "'database' keeps media in the default database, and DATABASE has no connection; add one or "
            "choose another BACKEND"
        )
    if backend == "s3" and not (settings.tree["SERVICES"].get("s3") or {}).get("BUCKET"):
        return (
            "'s3' needs SERVICES.s3.BUCKET (and ENDPOINT_URL for a store other than AWS); add them or choose "
            "another BACKEND"
        )
    return None


EMAIL_ADDRESS = re.compile(r"[^@\s:<>()\[\],;\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def security_contact_problems(contact: str) -> list[str]:
    """RFC 9116's Contact: an email address, a ``mailto:`` one or an ``https://`` URL; empty: the default."""
    if not contact:
        return []
    address = contact[len("mailto:") :] if contact.lower().startswith("mailto:") else contact
    if EMAIL_ADDRESS.fullmatch(address):
        return []
    parts = urlsplit(contact)
    published = parts.username is None and parts.password is None  # security.txt shows it to everyone
    if (
        parts.scheme.lower() == "https"
        and parts.hostname
        and published
        and not any(c.isspace() for c in contact)
    ):
        return []
    return [
        f"SERVER_ENV.SECURITY_CONTACT: {redact_credentials(contact)!r} is not valid; expected an email "
        "address, a mailto: address or an https:// URL without a user name or password (RFC 9116)"
    ]


def _read_app_key(settings: Settings) -> None:
    """Under DEV with no APP_KEY, use the key generated earlier into the instance folder, if there is one."""
    server = settings.tree["SERVER_ENV"]
    key_file = settings.instance_path / "app_key"
    if not server["APP_KEY"] and key_file.is_file():
        server["APP_KEY"] = key_file.read_text(encoding="utf-8").strip()


INSTANCE_MODE = 0o700
"""A new instance folder's permissions: it holds the databases, sessions, mail (with its one-time links)
and the generated key, none of which other users of the machine should read."""


def make_instance_folder(folder: Path) -> None:
    """Create the instance ``folder`` (and its parents) when missing, readable by its owner only; an
    existing folder keeps the permissions its operator gave it."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=INSTANCE_MODE, exist_ok=True)


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` and each missing parent readable by their owner only (a log folder outside the
    instance folder: the log names the setup link); existing folders keep their permissions."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=INSTANCE_MODE, exist_ok=True)


def ensure_app_key(settings: Settings) -> None:
    """Under DEV with no APP_KEY, generate one once and keep it in the instance folder (the app factory
    calls this; checking or showing the configuration writes nothing)."""
    _read_app_key(settings)
    server = settings.tree["SERVER_ENV"]
    if server["APP_KEY"]:
        return
    key_file = settings.instance_path / "app_key"
    make_instance_folder(settings.instance_path)
    key = secrets.token_urlsafe(48)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    server["APP_KEY"] = key
