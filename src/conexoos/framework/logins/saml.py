"""A SAML 2.0 identity provider (placeholder: the saml engineer's module replaces this file)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..schema import Schema
from .registry import Logins

SCHEMA: Schema = {}


def install(app: Flask, logins: Logins, section: Any) -> None:
    """Register the SAML service provider of ``LOGINS.saml`` (not built yet)."""
    raise NotImplementedError("LOGINS.saml is not available in this build")
