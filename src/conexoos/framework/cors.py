"""Cross-origin requests: Flask-CORS, on when ``FLASK.CONFIG`` has a ``CORS_*`` key (flask-framework's way).

Flask-CORS reads its settings from the app's config (``CORS_ORIGINS``, ``CORS_METHODS``,
``CORS_SUPPORTS_CREDENTIALS``, ``CORS_RESOURCES``...); without any such key nothing is added, so no
cross-origin request is allowed.
"""

from __future__ import annotations

from flask import Flask

from .config import Settings


def install_cors(app: Flask, settings: Settings) -> bool:
    """Apply Flask-CORS when ``FLASK.CONFIG`` configures it; return whether it did."""
    keys = [key for key in settings.tree["FLASK"]["CONFIG"] if str(key).startswith("CORS_")]
    if not keys:
        return False
    from flask_cors import CORS  # here: most sites configure no CORS and never load it

    CORS(app)
    return True
