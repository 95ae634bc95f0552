"""Headers for pages whose URL holds a secret (a password reset or email link's token)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import make_response
from werkzeug.wrappers import Response


def secret_url(view: Callable[..., Any]) -> Callable[..., Response]:
    """Mark ``view``'s answers ``Cache-Control: no-store`` (no cache keeps the page or its token) and
    ``Referrer-Policy: same-origin`` (no link or resource of another site learns the token from
    ``Referer``). Not ``no-referrer``: the page's own form posts would then carry no Referer, which the
    CSRF check refuses over HTTPS."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    return wrapped
