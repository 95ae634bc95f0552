"""Messages in plain English: a noun with its article, a wait in words (counts and sizes:
``conexoos.framework.wording``)."""

from __future__ import annotations

import math

VOWELS = "aeiou"


def with_article(noun: str) -> str:
    """``noun`` after "a" or "an": ``an admin``, ``a moderator``, ``a user`` (by its first letter, but
    a "you"-sounding ``u`` or ``eu`` takes "a"; the nouns these messages use are roles and kinds)."""
    sounds_like_you = noun.lower().startswith(("use", "uni", "eu"))
    return f"{'an' if noun[:1].lower() in VOWELS and not sounds_like_you else 'a'} {noun}"


def waiting(seconds: int) -> str:
    """``seconds`` as a person says a wait, rounded up, at least a minute: "a minute", "15 minutes",
    "an hour" (3,591 seconds too: not "60 minutes"), "2 days" (the sentence of a 429 or of a throttle,
    beside its ``Retry-After``)."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return "a minute" if minutes == 1 else f"{minutes} minutes"
    hours = math.ceil(seconds / 3_600)
    if hours < 24:
        return "an hour" if hours == 1 else f"{hours} hours"
    days = math.ceil(seconds / 86_400)
    return "a day" if days == 1 else f"{days} days"
