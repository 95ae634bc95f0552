"""A project whose routes answer every kind of body the compression and static-file tests need."""

from __future__ import annotations

from pathlib import Path

from .helpers import write_project

STYLESHEET = "body { color: teal; }\n" + "".join(f".rule-{n} {{ margin: {n}px; }}\n" for n in range(200))
"""A stylesheet of about 5 KB (above the default threshold of 1 KB)."""
SMALL_SCRIPT = "console.log('small');\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16

WEB = """
import os

from flask import Blueprint, Response, jsonify, make_response, stream_with_context

PAGE = "<!doctype html><title>big</title>" + "<p>a paragraph of the page</p>" * 200


class Route:
    def __init__(self, app):
        app.add_url_rule("/page", "page", page)
        app.add_url_rule("/tiny", "tiny", lambda: "<p>tiny</p>")
        app.add_url_rule("/data", "data", lambda: jsonify(items=[{"n": n} for n in range(300)]))
        app.add_url_rule("/image", "image", image)
        app.add_url_rule("/stream", "stream", stream)
        app.add_url_rule("/encoded", "encoded", encoded)
        app.add_url_rule("/no-transform", "no_transform", no_transform)
        app.add_url_rule("/missing", "missing", lambda: ("<p>gone</p>" * 300, 404))
        folder = os.path.join(os.path.dirname(__file__), "..", "extras_static")
        app.register_blueprint(Blueprint("extras", __name__, static_folder=folder, static_url_path="/extras"))


def page():
    response = make_response(PAGE)
    response.set_etag("page-v1")
    return response.make_conditional(__import__("flask").request)


def image():
    return Response(b"\\x89PNG" + bytes(range(256)) * 40, mimetype="image/png")


def stream():
    return Response(stream_with_context(iter(["<p>chunk</p>" * 200] * 3)), mimetype="text/html")


def encoded():
    response = Response(b"x" * 5000, mimetype="text/css")
    response.headers["Content-Encoding"] = "deflate"
    return response


def no_transform():
    response = Response("<p>keep me</p>" * 300, mimetype="text/html")
    response.headers["Cache-Control"] = "no-transform"
    return response
"""


def delivery_project(root: Path, stylesheet: str = STYLESHEET) -> Path:
    """Write the project (``stylesheet`` as ``static/css/site.css``) under ``root``."""
    write_project(
        root,
        {
            "server/__init__.py": "",
            "server/web.py": WEB,
            "static/css/site.css": stylesheet,
            "static/js/small.js": SMALL_SCRIPT,
            "static/robots": "User-agent: *\n",
            "extras_static/extra.css": stylesheet.replace("teal", "olive"),
        },
    )
    (root / "static/img").mkdir(parents=True, exist_ok=True)
    (root / "static/img/logo.png").write_bytes(PNG)
    return root
