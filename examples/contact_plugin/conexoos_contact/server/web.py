"""Routes of the plugin: the visitors' form and the owner's list of messages."""

from __future__ import annotations

from flask import Flask

from conexoos_contact.blueprints.contact import contact


class Route:
    """Registers the contact blueprint on the server."""

    def __init__(self, server: Flask) -> None:
        server.register_blueprint(contact)
