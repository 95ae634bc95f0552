"""Messages in plain English: a noun with its article (counts and sizes: ``conexoos.framework.wording``)."""

from __future__ import annotations

VOWELS = "aeiou"


def with_article(noun: str) -> str:
    """``noun`` after "a" or "an": ``an admin``, ``a moderator`` (by its first letter: the nouns these
    messages use are roles and kinds, none of them with a silent or "you"-sounding first letter)."""
    return f"{'an' if noun[:1].lower() in VOWELS else 'a'} {noun}"
