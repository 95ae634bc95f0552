"""A wait in words, as the 429s and throttles say it beside their Retry-After: rounded up, at least a
minute."""

from __future__ import annotations

import pytest

from conexoos.app.utils.wording import waiting, with_article


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "a minute"),
        (60, "a minute"),
        (61, "2 minutes"),
        (899, "15 minutes"),
        (3_591, "an hour"),
        (3_600, "an hour"),
        (5_400, "2 hours"),
        (86_400, "a day"),
        (3 * 86_400, "3 days"),
    ],
)
def test_a_wait_in_words(seconds: int, words: str) -> None:
    assert waiting(seconds) == words


@pytest.mark.parametrize(
    ("noun", "words"),
    [("admin", "an admin"), ("moderator", "a moderator"), ("user", "a user"), ("embed", "an embed")],
)
def test_a_role_or_a_kind_takes_the_article_it_sounds_like(noun: str, words: str) -> None:
    assert with_article(noun) == words
