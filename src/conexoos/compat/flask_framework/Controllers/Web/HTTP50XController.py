"""flask-framework's 500 handler: ``50x.html``."""

from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import HTTPException

from conexoos.compat.missing import module_getattr


def error500(error: HTTPException) -> tuple[str, int]:
    """``50x.html`` with the error, status 500."""
    return render_template("50x.html", title=error), 500


__getattr__ = module_getattr("flask_framework.Controllers.Web.HTTP50XController", {})
