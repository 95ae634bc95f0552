"""Read pages whose static URLs carry content hashes (``/static/css/app.0123456789ab.css``) by plain names."""

from __future__ import annotations

import re

CONTENT_HASH = re.compile(r"\.[0-9a-f]{12}(\.[A-Za-z0-9]+)(?=[\"'?#\s>)]|$)")
"""The hash templates' ``url_for('static', ...)`` puts before a static file's suffix."""


def unhashed(text: str) -> str:
    """``text`` (a URL or a whole page) with every static file's content hash taken out of its name."""
    return CONTENT_HASH.sub(r"\1", text)
