"""Locate a project in the seed-001 layout and import its parts.

A project is either a folder (put on ``sys.path`` so that the seed's ``import Controllers`` works) or an
importable package such as ``conexoos.app``. Every part is optional; a part that exists but fails to
import raises, so a broken module never becomes a silently missing route.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from . import compat_import, schema
from .errors import ProjectError
from .schema_checks import declaration_problems

PROJECT_ENV_VAR = "CONEXOOS_PROJECT"
DEFAULT_PROJECT = "conexoos.app"

# Module names tried for each part, lowercase first, then the seed's CamelCase.
PART_NAMES: dict[str, tuple[str, ...]] = {
    "server": ("server", "Server"),
    "web": ("web", "Web"),
    "ws": ("ws", "WS", "Ws"),
    "middleware": ("middleware", "Middleware"),
    "errorhandler": ("errorhandler", "ErrorHandler", "error_handler"),
    "socket": ("socket", "Socket"),
    "tasks": ("tasks", "Tasks"),
    "commands": ("commands", "Commands"),
    "config": ("config", "Config"),
    "models": ("models", "Models"),
    "persistent": ("persistent", "Persistent"),
}
TOP_LEVEL_NAMES = {"server", "Server", "controllers", "Controllers", "models", "Models"}
_path_roots: list[str] = []


@dataclass(frozen=True)
class Project:
    """Where a project lives and how its modules are named."""

    root: Path
    package: str
    """Dotted prefix of the project's modules: ``""`` for a folder project, ``conexoos.app`` for a package."""

    @property
    def name(self) -> str:
        return self.package or self.root.name

    def module_roots(self) -> tuple[str, ...]:
        """The top-level names its modules' loggers live under: its package, or, for a folder project, each
        spelling of its top-level packages (``server``, ``Controllers``...)."""
        return (self.package,) if self.package else tuple(sorted(TOP_LEVEL_NAMES))

    def qualified(self, name: str) -> str:
        return f"{self.package}.{name}" if self.package else name

    def find_module(self, parent: str | None, part: str) -> str | None:
        """Return the importable name of ``part`` (trying each spelling) under ``parent``, or None."""
        for spelling in PART_NAMES.get(part, (part,)):
            name = f"{parent}.{spelling}" if parent else self.qualified(spelling)
            if module_exists(name):
                return name
        return None

    def import_part(self, parent: str | None, part: str) -> ModuleType | None:
        """Import ``part`` if the project has it; errors inside the module propagate unchanged, but for a
        syntax error, a :class:`ProjectError` naming its file and line."""
        name = self.find_module(parent, part)
        return import_project_module(name) if name else None

    def folder(self, configured: str, alternatives: tuple[str, ...]) -> Path | None:
        """The first existing folder among the configured name and its alternatives."""
        for candidate in (configured, *alternatives):
            path = (self.root / candidate).resolve()
            if path.is_dir():
                return path
        return None


def import_project_module(name: str) -> ModuleType:
    """Import the project's module ``name``; a syntax error in it, or in a module it imports, is a
    :class:`ProjectError` naming the file, the line and Python's message, not a traceback through the
    framework's frames."""
    with _syntax_errors_named():
        return importlib.import_module(name)


@contextmanager
def _syntax_errors_named() -> Iterator[None]:
    recorder = _ImportRecorder()
    sys.meta_path.insert(0, recorder)
    try:
        yield
    except (SyntaxError, ValueError) as error:
        # Python reports a NUL byte in a source file with no file name (a SyntaxError, or a ValueError on an
        # older Python): the file is found among the modules this import tried, by their specs.
        located = error if isinstance(error, SyntaxError) else None
        if located is None or located.filename is None:
            located = _null_byte_error(recorder.tried, str(error)) or located
        if located is None:
            raise
        raise ProjectError(describe_syntax_error(located)) from error
    finally:
        sys.meta_path.remove(recorder)


class _ImportRecorder:
    """On ``sys.meta_path`` while a project module is imported: notes the name of every module imported
    (for a message naming the file that failed), and leaves the finding to the finders after it."""

    def __init__(self) -> None:
        self.tried: list[tuple[str, Sequence[str] | None]] = []
        """Each module's name, with the folders its parent package searches (None: a top-level one)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: object = None) -> None:
        self.tried.append((fullname, path))


def _null_byte_error(tried: list[tuple[str, Sequence[str] | None]], message: str) -> SyntaxError | None:
    """Python's error for a NUL byte, placed at the first NUL byte of the last module ``tried`` that did
    not import and whose source holds one; None when there is no such module."""
    if "null bytes" not in message:
        return None
    for name, path in reversed(tried):
        found = _source_file(name, path) if name not in sys.modules else None
        if found is not None and b"\0" in found[1]:
            line = found[1][: found[1].index(b"\0")].count(b"\n") + 1
            return SyntaxError(message, (found[0], line, None, None))
    return None


def _source_file(name: str, path: Sequence[str] | None) -> tuple[str, bytes] | None:
    """The file module ``name`` is loaded from, searched in ``path`` as the import did (its parent package
    is not imported again: it may be the module that failed), and its bytes; None for no such file."""
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.origin is None or not spec.has_location:
            return None
        return spec.origin, Path(spec.origin).read_bytes()
    except (ImportError, ValueError, OSError):
        return None


def describe_syntax_error(error: SyntaxError) -> str:
    """One line: ``SyntaxError: invalid syntax in FILE, line N: the line's code``."""
    where = f" in {error.filename}, line {error.lineno}" if error.filename else ""
    code = f": {error.text.strip()}" if error.text and error.text.strip() else ""
    return f"{type(error).__name__}: {error.msg}{where}{code}"


def locate_project(spec: str | os.PathLike[str] | None = None) -> Project:
    """Find the project named by ``spec``, ``$CONEXOOS_PROJECT``, or the Conexoos product itself."""
    chosen = str(spec or os.environ.get(PROJECT_ENV_VAR) or DEFAULT_PROJECT)
    path = Path(chosen).expanduser()
    if path.is_dir():
        return _folder_project(path.resolve())
    if path.exists():
        raise ProjectError(f"project {chosen!r} is a file; expected a project folder")
    if os.sep in chosen or chosen.startswith(".") or not _is_dotted_name(chosen):
        raise ProjectError(f"project folder {chosen!r} does not exist")
    try:
        spec_found = importlib.util.find_spec(chosen)
    except (ModuleNotFoundError, ValueError):
        spec_found = None
    if spec_found is None or not spec_found.submodule_search_locations:
        raise ProjectError(
            f"project folder {chosen!r} does not exist, and no package of that name is installed"
        )
    return Project(root=Path(next(iter(spec_found.submodule_search_locations))).resolve(), package=chosen)


def project_schema(project: Project) -> schema.Schema:
    """The keys the project declares for its own sections: ``SCHEMA`` in its ``server/config.py``.

    ``SCHEMA`` maps ``APP`` to a section (keys, sub-sections, :class:`~conexoos.framework.schema.Entries`)
    and ``SERVICES`` to service entries the framework does not define. A project without that module
    declares nothing, and its ``APP`` section is read as written.
    """
    server = project.find_module(None, "server")
    module = project.import_part(server, "config") if server else None
    if module is None:
        return {}
    declared = getattr(module, "SCHEMA", {})  # a seed project's own Config module may declare nothing
    if not isinstance(declared, dict):
        raise ProjectError(f"{module.__name__}.SCHEMA ({module.__file__}) is not a mapping of sections")
    _check_project_schema(declared, module.__name__)
    problems = [line for section, shape in declared.items() for line in declaration_problems(shape, section)]
    if problems:
        raise ProjectError(f"{module.__name__}.SCHEMA ({module.__file__}): " + "; ".join(problems))
    return declared


def _check_project_schema(declared: dict[str, object], where: str) -> None:
    for section, shape in declared.items():
        if section not in schema.PROJECT_SECTIONS:
            raise ProjectError(
                f"{where}.SCHEMA: {section!r} cannot be declared by a project; declare keys under "
                + " or ".join(schema.PROJECT_SECTIONS)
            )
        if not isinstance(shape, dict):
            raise ProjectError(f"{where}.SCHEMA: {section} is {shape!r}; declare it as a mapping of keys")
    flask = declared.get("FLASK")
    if isinstance(flask, dict) and (set(flask) - {"CONFIG"} or not isinstance(flask.get("CONFIG"), dict)):
        raise ProjectError(f"{where}.SCHEMA: FLASK declares only CONFIG, a mapping of FLASK.CONFIG keys")
    services = declared.get("SERVICES")
    for name in services if isinstance(services, dict) else {}:
        if name in schema.SERVICES:
            raise ProjectError(
                f"{where}.SCHEMA: SERVICES.{name} is declared by the framework; choose another service name"
            )


def _folder_project(root: Path) -> Project:
    _forget_other_projects(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
        _path_roots.append(str(root))
    importlib.invalidate_caches()
    compat_import.install(root)  # `import flask_framework` works for a project written for flask-framework
    return Project(root=root, package="")


def _forget_other_projects(root: Path) -> None:
    """Drop modules and sys.path entries of a previously loaded folder project, so names do not clash.

    Every module living under another project's folder goes (``utils``, ``settings``... not only the seed's
    names), and so does any seed-named module (``server``, ``Controllers``...) from outside this project.
    """
    others = [Path(other) for other in _path_roots if other != str(root)]
    for other in others:
        if str(other) in sys.path:
            sys.path.remove(str(other))
        _path_roots.remove(str(other))
    for name, module in list(sys.modules.items()):
        seed_name = name.split(".")[0] in TOP_LEVEL_NAMES
        if not others and not seed_name:
            continue
        location = _module_location(module)
        inside_other = location is not None and any(_imported_from(name, location, other) for other in others)
        foreign_seed_name = seed_name and (location is None or not location.is_relative_to(root))
        if inside_other or foreign_seed_name:
            del sys.modules[name]


def _imported_from(name: str, location: Path, root: Path) -> bool:
    """Whether module ``name`` was found with ``root`` as its import folder.

    A virtualenv or ``src/`` folder inside the project holds modules under the project's folder that are not
    the project's own: their first path part below ``root`` is not their top-level name.
    """
    if not location.is_relative_to(root):
        return False
    first, top = location.relative_to(root).parts[0], name.split(".")[0]
    return first == top or first.startswith(top + ".")


def _module_location(module: ModuleType) -> Path | None:
    """The file (or first folder, for a namespace package) a module was loaded from."""
    location = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", None) or []), None)
    return Path(location).resolve() if location else None


def _is_dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def module_exists(name: str) -> bool:
    """Whether module ``name`` can be imported (its parent packages are imported to know)."""
    parent, _, _ = name.rpartition(".")
    if parent and not module_exists(parent):
        return False
    try:
        with _syntax_errors_named():  # finding a module imports its parent package
            return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError as error:
        # Only "this very module is absent" means absent; a missing import inside the parent is a real error.
        if error.name == name:
            return False
        raise
