"""``admin_login_required``: a signed-in user whose ``is_admin`` is true, else the login manager's answer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_login.config import EXEMPT_METHODS


def admin_login_required(func: Callable[..., Any]) -> Callable[..., Any]:
    """Let the view run for a signed-in administrator only (as flask-framework's decorator did)."""

    @functools.wraps(func)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        exempt = request.method in EXEMPT_METHODS or current_app.config.get("LOGIN_DISABLED")
        if not exempt and not (current_user.is_authenticated and getattr(current_user, "is_admin", False)):
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return current_app.ensure_sync(func)(*args, **kwargs)

    return decorated
