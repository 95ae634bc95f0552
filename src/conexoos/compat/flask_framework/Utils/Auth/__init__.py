"""flask-framework's login decorators: ``login_required`` (Flask-Login's) and ``admin_login_required``."""

from flask_login import login_required

from conexoos.compat.missing import module_getattr

from .decorators import admin_login_required

__all__ = ["admin_login_required", "login_required"]
__getattr__ = module_getattr("flask_framework.Utils.Auth", {})
