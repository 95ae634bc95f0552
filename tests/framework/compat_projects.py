"""Projects written the way flask-framework 1.1.x projects are (``from flask_framework... import``)."""

from __future__ import annotations

from pathlib import Path

from .helpers import write_project

CAMEL_CASE = {
    "Server/__init__.py": "from . import ErrorHandler, Naming, Web\n",
    "Server/Naming.py": """
        from flask_framework.Config import Environment

        NAME = Environment.SERVER_DATA["APP_NAME"]  # read while the project is imported, before the app
    """,
    "Server/Web.py": """
        class Route(object):
            def __init__(self, server):
                import Controllers
                server.add_url_rule("/notes", "notes", Controllers.Web.Notes.add, methods=["POST"])
                server.add_url_rule("/notes", "list", Controllers.Web.Notes.listing, methods=["GET"])
                server.add_url_rule("/environment", "environment", Controllers.Web.Notes.environment)
                server.add_url_rule("/boom", "boom", Controllers.Web.Notes.boom)
    """,
    "Server/ErrorHandler.py": """
        class Route(object):
            def __init__(self, server):
                from flask_framework.Controllers.Web import HTTP40XController, HTTP50XController
                server.register_error_handler(404, HTTP40XController.page_or_error404)
                server.register_error_handler(500, HTTP50XController.error500)
    """,
    "Controllers/__init__.py": "from . import Web\n",
    "Controllers/Web/__init__.py": "from . import Notes\n",
    "Controllers/Web/Notes.py": """
        from flask import jsonify, request

        from flask_framework.Config import Environment
        from flask_framework.Database import Database
        from flask_framework.Database.decorators import safe
        from flask_framework.Server import Process
        from Models.Persistent import archive, notes

        CALLS = []


        class Controller(object):
            pass


        @safe
        def add():
            note = notes.Note(text=request.form["text"])
            Database.session.add(note)
            Database.get_session_by_name("archive").add(archive.Entry(text=request.form["text"].upper()))
            Database.session.commit()
            return jsonify(id=note.id), 201


        @safe
        def listing():
            archived = Database.get_session_by_name("archive").query(archive.Entry).all()
            return jsonify(
                notes=[note.text for note in notes.Note.query.order_by(notes.Note.id)],
                archive=[entry.text for entry in archived],
            )


        def environment():
            return jsonify(
                app=Environment.SERVER_DATA["APP_NAME"],
                at_import=__import__("Server.Naming").Naming.NAME,
                databases=sorted(Environment.Databases),
                default=Environment.Databases["default"]["database"],
                services=sorted(Environment.Services),
                same_services=Environment.SERVICES == Environment.Services,
                flask=Environment.FLASK["CONFIG"].get("GREETING"),
                app_is_process=Process.get() is Process._app,
                engines=sorted(Database.engines),
                csrf=type(Process._csrf).__name__,
                socket=type(Process.get_ws()).__name__,
                openid=Process.openid,
            )


        def boom():
            raise RuntimeError("boom")
    """,
    "Models/__init__.py": "",
    "Models/Persistent/__init__.py": "",
    "Models/Persistent/notes.py": """
        from sqlalchemy import Column, Integer, String

        from flask_framework.Database import Database


        class Note(Database.Model):
            __tablename__ = "notes"
            id = Column(Integer, primary_key=True)
            text = Column(String(200), nullable=False)
    """,
    "Models/Persistent/archive.py": """
        from sqlalchemy import Column, Integer, String

        from flask_framework.Database import Database

        Base = Database.get_models_by_name("archive")


        class Entry(Base):
            __tablename__ = "entries"
            id = Column(Integer, primary_key=True)
            text = Column(String(200), nullable=False)
    """,
}
CAMEL_CASE_CONFIG = """
SERVER_DATA:
    APP_NAME: Notes
    APP_KEY: {key}
    ENV: dev
    SESSION: filesystem
    INSTANCE_PATH: {instance}
DATABASES:
    default: main
    main:
        driver: sqlite
        database: main.db
        models: notes
    archive:
        driver: sqlite
        database: archive.db
        models: archive
FLASK:
    CONFIG:
        GREETING: hello
        WTF_CSRF_ENABLED: false
SERVICES:
    filesystem:
        PATH: sessions
"""


def camel_case_compat_project(root: Path) -> tuple[Path, Path]:
    """The notes project and its configuration file (flask-framework's spellings)."""
    project = write_project(root / "Notes", CAMEL_CASE)
    config = root / "config.yml"
    config.write_text(
        CAMEL_CASE_CONFIG.format(key="k" * 48, instance=root / "instance").lstrip(), encoding="utf-8"
    )
    return project, config
