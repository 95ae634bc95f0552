"""flask-framework's 404 handler: the welcome page at ``/``, ``40x.html`` elsewhere."""

from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException

from conexoos.compat.missing import module_getattr


def page_or_error404(error: HTTPException) -> tuple[str, int]:
    """``welcome.html`` for ``/`` (a project without a home page), else ``40x.html`` with the error."""
    if request.path == "/":
        return render_template("welcome.html"), 200
    return render_template("40x.html", title=error), getattr(error, "code", None) or 404


__getattr__ = module_getattr("flask_framework.Controllers.Web.HTTP40XController", {})
