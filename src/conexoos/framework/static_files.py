"""Static files under content-hashed URLs, cached for a year; their plain URLs still work, cached briefly.

In a template, ``url_for('static', filename='css/public.css')`` builds ``/static/css/public.<hash>.css``,
where ``<hash>`` is the first 12 hex digits of the file's SHA-256, read once per file and process (a changed
file gets a new URL when the server restarts). That URL is answered with ``Cache-Control: public,
max-age=31536000, immutable``: a browser never asks again, and a new version has a new URL. The plain URL
(``/static/css/public.css``) gets ``SERVER_ENV.STATIC_MAX_AGE`` seconds. The same holds for every
blueprint with a static folder (plugins' ``/plugins/<name>/static/...``). Templates need no change;
Python code gets the hashed URL from :func:`url_for` here (``flask.url_for`` keeps plain names, so the
URLs a JSON API returns stay as they were).

A hashed name that is not the file's current hash (a page from another host or an older version) is
served from the plain file with the short cache, so a rolling deployment breaks no page.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, has_request_context, request, send_from_directory
from flask import url_for as flask_url_for
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

from .compression import compress_file_response

if TYPE_CHECKING:
    from .config import Settings

CONFIG_NAME = "CONEXOOS_STATIC_FILES"
HASH_LENGTH = 12
IMMUTABLE_MAX_AGE = 31536000
HASHED_NAME = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{12})(?P<suffix>\.[^./]+)?$")
"""``css/public.0123456789ab.css``: the plain name is ``stem`` + ``suffix``."""
STATIC_ENDPOINT = "static"


class StaticFiles:
    """The content hashes of an app's static files, computed once per file, and the views serving them."""

    def __init__(self, max_age: int, folders: dict[str, str]) -> None:
        self.max_age = max_age
        self.folders = folders
        """Each static endpoint and the folder it serves."""
        self._hashes: dict[tuple[str, str], str | None] = {}

    def content_hash(self, folder: str, filename: str) -> str | None:
        """The file's hash (12 hex digits), or None when it is not a file of ``folder``; cached."""
        key = (folder, filename)
        if key not in self._hashes:
            self._hashes[key] = _hash_file(folder, filename)
        return self._hashes[key]

    def hashed_name(self, folder: str, filename: str) -> str:
        """``filename`` with its content hash before its suffix; unchanged when it is not a file."""
        digest = self.content_hash(folder, filename)
        if digest is None:
            return filename
        directory, _, base = filename.rpartition("/")
        stem, dot, suffix = base.rpartition(".")
        hashed = f"{stem}.{digest}.{suffix}" if dot and stem else f"{base}.{digest}"
        return f"{directory}/{hashed}" if directory else hashed

    def serve(self, folder: str, filename: str) -> Response:
        """The file named plainly or by its current hash (cached for a year); 404 for anything else, and
        for a name not written the one way (``css//a.css``, ``css/./a.css``, ``css/a.css/``), which Werkzeug
        would serve: each such alias would be kept apart by a cache in front."""
        if posixpath.normpath(filename) != filename:
            raise NotFound()
        plain = _plain_name(filename)
        if plain is not None and self.content_hash(folder, plain[0]) == plain[1]:
            return self._send(folder, plain[0], immutable=True)
        if plain is not None and _is_file(folder, plain[0]) and not _is_file(folder, filename):
            return self._send(folder, plain[0], immutable=False)  # another version's hash
        return self._send(folder, filename, immutable=False)

    def _send(self, folder: str, filename: str, *, immutable: bool) -> Response:
        max_age = IMMUTABLE_MAX_AGE if immutable else self.max_age
        response = send_from_directory(folder, filename, max_age=max_age)
        response.cache_control.public = True
        if immutable:
            response.cache_control.immutable = True
        path = safe_join(folder, filename)
        return compress_file_response(response, Path(path)) if path else response


def install_static_files(app: Flask, settings: Settings) -> None:
    """Hash the static URLs templates build, and serve the app's and its blueprints' static files.

    Called once every blueprint is registered (plugins included): it takes over their static views.
    """
    files = StaticFiles(int(settings.server["STATIC_MAX_AGE"]), static_folders(app))
    app.extensions[CONFIG_NAME] = files
    for endpoint, folder in files.folders.items():
        app.view_functions[endpoint] = _view(files, folder)
    app.jinja_env.globals["url_for"] = url_for


def url_for(endpoint: str, **values: Any) -> str:
    """Flask's ``url_for``, with the content hash in a static file's name (templates' ``url_for``).

    Python code calling ``flask.url_for`` keeps the plain name, so the URLs an API returns do not change;
    it calls this function for the hashed one.
    """
    files: StaticFiles | None = current_app.extensions.get(CONFIG_NAME)
    filename = values.get("filename")
    if files is not None and isinstance(filename, str):
        folder = files.folders.get(_absolute(endpoint))
        if folder is not None:
            values["filename"] = files.hashed_name(folder, filename)
    return flask_url_for(endpoint, **values)


def _absolute(endpoint: str) -> str:
    """``.static`` names the current blueprint's static endpoint, as in ``url_for``."""
    if not endpoint.startswith("."):
        return endpoint
    blueprint = request.blueprint if has_request_context() else None
    return f"{blueprint}{endpoint}" if blueprint else endpoint[1:]


def static_folders(app: Flask) -> dict[str, str]:
    """Each static endpoint of ``app`` (``static``, ``<blueprint>.static``) and the folder it serves."""
    folders = {}
    if app.has_static_folder and STATIC_ENDPOINT in app.view_functions:
        folders[STATIC_ENDPOINT] = str(app.static_folder)
    for name, blueprint in app.blueprints.items():
        endpoint = f"{name}.{STATIC_ENDPOINT}"
        if blueprint.has_static_folder and endpoint in app.view_functions:
            folders[endpoint] = str(blueprint.static_folder)
    return folders


def _view(files: StaticFiles, folder: str) -> Callable[..., Response]:
    def serve_static(filename: str) -> Response:
        """A static file, plain or by its content hash."""
        return files.serve(folder, filename)

    return serve_static


def _plain_name(filename: str) -> tuple[str, str] | None:
    """``(plain name, hash)`` of a hashed name such as ``css/app.0123456789ab.css``; None for another."""
    directory, _, base = filename.rpartition("/")
    match = HASHED_NAME.match(base)
    if match is None:
        return None
    plain = match["stem"] + (match["suffix"] or "")
    return (f"{directory}/{plain}" if directory else plain), match["hash"]


def _is_file(folder: str, filename: str) -> bool:
    path = safe_join(folder, filename)
    return path is not None and Path(path).is_file()


def _hash_file(folder: str, filename: str) -> str | None:
    path = safe_join(folder, filename)
    if path is None or not Path(path).is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()[:HASH_LENGTH]
