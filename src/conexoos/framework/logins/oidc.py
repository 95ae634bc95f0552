"""OpenID Connect providers (placeholder: the oidc engineer's module replaces this file)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..schema import Schema
from .registry import Logins

PROVIDER_SCHEMA: Schema = {}


def install(app: Flask, logins: Logins, section: Any) -> None:
    """Register the OpenID Connect providers of ``LOGINS.oidc`` (not built yet)."""
    raise NotImplementedError("LOGINS.oidc is not available in this build")
