"""How a sign-in provider is named in sentences (mails, flashes, the linked-identities list): from the
configured login buttons alone, so that what names a provider does not import the sign-in flows."""

from __future__ import annotations

import re

from conexoos.framework.logins import logins

BUTTON_VERB = re.compile(r"^\s*(log|sign)\s*(in|on)\s+(with|using|via|through)\s+", re.IGNORECASE)
"""The start of a button's label that is no part of the provider's name."""
GENERIC_LABEL = re.compile(r"(sign[- ]?(on|in)|sso|log[- ]?in)\s*$", re.IGNORECASE)
"""The end of a provider's label that already names a way of signing in."""


def provider_label(backend: str, provider: str) -> str:
    """A provider's name for sentences: its button's label without "Log in with" (``Log in with
    Keycloak`` → ``Keycloak``), "directory" for LDAP, else its name in ``LOGINS``."""
    for button in logins().buttons():
        if (button.backend, button.provider) == (backend, provider):
            return BUTTON_VERB.sub("", button.label).strip() or button.label
    return "directory" if backend == "ldap" else provider


def your_sign_in(label: str) -> str:
    """``your <label> sign-in`` for sentences, or ``your sign-in through <label>`` when the label already
    names a way of signing in (SAML's default ``Single sign-on``, ``Company SSO``)."""
    if GENERIC_LABEL.search(label):
        return f"your sign-in through {label}"
    return f"your {label} sign-in"
