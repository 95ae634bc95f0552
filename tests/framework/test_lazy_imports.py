"""Libraries only some requests need are imported at their first use, not with the app (framework/lazy.py).

The app is built in a fresh interpreter (this test process has imported everything already), serves the
public page and a redirect, and must not have imported them; then one use of each imports it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conexoos.app.controllers.accounts import create_account
from conexoos.app.controllers.blocks.product import create_product
from conexoos.app.models.persistent import UserLink
from conexoos.app.server.blueprint_routes import BLUEPRINTS as LAZY_BLUEPRINTS
from conexoos.framework import db, lazy
from conexoos.framework.lazy import EAGER_PACKAGES, DeferredImports, LazyPackageFinder, lazy_module
from tests.conftest import TEST_DATABASE, AppFactory, base_overrides
from tests.fixtures.empty_database import database_url

REPO = Path(__file__).resolve().parents[2]
FIRST_USE_ONLY = (
    *("stripe", "PIL", "pypdf", "webauthn", "segno", "markdown_it", "nh3"),
    # python-socketio's client stack and message queues, redis-py's clients (framework/lazy.py's packages)
    *("socketio.client", "engineio.client", "requests", "socketio.redis_manager", "redis.client"),
    *("redis.asyncio", "cachelib.redis", "limits.aio", "flask_wtf.recaptcha", "wsproto"),
    "sqlalchemy.dialects.postgresql",  # on SQLite (the analytics flush's insert imports it on PostgreSQL)
    "sqlalchemy.dialects.mysql",  # on SQLite: MariaDB's column types are framework/mariadb_types.py's
    "babel",  # prices in en_US and the CURRENCY check come from conexoos.app.currency_table
    "yaml",  # a JSON configuration file; ua-parser's YAML loader
    "croniter",  # the product schedules its tasks by interval: only a cron task needs it
    "argon2",  # no password is checked or set
    "idna",  # no host name or address is converted to ASCII
    "flask_cors",  # no CORS_* key in FLASK.CONFIG
    "pymemcache.client",  # no memcached: only pymemcache.exceptions, for the error tuples
    "email.policy",  # no mail is built (email's header parser and policies)
    "smtplib",  # no mail is sent
    # SQLAlchemy's drivers other than pysqlite, psycopg, PyMySQL and mysqlclient (framework/lazy.py)
    *("sqlalchemy.dialects.mysql.aiomysql", "sqlalchemy.dialects.sqlite.aiosqlite", "sqlalchemy.connectors"),
    # limits' other storages (framework/rate_limit_storage.py), all of wrapt but what deprecated's Sphinx
    # directives need (limits' strategies use one), msgspec's JSON schema, inspect, TOML and YAML modules
    *("limits.storage.redis", "limits.storage.memcached", "limits.storage.mongodb", "deprecated.params"),
    *("wrapt.importer", "wrapt.patches", "wrapt.proxies", "msgspec._json_schema", "msgspec.inspect"),
    *("msgspec.toml", "msgspec.yaml", "msgspec._core"),  # the session store's serializer, at its first use
    *("wtforms.datalist", "wtforms.fields.numeric", "wtforms.fields.list"),  # fields the forms do not use
    # Flask-SocketIO's debugger, reloader and test client, Flask-Login's test client (framework/lazy.py)
    *("werkzeug.debug", "werkzeug._reloader", "flask_socketio.test_client", "flask_login.test_client", "pdb"),
    # the blueprints registered by their rules (framework/lazy_blueprints.py), and what only they use
    *(blueprint.reference.partition(":")[0] for blueprint in LAZY_BLUEPRINTS.values()),
    "conexoos.app.blueprints.login_completion",
    # accounts' second steps, loaded by the setup blueprint's hook through its controller until 2026-12
    *("pyotp", "conexoos.app.controllers.second_factor", "conexoos.app.controllers.reentered_password"),
    *("conexoos.app.controllers.accounts", "conexoos.app.controllers.invites"),  # and through link locks
    "ua_parser_builtins.lazy",  # ua-parser's patterns: the analytics flush classifies, not the request
)
OTHER_DIALECTS = {
    "sqlite": ("sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.mysql"),
    "postgresql": ("sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.mysql", "sqlite3"),
    "mariadb": ("sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql", "sqlite3"),
}
"""SQLAlchemy's dialects of the databases a server on each kind of the matrix does not use, and the
standard library's SQLite driver (1 MiB a worker; the SQLite file checks of `run` imported it)."""
SEED = """
import sys
from conexoos.framework import create_app, db
from conexoos.framework.database import create_schema
from conexoos.app.controllers.accounts import create_account
from conexoos.app.controllers.blocks.product import create_product
from conexoos.app.models.persistent import UserLink

app = create_app(None, sys.argv[1])
create_schema(app, app.extensions["conexoos"].settings)
with app.app_context():
    user = create_account("maya@example.com", "maya", "quiet measured passphrase")
    link = UserLink(owner_id=user.id, title="Shop", url="https://example.com/shop", order_index=0)
    db.session.add(link)
    create_product(user, {"title": "Print", "price": 1500, "currency": "EUR", "buy_url": "https://example.com/b"})
    db.session.commit()
    print(link.id)
"""
SERVE = """
import io, sys
from conexoos.framework.wsgi import app  # as a gunicorn worker loads it, served without a test client

def get(path):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/12",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    statuses = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return int(statuses[0].split()[0]), body

page, body = get("/maya")
print([page, get(f"/go/{sys.argv[1]}")[0]], "€15.00" in body.decode())
print(sorted(name for name in sys.argv[2:] if name in sys.modules))
"""


def test_the_public_page_and_a_redirect_import_none_of_them(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "SERVER_ENV": {"APP_KEY": "lazy-imports-" + "k" * 40, "INSTANCE_PATH": str(tmp_path / "i")},
                "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{tmp_path / 'app.db'}"}},
            }
        )
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), "CONFIG_FILE": str(config)}
    seeded = _run([SEED, str(config)], environment)
    served = _run([SERVE, seeded.strip().splitlines()[-1], *FIRST_USE_ONLY], environment)
    assert served.strip().splitlines()[-2:] == ["[200, 302] True", "[]"]


@pytest.mark.database_matrix
def test_a_server_imports_no_dialect_of_another_database(make_app: AppFactory, tmp_path: Path) -> None:
    """A worker on PostgreSQL or MariaDB does not import SQLite's dialect (the tables' options once made
    it check ``sqlite_autoincrement``), nor one on SQLite another server's."""
    app = make_app()
    with app.app_context():
        user = create_account("maya@example.com", "maya", "quiet measured passphrase")
        link = UserLink(owner_id=user.id, title="Shop", url="https://example.com/shop", order_index=0)
        db.session.add(link)
        product = {"title": "Print", "price": 1500, "currency": "EUR", "buy_url": "https://example.com/b"}
        create_product(user, product)
        db.session.commit()
        link_id = link.id
    config = tmp_path / "serve.json"
    config.write_text(json.dumps(base_overrides(tmp_path, database_url(app))))
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), "CONFIG_FILE": str(config)}
    served = _run([SERVE, str(link_id), *OTHER_DIALECTS[TEST_DATABASE]], environment)
    assert served.strip().splitlines()[-2:] == ["[200, 302] True", "[]"]


CSRF_MODULES = ("flask_wtf", "flask_wtf.csrf", "wtforms", "wtforms.csrf.core", "conexoos.framework.csrf")
PROTECTED = """
import json, sys
import conexoos.framework
from conexoos.framework import create_app, csrf_exempt

imported = [name for name in sys.argv[2:] if name in sys.modules]
client = create_app(sys.argv[1]).test_client()
statuses = [client.post("/save").status_code, client.post("/webhook").status_code]
print(json.dumps([imported, statuses, [name for name in sys.argv[2:] if name in sys.modules]]))
"""
PROTECTED_WEB = """
from conexoos.framework import csrf_exempt


@csrf_exempt
def webhook():
    return "webhook"


class Route:
    def __init__(self, server):
        server.add_url_rule("/save", "save", lambda: "saved", methods=["POST"])
        server.add_url_rule("/webhook", "webhook", webhook, methods=["POST"])
"""


def test_the_framework_imports_flask_wtf_with_its_first_app_not_with_the_package(tmp_path: Path) -> None:
    """``import conexoos.framework`` (every CLI command, one that builds no app too) imported Flask-WTF's
    CSRF module and WTForms, 14 modules; the first app imports them, and its writes are checked."""
    project = tmp_path / "protected"
    (project / "server").mkdir(parents=True)
    (project / "server" / "__init__.py").write_text("")
    (project / "server" / "web.py").write_text(PROTECTED_WEB)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "SERVER_ENV": {
                    "APP_KEY": "lazy-imports-" + "k" * 40,
                    "INSTANCE_PATH": str(tmp_path / "i"),
                    "CSRF": {"ENABLED": True},
                },
                "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{tmp_path / 'app.db'}"}},
            }
        )
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), "CONFIG_FILE": str(config)}
    output = _run([PROTECTED, str(project), *CSRF_MODULES], environment)
    before, statuses, after = json.loads(output.strip().splitlines()[-1])
    assert before == []
    assert statuses == [400, 200]
    assert after == list(CSRF_MODULES)


def _run(arguments: list[str], environment: dict[str, str]) -> str:
    """The output of ``python -c`` with ``arguments`` in a fresh interpreter (which must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_lazy_module_is_imported_at_its_first_attribute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conexoos_lazy_probe.py").write_text("class ProbeError(Exception):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    probe = lazy_module("conexoos_lazy_probe")
    assert "conexoos_lazy_probe" not in sys.modules
    try:
        raise probe.ProbeError("raised")
    except probe.ProbeError as error:  # the except clause reads the attribute too
        assert str(error) == "raised"
    assert "conexoos_lazy_probe" in sys.modules
    assert probe.ProbeError is sys.modules["conexoos_lazy_probe"].ProbeError
    monkeypatch.delitem(sys.modules, "conexoos_lazy_probe")


PACKAGE_INIT = """
from .light import Light
from .heavy import Heavy
from lazy_probe_package import plain
try:
    from .absent import Missing
except ImportError:
    Missing = None
__version__ = "1.0"
"""


@pytest.fixture
def probe_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``lazy_probe_package``: an ``__init__`` importing every submodule, loaded by a LazyPackageFinder."""
    package = tmp_path / "lazy_probe_package"
    package.mkdir()
    (package / "__init__.py").write_text(PACKAGE_INIT)
    (package / "light.py").write_text("class Light:\n    pass\n")
    (package / "heavy.py").write_text("class Heavy:\n    pass\n")
    (package / "plain.py").write_text("VALUE = 3\n")
    (package / "unnamed.py").write_text("VALUE = 4\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = LazyPackageFinder(["lazy_probe_package"])
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    yield package
    for name in [name for name in sys.modules if name.split(".")[0] == "lazy_probe_package"]:
        del sys.modules[name]  # not monkeypatch.delitem: its undo would put them back


def _loaded() -> list[str]:
    return sorted(name for name in sys.modules if name.startswith("lazy_probe_package."))


def test_a_lazy_package_imports_a_submodule_when_its_name_is_first_read(probe_package: Path) -> None:
    from lazy_probe_package import Light  # type: ignore[import-not-found]

    assert _loaded() == ["lazy_probe_package.light"]
    import lazy_probe_package  # type: ignore[import-not-found]

    assert lazy_probe_package.Heavy is sys.modules["lazy_probe_package.heavy"].Heavy
    assert lazy_probe_package.plain.VALUE == 3  # from the package itself: its submodule
    assert lazy_probe_package.Light is Light
    assert _loaded() == ["lazy_probe_package.heavy", "lazy_probe_package.light", "lazy_probe_package.plain"]
    from lazy_probe_package import unnamed  # a submodule its __init__ does not name

    assert unnamed.VALUE == 4


def test_a_name_the_init_defines_runs_the_whole_init(probe_package: Path) -> None:
    import lazy_probe_package

    assert lazy_probe_package.Missing is None  # its guarded import failed: the __init__ decided
    assert lazy_probe_package.__version__ == "1.0"
    assert _loaded() == ["lazy_probe_package.heavy", "lazy_probe_package.light", "lazy_probe_package.plain"]


def test_a_name_the_package_lacks_is_an_error_without_running_the_init(probe_package: Path) -> None:
    with pytest.raises(ImportError, match="socketio_manage"):
        from lazy_probe_package import socketio_manage  # noqa: F401 (Flask-SocketIO probes for it so)
    assert _loaded() == []


def test_a_name_found_not_to_be_a_submodule_is_not_searched_for_again(
    probe_package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lazy_probe_package

    searched: list[str] = []

    def is_submodule(package: Any, name: str) -> bool:
        searched.append(name)
        return name == "unnamed"

    monkeypatch.setattr(lazy, "_is_submodule", is_submodule)
    monkeypatch.setattr(lazy, "NOT_SUBMODULES_KEPT", 2, raising=False)
    for _ in range(3):
        for name in ("first", "second", "third"):
            assert not hasattr(lazy_probe_package, name)  # a probe, as SQLAlchemy's for a driver
    assert searched == ["first", "second", "third", "third", "third"]  # the third is past the cap
    assert lazy_probe_package.unnamed.VALUE == 4
    assert _loaded() == ["lazy_probe_package.unnamed"]


GATED_INIT = """
import lazy_gate_control as control
from .light import Light
import lazy_gate_package as itself
EARLY = hasattr(itself, "VERSION")  # the loading thread reads a name not bound yet
control.entered.set()
control.release.wait(5)
if control.failures:
    control.failures.pop()
    raise RuntimeError("a dependency is down")
VERSION = "1.0"
"""


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[types.SimpleNamespace]:
    """``lazy_gate_package``, whose ``__init__`` waits for ``release`` and raises once per ``failures``."""
    control = types.SimpleNamespace(entered=threading.Event(), release=threading.Event(), failures=[])
    monkeypatch.setitem(sys.modules, "lazy_gate_control", control)
    package = tmp_path / "lazy_gate_package"
    package.mkdir()
    (package / "__init__.py").write_text(GATED_INIT)
    (package / "light.py").write_text("class Light:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", [LazyPackageFinder(["lazy_gate_package"]), *sys.meta_path])
    yield control
    for name in [name for name in sys.modules if name.split(".")[0] == "lazy_gate_package"]:
        del sys.modules[name]


def _read_in_thread(module: Any, attribute: str, results: list[object]) -> threading.Thread:
    def read() -> None:
        try:
            results.append(getattr(module, attribute))
        except (AttributeError, ImportError) as error:  # the test asserts on it
            results.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def test_a_thread_reading_a_name_while_another_thread_runs_the_init_waits(
    gate: types.SimpleNamespace,
) -> None:
    import lazy_gate_package  # type: ignore[import-not-found]

    first: list[object] = []
    second: list[object] = []
    loading = _read_in_thread(lazy_gate_package, "VERSION", first)
    assert gate.entered.wait(5)
    waiting = _read_in_thread(lazy_gate_package, "VERSION", second)
    waiting.join(0.2)
    assert waiting.is_alive() and second == []  # waits on the __init__ instead of an AttributeError
    assert (
        lazy_gate_package.Light is sys.modules["lazy_gate_package.light"].Light
    )  # a submodule's name does not
    gate.release.set()
    loading.join(5)
    waiting.join(5)
    assert first == second == ["1.0"]
    assert lazy_gate_package.EARLY is False  # the loading thread saw its half-made module, without a deadlock
    assert "__getattr__" not in vars(lazy_gate_package)


def test_an_init_that_fails_is_an_import_error_and_runs_again_at_the_next_read(
    gate: types.SimpleNamespace,
) -> None:
    import lazy_gate_package

    gate.failures.append(True)
    gate.release.set()
    with pytest.raises(ImportError, match="lazy_gate_package.*VERSION.*a dependency is down") as raised:
        lazy_gate_package.VERSION  # noqa: B018 (the read runs the __init__)
    assert isinstance(raised.value.__cause__, RuntimeError)
    assert lazy_gate_package.VERSION == "1.0"


def test_a_thread_waits_for_another_threads_init_only_so_long(
    gate: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wait that cannot end (the loading thread waits on an import lock the reader holds) ends in an
    ImportError naming the package after INIT_WAIT_SECONDS, not in a hung worker; the next read works."""
    import lazy_gate_package

    from conexoos.framework import lazy

    monkeypatch.setattr(lazy, "INIT_WAIT_SECONDS", 0.1)
    first: list[object] = []
    second: list[object] = []
    loading = _read_in_thread(lazy_gate_package, "VERSION", first)
    assert gate.entered.wait(5)
    _read_in_thread(lazy_gate_package, "VERSION", second).join(5)
    assert len(second) == 1 and isinstance(second[0], ImportError)
    assert "waited" in str(second[0]) and "lazy_gate_package" in str(second[0])
    gate.release.set()
    loading.join(5)
    assert first == ["1.0"] and lazy_gate_package.VERSION == "1.0"


EVERY_NAME = """
import ast, importlib, importlib.util, types
import conexoos.framework  # installs the finder
from conexoos.framework.lazy import EAGER_PACKAGES, _submodule_imports

for package in EAGER_PACKAGES:
    module = importlib.import_module(package)
    source = module.__spec__.loader.get_source(package)
    tree = ast.parse(source)
    exported = next(
        (
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        ),
        list(_submodule_imports(package, tree)),  # no __all__ (simple_websocket): what it imports
    )
    imported = _submodule_imports(package, tree)
    lazily = {name: getattr(module, name) for name in exported}
    eager = types.ModuleType(package)  # the __init__ run as it is, beside the lazy module
    eager.__dict__.update(__package__=package, __path__=module.__path__, __spec__=module.__spec__)
    exec(compile(source, module.__spec__.origin, "exec"), eager.__dict__)
    # a name the __init__ imports is the very same object; one it defines (ua_parser's Parser) is made
    # again by this second run: the same kind of object under the same name
    same = all(
        lazily[name] is getattr(eager, name)
        if name in imported
        else type(lazily[name]) is type(getattr(eager, name))
        and getattr(lazily[name], "__qualname__", name) == getattr(getattr(eager, name), "__qualname__", name)
        for name in exported
    )
    print(package, len(exported), same)
"""


def test_a_lazy_package_gives_what_its_init_gives(tmp_path: Path) -> None:
    """Each package of EAGER_PACKAGES gives every name of its ``__all__``, the very objects its own
    ``__init__`` binds when run in full."""
    lines = _run([EVERY_NAME], {**os.environ, "PYTHONPATH": str(REPO / "src")}).strip().splitlines()
    assert [line.split()[0] for line in lines] == list(EAGER_PACKAGES)
    assert all(line.endswith("True") and int(line.split()[1]) > 0 for line in lines), lines


SOCKETIO_RUN = """
import sys
import conexoos.framework  # installs the finder
import flask, flask_socketio
deferred = ("werkzeug.debug", "werkzeug._reloader", "flask_socketio.test_client")
print([name for name in deferred if name in sys.modules])
app = flask.Flask("probe")
app.run = lambda *args, **kwargs: print("served", sorted(kwargs))  # the development server, not started
socketio = flask_socketio.SocketIO(app, async_mode="threading")
socketio.run(app, port=1, debug=True, use_reloader=False, allow_unsafe_werkzeug=True)
import werkzeug.debug, werkzeug._reloader
print([name for name in deferred if name in sys.modules])
print(flask_socketio.DebuggedApplication is werkzeug.debug.DebuggedApplication,
      flask_socketio.run_with_reloader is werkzeug._reloader.run_with_reloader)
from flask_socketio import SocketIOTestClient
print(SocketIOTestClient is sys.modules["flask_socketio.test_client"].SocketIOTestClient)
"""


def test_flask_socketio_imports_its_debugger_and_test_client_when_run_needs_them() -> None:
    lines = _run([SOCKETIO_RUN], {**os.environ, "PYTHONPATH": str(REPO / "src")}).strip().splitlines()
    assert lines[0] == "[]"
    assert lines[1].startswith("served")
    assert lines[2:] == [
        "['werkzeug.debug', 'werkzeug._reloader', 'flask_socketio.test_client']",
        "True True",
        "True",
    ]


DEFERRING = """
from collections import OrderedDict
from json import dumps

def encode(value):
    return dumps(OrderedDict(value))
"""


@pytest.mark.parametrize("elsewhere", ["", "KEYS = OrderedDict()\n"])
def test_a_deferred_import_is_made_at_its_users_first_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: str
) -> None:
    """Names imported for one function only are bound at its first call; a module that uses them anywhere
    else (here at its top level) is run as it is."""
    (tmp_path / "deferring_probe.py").write_text(DEFERRING + elsewhere)
    monkeypatch.syspath_prepend(str(tmp_path))
    deferred = DeferredImports(names={"OrderedDict": "collections", "dumps": "json"}, users=("encode",))
    monkeypatch.setitem(lazy.DEFERRED_IMPORTS, "deferring_probe", deferred)
    monkeypatch.setattr(sys, "meta_path", [LazyPackageFinder([]), *sys.meta_path])
    import deferring_probe  # type: ignore[import-not-found]

    try:
        assert ("dumps" in vars(deferring_probe)) == bool(elsewhere)
        assert deferring_probe.encode({"a": 1}) == '{"a": 1}'
        assert vars(deferring_probe)["dumps"] is json.dumps
        with pytest.raises(AttributeError):
            deferring_probe.loads  # noqa: B018
    finally:
        del sys.modules["deferring_probe"]


DIALECTS = """
import sys
if sys.argv[1] == "lazy":
    import conexoos.framework  # installs the finder
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import make_url
drivers = {
    "mysql": ("", "mysqldb", "pymysql", "aiomysql", "asyncmy", "cymysql", "mysqlconnector", "pyodbc"),
    "mariadb": ("", "pymysql", "mariadbconnector", "mysqlconnector"),
    "postgresql": ("", "psycopg", "psycopg_async", "asyncpg", "pg8000", "psycopg2", "psycopg2cffi"),
    "sqlite": ("", "pysqlite", "aiosqlite", "pysqlcipher"),
}
for name, names in drivers.items():
    for driver in names:
        dialect = make_url(f"{name}+{driver}://" if driver else f"{name}://").get_dialect()
        print(name, driver, dialect.__module__, dialect.__qualname__)
for package in (mysql, postgresql, sqlite):
    base = package.base.dialect.__qualname__
    print(package.__name__, package.dialect.__qualname__, base, package.insert.__module__)
"""


def test_sqlalchemy_finds_every_driver_of_a_dialect_loaded_without_them() -> None:
    """The MySQL, PostgreSQL and SQLite dialects load their other drivers when SQLAlchemy looks one up: every
    ``dialect+driver`` URL gives the dialect class it gives with the packages loaded as they are."""
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    lazily = _run([DIALECTS, "lazy"], environment)
    assert lazily == _run([DIALECTS, "eager"], environment)
    assert "sqlalchemy.dialects.mysql.aiomysql MySQLDialect_aiomysql" in lazily


REDIS_CLIENT = """
import sys
import conexoos.framework  # installs the finder
import redis.client  # first, as a module naming redis.client.Redis would
import redis
client = redis.Redis(host="127.0.0.1", port=1)  # not connected: a client is made without a server
print(type(client) is redis.client.Redis, [name for name in ("redis.cluster", "redis.sentinel",
      "redis.asyncio.client") if name in sys.modules])
"""


def test_redis_client_imports_alone() -> None:
    """``redis.client`` imports first without the package's circular import, and a Redis client without
    redis-py's cluster, sentinel and asyncio clients."""
    output = _run([REDIS_CLIENT], {**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert output.strip() == "True []"


MSGSPEC_JSON = """
import sys
import conexoos.framework  # installs the finder
import msgspec.json
print([name for name in ("msgspec._json_schema", "msgspec.inspect") if name in sys.modules])
print(msgspec.json.decode(msgspec.json.Encoder().encode({"a": [1]})), msgspec.json.schema(int))
from msgspec._json_schema import schema, schema_components
print(msgspec.json.schema is schema, msgspec.json.schema_components is schema_components)
"""


def test_msgspec_json_imports_its_schema_module_at_the_first_schema() -> None:
    """Flask-Session's JSON decoder comes without msgspec's JSON schema (and inspect) modules; a module's
    relative import (``from ._json_schema import``, in ``msgspec/json.py``) is deferred from its parent
    package."""
    output = _run([MSGSPEC_JSON], {**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert output.strip().splitlines() == ["[]", "{'a': [1]} {'type': 'integer'}", "True True"]


PSYCOPG_IMPLEMENTATION = """
import sys
import conexoos.framework  # installs the finder
import psycopg
from psycopg.pq import misc
print(psycopg.pq.__impl__, "ctypes" in sys.modules)
print(misc.find_libpq_full_path() is not None, "ctypes" in sys.modules)
"""


@pytest.mark.parametrize(
    ("implementation", "expected"), [("binary", "False True True"), ("python", "True True True")]
)
def test_psycopg_imports_ctypes_only_to_find_libpq(implementation: str, expected: str) -> None:
    """The binary implementation never looks for libpq, so ctypes is not imported (0.45 MiB); the ctypes
    implementation (``PSYCOPG_IMPL=python``) finds libpq through ctypes as before."""
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PSYCOPG_IMPL": implementation}
    output = " ".join(_run([PSYCOPG_IMPLEMENTATION], environment).split())
    assert output == f"{implementation} {expected}"


WHOLE_MODULE = """
import xml.dom

def element_kind():
    return xml.dom.Node.ELEMENT_NODE
"""


@pytest.mark.parametrize("elsewhere", ["", "KIND = xml.dom.Node.TEXT_NODE\n"])
def test_a_deferred_module_is_imported_at_its_users_first_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: str
) -> None:
    """``import xml.dom`` (which binds ``xml``) is made at the first call of its one user; a module that
    uses it at its top level too is run as it is."""
    (tmp_path / "whole_module_probe.py").write_text(WHOLE_MODULE + elsewhere)
    monkeypatch.syspath_prepend(str(tmp_path))
    deferred = DeferredImports(names={}, users=("element_kind",), modules=("xml.dom",))
    monkeypatch.setitem(lazy.DEFERRED_IMPORTS, "whole_module_probe", deferred)
    monkeypatch.setattr(sys, "meta_path", [LazyPackageFinder([]), *sys.meta_path])
    import whole_module_probe  # type: ignore[import-not-found]

    try:
        assert ("xml" in vars(whole_module_probe)) == bool(elsewhere)
        assert whole_module_probe.element_kind() == 1
        assert vars(whole_module_probe)["xml"] is sys.modules["xml"]
    finally:
        del sys.modules["whole_module_probe"]
