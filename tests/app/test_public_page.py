"""The public page ``/<username>`` and the click redirect ``/go/<id>``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from conexoos.app.controllers import site_settings
from conexoos.app.controllers.themes import THEMES
from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.framework import db
from tests.app.analytics_support import flush_events
from tests.support.static_urls import unhashed

from .conftest import BROWSER_UA, Account, meta_token

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

BUDGET_BYTES = 30 * 1024
HEAVIEST_APPEARANCE = {
    "background": "gradient",
    "background_color": "#fef3c7",
    "gradient_color": "#e0f2fe",
    "gradient_direction": "down-right",
    "colors": "custom",
    "text_color": "#000000",
    "button_color": "#1d4ed8",
    "button_text_color": "#ffffff",
    "button_style": "shadow",
    "corner_radius": "32",
    "font": "rounded",
    "avatar_shape": "square",
}
"""Every override the page can carry at once (the longest font stack), for the byte budget."""
LINK_ANCHOR = re.compile(r'<a class="link" href="/go/(\d+)"[^>]*>([^<]*)</a>')


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def shown_links(html: str) -> list[tuple[int, str]]:
    """(link id, title) of each link on a public page, in page order."""
    return [(int(link_id), title) for link_id, title in LINK_ANCHOR.findall(html)]


@contextmanager
def counted_statements(app: Flask) -> Iterator[list[str]]:
    """Collect every SQL statement sent to the database inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.strip())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_of(app: Flask, client: FlaskClient, path: str) -> list[str]:
    """The SQL statements one GET of ``path`` runs (after a warm-up GET, so one-off setup is not counted)."""
    assert client.get(path, headers={"User-Agent": BROWSER_UA}).status_code == 200
    with counted_statements(app) as statements:
        response = client.get(path, headers={"User-Agent": BROWSER_UA})
    assert response.status_code == 200
    return statements


def selects(statements: list[str]) -> list[str]:
    return [statement for statement in statements if statement.upper().startswith("SELECT")]


def events(app: Flask, **where: Any) -> int:
    flush_events(app)  # as the task analytics-buffer-flush does
    with app.app_context():
        query = select(func.count()).select_from(AnalyticsEvent).filter_by(**where)
        return db.session.scalar(query) or 0


# ---------------------------------------------------------------- the page


def test_unknown_user_is_404(client: FlaskClient) -> None:
    response = client.get("/nobody_here")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_shows_only_enabled_links_inside_their_window_in_order(alice: Account, client: FlaskClient) -> None:
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    plain = alice.add_link("Plain", "https://plain.example/")
    alice.add_link("Disabled", "https://disabled.example/", enabled=False)
    alice.add_link("Future", "https://future.example/", starts_at=iso(now + hour))
    alice.add_link("Ended", "https://ended.example/", ends_at=iso(now - hour))
    alice.add_link(
        "Ended window", "https://ended2.example/", starts_at=iso(now - 2 * hour), ends_at=iso(now - hour)
    )
    inside = alice.add_link(
        "Inside window", "https://inside.example/", starts_at=iso(now - hour), ends_at=iso(now + hour)
    )
    started = alice.add_link("Started", "https://started.example/", starts_at=iso(now - hour))
    hidden = [
        link["id"] for link in alice.links() if link["id"] not in (plain["id"], inside["id"], started["id"])
    ]
    alice.api("POST", "/api/links/reorder", {"ids": [started["id"], *hidden, plain["id"], inside["id"]]})

    response = client.get(f"/{alice.username}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert shown_links(html) == [
        (started["id"], "Started"),
        (plain["id"], "Plain"),
        (inside["id"], "Inside window"),
    ]
    for gone in ("Disabled", "Future", "Ended", "disabled.example", "future.example", "ended.example"):
        assert gone not in html
    assert "plain.example" not in html  # links go through /go/<id>, never straight to the target


def test_a_disabled_link_comes_back_when_enabled(alice: Account, client: FlaskClient) -> None:
    link = alice.add_link("Toggle", enabled=False)
    assert shown_links(client.get(f"/{alice.username}").get_data(as_text=True)) == []
    alice.api("PUT", f"/api/edit/link/{link['id']}", {"enabled": True})
    assert shown_links(client.get(f"/{alice.username}").get_data(as_text=True)) == [(link["id"], "Toggle")]


def test_profile_and_sharing_meta(alice: Account, client: FlaskClient) -> None:
    alice.client.post(
        "/dashboard/settings",
        data={"csrf_token": alice.csrf, "display_name": "Alice A.", "bio": "I make things."},
    )
    html = client.get(f"/{alice.username}").get_data(as_text=True)
    page_url = f"http://localhost/{alice.username}"
    assert f'<link rel="canonical" href="{page_url}">' in html
    expected = {
        'property="og:title"': "Alice A.",
        'property="og:description"': "I make things.",
        'property="og:url"': page_url,
        'property="og:type"': "profile",
        'name="twitter:card"': "summary",
        'name="twitter:title"': "Alice A.",
        'name="twitter:description"': "I make things.",
    }
    for attribute, content in expected.items():
        assert f'<meta {attribute} content="{content}">' in html, attribute
    for image in ('property="og:image"', 'name="twitter:image"'):
        assert re.search(rf'<meta {image} content="http://localhost/[^"]+">', html), image
    assert (
        '<h1 dir="auto">Alice A.</h1>' in html and "I make things." in html and f"@{alice.username}" in html
    )
    assert '<meta name="viewport"' in html and '<html lang="' in html


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    ("path", "target"),
    [("/alice/", "/alice"), ("/alice/?utm_source=bio&x=%C3%A9", "/alice?utm_source=bio&x=%C3%A9")],
)
def test_a_trailing_slash_redirects_to_the_page(
    alice: Account, client: FlaskClient, method: str, path: str, target: str
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 308
    assert response.headers["Location"] == target
    followed = client.get(response.headers["Location"])
    assert followed.status_code == 200 and "@alice" in followed.get_data(as_text=True)
    assert client.get("/alice").status_code == 200


@pytest.mark.parametrize("spelling", ["ALICE", "Alice", "aLiCe"])
def test_username_lookup_is_case_insensitive(alice: Account, client: FlaskClient, spelling: str) -> None:
    response = client.get(f"/{spelling}")
    assert response.status_code == 200
    assert '<link rel="canonical" href="http://localhost/alice">' in response.get_data(as_text=True)


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_no_script_needed_and_html_plus_css_under_30_kb(
    alice: Account, client: FlaskClient, theme: str
) -> None:
    alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "D" * 60, "bio": "b" * 300}
    )
    appearance = {**HEAVIEST_APPEARANCE, "theme": theme, "csrf_token": alice.csrf}
    assert alice.client.post("/settings/appearance", data=appearance).status_code == 302
    for n in range(10):
        alice.add_link(f"A fairly long link title number {n} " + "x" * 60, f"https://example.com/{'p' * 400}")
    response = client.get(f"/{alice.username}")
    html = response.get_data(as_text=True)
    assert len(shown_links(html)) == 10
    # One script only, the Web Share button's, deferred and from a file: the page needs none of it.
    assert re.findall(r"<script[^>]*>", unhashed(html)) == ['<script src="/static/js/share.js" defer>']
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers either
    stylesheets = re.findall(r'<link rel="stylesheet" href="(?:http://localhost)?([^"]+)"', html)
    assert [unhashed(path) for path in stylesheets] == [
        "/static/css/public.css",
        f"/static/css/themes/{theme}.css",
    ]
    assert re.search(r"/css/public\.[0-9a-f]{12}\.css", " ".join(stylesheets))  # by its content hash
    css = b"".join(client.get(path).get_data() for path in stylesheets)  # uncompressed: no Accept-Encoding
    total = len(response.get_data()) + len(css)
    assert total < BUDGET_BYTES, f"{total} bytes of HTML + CSS"


def test_only_a_signed_in_visitor_gets_a_csrf_token_that_works_on_the_page(
    alice: Account, bob: Account, client: FlaskClient
) -> None:
    assert 'name="csrf-token"' not in client.get(f"/{alice.username}").get_data(as_text=True)
    token = meta_token(bob.client.get(f"/{alice.username}"))  # the page's own script posts with it
    response = bob.client.post(
        "/api/add/link", json={"title": "Mine", "url": "https://bob.example/"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.get_data(as_text=True)


# ---------------------------------------------------------------- the query budget


def test_public_page_runs_at_most_two_selects(app: Flask, alice: Account, client: FlaskClient) -> None:
    for n in range(10):
        alice.add_link(f"Link {n}", f"https://example.com/{n}")
    statements = statements_of(app, client, f"/{alice.username}")
    assert len(selects(statements)) <= 2, "\n".join(selects(statements))
    writes = [statement for statement in statements if not statement.upper().startswith("SELECT")]
    # One short INSERT of the view event is allowed (and with it its transaction); nothing else.
    inserts = [statement for statement in writes if statement.upper().startswith("INSERT")]
    assert len(inserts) <= 1 and all("analytics_event" in statement for statement in inserts), writes
    assert not [statement for statement in writes if statement.upper().startswith(("UPDATE", "DELETE"))]


def test_the_page_wears_the_site_name_read_within_its_two_selects(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    """The title, the link-preview site name and the branding name the site (as named at setup or in the
    admin panel), escaped; a rename reaches a page served before it, with the settings cache empty and
    still two selects (the name comes with the owner's row)."""
    assert f"· {app.config['APP_NAME']}</title>" in client.get(f"/{alice.username}").get_data(as_text=True)
    with app.test_request_context():
        site_settings.change("site_name", "Acme <Links> & Co")
    with counted_statements(app) as statements:
        html = client.get(f"/{alice.username}", headers={"User-Agent": BROWSER_UA}).get_data(as_text=True)
    assert len(selects(statements)) <= 2, "\n".join(selects(statements))
    shown = "Acme &lt;Links&gt; &amp; Co"
    assert f"<title>{alice.username} · {shown}</title>" in html
    assert f'<meta property="og:site_name" content="{shown}">' in html
    assert f"Made with {shown}</a>" in html  # the free plan keeps the branding
    assert "Acme <Links>" not in html


def test_public_page_queries_do_not_grow_with_the_links(
    app: Flask, signed_up: Any, client: FlaskClient
) -> None:
    few, many = signed_up("few"), signed_up("many")
    few.add_link("Only one")
    for n in range(10):
        many.add_link(f"Link {n}")
    assert len(selects(statements_of(app, client, "/few"))) == len(
        selects(statements_of(app, client, "/many"))
    )


def test_public_page_for_an_unknown_user_runs_one_select(app: Flask, client: FlaskClient) -> None:
    # The 404 page wears the site's layout, whose name comes from the settings cache (one read every 30 s
    # per process): warmed up first, as statements_of does, so only the lookup itself is counted.
    assert client.get("/nobody-yet").status_code == 404
    with counted_statements(app) as statements:
        assert client.get("/nobody").status_code == 404
    assert len(statements) <= 1, statements


# ---------------------------------------------------------------- /go/<id>


def test_go_redirects_with_302_and_records_one_click(app: Flask, alice: Account, client: FlaskClient) -> None:
    link = alice.add_link("Target", "https://target.example/page?x=1")
    response = client.get(
        f"/go/{link['id']}", headers={"User-Agent": BROWSER_UA, "Referer": "https://social.example/post/1"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://target.example/page?x=1"
    assert "no-store" in response.headers["Cache-Control"]
    assert events(app, kind="click", link_id=link["id"]) == 1
    with app.app_context():
        click = db.session.scalars(select(AnalyticsEvent).filter_by(kind="click")).one()
        assert click.owner_id == alice.id
        assert click.referrer_host == "social.example"
        assert click.device == "desktop"
        assert click.occurred_at is not None


def test_a_view_or_click_with_range_and_validators_is_recorded_once(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    """A Range beside If-None-Match has a file answered twice inside (its version, then its range): a page
    or a redirect, which record what they serve, never are."""
    link = alice.add_link()
    asked = {"User-Agent": BROWSER_UA, "Range": "bytes=0-9", "If-None-Match": '"another-version"'}
    assert client.get(f"/{alice.username}", headers=asked).status_code == 200
    assert client.get(f"/go/{link['id']}", headers=asked).status_code == 302
    assert events(app, kind="view", owner_id=alice.id) == 1
    assert events(app, kind="click", link_id=link["id"]) == 1


def test_each_click_is_recorded_once(app: Flask, alice: Account, client: FlaskClient) -> None:
    link = alice.add_link()
    for _ in range(3):
        client.get(f"/go/{link['id']}", headers={"User-Agent": BROWSER_UA})
    assert events(app, kind="click", link_id=link["id"]) == 3


def test_go_follows_mailto_and_tel_links(alice: Account, client: FlaskClient) -> None:
    for url in ("mailto:hello@example.com", "tel:+34600000000"):
        link = alice.add_link("Contact", url)
        response = client.get(f"/go/{link['id']}", headers={"User-Agent": BROWSER_UA})
        assert response.status_code == 302
        assert response.headers["Location"] == url


def test_a_bot_is_redirected_but_not_counted(app: Flask, alice: Account, client: FlaskClient) -> None:
    link = alice.add_link()
    response = client.get(
        f"/go/{link['id']}", headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
    )
    assert response.status_code == 302
    assert events(app, kind="click") == 0


@pytest.mark.parametrize("state", ["unknown", "disabled", "not-started", "ended", "deleted"])
def test_go_is_404_unless_the_link_is_live(
    app: Flask, alice: Account, client: FlaskClient, state: str
) -> None:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "disabled": {"enabled": False},
        "not-started": {"starts_at": iso(now + timedelta(hours=1))},
        "ended": {"ends_at": iso(now - timedelta(seconds=1))},
    }.get(state, {})
    link = alice.add_link("Not live", "https://not-live.example/", **fields)
    link_id = link["id"] + 1000 if state == "unknown" else link["id"]
    if state == "deleted":
        alice.api("DELETE", f"/api/delete/link/{link_id}")
    response = client.get(f"/go/{link_id}", headers={"User-Agent": BROWSER_UA})
    assert response.status_code == 404
    assert "Location" not in response.headers
    assert "not-live.example" not in response.get_data(as_text=True)
    assert events(app, kind="click") == 0


@pytest.mark.parametrize("script_root", ["", "/sub/dir"])
def test_page_urls_are_the_urls_url_for_builds(app: Flask, script_root: str) -> None:
    """The page builds /go/<id>, /go/product/<id> and static URLs once per render (PageUrls): each is the
    URL ``url_for`` gives, for ids of any width and under a mount point."""
    from conexoos.app.controllers.profiles import PageUrls
    from conexoos.framework.static_files import url_for
    from conexoos.framework.urls import external_url, public_url

    with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
        urls = PageUrls()
        for number in (1, 7, 10, 99, 12345, 2**31 - 1):
            assert urls.go(number) == url_for("public.go", link_id=number)
            assert urls.buy(number) == url_for("public.buy", product_id=number)
        for filename in ("img/icons.svg", "css/public.css", "img/default_product.jpg"):
            assert urls.static(filename) == url_for("static", filename=filename)
            assert urls.static(filename) is urls.static(filename)
        assert urls.go(5).startswith(f"{script_root}/go/")
        assert urls.home == url_for("public.home")
        # The default avatar on the public URL, under its content-hashed name (cached for a year).
        avatar = urls.external_static("img/default_avatar.svg")
        assert avatar == public_url() + url_for("static", filename="img/default_avatar.svg")
        assert avatar != external_url("static", filename="img/default_avatar.svg")


def test_page_urls_are_kept_per_mount_point(app: Flask) -> None:
    """A process builds a page's URLs once per mount point: the next request under the same one reuses
    them, a request under another gets its own (never the first one's prefix)."""
    from conexoos.app.controllers.profiles import page_urls

    def urls_under(script_root: str) -> Any:
        with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
            return page_urls()

    root, mounted = urls_under(""), urls_under("/sub")
    assert urls_under("") is root and urls_under("/sub") is mounted
    assert root.go(3) == "/go/3" and mounted.go(3) == "/sub/go/3"
    with app.test_request_context("/", base_url="http://localhost/sub/"):
        assert mounted.static("css/public.css").startswith("/sub/static/css/public.")
