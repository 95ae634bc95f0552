"""Routes for programs: the JSON API and its OpenAPI document, registered by their rules
(``blueprint_routes.py``) and imported at their first request (``framework/lazy_blueprints.py``)."""

from __future__ import annotations

from flask import Flask

from conexoos.app.server.blueprint_routes import BLUEPRINTS as LAZY
from conexoos.framework.lazy_blueprints import register_blueprints


class Route:
    """Registers the API blueprints on the server."""

    def __init__(self, server: Flask) -> None:
        names = ("links_api", "products_api", "blocks_api", "stats_api", "openapi")
        register_blueprints(server, (LAZY[name] for name in names))
