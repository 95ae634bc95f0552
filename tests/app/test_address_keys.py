"""The keys that match another spelling of an address moderators hid (``utils/address_keys.py``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conexoos.app.utils.address_keys import address_key, player_key, profile_key

PAGE = "https://evil.example/Login/Page?a=1&b=2"


@pytest.mark.parametrize(
    "spelled",
    [
        "http://WWW.Evil.Example/Login/Page?a=1&b=2#top",
        "https://evil.example./Login/Page/?a=1&b=2",
        "https://evil.example:443/Login/Page?a=1&b=2",
        "http://evil.example:80/Login/Page?a=1&b=2",
        "https://evil.example/Login/./Page?a=1&b=2",
        "https://evil.example/Login/x/../Page?a=1&b=2",
        "https://evil.example/%2e/Login/Page?a=1&b=2",
        "https://evil.example//Login//Page?a=1&b=2",
        "https://evil.example/%4Cogin/Page?a=%31&b=2",
        "https://evil.example/Login/Page?b=2&a=1",
        "https://evil.example/Login/Page?&a=1&&b=2&",
        "https://evil.example/Login/Page?a=1&b=2&utm_source=bio&fbclid=x&si=y",
        f"  {PAGE}  ",
    ],
)
def test_another_spelling_of_an_address_has_its_key(spelled: str) -> None:
    assert address_key(spelled) == address_key(PAGE)


@pytest.mark.parametrize(
    "other",
    [
        "https://evil.example/login/page?a=1&b=2",  # a path's case counts (bit.ly/AbC is not bit.ly/abc)
        "https://evil.example/Login/Page?a=1&b=3",
        "https://evil.example/Login/Page?a=1",
        "https://evil.example:8443/Login/Page?a=1&b=2",
        "https://other.example/Login/Page?a=1&b=2",
        "https://evil.example/Login/Page%2F?a=1&b=2",  # an escaped slash is no separator
    ],
)
def test_another_address_has_another_key(other: str) -> None:
    assert address_key(other) != address_key(PAGE)


def test_a_mailbox_is_its_address_in_lower_case_without_subject() -> None:
    keys = {
        address_key(mail)
        for mail in (
            "mailto:Scam@Evil-Mail.Example?subject=Hi",
            "MAILTO:scam@evil-mail.example",
            "mailto:%53cam@x",
        )
    }
    assert keys == {"mailto:scam@evil-mail.example", "mailto:scam@x"}


def test_a_profile_is_the_same_at_its_networks_other_hosts_and_in_any_case() -> None:
    instagram = {
        profile_key(url)
        for url in (
            "https://www.instagram.com/eve.phish/",
            "https://m.instagram.com/Eve.Phish?igsh=abc",
            "https://instagr.am/eve.phish",
        )
    }
    assert instagram == {"instagram.com/eve.phish"}
    assert profile_key("https://mastodon.social/users/eve") == profile_key("https://mastodon.social/@Eve")
    assert profile_key("https://mastodon.social/@eve") != profile_key("https://mastodon.online/@eve")


def test_a_profile_named_in_the_query_keeps_its_query() -> None:
    first = profile_key("https://www.facebook.com/profile.php?id=100001111")
    assert first == profile_key("https://fb.com/profile.php?id=100001111&mibextid=x")
    assert first != profile_key("https://www.facebook.com/profile.php?id=4")
    assert profile_key("https://youtube.com/watch?v=AAAAAAAAAAA") != profile_key(
        "https://youtube.com/watch?v=CCCCCCCCCCC"
    )


def test_a_video_is_the_same_at_its_providers_addresses_from_any_start() -> None:
    video = {
        player_key(url)
        for url in (
            "https://youtu.be/dQw4w9WgXcQ",
            "http://youtu.be/dQw4w9WgXcQ?t=30",
            "http://m.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=9",
            "https://music.youtube.com/watch?v=dQw4w9WgXcQ",
        )
    }
    assert video == {"https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"}
    assert player_key("http://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=abc") == player_key(
        "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
    )
    assert player_key("https://youtu.be/9bZkp7q19f0") not in video
    assert player_key("https://evil.example/watch?v=dQw4w9WgXcQ") is None


@given(st.text(max_size=200))
def test_any_text_has_keys_and_no_error(text: str) -> None:
    assert isinstance(address_key(text), str) and isinstance(profile_key(text), str)
    assert player_key(text) is None or player_key(text).startswith("https://")
