"""Projects in the seed-001 layout: CamelCase and lowercase, loaded unchanged, failing loudly, never mixed."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient

from conexoos.framework import ProjectError, create_app, runtime
from tests.conftest import AppFactory

from .helpers import write_project
from .sample_projects import camel_case_project, lowercase_project


def modules_under(root: Path) -> list[str]:
    """Names of the loaded modules whose file lives under ``root``."""
    found = []
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None)
        if location and Path(location).resolve().is_relative_to(root.resolve()):
            found.append(name)
    return found


def socket_client(app: Flask) -> SocketIOTestClient:
    with app.app_context():
        return runtime().socketio.test_client(app)


def test_camel_case_project_loads_unchanged_and_serves(tmp_path: Path, make_app: AppFactory) -> None:
    app = make_app(camel_case_project(tmp_path / "Shop"))
    client = app.test_client()

    home = client.get("/")
    assert home.status_code == 200
    assert home.get_data(as_text=True) == "<h1>Hello from the CamelCase project</h1>"
    assert client.get("/api/status").get_json() == {"project": "CamelCase", "ok": True}
    missing = client.get("/no/such/page")
    assert (missing.status_code, missing.get_data(as_text=True)) == (404, "<p>CamelCase has no such page</p>")
    assert client.get("/static/site.css").get_data(as_text=True) == "body { color: teal; }\n"

    socket = socket_client(app)
    assert socket.is_connected()
    assert socket.get_received() == [
        {"name": "welcome", "args": [{"project": "CamelCase"}], "namespace": "/"}
    ]
    socket.disconnect()


def test_lowercase_project_loads_unchanged_and_serves(tmp_path: Path, make_app: AppFactory) -> None:
    app = make_app(lowercase_project(tmp_path / "blog"))
    client = app.test_client()

    assert client.get("/").get_data(as_text=True) == "<h1>Hello from the lowercase project</h1>"
    assert client.get("/api/status").get_json() == {"project": "lowercase", "ok": True}
    assert client.get("/nope").get_data(as_text=True) == "lowercase has no such page"
    assert client.get("/static/site.css").status_code == 200

    socket = socket_client(app)
    socket.emit("ping", {"n": 1})
    assert socket.get_received() == [
        {"name": "pong", "args": [{"project": "lowercase", "echo": {"n": 1}}], "namespace": "/"}
    ]
    socket.disconnect()


def test_camel_and_lowercase_projects_in_one_process_do_not_mix(tmp_path: Path, make_app: AppFactory) -> None:
    camel_root = camel_case_project(tmp_path / "camel")
    lower_root = lowercase_project(tmp_path / "lower")

    camel = make_app(camel_root)
    assert modules_under(camel_root)
    lower = make_app(lower_root)

    assert modules_under(camel_root) == []
    assert "Controllers" not in sys.modules and "Server" not in sys.modules
    assert str(camel_root) not in sys.path
    assert lower.test_client().get("/").get_data(as_text=True) == "<h1>Hello from the lowercase project</h1>"
    assert lower.test_client().get("/nope").get_data(as_text=True) == "lowercase has no such page"
    # The app built first keeps serving its own views.
    assert camel.test_client().get("/").get_data(as_text=True) == "<h1>Hello from the CamelCase project</h1>"

    camel_again = make_app(camel_root)
    assert modules_under(lower_root) == []
    assert camel_again.test_client().get("/api/status").get_json() == {"project": "CamelCase", "ok": True}


def test_two_projects_with_the_same_module_names_do_not_mix(tmp_path: Path, make_app: AppFactory) -> None:
    first = make_app(lowercase_project(tmp_path / "first", greeting="first"))
    second = make_app(lowercase_project(tmp_path / "second", greeting="second"))

    assert importlib.import_module("controllers.pages").GREETING == "second"
    assert second.test_client().get("/api/status").get_json() == {"project": "second", "ok": True}
    assert first.test_client().get("/api/status").get_json() == {"project": "first", "ok": True}
    assert make_app(tmp_path / "first").test_client().get("/").get_data(as_text=True) == (
        "<h1>Hello from the first project</h1>"
    )


def test_every_part_is_optional(tmp_path: Path, make_app: AppFactory) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert make_app(empty).test_client().get("/").status_code == 404

    only_web = write_project(
        tmp_path / "only_web",
        {
            "server/web.py": """
        class Route:
            def __init__(self, app):
                app.add_url_rule("/", "home", lambda: "only web")
    """
        },
    )
    assert make_app(only_web).test_client().get("/").get_data(as_text=True) == "only web"


FAILURES = {
    "syntax-error": (
        "server/web.py",
        "class Route(:\n    pass\n",
        ProjectError,
        "SyntaxError: invalid syntax in ",
    ),
    "raises-in-route": (
        "server/web.py",
        """
        class Route:
            def __init__(self, app):
                raise RuntimeError("route setup failed on purpose")
    """,
        RuntimeError,
        "route setup failed on purpose",
    ),
    "missing-import": (
        "server/web.py",
        """
        import not_installed_dependency_xyz


        class Route:
            def __init__(self, app):
                pass
    """,
        ModuleNotFoundError,
        "No module named 'not_installed_dependency_xyz'",
    ),
    "missing-import-in-route": (
        "Server/Web.py",
        """
        class Route:
            def __init__(self, server):
                import Controllers
                server.add_url_rule("/", "home", Controllers.home)
    """,
        ModuleNotFoundError,
        "No module named 'Controllers'",
    ),
    "middleware-raises": (
        "server/middleware.py",
        """
        class Load:
            def __init__(self, server):
                raise ValueError("middleware failed on purpose")
    """,
        ValueError,
        "middleware failed on purpose",
    ),
    "errorhandler-raises": (
        "server/errorhandler.py",
        """
        class Route:
            def __init__(self, server):
                raise KeyError("errorhandler failed on purpose")
    """,
        KeyError,
        "errorhandler failed on purpose",
    ),
    "socket-raises": (
        "server/socket.py",
        """
        class Handler:
            def __init__(self, socketio):
                raise LookupError("socket failed on purpose")
    """,
        LookupError,
        "socket failed on purpose",
    ),
    "ws-name-error": (
        "server/ws.py",
        """
        class Route:
            def __init__(self, server):
                server.add_url_rule("/api/x", "x", Controllers.api)
    """,
        NameError,
        "name 'Controllers' is not defined",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failing_project_module_stops_start_up_with_its_own_error(
    tmp_path: Path, make_app: AppFactory, case: str
) -> None:
    relative, source, error_type, message = FAILURES[case]
    files = {relative: source}
    if relative.startswith("server/") and relative != "server/web.py":
        files["server/web.py"] = """
            class Route:
                def __init__(self, app):
                    app.add_url_rule("/", "home", lambda: "home")
        """
    root = write_project(tmp_path / "broken", files)

    with pytest.raises(error_type) as caught:
        make_app(root)

    assert message in str(caught.value)
    broken_file = (root / relative).resolve()
    if isinstance(caught.value, ProjectError):  # one line naming the file and the line, the cause kept
        assert str(caught.value) == f"SyntaxError: invalid syntax in {broken_file}, line 1: class Route(:"
        assert isinstance(caught.value.__cause__, SyntaxError)
    else:
        # The original traceback reaches into the project's own file.
        assert any(Path(str(entry.path)).resolve() == broken_file for entry in caught.traceback)


WEB_ROUTE = "class Route:\n    def __init__(self, app):\n        pass\n"


@pytest.mark.parametrize(
    ("files", "broken"),
    [
        pytest.param({"server/web.py": "x = 1\n\nclass Route:\0\n"}, "server/web.py", id="route-module"),
        pytest.param(
            {
                "server/web.py": "import controllers.home\n" + WEB_ROUTE,
                "controllers/home.py": "y = 1\nz = 2\nw = 3\0\n",
            },
            "controllers/home.py",
            id="module-it-imports",
        ),
        pytest.param(  # as `conexoos new` writes it: finding the file must not import the package again
            {"server/__init__.py": "from . import web\n", "server/web.py": "x = 1\n\nclass Route:\0\n"},
            "server/web.py",
            id="imported-by-its-package",
        ),
    ],
)
def test_a_nul_byte_in_a_project_module_is_a_project_error_naming_its_file_and_line(
    tmp_path: Path, make_app: AppFactory, files: dict[str, str], broken: str
) -> None:
    """Python's message names no file: it was 'SyntaxError: source code string cannot contain null bytes'."""
    root = write_project(tmp_path / "nul", files)
    with pytest.raises(ProjectError) as caught:
        make_app(root)
    assert str(caught.value) == (
        f"SyntaxError: source code string cannot contain null bytes in {(root / broken).resolve()}, line 3"
    )


def test_a_failing_import_in_the_server_package_init_stops_start_up(
    tmp_path: Path, make_app: AppFactory
) -> None:
    root = write_project(
        tmp_path / "broken",
        {
            "Server/__init__.py": "from . import Web\n",
            "Server/Web.py": "import not_installed_dependency_abc\n\nclass Route:\n    pass\n",
        },
    )
    with pytest.raises(ModuleNotFoundError, match="not_installed_dependency_abc"):
        make_app(root)


def test_a_server_module_without_its_class_is_a_project_error(tmp_path: Path, make_app: AppFactory) -> None:
    root = write_project(tmp_path / "noclass", {"server/web.py": "class Routes:\n    pass\n"})
    with pytest.raises(ProjectError) as caught:
        make_app(root)
    assert str(caught.value) == (
        f"server.web ({root / 'server' / 'web.py'}) defines no Route; the seed layout expects `class Route` "
        "taking the server"
    )
    tasks = write_project(tmp_path / "notasks", {"server/tasks.py": "class Tasks:\n    pass\n"})
    with pytest.raises(ProjectError, match="expects `class Schedule` taking the scheduler"):
        make_app(tasks)


def test_an_unknown_project_is_a_project_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"project folder '.*/nowhere' does not exist"):
        create_app(str(tmp_path / "nowhere"))
    with pytest.raises(
        ProjectError,
        match="project folder 'no_such_package_xyz' does not exist, and no package of that name is installed",
    ):
        create_app("no_such_package_xyz")


MIDDLEWARE_PROJECT = {
    "server/middleware.py": """
        from flask import Response, abort, request


        class Load:
            def __init__(self, server):
                @server.before_request
                def guard():
                    if request.path == "/closed":
                        return Response("closed by middleware", status=503)
                    if request.path.startswith("/api/") and request.headers.get("X-Token") != "letmein":
                        abort(401)
                    return None
    """,
    "server/web.py": """
        from flask import jsonify

        from controllers import views


        class Route:
            def __init__(self, app):
                app.add_url_rule("/closed", "closed", views.closed)
                app.add_url_rule("/open", "open", views.open_page)
                app.add_url_rule("/api/data", "data", views.data)
    """,
    "controllers/views.py": """
        from flask import jsonify

        calls = []


        def closed():
            calls.append("closed")
            return "view reached"


        def open_page():
            calls.append("open")
            return "open page"


        def data():
            calls.append("data")
            return jsonify(secret=42)
    """,
}


def test_middleware_can_short_circuit_a_request(tmp_path: Path, make_app: AppFactory) -> None:
    app = make_app(write_project(tmp_path / "guarded", MIDDLEWARE_PROJECT))
    client = app.test_client()
    calls = importlib.import_module("controllers.views").calls

    closed = client.get("/closed")
    assert (closed.status_code, closed.get_data(as_text=True)) == (503, "closed by middleware")
    refused = client.get("/api/data")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    assert calls == []

    assert client.get("/open").get_data(as_text=True) == "open page"
    assert client.get("/api/data", headers={"X-Token": "letmein"}).get_json() == {"secret": 42}
    assert calls == ["open", "data"]


def helper_project(root: Path, word: str) -> Path:
    """A project whose views use a top-level package of its own (any name, not only the seed's)."""
    return write_project(
        root,
        {
            "utils/text.py": f"WORD = {word!r}\n",
            "settings.py": f"NAME = {word!r}\n",
            "server/web.py": """
            class Route:
                def __init__(self, app):
                    import settings
                    from utils import text
                    app.add_url_rule("/", "home", lambda: f"{text.WORD} {settings.NAME}")
        """,
        },
    )


def test_any_top_level_module_of_a_previous_project_is_forgotten(
    tmp_path: Path, make_app: AppFactory
) -> None:
    first = helper_project(tmp_path / "first", "alpha")
    second = helper_project(tmp_path / "second", "beta")

    assert make_app(first).test_client().get("/").get_data(as_text=True) == "alpha alpha"
    assert make_app(second).test_client().get("/").get_data(as_text=True) == "beta beta"
    assert modules_under(first) == []
    assert make_app(first).test_client().get("/").get_data(as_text=True) == "alpha alpha"


def test_forgetting_a_project_keeps_libraries_installed_inside_its_folder(
    tmp_path: Path, make_app: AppFactory
) -> None:
    # A project folder holding its own virtualenv-like folder: its libraries are not project modules.
    first = write_project(
        tmp_path / "first",
        {
            "venv/lib/site-packages/fw_vendored_lib.py": "VALUE = 1\n",
            "server/web.py": """
            class Route:
                def __init__(self, app):
                    import fw_vendored_lib
                    app.add_url_rule("/", "home", lambda: str(fw_vendored_lib.VALUE))
        """,
        },
    )
    sys.path.append(str(first / "venv" / "lib" / "site-packages"))
    try:
        assert make_app(first).test_client().get("/").get_data(as_text=True) == "1"
        library = sys.modules["fw_vendored_lib"]
        make_app(lowercase_project(tmp_path / "second"))
        assert sys.modules.get("fw_vendored_lib") is library
    finally:
        sys.path.remove(str(first / "venv" / "lib" / "site-packages"))
        sys.modules.pop("fw_vendored_lib", None)


STRING_TARGETS = """
class Route:
    def __init__(self, app):
        app.add_url_rule("/", "home", "controllers.pages.home")
        app.add_url_rule("/about", "about", "controllers.pages:Pages.about")
        app.add_url_rule("/broken", "broken", "{target}")
"""
PAGES = """
def home():
    return "home by its name"


class Pages:
    @staticmethod
    def about():
        return "about by its name"


PER_PAGE = 20
"""


def test_a_route_target_named_by_a_dotted_string_is_served(tmp_path: Path, make_app: AppFactory) -> None:
    """It answered every request with a 500: 'str' object is not callable."""
    root = write_project(
        tmp_path / "named",
        {
            "server/web.py": STRING_TARGETS.replace("{target}", "controllers.pages.Pages.about"),
            "controllers/pages.py": PAGES,
        },
    )
    client = make_app(root).test_client()
    assert client.get("/").get_data(as_text=True) == "home by its name"
    assert client.get("/about").get_data(as_text=True) == "about by its name"
    assert client.get("/broken").get_data(as_text=True) == "about by its name"


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("controllers.pages.hom", "module controllers.pages has no attribute 'hom'"),
        ("controllers.pages:Pages.abut", "class controllers.pages.Pages has no attribute 'abut'"),
        ("controllers.page.home", "module controllers has no attribute 'page'"),
        ("views.home", "there is no module 'views'"),
        ("controllers.pages", "it names a module, which is not callable"),
        ("controllers.pages.PER_PAGE", "it names an object of type int, which is not callable"),
        ("controllers/pages.py", "it is no dotted path of Python names"),
    ],
)
def test_a_route_target_that_names_nothing_callable_stops_start_up_naming_the_route(
    tmp_path: Path, make_app: AppFactory, target: str, problem: str
) -> None:
    """It was found at the route's first request, a 500 (the app started without a word)."""
    root = write_project(
        tmp_path / "named",
        {"server/web.py": STRING_TARGETS.replace("{target}", target), "controllers/pages.py": PAGES},
    )
    with pytest.raises(ProjectError) as caught:
        make_app(root)
    assert str(caught.value) == (
        f"the route /broken (endpoint 'broken') has the view {target!r}: {problem}; give the function "
        "itself, or a dotted path to it (package.module.function)"
    )
