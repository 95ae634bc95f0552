"""The embed kind: provider URLs recognised, others refused; a card that links out, no third-party
request and no frame until the visitor clicks; the CSP allows exactly the players' hosts."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conexoos.app.controllers.blocks.embed import EMBED
from conexoos.app.utils.players import PLAYER_HOSTS, recognise
from tests.support.static_urls import SHARE_SCRIPT, scripts_of, unhashed

from .billing_support import visit
from .conftest import Account

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

RECOGNISED = {
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10": (
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=10&autoplay=1",
    ),
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ": (
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
    ),
    "https://youtu.be/dQw4w9WgXcQ?t=1h2m3s": (
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=3723&autoplay=1",
    ),
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ#t=1m30s": (
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=90&autoplay=1",
    ),
    "https://www.youtube.com/embed/dQw4w9WgXcQ?start=42": (
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=42&autoplay=1",
    ),
    "https://youtu.be/dQw4w9WgXcQ?t=soon": (  # no time: the video starts at the beginning
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
    ),
    "https://www.youtube.com:443/watch?v=dQw4w9WgXcQ": (  # https's own port
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
    ),
    "https://vimeo.com/76979871#t=1m2s": (
        "Vimeo",
        "https://player.vimeo.com/video/76979871?dnt=1&autoplay=1#t=62s",
    ),
    "https://youtu.be/dQw4w9WgXcQ": (
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
    ),
    "https://m.youtube.com/shorts/dQw4w9WgXcQ": (
        "YouTube",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1",
    ),
    "https://vimeo.com/76979871": ("Vimeo", "https://player.vimeo.com/video/76979871?dnt=1&autoplay=1"),
    "https://vimeo.com/76979871/abcdef1234": (  # unlisted: the player needs the hash
        "Vimeo",
        "https://player.vimeo.com/video/76979871?h=abcdef1234&dnt=1&autoplay=1",
    ),
    "https://player.vimeo.com/video/76979871?h=abcdef1234": (
        "Vimeo",
        "https://player.vimeo.com/video/76979871?h=abcdef1234&dnt=1&autoplay=1",
    ),
    "https://player.vimeo.com/video/76979871": (
        "Vimeo",
        "https://player.vimeo.com/video/76979871?dnt=1&autoplay=1",
    ),
    "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC": (
        "Spotify",
        "https://open.spotify.com/embed/track/4uLU6hMCjMI75M1A2tKUQC",
    ),
    "https://soundcloud.com/forss/flickermood": (
        "SoundCloud",
        "https://w.soundcloud.com/player/?url=https%3A%2F%2Fsoundcloud.com%2Fforss%2Fflickermood&auto_play=true",
    ),
}
REFUSED = [
    "https://example.com/watch?v=dQw4w9WgXcQ",
    "http://youtu.be:8080/dQw4w9WgXcQ",  # a port of its own, https or not
    "https://vimeo.com/76979871/not-a-hash",
    "https://player.vimeo.com/video/76979871?h=<script>",
    "https://www.youtube.com/watch?v=short",
    "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
    "https://vimeo.com/channels/staffpicks",
    "https://open.spotify.com/user/someone",
    "https://soundcloud.com/forss",
    "javascript:alert(1)//youtu.be/dQw4w9WgXcQ",
    "https://youtube.com:8443/watch?v=dQw4w9WgXcQ",
    "https://vimeo.com:80/76979871",
]


@pytest.mark.parametrize("url", list(RECOGNISED))
def test_provider_urls_are_recognised_with_their_private_player(url: str) -> None:
    player = recognise(url)
    assert player is not None and (player.provider, player.player_url) == RECOGNISED[url]
    assert player.player_url.startswith(tuple(f"{host}/" for host in PLAYER_HOSTS))


@pytest.mark.parametrize("url", REFUSED)
def test_other_urls_are_refused_naming_the_url(alice: Account, url: str) -> None:
    response = alice.api("POST", "/api/blocks", {"kind": "embed", "url": url})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == "url"


@pytest.mark.parametrize(
    "url",
    [
        "http://youtu.be/dQw4w9WgXcQ",
        "http://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "http://vimeo.com/76979871/abcdef1234",
        "HTTP://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
        "http://soundcloud.com/forss/flickermood",
    ],
)
def test_an_http_provider_url_is_accepted_as_https(alice: Account, url: str) -> None:
    response = alice.api("POST", "/api/blocks", {"kind": "embed", "url": url})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["url"] == "https://" + url.split("://", 1)[1]


def test_a_port_is_refused_saying_so(alice: Account) -> None:
    response = alice.api(
        "POST", "/api/blocks", {"kind": "embed", "url": "https://youtube.com:8443/watch?v=dQw4w9WgXcQ"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "embed_port",
        "field": "url",
        "message": "url names the port 8443: use the provider's own address, without a port",
    }


def test_the_start_time_is_kept_in_the_card_and_the_player(alice: Account, client: FlaskClient) -> None:
    url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1m30s"
    assert alice.api("POST", "/api/blocks", {"kind": "embed", "url": url}).status_code == 201
    html = visit(client, f"/{alice.username}").get_data(as_text=True)
    assert f'<a class="embed-card" href="{url.replace("&", "&amp;")}"' in html
    assert 'data-player="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=90&amp;autoplay=1"' in html


def test_an_embed_is_a_card_linking_out_with_no_frame(alice: Account, client: FlaskClient) -> None:
    assert scripts_of(visit(client, f"/{alice.username}").get_data(as_text=True)) == [
        SHARE_SCRIPT
    ]  # no embed
    response = alice.api(
        "POST",
        "/api/blocks",
        {"kind": "embed", "url": "https://youtu.be/dQw4w9WgXcQ", "title": "<b>Talk</b>"},
    )
    assert response.status_code == 201
    assert (response.get_json()["provider"], response.get_json()["title"]) == ("YouTube", "<b>Talk</b>")
    html = visit(client, f"/{alice.username}").get_data(as_text=True)
    assert '<a class="embed-card" href="https://youtu.be/dQw4w9WgXcQ" rel="nofollow noopener">' in html
    assert "&lt;b&gt;Talk&lt;/b&gt;" in html and "<b>Talk" not in html
    assert "<iframe" not in html
    # Nothing on the page is fetched from another host: every src and stylesheet is this site's.
    fetched = re.findall(r'(?:src|href)="([^"]+)"', html)
    loaded = [url for url in fetched if not url.startswith(("/", "http://localhost"))]
    assert loaded == ["https://youtu.be/dQw4w9WgXcQ"]  # the card's link, followed only on a click
    assert 'data-player="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"' in html
    assert unhashed(html).count('src="/static/js/embed.js"') == 1


def test_an_embed_title_may_be_empty_and_the_provider_names_the_card(
    alice: Account, client: FlaskClient
) -> None:
    alice.api("POST", "/api/blocks", {"kind": "embed", "url": "https://vimeo.com/76979871"})
    html = visit(client, f"/{alice.username}").get_data(as_text=True)
    assert '<span class="embed-title" dir="auto">Vimeo</span>' in html


def test_the_csp_allows_exactly_the_players_as_frames(client: FlaskClient) -> None:
    policy = client.get("/").headers["Content-Security-Policy"]
    frame_src = [part.strip() for part in policy.split(";") if part.strip().startswith("frame-src")]
    assert frame_src == [
        "frame-src https://www.youtube-nocookie.com https://player.vimeo.com https://open.spotify.com "
        "https://w.soundcloud.com"
    ]


def test_embed_js_is_included_once_however_many_runs_of_embeds(alice: Account, client: FlaskClient) -> None:
    for url in ("https://youtu.be/dQw4w9WgXcQ", "https://vimeo.com/76979871"):
        assert alice.api("POST", "/api/blocks", {"kind": "embed", "url": url}).status_code == 201
        assert alice.api("POST", "/api/blocks", {"kind": "header", "title": "Between"}).status_code == 201
    html = visit(client, f"/{alice.username}").get_data(as_text=True)
    assert html.count('class="embed-card"') == 2  # two runs of embeds, apart
    assert scripts_of(html) == [SHARE_SCRIPT, "/static/js/embed.js"]


def test_the_cap_on_embeds_is_not_worded_as_a_plan_limit(alice: Account) -> None:
    for number in range(EMBED.limit):
        body = {"kind": "embed", "url": f"https://vimeo.com/{number + 1}"}
        assert alice.api("POST", "/api/blocks", body).status_code == 201
    refused = alice.api("POST", "/api/blocks", {"kind": "embed", "url": "https://vimeo.com/999"})
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "page_limit"
    assert error["message"] == f"A page holds at most {EMBED.limit} embeds. Delete an embed to add another."


PROVIDER_URL = st.builds(
    "{}://{}{}{}{}{}".format,
    st.sampled_from(["https", "http", "HTTPS", "javascript", ""]),
    st.sampled_from(
        ["www.youtube.com", "youtu.be", "m.youtube.com", "vimeo.com", "open.spotify.com", "soundcloud.com"]
        + ["youtube.com.evil.example", "player.vimeo.com", "example.com", "", "[::1]", "[youtu.be"]
    ),
    st.one_of(st.just(""), st.integers(-1, 70000).map(":{}".format), st.text(max_size=6).map(":{}".format)),
    st.one_of(
        st.sampled_from(["/watch", "/dQw4w9WgXcQ", "/76979871", "/track/4uLU6hMCjMI75M1A2tKUQC", "/a/b"]),
        st.text(max_size=30).map("/{}".format),
    ),
    st.one_of(
        st.just(""),
        st.sampled_from(["?v=dQw4w9WgXcQ", "?v=dQw4w9WgXcQ&t=1h2m3s", "?t=90", "?start=12&t=x", "?v=a&v=b"]),
        st.text(max_size=20).map("?{}".format),
    ),
    st.one_of(
        st.sampled_from(["", "#t=1m30s", "#t=99999999", "#t=1h&t=2m"]),
        st.text(max_size=20).map("#{}".format),
        st.text(max_size=20).map("#t={}".format),
    ),
)


@settings(max_examples=200, deadline=None)
@given(url=st.one_of(PROVIDER_URL, st.text(max_size=80)))
def test_the_parser_gives_a_player_only_on_the_allowed_hosts(url: str) -> None:
    player = recognise(url)
    if player is not None:
        assert player.player_url.startswith(tuple(f"{host}/" for host in PLAYER_HOSTS)), player
        assert not re.search(r"[\s<>\"'\\]", player.player_url), player


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=st.one_of(PROVIDER_URL, st.text(max_size=80)))
def test_no_embed_url_is_a_500(alice: Account, url: str) -> None:
    response = alice.api("POST", "/api/blocks", {"kind": "embed", "url": url})
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 201:
        assert alice.api("DELETE", f"/api/blocks/{response.get_json()['id']}").status_code in (200, 204)
