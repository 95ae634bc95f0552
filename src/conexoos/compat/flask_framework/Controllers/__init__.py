"""flask-framework's default controllers: ``Controllers.Web`` (error pages)."""

from conexoos.compat.missing import module_getattr

from . import Web

__all__ = ["Web"]
__getattr__ = module_getattr("flask_framework.Controllers", {"WS": "your project's own Controllers.WS"})
