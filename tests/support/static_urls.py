"""Read pages whose static URLs carry content hashes (``/static/css/app.0123456789ab.css``) by plain names."""

from __future__ import annotations

import re

CONTENT_HASH = re.compile(r"\.[0-9a-f]{12}(\.[A-Za-z0-9]+)(?=[\"'?#\s>)]|$)")
"""The hash templates' ``url_for('static', ...)`` puts before a static file's suffix."""


def unhashed(text: str) -> str:
    """``text`` (a URL or a whole page) with every static file's content hash taken out of its name."""
    return CONTENT_HASH.sub(r"\1", text)


SCRIPT_SOURCE = re.compile(
    r"<script\b[^>]*?\ssrc=\"(?:https?://[^/\"]+)?([^\"]+)\"[^>]*>|<script\b[^>]*>", re.I
)
SHARE_SCRIPT = "/static/js/share.js"
"""The public page's one script: it adds a Share button where the browser can share (none is needed)."""


def scripts_of(html: str) -> list[str]:
    """The plain path of every ``<script>`` in ``html`` (``"inline"`` for one without ``src``)."""
    return [
        unhashed(match.group(1)) if match.group(1) else "inline" for match in SCRIPT_SOURCE.finditer(html)
    ]
