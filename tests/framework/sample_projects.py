"""Sample projects in the seed-001 layout, written into a test's temporary folder."""

from __future__ import annotations

from pathlib import Path

from .helpers import write_project

CAMEL_CASE_FILES = {
    # The seed's own example: __init__ imports the server modules, Route.__init__ does `import Controllers`.
    "Server/__init__.py": "from . import WS, Web, Socket, ErrorHandler\n",
    "Server/Web.py": '''
        class Route(object):
            """Class that will configure all web based routes for the server"""

            def __init__(self, server):
                import Controllers
                server.add_url_rule('/', "home", Controllers.Web.HomeController.default, methods=["GET"])
                return
    ''',
    "Server/WS.py": """
        class Route(object):
            def __init__(self, server):
                import Controllers
                server.add_url_rule('/api/status', "status", Controllers.WS.StatusController.status,
                                    methods=["GET"])
                return
    """,
    "Server/ErrorHandler.py": """
        class Route(object):
            def __init__(self, server):
                import Controllers
                server.register_error_handler(404, Controllers.Web.HTTP40XController.page_or_error404)
                return
    """,
    "Server/Socket.py": """
        class Handler(object):
            def __init__(self, socketio):
                import Controllers
                socketio.on_event('connect', Controllers.Socket.HandlerController.connect)
                socketio.on_event('disconnect', Controllers.Socket.HandlerController.disconnect)
    """,
    "Controllers/__init__.py": "from . import Web, WS, Socket\n",
    "Controllers/Web/__init__.py": "from . import HomeController, HTTP40XController\n",
    "Controllers/Web/HomeController.py": """
        from flask import render_template


        def default():
            return render_template("home.html", project="CamelCase")
    """,
    "Controllers/Web/HTTP40XController.py": """
        from flask import render_template


        def page_or_error404(error):
            return render_template("404.html"), 404
    """,
    "Controllers/WS/__init__.py": "from . import StatusController\n",
    "Controllers/WS/StatusController.py": """
        from flask import jsonify


        def status():
            return jsonify(project="CamelCase", ok=True)
    """,
    "Controllers/Socket/__init__.py": "from . import HandlerController\n",
    "Controllers/Socket/HandlerController.py": """
        from flask_socketio import emit


        def connect(auth=None):
            emit("welcome", {"project": "CamelCase"})


        def disconnect(reason=None):
            pass
    """,
    "Models/__init__.py": "",
    "Models/Persistent/__init__.py": "",
    "Models/Forms/__init__.py": "",
    "template/home.html": "<h1>Hello from the {{ project }} project</h1>\n",
    "template/404.html": "<p>CamelCase has no such page</p>\n",
    "static/site.css": "body { color: teal; }\n",
}


def camel_case_project(root: Path) -> Path:
    """The seed's CamelCase layout: Server/, Controllers/, Models/, template/, static/."""
    return write_project(root, CAMEL_CASE_FILES)


def lowercase_project(root: Path, greeting: str = "lowercase") -> Path:
    """The lowercase layout: server/, controllers/, templates/, static/.

    ``greeting`` tells two copies apart.
    """
    return write_project(
        root,
        {
            "server/__init__.py": "",
            "server/web.py": """
            class Route:
                def __init__(self, app):
                    from controllers import pages
                    app.add_url_rule("/", "home", pages.home)
        """,
            "server/ws.py": """
            class Route:
                def __init__(self, app):
                    from controllers import api
                    app.add_url_rule("/api/status", "status", api.status)
        """,
            "server/errorhandler.py": """
            class Route:
                def __init__(self, app):
                    from controllers import pages
                    app.register_error_handler(404, pages.not_found)
        """,
            "server/socket.py": """
            class Handler:
                def __init__(self, socketio):
                    from controllers import realtime
                    socketio.on_event("ping", realtime.ping)
        """,
            "controllers/__init__.py": "",
            "controllers/pages.py": f"""
            from flask import render_template

            GREETING = {greeting!r}


            def home():
                return render_template("home.html", project=GREETING)


            def not_found(error):
                return f"{{GREETING}} has no such page", 404
        """,
            "controllers/api.py": f"""
            from flask import jsonify


            def status():
                return jsonify(project={greeting!r}, ok=True)
        """,
            "controllers/realtime.py": f"""
            from flask_socketio import emit


            def ping(data):
                emit("pong", {{"project": {greeting!r}, "echo": data}})
        """,
            "templates/home.html": "<h1>Hello from the {{ project }} project</h1>\n",
            "static/site.css": "body { color: navy; }\n",
        },
    )
