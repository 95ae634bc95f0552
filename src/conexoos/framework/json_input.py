"""A JSON body nested too deeply is malformed JSON, not a server error.

Python's ``json`` reader recurses once per ``[`` or ``{``: ``[[[…]]]`` 1,500 deep raises ``RecursionError``,
which Flask's ``request.get_json()`` does not treat as the bad JSON it is (it catches ``ValueError``): every
such request was a 500 with a traceback in the log. Here the app's JSON provider reads it as a
``ValueError``, so ``get_json()`` answers the 400 it gives any other malformed body.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

TOO_DEEP = "the JSON nests too deeply (arrays or objects inside each other)"


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, whose ``loads`` raises ``ValueError`` for a document nested too deeply."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(TOO_DEEP) from None


def install_json_input(app: Flask) -> None:
    """Make ``app`` read JSON with :class:`BoundedJSONProvider` (keeping the provider's settings)."""
    provider = BoundedJSONProvider(app)
    for name in ("ensure_ascii", "sort_keys", "compact", "mimetype"):
        setattr(provider, name, getattr(app.json, name))
    app.json = provider
