"""The Content-Security-Policy of an answer, with the hash of each ``<style>`` element the view allowed.

The policy allows only the site's own stylesheets; a page that needs a ``<style>`` of its own (the public
page's appearance, built by ``controllers/appearance.py`` from parsed values) calls :func:`allow_style` with
its exact text, and only that text is allowed (``'sha256-...'``), never ``'unsafe-inline'``.
"""

from __future__ import annotations

import base64
import hashlib

from flask import g

from conexoos.app.utils.players import PLAYER_HOSTS

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    f"frame-src {' '.join(PLAYER_HOSTS)}"
)
"""``frame-src``: only the embed block's players (``utils/players.py``), loaded on a click."""
_STYLE_HASHES = "conexoos_style_hashes"


def style_hash(css: str) -> str:
    """The CSP source allowing a ``<style>`` whose text is exactly ``css``."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def allow_style(css: str) -> None:
    """Allow a ``<style>`` element holding exactly ``css`` in the current answer (nothing for empty)."""
    if css:
        g.setdefault(_STYLE_HASHES, []).append(style_hash(css))


def allowed_style_hashes() -> list[str]:
    """The ``'sha256-...'`` sources allowed so far in the current answer (kept with a cached page)."""
    return list(g.get(_STYLE_HASHES, []))


def allow_style_hashes(hashes: list[str]) -> None:
    """Allow styles by the sources :func:`allowed_style_hashes` gave when the page was rendered."""
    g.setdefault(_STYLE_HASHES, []).extend(hashes)


def content_security_policy() -> str:
    """The policy of the current answer: the site's, with the styles :func:`allow_style` allowed."""
    hashes = g.get(_STYLE_HASHES, [])
    if not hashes:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' " + " ".join(hashes), 1)
