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
        "https://evil.example/Login/Page?a=1&b=2&utm_source=bio&fbclid=x&UTM_medium=y",
        "https://evil.example/%4cogin/Page?a=1&b=2",
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
        "https://evil.example/Login/Page?a=1&b=2&si=y",  # ?si= is only a network's share parameter
        "https://evil.example/Login/Page?a=1&b=2&ref=other",
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


def test_a_profile_named_in_a_networks_intent_or_app_address_is_that_profile() -> None:
    assert {
        profile_key(url)
        for url in (
            "https://x.com/Eve",
            "https://twitter.com/intent/user?screen_name=eve",
            "https://x.com/intent/follow?screen_name=@EVE&lang=en",
        )
    } == {"x.com/eve"}
    assert profile_key("https://www.instagram.com/_u/Eve.Phish/") == "instagram.com/eve.phish"
    # an intent naming another profile, or one by number, is not every intent of its kind
    assert profile_key("https://x.com/intent/user?user_id=12") != profile_key(
        "https://x.com/intent/user?user_id=3"
    )
    assert profile_key("https://x.com/intent/user?screen_name=a/b") == "x.com/intent/user"


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
            "https://gaming.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com/watch/dQw4w9WgXcQ",
            "https://www.youtube.com/attribution_link?a=x&u=%2Fwatch%3Fv%3DdQw4w9WgXcQ%26feature%3Dshare",
        )
    }
    assert video == {"https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"}
    track = player_key("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC")
    assert player_key("http://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=abc") == track
    assert player_key("https://play.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC") == track
    # a share of another site's address is no video of YouTube's
    assert (
        player_key("https://youtube.com/attribution_link?u=https://evil.example/watch?v=dQw4w9WgXcQ") is None
    )
    assert player_key("https://youtu.be/9bZkp7q19f0") not in video
    assert player_key("https://evil.example/watch?v=dQw4w9WgXcQ") is None


@given(st.text(max_size=200))
def test_any_text_has_keys_and_no_error(text: str) -> None:
    assert isinstance(address_key(text), str) and isinstance(profile_key(text), str)
    assert player_key(text) is None or player_key(text).startswith("https://")


def test_escapes_are_compared_in_either_case_and_mapped_ipv4_as_ipv4() -> None:
    assert address_key("https://esc.example/caf%c3%a9") == address_key("https://esc.example/caf%C3%A9")
    assert address_key("https://shop.example/p%3aq/%c3%bc?n=a+b") == address_key(
        "https://shop.example/p%3Aq/%C3%BC?n=a%20b"
    )
    assert address_key("http://[::ffff:93.184.216.34]/login") == address_key("http://93.184.216.34/login")
    assert address_key("http://[::ffff:5db8:d822]/login") == address_key("http://93.184.216.34/login")


def test_a_networks_share_parameters_count_on_its_hosts_only() -> None:
    assert address_key("https://x.com/badguy/status/1?s=20&t=abc") == address_key(
        "https://x.com/badguy/status/1"
    )
    assert address_key("https://github.com/acme/tool?ref=main") == address_key("https://github.com/acme/tool")
    assert address_key("https://redir.example/out?ref=a") != address_key("https://redir.example/out?ref=b")


@pytest.mark.parametrize(
    ("hidden", "spelled"),
    [
        ("https://www.instagram.com/bad.guy/", "https://www.instagram.com/bad.guy/?hl=en"),
        ("https://x.com/badguy", "https://twitter.com/BadGuy?lang=en&s=20"),
        ("https://www.tiktok.com/@badtok", "https://www.tiktok.com/@BadTok?_t=8abc&lang=en"),
        (
            "https://www.facebook.com/profile.php?id=100001",
            "https://m.facebook.com/profile.php?id=100001&sk=about",
        ),
        ("https://www.linkedin.com/in/bad-guy", "https://linkedin.com/in/Bad-Guy/?trk=x"),
    ],
)
def test_a_profile_with_its_networks_parameters_is_the_same_profile(hidden: str, spelled: str) -> None:
    assert profile_key(spelled) == profile_key(hidden)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            "https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw",
            "https://www.youtube.com/channel/UCUAXFKGSW1L7XACFND5JJOW",
        ),
        ("https://www.instagram.com/p/CaBcD123xYz/", "https://www.instagram.com/p/cabcd123xyz/"),
        (
            "https://github.com/acme/tool/blob/main/Setup.sh",
            "https://github.com/acme/tool/blob/main/setup.sh",
        ),
        (
            "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
            "https://open.spotify.com/track/4codk2wgletkbw3pvgpwqt",
        ),
    ],
)
def test_a_path_below_a_profiles_name_keeps_its_case(one: str, other: str) -> None:
    assert profile_key(one) != profile_key(other)


def test_spotifys_and_soundclouds_player_addresses_are_their_tracks() -> None:
    track = "https://open.spotify.com/track/6rqhFgbbKwnb9MLmUQDhG6"
    assert player_key("https://open.spotify.com/embed/track/6rqhFgbbKwnb9MLmUQDhG6") == player_key(track)
    player = "https://w.soundcloud.com/player/?url=https%3A%2F%2Fsoundcloud.com%2Fsomeone%2Fsome-track"
    assert player_key(player) == player_key("https://soundcloud.com/someone/some-track") is not None
    assert player_key("https://w.soundcloud.com/player/?url=https%3A%2F%2Fevil.example%2Fx") is None


def test_a_profiles_name_in_any_case_and_with_or_without_at_names_its_pages_too() -> None:
    post = profile_key("https://x.com/EvilGuy/status/123")
    assert {
        profile_key(url)
        for url in (
            "https://x.com/evilguy/status/123",
            "https://twitter.com/EVILGUY/status/123?s=20",
            "https://x.com/@EvilGuy/status/123",
        )
    } == {post}
    assert profile_key("https://x.com/evilguy/status/124") != post
    assert profile_key("https://github.com/badgit/Repo") == profile_key("https://github.com/BadGit/Repo")
    assert profile_key("https://github.com/badgit/repo") != profile_key("https://github.com/BadGit/Repo")
    assert profile_key("https://www.tiktok.com/badtok") == profile_key("https://www.tiktok.com/@BadTok")


@pytest.mark.parametrize(
    ("other_site", "network_host"),
    [
        ("https://docs.github.com/BadGit", "https://github.com/BadGit"),
        ("https://blog.x.com/EvilGuy", "https://x.com/EvilGuy"),
        ("https://help.instagram.com/bad.insta", "https://instagram.com/bad.insta"),
        ("https://business.facebook.com/badfb", "https://facebook.com/badfb"),
    ],
)
def test_a_networks_other_subdomains_are_sites_of_their_own(other_site: str, network_host: str) -> None:
    assert profile_key(other_site) != profile_key(network_host)
    assert address_key(f"{other_site}?s=20") != address_key(other_site)  # a share parameter is theirs


@pytest.mark.parametrize(
    "code",
    [
        "https://discord.gg/AbCdEf",
        "https://t.me/+AbCdEfGh",
        "https://pin.it/AbCdE",
        "https://lnkd.in/AbCdE",
        "https://spotify.link/AbCdE",
        "https://etsy.me/AbCdE",
        "https://youtu.be/AbCdEfGhIjK",
    ],
)
def test_a_short_links_or_an_invitations_code_keeps_its_case(code: str) -> None:
    lower = code[: code.rindex("/") + 1] + code[code.rindex("/") + 1 :].lower()
    assert profile_key(lower) != profile_key(code) and address_key(lower) != address_key(code)


def test_a_signal_contact_is_named_by_its_fragment() -> None:
    assert address_key("https://signal.me/#eu/AbCdEfGh") != address_key("https://signal.me/#eu/ZzZzZzZz")
    assert address_key("https://signal.me/#eu/AbCdEfGh") == address_key("http://www.signal.me/#eu/AbCdEfGh")
    assert address_key("https://t.me/EvilChan") != address_key("https://t.me/evilchan")
    assert profile_key("https://t.me/EvilChan") == profile_key("https://t.me/evilchan")
