"""Routes for programs: the JSON API and its OpenAPI document."""

from __future__ import annotations

from flask import Flask

from conexoos.app.blueprints.links_api import links_api
from conexoos.app.blueprints.openapi import openapi


class Route:
    """Registers the API blueprints on the server."""

    def __init__(self, server: Flask) -> None:
        for blueprint in (links_api, openapi):
            server.register_blueprint(blueprint)
