"""A free, valid username for an account made at a first sign-in, derived from what the provider said.

Candidates come from the provider's username, the local part of the email address, then the name, each
brought to the product's rules (``a-z``, ``0-9``, ``_`` and ``.``, 3 to 30 characters, not reserved, not
taken, not held); a taken or held one gets a number (``alice2``, ``alice3``...), a reserved one is passed
over, and as a last resort a random one is made.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Collection, Iterator

from flask import current_app

from conexoos.app.controllers.accounts import (
    SignupError,
    check_new_username,
    route_prefixes,
    username_problem,
)
from conexoos.framework.logins import ExternalIdentity

MIN_LENGTH, MAX_LENGTH = 3, 30
NUMBERED_TRIES = 50
"""How many numbered variants of one candidate are tried before the next candidate."""
FALLBACK = "user"


def free_username(identity: ExternalIdentity) -> str:
    """The first free, valid username among the candidates of ``identity`` and their numbered variants."""
    prefixes = route_prefixes(current_app.url_map)
    for base in candidates(identity):
        if username_problem(base, prefixes):
            continue  # reserved or file-like: "admin2" would read as the site's own, take the next base
        for name in _variants(base):
            if _is_free(name, prefixes):
                return name
    while True:  # every readable name is taken: a random number ends it (10^8 of them)
        name = f"{FALLBACK}{secrets.randbelow(10**8)}"
        if _is_free(name, prefixes):
            return name


def candidates(identity: ExternalIdentity) -> list[str]:
    """The bases tried, in order, each already brought to the username rules (no duplicates)."""
    raw = [identity.username or "", (identity.email or "").rpartition("@")[0], identity.name or ""]
    found: list[str] = []
    for text in raw:
        base = to_username(text)
        if base and base not in found:
            found.append(base)
    return found or [FALLBACK]


def to_username(text: str) -> str:
    """``text`` brought to the username rules: accents dropped, spaces and dashes as ``_``, other
    characters removed, no leading, trailing or doubled dot; empty when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[\s\-]+", "_", ascii_text.strip())
    name = re.sub(r"[^a-z0-9_.]", "", name)
    name = re.sub(r"\.{2,}", ".", name).strip(".")[:MAX_LENGTH].strip(".")
    if not name:
        return ""
    return name if len(name) >= MIN_LENGTH else name + "_" * (MIN_LENGTH - len(name))


def _variants(base: str) -> Iterator[str]:
    yield base
    for number in range(2, NUMBERED_TRIES + 2):
        suffix = str(number)
        yield base[: MAX_LENGTH - len(suffix)].rstrip(".") + suffix


def _is_free(name: str, prefixes: Collection[str]) -> bool:
    try:
        check_new_username(name, prefixes)
    except SignupError:
        return False
    return True
