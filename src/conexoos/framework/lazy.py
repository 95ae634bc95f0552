"""Modules imported on first use: a library that only some requests need (Stripe, Pillow, pypdf, ...) should
cost a worker neither start-up time nor memory until one of them comes.

A module names it as usual for type checkers and lazily at run time::

    if TYPE_CHECKING:
        import stripe
    else:
        stripe = lazy_module("stripe")

``stripe.StripeError`` then imports Stripe at the first attribute read (in an ``except`` clause too: the
clause's expression is evaluated only when an exception reaches it).

A few third-party packages import all their submodules in their ``__init__`` (python-socketio, redis-py,
cachelib, ...): :func:`install_lazy_packages` (called when ``conexoos.framework`` is imported) loads those
without running their ``__init__``, each name being imported from its submodule at its first use.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """Stands for the module ``name`` and imports it when one of its attributes is first read."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)  # copy, pickle and inspect probe these: no import for them
        module = importlib.import_module(self.__name__)  # thread-safe: the import system locks per module
        value = getattr(module, attribute)
        setattr(self, attribute, value)  # the next read is a plain attribute
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__name__!r}>"


def lazy_module(name: str) -> ModuleType:
    """A stand-in for the module ``name`` (dotted names work: ``"PIL.Image"``), imported at first use."""
    return LazyModule(name)


EAGER_PACKAGES = (
    *("socketio", "engineio", "redis", "cachelib", "limits", "flask_wtf", "simple_websocket", "ua_parser"),
    *("flask_login", "pymemcache", "pymemcache.client", "redis.asyncio", "wrapt", "deprecated", "msgspec"),
    *("wtforms", "wtforms.fields"),
)
"""Packages whose ``__init__`` imports every submodule. python-socketio's brings its client stack (requests,
urllib3, websocket-client), Kafka and AMQP managers and asyncio servers to a server that uses ``Server`` and
``WSGIApp``; redis-py's brings its cluster, sentinel and asyncio clients to a module that names
``redis.exceptions.RedisError``; cachelib's brings every cache backend (and so redis-py) to the sessions'
``FileSystemCache``; limits' brings its asyncio storages, Flask-WTF's its reCAPTCHA (and urllib.request)
to the CSRF check; simple-websocket's brings wsproto and h11 to Engine.IO's threading driver, which
needs them at a socket's first upgrade; ua-parser's its YAML loader (PyYAML, 1 MiB and 50 ms) to a resolver
over its built-in matchers; Flask-Login's its test client (Flask's, click's test runner, pdb); pymemcache's
(and its ``client`` package's) every client to a module that names ``pymemcache.exceptions.MemcacheError``.
redis-py's ``asyncio`` package is one too, and must be: ``redis.client`` imports (through its commands)
``redis.asyncio.observability``, whose package's ``__init__`` imports ``redis.asyncio.client``, which imports
``redis.client`` back, half made; redis-py's own ``__init__`` avoids that by importing ``redis.asyncio``
first. Loaded lazily, ``redis.asyncio`` breaks the cycle, so ``redis.Redis`` imports its client alone
(2 MiB less than the whole package, which the failed import used to fall back to). wrapt's (for
deprecated's Sphinx directives, whose ``versionadded`` limits' strategies use) brings its proxies, post-import
hooks and patching helpers; deprecated's its ``params``; msgspec's its ``inspect``, ``structs``, TOML and
YAML modules to Flask-Session's serializer, which uses ``msgspec.msgpack`` and ``msgspec.json``; WTForms'
(and its ``fields`` package's) every field, form and data list to Flask-WTF's CSRF check, which needs its
``ValidationError`` and ``HiddenField`` (the product's forms import the fields they use). About
18 MiB and 0.4 s of CPU a worker together (wrapt's, deprecated's, msgspec's and WTForms': 0.55 MiB of it
in Python objects)."""

UNUSABLE_WITHOUT = {"flask_wtf.i18n": "flask_babel"}
"""Modules that import a heavy package first and then fail without another one: Flask-WTF's ``i18n`` imports
Babel (0.9 MiB of modules) and then Flask-Babel, and Flask-WTF takes the ImportError as "no translations".
Without the second package installed, the import fails at once instead, with the same ImportError."""


@dataclass(frozen=True)
class DeferredImports:
    """Names a module's ``__init__`` imports at its top level that only some of its functions use: they are
    imported when one of those functions is first called (or the name is read from the module)."""

    names: dict[str, str]
    """Each name and the module it is imported from (absolute)."""
    users: tuple[str, ...]
    """The functions (``function`` or ``Class.method``) that use them; a use anywhere else loads the module
    as it is."""
    modules: tuple[str, ...] = ()
    """Modules it imports whole (``import ctypes.util``, which binds ``ctypes``), deferred with the names."""

    def bound(self) -> set[str]:
        """Every name the deferred imports bind in the module."""
        return set(self.names) | {name.split(".")[0] for name in self.modules}


DEFERRED_IMPORTS = {
    "flask_socketio": DeferredImports(
        names={
            "DebuggedApplication": "werkzeug.debug",
            "run_with_reloader": "werkzeug._reloader",
            "SocketIOTestClient": "flask_socketio.test_client",
        },
        users=("SocketIO.run", "SocketIO.test_client"),
    ),
    "msgspec.json": DeferredImports(
        names={"schema": "msgspec._json_schema", "schema_components": "msgspec._json_schema"}, users=()
    ),
    "psycopg.pq.misc": DeferredImports(names={}, users=("find_libpq_full_path",), modules=("ctypes.util",)),
    "sqlalchemy.dialects.mysql": DeferredImports(
        names={
            driver: "sqlalchemy.dialects.mysql"
            for driver in ("aiomysql", "asyncmy", "cymysql", "mariadbconnector", "mysqlconnector", "pyodbc")
        },
        users=(),
    ),
    "sqlalchemy.dialects.sqlite": DeferredImports(
        names={driver: "sqlalchemy.dialects.sqlite" for driver in ("aiosqlite", "pysqlcipher")}, users=()
    ),
    "limits.storage": DeferredImports(
        names={
            "MemcachedStorage": "limits.storage.memcached",
            "MongoDBStorage": "limits.storage.mongodb",
            "MongoDBStorageBase": "limits.storage.mongodb",
            "RedisStorage": "limits.storage.redis",
            "RedisClusterStorage": "limits.storage.redis_cluster",
            "RedisSentinelStorage": "limits.storage.redis_sentinel",
        },
        users=(),
    ),
    "sqlalchemy.dialects.postgresql": DeferredImports(
        names={
            driver: "sqlalchemy.dialects.postgresql"
            for driver in ("asyncpg", "pg8000", "psycopg2", "psycopg2cffi")
        },
        users=(),
    ),
}
"""Flask-SocketIO's ``__init__`` imports Werkzeug's debugger and reloader for ``SocketIO.run`` (the
development server) and its test client (and so Flask's, click's test runner and pdb) for
``SocketIO.test_client``: 1.1 MiB and 40 ms a worker that never calls either.

SQLAlchemy's MySQL dialect imports every driver's module (with its asyncio and pyodbc connectors) where the
models only need its column types (``with_variant``) and a server at most one driver: those six are imported
when SQLAlchemy looks one up (``mysql+aiomysql://``: ``hasattr(mysql, "aiomysql")``); ``base``, ``mysqldb``
(the default driver, which the ``__init__`` names) and ``pymysql`` (Conexoos's) are kept. 0.25 MiB and
30 ms a worker. The SQLite dialect's ``aiosqlite`` and ``pysqlcipher`` likewise (``pysqlite`` is kept), and
the PostgreSQL dialect's ``asyncpg``, ``pg8000``, ``psycopg2`` and ``psycopg2cffi`` (``psycopg`` is kept).

limits' ``storage`` package imports every storage (Redis with its cluster and sentinel, memcached, MongoDB)
for its registry of schemes: only ``memory`` (which Flask-Limiter's fallback names) is kept, and
``framework/rate_limit_storage.py`` imports a scheme's storage at its first lookup. msgspec's ``json`` module
imports its JSON schema module (with ``msgspec.inspect``) for ``schema`` and ``schema_components``, which
Flask-Session's JSON decoder never calls. psycopg's ``pq.misc`` imports ctypes (0.45 MiB) to find libpq for
its ctypes implementation: the binary one (``psycopg[binary]``) never calls it."""

NOT_SUBMODULES_KEPT = 256
"""How many names a lazily loaded package remembers not to be its submodules (per package): a name read
and missing (a ``hasattr`` probe) would otherwise cost a search of its folder at each read."""
INIT_WAIT_SECONDS = 30.0
"""How long a thread waits for another thread's run of a lazily loaded package's ``__init__``."""

Export = tuple[str, str | None]
"""Where a package's name comes from: (submodule relative to the package, attribute; None for the submodule
itself)."""


class LazyPackageLoader(importlib.abc.Loader):
    """Loads a package without running its ``__init__`` at once: each name that ``__init__`` imports from
    the package's own submodules (``from .client import Client``, ``from redis.client import Redis``) is read
    from its source and imported at its first use. Any other name (``__version__``, a helper the
    ``__init__`` defines) runs the whole ``__init__`` when first read, so nothing is missing."""

    def __init__(self, eager: importlib.abc.InspectLoader) -> None:
        self.eager = eager

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """The default module (with the package's ``__path__``, so its submodules import as usual)."""
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.eager, name)  # get_resource_reader, get_filename, ...: the eager loader's

    def exec_module(self, module: ModuleType) -> None:
        """Give ``module`` a ``__getattr__`` that imports each name when first read."""
        source = self.eager.get_source(module.__name__)
        if source is None:
            raise ImportError(f"no source to load {module.__name__} lazily from", name=module.__name__)
        tree = ast.parse(source)
        hook = _LazyPackageHook(
            module, self.eager, _submodule_imports(module.__name__, tree), _bound_names(tree)
        )
        module.__getattr__ = hook  # type: ignore[method-assign]


class _LazyPackageHook:
    """The ``__getattr__`` of a package loaded by :class:`LazyPackageLoader`. It stays in place while the
    whole ``__init__`` runs: another thread reading a name the ``__init__`` has not bound yet waits for it
    to finish (instead of an AttributeError from the half-made module), and the loading thread itself sees
    the half-made module, as an eager import's own submodules do."""

    def __init__(
        self,
        module: ModuleType,
        eager: importlib.abc.Loader,
        exports: dict[str, Export],
        bound: set[str] | None,
    ) -> None:
        self.module = module
        self.eager = eager
        self.exports = exports
        self.bound = bound
        self.lock = threading.RLock()  # re-entrant: the __init__ may read its own package's names
        self.running = False
        self.ran = False
        self.not_submodules: set[str] = set()

    def __call__(self, attribute: str) -> Any:
        if attribute not in self.exports and self._is_submodule(attribute):
            self.exports[attribute] = (attribute, None)  # from redis import _himport_exec, in redis.client
        if attribute in self.exports and not self.ran:
            try:
                value = _imported(self.module.__name__, self.exports[attribute])
            except ImportError:
                pass  # an import the __init__ guards (try/except ImportError): let it decide
            else:
                setattr(self.module, attribute, value)  # the next read is a plain attribute
                return value
        if self.bound is not None and attribute not in self.bound:
            raise AttributeError(f"module {self.module.__name__!r} has no attribute {attribute!r}")
        self._run_init(attribute)
        return getattr(self.module, attribute)

    def _is_submodule(self, attribute: str) -> bool:
        """Whether ``attribute`` names one of the package's submodules; a no is remembered (up to
        :data:`NOT_SUBMODULES_KEPT` names)."""
        if attribute in self.not_submodules:
            return False
        if _is_submodule(self.module, attribute):
            return True
        if len(self.not_submodules) < NOT_SUBMODULES_KEPT:
            self.not_submodules.add(attribute)
        return False

    def _run_init(self, attribute: str) -> None:
        """Run the whole ``__init__`` once; other threads wait here until it has run (at most
        :data:`INIT_WAIT_SECONDS`: a thread importing a submodule the ``__init__`` also imports, and reading
        one of the package's names meanwhile, would otherwise wait forever on the import lock it holds)."""
        if not self.lock.acquire(timeout=INIT_WAIT_SECONDS):
            raise ImportError(
                f"waited {INIT_WAIT_SECONDS:.0f} s for the __init__ of {self.module.__name__!r} (reading "
                f"{attribute!r}) run by another thread; the next read tries again",
                name=self.module.__name__,
            )
        try:
            if self.running:  # the loading thread, from inside the __init__: the name is not bound yet
                raise AttributeError(
                    f"partially initialized module {self.module.__name__!r} has no attribute {attribute!r}"
                )
            if self.ran:
                return
            self.running = True
            try:
                self.eager.exec_module(self.module)
                self.ran = True
            except Exception as error:
                raise ImportError(
                    f"the __init__ of {self.module.__name__!r} failed (reading {attribute!r}): {error!r}; "
                    "the next read of one of its names runs it again",
                    name=self.module.__name__,
                ) from error
            finally:
                self.running = False
                self._after_init()
        finally:
            self.lock.release()

    def _after_init(self) -> None:
        """Without this hook once the ``__init__`` has run (its own ``__getattr__``, if any, is kept); with it
        again if it failed, so that the next read retries, even if it had bound its own first."""
        if not self.ran:
            self.module.__getattr__ = self  # type: ignore[method-assign]
        elif self.module.__dict__.get("__getattr__") is self:
            del self.module.__dict__["__getattr__"]


def _is_submodule(package: ModuleType, name: str) -> bool:
    if name.startswith("__"):
        return False
    found = importlib.machinery.PathFinder.find_spec(f"{package.__name__}.{name}", package.__path__)
    return found is not None


def _bound_names(tree: ast.Module) -> set[str] | None:
    """Every name a package's ``__init__`` binds at its top level (in its ``if`` and ``try`` blocks too);
    None when it may bind any (a star import, a module ``__getattr__``)."""
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)  # not its body: names bound there are not the module's
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if any(alias.name == "*" for alias in node.names):
                return None
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.stmt | ast.excepthandler | ast.expr):
            pending.extend(ast.iter_child_nodes(node))
    return None if "__getattr__" in names else names


def _imported(package: str, export: Export) -> Any:
    submodule, attribute = export
    imported = importlib.import_module(f"{package}.{submodule}")
    return imported if attribute is None else getattr(imported, attribute)


def _submodule_imports(package: str, tree: ast.Module) -> dict[str, Export]:
    """The names a package's ``__init__`` imports from its own submodules, at its top level or in a
    ``try`` block there."""
    statements = list(tree.body)
    for node in tree.body:
        if isinstance(node, ast.Try):
            statements.extend(node.body)
    exports: dict[str, Export] = {}
    for node in statements:
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module or ""
        if node.level == 1:
            relative = module
        elif node.level == 0 and (module == package or module.startswith(package + ".")):
            relative = module[len(package) + 1 :]
        else:
            continue
        for alias in node.names:
            if alias.name == "*":
                continue
            if relative:
                exports[alias.asname or alias.name] = (relative, alias.name)
            else:  # from . import client: the submodule itself
                exports[alias.asname or alias.name] = (alias.name, None)
    return exports


class DeferredImportLoader(importlib.abc.Loader):
    """Runs a module's source without the top-level imports of its :class:`DeferredImports`; each of its
    ``users`` imports them all before its first call, and reading one from the module imports it too."""

    def __init__(self, eager: importlib.abc.InspectLoader, deferred: DeferredImports) -> None:
        self.eager = eager
        self.deferred = deferred

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """The default module."""
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.eager, name)

    def exec_module(self, module: ModuleType) -> None:
        """Run the source without the deferred imports, or as it is if it uses them elsewhere."""
        source = self.eager.get_source(module.__name__)
        tree = ast.parse(source) if source is not None else None
        package = module.__package__ or module.__name__  # a plain module's relative imports: its parent's
        if tree is None or not self._defers(package, tree):
            self.eager.exec_module(module)  # a version of the package that uses them differently
            return
        filename = getattr(module.__spec__, "origin", None) or module.__name__
        exec(compile(tree, filename, "exec"), module.__dict__)
        lock = threading.Lock()

        def bind() -> None:
            with lock:
                for name, source_module in self.deferred.names.items():
                    if name in module.__dict__:
                        continue
                    if source_module == module.__name__:  # from . import driver: a submodule
                        module.__dict__[name] = importlib.import_module(f"{source_module}.{name}")
                    else:
                        module.__dict__[name] = getattr(importlib.import_module(source_module), name)
                for name in self.deferred.modules:
                    importlib.import_module(name)
                    module.__dict__.setdefault(name.split(".")[0], sys.modules[name.split(".")[0]])

        for user in self.deferred.users:
            owner_name, _, function_name = user.rpartition(".")
            owner = getattr(module, owner_name) if owner_name else module
            setattr(owner, function_name, _binding_first(getattr(owner, function_name), bind))

        def __getattr__(attribute: str) -> Any:
            if attribute not in self.deferred.bound():
                raise AttributeError(f"module {module.__name__!r} has no attribute {attribute!r}")
            bind()
            return module.__dict__[attribute]

        module.__getattr__ = __getattr__  # type: ignore[method-assign]

    def _defers(self, package: str, tree: ast.Module) -> bool:
        """Remove the deferred imports from ``tree``; False if it imports or uses them otherwise."""
        kept: list[ast.stmt] = []
        removed: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and all(
                self.deferred.names.get(alias.asname or alias.name) == _absolute(package, node)
                and alias.asname is None
                for alias in node.names
            ):
                removed.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Import) and all(
                alias.name in self.deferred.modules and alias.asname is None for alias in node.names
            ):
                removed.update(alias.name.split(".")[0] for alias in node.names)
            else:
                kept.append(node)
        if removed != self.deferred.bound() or _uses(kept, removed, self.deferred.users):
            return False
        tree.body = kept
        return True


def _absolute(package: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def _uses(statements: list[ast.stmt], names: set[str], users: tuple[str, ...]) -> bool:
    """Whether any code in ``statements`` outside the functions ``users`` mentions one of ``names``."""
    pending: list[tuple[str, ast.AST]] = [("", statement) for statement in statements]
    while pending:
        scope, node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            qualified = f"{scope}.{node.name}" if scope else node.name
            if qualified in users:
                continue
            pending.extend((qualified, child) for child in ast.iter_child_nodes(node))
        elif isinstance(node, ast.Name) and node.id in names:
            return True
        else:
            pending.extend((scope, child) for child in ast.iter_child_nodes(node))
    return False


def _binding_first(function: Callable[..., Any], bind: Callable[[], None]) -> Callable[..., Any]:
    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        bind()
        return function(*args, **kwargs)

    return call


class LazyPackageFinder(importlib.abc.MetaPathFinder):
    """Finds the packages named ``packages`` and loads them with :class:`LazyPackageLoader`."""

    def __init__(self, packages: Sequence[str] = EAGER_PACKAGES) -> None:
        self.packages = frozenset(packages)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """A lazily loaded spec for one of the packages; None for any other module. A module of
        :data:`UNUSABLE_WITHOUT` whose requirement is not installed is a ModuleNotFoundError at once."""
        requirement = UNUSABLE_WITHOUT.get(fullname)
        if requirement is not None and importlib.util.find_spec(requirement) is None:
            raise ModuleNotFoundError(
                f"{fullname} needs {requirement}, which is not installed", name=requirement
            )
        if fullname not in self.packages and fullname not in DEFERRED_IMPORTS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.abc.InspectLoader):
            return spec  # not found (the import fails as usual) or not from source: loaded eagerly
        if fullname in DEFERRED_IMPORTS:
            spec.loader = DeferredImportLoader(spec.loader, DEFERRED_IMPORTS[fullname])
        else:
            spec.loader = LazyPackageLoader(spec.loader)
        return spec


def install_lazy_packages() -> None:
    """Load :data:`EAGER_PACKAGES` lazily from now on (once; a package imported already stays as it is)."""
    if not any(isinstance(finder, LazyPackageFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, LazyPackageFinder())
