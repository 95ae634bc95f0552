"""Sizes and counts in words (framework/wording.py), as the admin pages and refusals show them."""

from __future__ import annotations

import pytest

from conexoos.framework.wording import human_size


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (0, "0 KB"),  # an empty media library uses nothing, not "1 KB"
        (1, "1 KB"),
        (48 * 1024, "48 KB"),
        (1024 * 1024 // 10, "0.1 MB"),
        (16 * 1024 * 1024, "16 MB"),
        (3 * 1024 * 1024 // 2, "1.5 MB"),
        (1024**3, "1 GB"),
    ],
)
def test_a_size_reads_as_people_write_it(count: int, words: str) -> None:
    assert human_size(count) == words
