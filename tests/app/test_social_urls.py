"""canonical_url: a handle or URL per network becomes one https profile URL, or a message saying why not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conexoos.app.utils.icon_networks import NETWORKS
from conexoos.app.utils.social_urls import HANDLES, SocialURLError, canonical_url

CANONICAL = {
    ("instagram", "ana.makes"): "https://www.instagram.com/ana.makes/",
    ("instagram", "@ana.makes"): "https://www.instagram.com/ana.makes/",
    ("instagram", "https://instagram.com/ana.makes"): "https://instagram.com/ana.makes",
    ("instagram", "http://www.instagram.com/ana?igsh=1#top"): "https://www.instagram.com/ana?igsh=1",
    ("youtube", "@AnaMakes"): "https://www.youtube.com/@AnaMakes",
    ("youtube", "https://youtu.be/abc"): "https://youtu.be/abc",
    ("x", "ana_makes"): "https://x.com/ana_makes",
    ("x", "https://twitter.com/ana"): "https://twitter.com/ana",
    ("tiktok", "@ana.makes"): "https://www.tiktok.com/@ana.makes",
    ("github", "ana-m"): "https://github.com/ana-m",
    ("whatsapp", "+34600000000"): "https://wa.me/34600000000",
    ("cashapp", "$AnaMakes"): "https://cash.app/$AnaMakes",
    ("reddit", "u/ana_m"): "https://www.reddit.com/user/ana_m",
    ("mastodon", "@ana@Mastodon.Social"): "https://mastodon.social/@ana",
    ("mastodon", "https://fosstodon.org/@ana"): "https://fosstodon.org/@ana",
    ("bluesky", "ana.bsky.social"): "https://bsky.app/profile/ana.bsky.social",
    ("substack", "anamakes"): "https://anamakes.substack.com/",
    ("substack", "https://anamakes.substack.com/p/hello"): "https://anamakes.substack.com/p/hello",
    ("spotify", "https://open.spotify.com/artist/1"): "https://open.spotify.com/artist/1",
    ("linkedin", "ana-makes"): "https://www.linkedin.com/in/ana-makes/",
    ("telegram", " anamakes "): "https://t.me/anamakes",
}
REFUSED = {
    ("instagram", "https://instagram.com.evil.example/ana"): "is not on Instagram",
    ("instagram", "https://evil.example/instagram.com"): "is not on Instagram",
    ("instagram", "javascript:alert(1)"): "is not a valid Instagram handle",
    ("instagram", "ana makes"): "is not a valid Instagram handle",
    ("instagram", "<script>"): "is not a valid Instagram handle",
    ("instagram", ""): "Enter your Instagram handle",
    ("x", "a_handle_far_too_long"): "is not a valid X handle",
    ("github", "-ana"): "is not a valid GitHub handle",
    ("github", "ana--m"): "is not a valid GitHub handle",
    ("spotify", "ana"): "Spotify has no handles here",
    ("mastodon", "https://mastodon.social/about"): "is not a Mastodon profile",
    ("youtube", "ftp://youtube.com/x"): "is not a web address",
    ("youtube", "https://youtube.com:bad/x"): "is not a web address",
    ("youtube", 'https://youtube.com/"onmouseover=x'): "characters a web address cannot hold",
    ("myspace", "ana"): "is not a network this site knows",
    ("whatsapp", "+0123"): "is not a valid WhatsApp handle",
    ("mastodon", "https://mastodon.example:8443/@ana"): "names a port or a user name",  # was kept without it
    ("github", "https://ana:secret@github.com/ana"): "names a port or a user name",
}


@pytest.mark.parametrize(("network", "value"), list(CANONICAL))
def test_handles_and_urls_become_canonical_https_urls(network: str, value: str) -> None:
    assert canonical_url(network, value) == CANONICAL[(network, value)]


@pytest.mark.parametrize(("network", "value"), list(REFUSED))
def test_bad_values_are_refused_with_a_reason(network: str, value: str) -> None:
    with pytest.raises(SocialURLError) as refused:
        canonical_url(network, value)
    assert REFUSED[(network, value)].lower() in str(refused.value).lower()


def test_every_rule_is_a_known_network_and_its_example_passes() -> None:
    assert set(HANDLES) <= set(NETWORKS)
    for network, rule in HANDLES.items():
        assert canonical_url(network, rule.example).startswith("https://"), network


@given(network=st.sampled_from(sorted(NETWORKS)), value=st.text(max_size=80))
def test_any_input_is_a_https_url_on_the_network_or_a_refusal(network: str, value: str) -> None:
    try:
        url = canonical_url(network, value)
    except SocialURLError:
        return
    assert url.startswith("https://")
    assert not any(ch in url for ch in "<>\"' \\`")


@pytest.mark.parametrize(
    "value", ["https://[::ffff:1.2.3.4]/@a", "https://[::1]/@ana", "@ana@127.0.0.1", "https://10.0.0.1/@ana"]
)
def test_a_mastodon_server_is_named_by_its_domain_never_an_address(value: str) -> None:
    """``@ana@localhost`` was refused while ``@ana@127.0.0.1`` and ``https://[::1]/@ana`` were kept."""
    with pytest.raises(SocialURLError, match="names no Mastodon server by its domain name"):
        canonical_url("mastodon", value)


def test_a_signal_address_keeps_the_fragment_that_names_its_contact() -> None:
    assert canonical_url("signal", "https://signal.me/#eu/AbCdEfGh") == "https://signal.me/#eu/AbCdEfGh"
    assert canonical_url("github", "https://github.com/ana#readme") == "https://github.com/ana"
