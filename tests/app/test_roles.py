"""Every staff URL, found from the URL map, answers 404 to anyone without its role, checked on the server.

The matrix is generated from ``app.url_map`` (every rule under ``/admin`` and ``/setup``), so a staff route
added later is covered without touching this file; ``MODERATOR_ENDPOINTS`` lists what moderators may use,
and the test fails when the routes' own declarations disagree with it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from conexoos.app.controllers.roles import required_roles, role_for_admin_flag
from conexoos.app.models.persistent import MediaItem, MenuItem, Report
from conexoos.app.models.persistent.site_page import SitePage, SitePageRevision
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp, each, form_token

STAFF_PREFIXES = ("/admin", "/setup")
MODERATOR_ENDPOINTS = (
    {"admin.overview", "admin.users", "admin.user", "admin.suspend", "admin.unsuspend"}
    | {
        "admin_reports.queue",
        "admin_reports.report",
        "admin_reports.dismiss",
        "admin_reports.hide_link",
        "admin_reports.confirm_suspend",
        "admin_reports.suspend",
    }
    | {  # the site's pages: the issue gives moderators "pages"
        "admin_pages.index",
        "admin_pages.new",
        "admin_pages.edit",
        "admin_pages.preview",
        "admin_pages.confirm_delete",
        "admin_pages.delete",
        "admin_pages.revisions",
        "admin_pages.changes",
        "admin_pages.restore",
    }
)
KNOWN_ENDPOINTS = MODERATOR_ENDPOINTS | {
    "admin.change_role",
    "admin.change_plan",
    "admin.reset_two_factor",
    "admin.resend_verification",
    "admin.delete",
    "admin.audit_log",
    "admin.audit_csv",
    "admin.invitations",
    "admin.signup_policy",
    "admin_settings.index",
    "admin_settings.save",
    "admin_menus.index",
    "admin_menus.add",
    "admin_menus.edit",
    "admin_menus.move",
    "admin_menus.order",
    "admin_menus.delete",
    "setup.page",
}


def library_pdf(item_id: int) -> MediaItem:
    """A media library row (its file need not exist for its admin page)."""
    return MediaItem(
        id=item_id,
        kind="pdf",
        storage_key="f" * 32,
        original_name="terms.pdf",
        files='[{"name":"library/ffff.pdf","bytes":9}]',
        content_type="application/pdf",
        bytes_total=9,
    )


def staff_rules(app: Flask) -> list[Rule]:
    """Every rule of the app under a staff prefix."""
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(STAFF_PREFIXES)]


def concrete_url(app: Flask, rule: Rule, user_id: int) -> str:
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = user_id if isinstance(converter, IntegerConverter) else "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def allowed(app: Flask, endpoint: str, role: str | None) -> bool:
    """Whether ``role`` may use ``endpoint``, from the routes' own declarations."""
    with app.test_request_context():
        demands = required_roles(endpoint)
    return bool(demands) and role is not None and all(role in roles for roles in demands)


@pytest.fixture
def people(app: Flask, signed_up: SignUp) -> dict[str, Account]:
    target = signed_up("target")
    with app.app_context():  # a report, a site page, its revision and a menu entry whose ids are the target's
        db.session.add(
            Report(id=target.id, user_id=target.id, reason="spam", reporter_network="", snapshot="[]")
        )
        db.session.add(SitePage(id=target.id, slug="roles", title="Roles", status="draft"))
        db.session.flush()
        db.session.add(
            SitePageRevision(
                id=target.id, page_id=target.id, number=1, slug="roles", title="Roles", status="draft"
            )
        )
        db.session.add(
            MenuItem(id=target.id, menu="header", position=1, label="Home", url="https://a.example/")
        )
        db.session.add(library_pdf(target.id))  # for /admin/media/<id>
        db.session.commit()
    return {
        "user": signed_up("plainuser"),
        "moderator": make_staff(app, signed_up("moddy"), "moderator"),
        "admin": make_staff(app, signed_up("boss"), "admin"),
        "target": target,
    }


def test_the_staff_routes_are_found_and_declare_their_roles(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in staff_rules(app)}
    assert endpoints >= KNOWN_ENDPOINTS, sorted(KNOWN_ENDPOINTS - endpoints)
    admin_routes = {endpoint for endpoint in endpoints if endpoint.startswith("admin.")}
    for endpoint in admin_routes:
        assert allowed(app, endpoint, "admin"), endpoint
        assert allowed(app, endpoint, "moderator") == (endpoint in MODERATOR_ENDPOINTS), endpoint
        assert not allowed(app, endpoint, "user") and not allowed(app, endpoint, None), endpoint


def test_every_staff_page_answers_404_without_the_role_and_200_with_it(
    app: Flask, client: FlaskClient, people: dict[str, Account]
) -> None:
    clients = {"anonymous": client, **{role: people[role].client for role in ("user", "moderator", "admin")}}
    cases = {}
    for rule in staff_rules(app):
        if "GET" not in (rule.methods or set()):
            continue
        url = concrete_url(app, rule, people["target"].id)
        for role, browser in clients.items():
            may = rule.endpoint != "setup.page" and allowed(
                app, rule.endpoint, None if role == "anonymous" else role
            )
            cases[f"GET {url} as {role}"] = (browser, url, 200 if may else 404)

    def check(case: tuple[FlaskClient, str, int]) -> None:
        browser, url, status = case
        response = browser.get(url)
        assert response.status_code == status, f"{response.status_code}, wanted {status}"
        if status == 404:
            assert "admin" not in response.get_data(as_text=True).lower().split("<main", 1)[-1]

    each(cases, check)


def test_every_staff_post_is_404_without_the_role_even_with_a_valid_csrf_token(
    app: Flask, client: FlaskClient, people: dict[str, Account]
) -> None:
    anonymous_token = form_token(client.get("/login"))
    clients = {
        "anonymous": (client, anonymous_token),
        **{role: (people[role].client, people[role].csrf) for role in ("user", "moderator")},
    }
    cases = {}
    for rule in staff_rules(app):
        if "POST" not in (rule.methods or set()) or rule.endpoint == "setup.page":
            continue
        url = concrete_url(app, rule, people["target"].id)
        for role, (browser, token) in clients.items():
            if not allowed(app, rule.endpoint, None if role == "anonymous" else role):
                cases[f"POST {url} as {role}"] = (browser, url, token)

    def check(case: tuple[FlaskClient, str, str]) -> None:
        browser, url, token = case
        data = {
            "csrf_token": token,
            "role": "admin",
            "plan": "gratis",
            "confirm": "target",
            "policy": "closed",
        }
        assert browser.post(url, data=data).status_code == 404

    assert cases
    each(cases, check)
    # None of those posts did anything: the target is an ordinary, active user, and nothing was logged.
    admin = people["admin"].client
    page = admin.get(f"/admin/users/{people['target'].id}").get_data(as_text=True)
    assert "<dt>Role</dt><dd>user</dd>" in page and "active" in page
    assert "No entry matches" in admin.get("/admin/audit").get_data(as_text=True)


def test_a_suspended_administrator_loses_the_panel(app: Flask, people: dict[str, Account]) -> None:
    second = make_staff(app, people["user"], "admin")
    boss = people["admin"]
    response = boss.client.post(
        f"/admin/users/{second.id}/suspend", data={"csrf_token": boss.csrf, "reason": "Left the team"}
    )
    assert response.status_code == 302
    from .conftest import log_in

    log_in(second.client, second.username, second.password)  # suspension ended the sessions
    assert second.client.get("/admin").status_code == 404
    assert second.client.get("/dashboard").status_code == 200


@pytest.mark.parametrize(
    ("current", "admin", "expected"),
    [
        ("user", True, "admin"),
        ("moderator", True, "admin"),
        ("admin", False, "user"),
        ("moderator", False, "moderator"),
        ("user", False, "user"),
        ("moderator", None, "moderator"),
        ("admin", None, "admin"),
    ],
)
def test_an_identity_providers_admin_flag_maps_to_a_role(
    current: str, admin: bool | None, expected: str
) -> None:
    assert role_for_admin_flag(current, admin) == expected


@pytest.mark.parametrize("who", ["anonymous", "user", "admin"])
def test_an_id_out_of_range_is_a_404_under_any_method(
    client: FlaskClient, people: dict[str, Account], who: str
) -> None:
    """Werkzeug would answer 405 (before the id converter refuses the number), which told staff URLs
    from others, and said a URL exists where none does."""
    browser = client if who == "anonymous" else people[who].client
    for method, url in (
        ("POST", "/admin/users/99999999999"),
        ("PUT", "/admin/reports/2147483648"),
        ("GET", "/capture/2147483648"),
    ):
        response = browser.open(url, method=method)
        assert response.status_code == 404, f"{method} {url} as {who}: {response.status_code}"
    assert browser.get("/logout").status_code == 405  # a route that exists and takes only POST


def test_a_method_a_staff_url_does_not_take_is_a_404_without_the_role(
    app: Flask, client: FlaskClient, people: dict[str, Account]
) -> None:
    clients = {"anonymous": client, **{role: people[role].client for role in ("user", "moderator", "admin")}}
    cases = {}
    methods: dict[str, set[str]] = {}
    for rule in staff_rules(app):
        methods.setdefault(rule.rule, set()).update(rule.methods or set())
    for rule in staff_rules(app):
        other = next((method for method in ("POST", "GET") if method not in methods[rule.rule]), None)
        if rule.endpoint == "setup.page" or other is None:
            continue
        url = concrete_url(app, rule, people["target"].id)
        for role, browser in clients.items():
            may = allowed(app, rule.endpoint, None if role == "anonymous" else role)
            cases[f"{other} {url} as {role}"] = (browser, other, url, 405 if may else 404)

    def check(case: tuple[FlaskClient, str, str, int]) -> None:
        browser, method, url, status = case
        response = browser.open(url, method=method)
        if status == 405 and method == "POST":
            assert response.status_code in (400, 405)  # staff: the CSRF check may answer first
        else:
            assert response.status_code == status, f"{response.status_code}, wanted {status}"

    each(cases, check)


def test_a_doubled_slash_does_not_reveal_a_staff_url(client: FlaskClient, people: dict[str, Account]) -> None:
    """Merged slashes would redirect "/admin//users" to "/admin/users" for anyone, unlike "/admin//nope"."""
    for browser in (client, people["user"].client):
        for path in ("/admin//users", "/admin//nope", "//admin/users"):
            assert browser.get(path).status_code == 404, path


# The form field and the page's <meta> for AJAX: both carry a timed token, which changes with the second.
CSRF_TOKEN = re.compile(r'name="csrf(?:_token" value|-token" content)="[^"]*"')


def test_a_staff_urls_404_reads_exactly_as_a_url_that_does_not_exist(
    client: FlaskClient, people: dict[str, Account]
) -> None:
    """Werkzeug's own 404 sentence differed from the staff pages' one, and a moderator's navigation
    marked "Admin" as current on an administrator's page only: both told staff URLs apart."""
    for browser in (client, people["user"].client, people["moderator"].client):
        bodies = {
            path: CSRF_TOKEN.sub("", browser.get(path).get_data(as_text=True))  # a token is timed
            for path in (
                "/admin/invites",
                "/admin/audit",
                "/admin/settings",
                "/admin/nope",
                "/admin/audit/zz",
            )
        }
        assert len(set(bodies.values())) == 1, sorted(bodies)
        assert "There is no page at this address." in bodies["/admin/nope"]
        answers = {
            path: browser.get(path, headers={"Accept": "application/json"}).get_json() for path in bodies
        }
        assert len({str(answer) for answer in answers.values()}) == 1
