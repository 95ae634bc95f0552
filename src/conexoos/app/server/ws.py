"""Routes for programs: the JSON API and its OpenAPI document."""

from __future__ import annotations

from flask import Flask

from conexoos.app.blueprints.blocks_api import blocks_api
from conexoos.app.blueprints.links_api import links_api
from conexoos.app.blueprints.openapi import openapi
from conexoos.app.blueprints.products_api import products_api
from conexoos.app.blueprints.stats_api import stats_api


class Route:
    """Registers the API blueprints on the server."""

    def __init__(self, server: Flask) -> None:
        for blueprint in (links_api, products_api, blocks_api, stats_api, openapi):
            server.register_blueprint(blueprint)
