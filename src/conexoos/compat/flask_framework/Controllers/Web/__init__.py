"""flask-framework's default error page controllers."""

from conexoos.compat.missing import module_getattr

from . import HTTP40XController, HTTP50XController

__all__ = ["HTTP40XController", "HTTP50XController"]
__getattr__ = module_getattr("flask_framework.Controllers.Web", {})
