"""Messages in plain English: a count with its noun in the right number, a noun with its article."""

from __future__ import annotations

VOWELS = "aeiou"


def counted(number: int, singular: str, plural: str = "") -> str:
    """``number`` and its noun: ``1 domain``, ``2 domains``, ``1 menu entry``, ``0 menu entries``
    (``plural`` defaults to ``singular`` and an "s")."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def with_article(noun: str) -> str:
    """``noun`` after "a" or "an": ``an admin``, ``a moderator`` (by its first letter: the nouns these
    messages use are roles and kinds, none of them with a silent or "you"-sounding first letter)."""
    return f"{'an' if noun[:1].lower() in VOWELS else 'a'} {noun}"
