"""The moderation queue: staff list open reports, compare the snapshot with the page now, and act."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from conexoos.app.models.persistent import AuditEntry, PageBlock, Report, User, UserLink
from conexoos.framework import db
from conexoos.framework.mail.outbox import OutboxMessage
from tests.app.staff_support import make_staff

from .conftest import PASSWORD, Account, SignUp, form_token
from .leaving_support import delete_account

pytestmark = pytest.mark.database_matrix

XSS = '<script>alert("x")</script>'


@pytest.fixture
def moddy(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("moddy"), "moderator")


def file(account: Account, app: Flask, email: str = "", details: str = "Fake bank") -> int:
    visitor = app.test_client()
    token = form_token(visitor.get(f"/{account.username}/report"))
    data = {"csrf_token": token, "reason": "phishing", "details": details, "email": email}
    assert visitor.post(f"/{account.username}/report", data=data).status_code == 302
    with app.app_context():
        return int(db.session.scalar(select(Report.id).order_by(Report.id.desc())) or 0)


def report(app: Flask, report_id: int) -> Report:
    with app.app_context():
        found = db.session.get(Report, report_id)
        assert found is not None
        db.session.expunge(found)
    return found


def actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def outbox(app: Flask) -> list[str]:
    """Recipients of the reporters' thank-you mails."""
    with app.app_context():
        query = select(OutboxMessage.recipient).where(OutboxMessage.subject.startswith("Thank you for your"))
        return list(db.session.scalars(query))


def test_the_queue_lists_open_reports_and_counts_them_on_the_overview(
    app: Flask, alice: Account, moddy: Account
) -> None:
    first, second = file(alice, app), file(alice, app)
    html = moddy.client.get("/admin/reports").get_data(as_text=True)
    assert f'href="/admin/reports/{first}"' in html and f'href="/admin/reports/{second}"' in html
    assert "2 open reports" in html
    overview = moddy.client.get("/admin").get_data(as_text=True)
    assert '<strong>2</strong><span class="stat-label">open reports</span>' in overview
    assert moddy.client.get("/admin/reports?page=2").status_code == 404
    assert moddy.client.get("/admin/reports?page=x").status_code == 400


def test_a_report_shows_its_snapshot_beside_the_page_now_escaped(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    link = mallory.add_link(XSS, "https://evil.example/?a=<b>")
    report_id = file(mallory, app, details=XSS)
    mallory.api("DELETE", f"/api/delete/link/{link['id']}")
    mallory.add_link("Innocent", "https://fine.example/")
    html = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert "<script>alert" not in html and "<b>" not in html
    assert "&lt;script&gt;alert" in html
    assert "https://evil.example/" in html and "https://fine.example/" in html


def test_the_page_now_tells_a_link_outside_its_schedule_from_a_shown_one(
    app: Flask, alice: Account, moddy: Account
) -> None:
    alice.add_link("Always", "https://always.example/")
    alice.add_link(
        "Over", "https://over.example/", starts_at="2020-01-01T00:00:00Z", ends_at="2020-01-02T00:00:00Z"
    )
    alice.add_link("Later", "https://later.example/", starts_at="2099-01-01T00:00:00Z")
    html = moddy.client.get(f"/admin/reports/{file(alice, app)}").get_data(as_text=True)
    states = dict(
        re.findall(r"<td>(Always|Over|Later)</td>.*?</code></td>\s*<td>([^<]+)</td>", html, re.DOTALL)
    )
    assert states == {"Always": "shown", "Over": "outside its schedule", "Later": "outside its schedule"}


def test_dismiss_closes_audits_and_thanks_the_reporter(app: Flask, alice: Account, moddy: Account) -> None:
    report_id = file(alice, app, email="visitor@example.com")
    response = moddy.client.post(f"/admin/reports/{report_id}/dismiss", data={"csrf_token": moddy.csrf})
    assert response.status_code == 302
    closed = report(app, report_id)
    assert (closed.status, closed.action, closed.handled_by_id) == ("dismissed", "dismissed", moddy.id)
    assert actions(app)[-1] == "report.dismissed"
    assert outbox(app) == ["visitor@example.com"]
    again = moddy.client.post(f"/admin/reports/{report_id}/dismiss", data={"csrf_token": moddy.csrf})
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)
    assert moddy.client.post(f"/admin/reports/{report_id}/dismiss").status_code in (400, 403)  # no CSRF


def test_hide_a_link_hides_only_a_link_of_the_reported_page(
    app: Flask, alice: Account, bob: Account, moddy: Account
) -> None:
    link = alice.add_link("Phish", "https://phish.example/")
    other = bob.add_link("Bob's", "https://bob.example/")
    report_id = file(alice, app)
    url = f"/admin/reports/{report_id}/hide-link"
    form = {"csrf_token": moddy.csrf, "url": link["url"]}
    refused = moddy.client.post(url, data={**form, "link_id": other["id"]})
    assert refused.status_code == 404
    assert moddy.client.post(url, data={**form, "link_id": "x"}).status_code == 400
    unseen = moddy.client.post(url, data={"csrf_token": moddy.csrf, "link_id": link["id"]})
    assert unseen.status_code == 400 and "did not say which address you saw" in unseen.get_data(as_text=True)
    assert moddy.client.post(url, data={**form, "link_id": link["id"]}).status_code == 302
    with app.app_context():
        hidden = db.session.get(UserLink, link["id"])
        assert hidden is not None and hidden.enabled is False
    assert "Phish" not in app.test_client().get("/alice").get_data(as_text=True)
    assert report(app, report_id).status == "actioned"
    assert actions(app)[-2:] == ["link.hide", "report.actioned"]
    assert outbox(app) == []  # no address left


def test_a_link_a_moderator_hid_stays_hidden_whatever_its_owner_sends(
    app: Flask, alice: Account, moddy: Account
) -> None:
    link = alice.add_link("Phish", "https://phish.example/")
    report_id = file(alice, app)
    url = f"/admin/reports/{report_id}/hide-link"
    form = {"csrf_token": moddy.csrf, "link_id": link["id"], "url": link["url"]}
    assert moddy.client.post(url, data=form).status_code == 302

    shown = alice.api("PUT", f"/api/edit/link/{link['id']}", {"enabled": True})
    assert shown.status_code == 409 and "moderator hid this link" in shown.get_data(as_text=True)
    assert alice.api("GET", "/api/links").get_json()[0]["enabled"] is False
    renamed = alice.api("PUT", f"/api/edit/link/{link['id']}", {"title": "Still here"})
    assert renamed.status_code == 200 and renamed.get_json()["enabled"] is False
    assert "Phish" not in app.test_client().get("/alice").get_data(as_text=True)
    assert app.test_client().get("/alice").get_data(as_text=True).count("Still here") == 0


def test_suspend_suspends_the_owner_and_closes_the_report(app: Flask, alice: Account, moddy: Account) -> None:
    report_id, second = file(alice, app), file(alice, app, email="second@example.com")
    response = moddy.client.post(
        f"/admin/reports/{report_id}/suspend", data={"csrf_token": moddy.csrf, "reason": "Phishing"}
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None and user.suspended_at is not None
    assert app.test_client().get("/alice").status_code == 404
    assert report(app, report_id).action == "alice suspended"
    assert actions(app)[-2:] == ["user.suspend", "report.actioned"]
    again = moddy.client.post(
        f"/admin/reports/{second}/suspend", data={"csrf_token": moddy.csrf, "reason": "Phishing"}
    )
    assert again.status_code == 409 and "alice is suspended already" in again.get_data(as_text=True)
    assert report(app, second).status == "open" and actions(app)[-1] == "report.actioned"
    assert outbox(app) == []  # nobody is thanked for what was not done


def test_suspending_from_a_report_asks_for_a_reason_on_a_page_of_its_own(
    app: Flask, alice: Account, moddy: Account
) -> None:
    """The report page suspended in one click, with no reason (outside tester): its Suspend opens a
    confirmation page (a plain GET form: no JavaScript needed) whose POST needs the reason."""
    report_id = file(alice, app)
    page = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert f'<form method="get" action="/admin/reports/{report_id}/suspend">' in page
    assert f'<form method="post" action="/admin/reports/{report_id}/suspend">' not in page
    asked = moddy.client.get(f"/admin/reports/{report_id}/suspend")
    html = asked.get_data(as_text=True)
    assert (
        asked.status_code == 200 and "Suspend @alice?" in html and f"This closes report {report_id}" in html
    )
    assert f'<form method="post" action="/admin/reports/{report_id}/suspend">' in html
    assert 'name="reason" maxlength="300" required' in html

    url = f"/admin/reports/{report_id}/suspend"
    for reason, said in (("", "Give the reason for the suspension"), ("x" * 301, "at most 300 characters")):
        refused = moddy.client.post(url, data={"csrf_token": moddy.csrf, "reason": reason})
        assert refused.status_code == 422 and said in refused.get_data(as_text=True)
        assert "Suspend @alice?" in refused.get_data(as_text=True)  # the confirmation page, with why
    assert report(app, report_id).status == "open" and "user.suspend" not in actions(app)
    done = moddy.client.post(url, data={"csrf_token": moddy.csrf, "reason": "Phishing for bank logins"})
    assert done.status_code == 302
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None and user.suspension_reason == "Phishing for bank logins"
    assert report(app, report_id).status == "actioned"
    closed = moddy.client.get(url)
    assert closed.status_code == 409 and "already closed" in closed.get_data(as_text=True)


def test_a_moderator_cannot_suspend_an_administrator_through_a_report(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    boss = make_staff(app, signed_up("boss"), "admin")
    report_id = file(boss, app)
    response = moddy.client.post(
        f"/admin/reports/{report_id}/suspend", data={"csrf_token": moddy.csrf, "reason": "Phishing"}
    )
    assert response.status_code == 403
    assert report(app, report_id).status == "open"


def test_a_report_outlives_the_account_that_deleted_itself_and_only_dismissing_is_left(
    app: Flask, alice: Account, bob: Account, moddy: Account
) -> None:
    """A reported account cannot erase its report by deleting itself: the report stays open, marked, with
    its snapshot; hiding and suspending are refused with a sentence; dismissing closes it."""
    against_alice = file(alice, app, details="Fake <bank>")
    assert delete_account(alice, PASSWORD).status_code == 302
    kept = report(app, against_alice)
    assert (kept.user_id, kept.reported_username, kept.status) == (None, "alice", "open")
    assert kept.details == "Fake <bank>"
    queue = moddy.client.get("/admin/reports").get_data(as_text=True)
    assert "@alice (account deleted)" in queue and "1 open report," in queue
    page = moddy.client.get(f"/admin/reports/{against_alice}").get_data(as_text=True)
    assert "@alice (account deleted)" in page and "Fake &lt;bank&gt;" in page
    assert "Suspend" not in page and "Hide this link" not in page
    seen = {"url": "https://phish.example/"}
    for action, data in (
        ("suspend", {}),
        ("hide-link", {"link_id": "1", **seen}),
        ("hide-item", {"block_id": "1", **seen}),
    ):
        refused = moddy.client.post(
            f"/admin/reports/{against_alice}/{action}", data={"csrf_token": moddy.csrf, **data}
        )
        assert refused.status_code == 409, action
        assert "The reported account was deleted" in refused.get_data(as_text=True)
    assert report(app, against_alice).status == "open"
    dismissed = moddy.client.post(f"/admin/reports/{against_alice}/dismiss", data={"csrf_token": moddy.csrf})
    assert dismissed.status_code == 302 and report(app, against_alice).status == "dismissed"
    assert file(bob, app) != against_alice  # the page of another account is still reported as before


def test_closed_reports_are_listed_newest_first_with_outcome_and_who_closed_them(
    app: Flask, alice: Account, bob: Account, moddy: Account, signed_up: SignUp
) -> None:
    first, second, still_open = file(alice, app), file(bob, app), file(bob, app)
    for report_id in (first, second):
        closed = moddy.client.post(f"/admin/reports/{report_id}/dismiss", data={"csrf_token": moddy.csrf})
        assert closed.status_code == 302
    html = moddy.client.get("/admin/reports?status=closed").get_data(as_text=True)
    assert "2 closed reports, most recently closed first." in html and "@moddy" in html
    assert html.index(f'href="/admin/reports/{second}"') < html.index(f'href="/admin/reports/{first}"')
    assert f'href="/admin/reports/{still_open}"' not in html
    queue = moddy.client.get("/admin/reports").get_data(as_text=True)
    assert f'href="/admin/reports/{still_open}"' in queue and f'href="/admin/reports/{first}"' not in queue
    shown = moddy.client.get(f"/admin/reports/{first}").get_data(as_text=True)
    assert "dismissed" in shown and "by @moddy" in shown and "Back to the closed reports" in shown
    assert moddy.client.get("/admin/reports?status=shut").status_code == 400
    assert moddy.client.get("/admin/reports?status=closed&page=2").status_code == 404
    assert "dismissed: dismissed" not in html
    with app.app_context():  # the moderator's account goes: the closed report keeps their name
        db.session.delete(db.session.get(User, moddy.id))
        db.session.commit()
    boss = make_staff(app, signed_up("boss"), "admin")
    assert "by @moddy" in boss.client.get(f"/admin/reports/{first}").get_data(as_text=True)
    assert "<td>@moddy</td>" in boss.client.get("/admin/reports?status=closed").get_data(as_text=True)


def test_what_its_owner_changed_after_staff_looked_is_not_hidden(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    """The hide buttons carry the address staff saw: an owner who swaps an icon or re-addresses a link
    between the look and the click gets nothing innocent hidden, and the report stays open."""
    mallory = signed_up("mallory")
    icons = [{"network": "tiktok", "handle": "@scammer"}, {"network": "github", "handle": "innocentdev"}]
    row = mallory.api("POST", "/api/blocks", {"kind": "social", "items": icons}).get_json()
    link = mallory.add_link("Phish", "https://phish-two.example/")
    report_id = file(mallory, app)
    html = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    seen_icon = re.search(r'name="item" value="0">\s*<input type="hidden" name="url" value="([^"]+)"', html)
    seen_link = re.search(
        r'name="link_id" value="\d+">\s*<input type="hidden" name="url" value="([^"]+)"', html
    )
    assert seen_icon and seen_link and "scammer" in seen_icon[1]

    swapped = mallory.api("PATCH", f"/api/blocks/{row['id']}", {"items": icons[::-1]})
    assert swapped.status_code == 200
    moved = mallory.api("PUT", f"/api/edit/link/{link['id']}", {"url": "https://innocent-two.example/"})
    assert moved.status_code == 200
    form = {"csrf_token": moddy.csrf}
    for action, data in (
        ("hide-item", {"block_id": row["id"], "item": "0", "url": seen_icon[1]}),
        ("hide-link", {"link_id": link["id"], "url": seen_link[1]}),
    ):
        refused = moddy.client.post(f"/admin/reports/{report_id}/{action}", data={**form, **data})
        assert refused.status_code == 409 and "changed since you opened the report" in refused.get_data(True)
    assert report(app, report_id).status == "open"
    with app.app_context():
        kept = db.session.get(UserLink, link["id"])
        block = db.session.get(PageBlock, row["id"])
        assert kept is not None and kept.hidden_by_staff is False and kept.enabled is True
        assert block is not None and not any(entry.get("hidden_by_staff") for entry in block.fields["items"])


def test_an_out_of_range_link_id_is_a_404_not_a_500(app: Flask, alice: Account, moddy: Account) -> None:
    report_id = file(alice, app)
    url = f"/admin/reports/{report_id}/hide-link"
    for raw, status in (("99999999999999999999999", 400), ("2147483648", 404), ("0", 404)):
        response = moddy.client.post(url, data={"csrf_token": moddy.csrf, "link_id": raw})
        assert response.status_code == status, raw
    assert report(app, report_id).status == "open"


def test_the_only_administrator_may_close_reports_about_their_own_page(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    """Nobody else could (moderators never act on reports about staff): they would stay open for good."""
    boss = make_staff(app, signed_up("boss"), "admin")
    about_boss = file(boss, app)
    refused = moddy.client.post(f"/admin/reports/{about_boss}/dismiss", data={"csrf_token": moddy.csrf})
    assert refused.status_code == 403
    closed = boss.client.post(f"/admin/reports/{about_boss}/dismiss", data={"csrf_token": boss.csrf})
    assert closed.status_code == 302 and report(app, about_boss).status == "dismissed"
    deputy = make_staff(app, signed_up("deputy"), "admin")
    again = file(boss, app)
    mine = boss.client.post(f"/admin/reports/{again}/dismiss", data={"csrf_token": boss.csrf})
    assert mine.status_code == 403 and "your own page" in mine.get_data(as_text=True)
    assert (
        deputy.client.post(f"/admin/reports/{again}/dismiss", data={"csrf_token": deputy.csrf}).status_code
        == 302
    )


def test_reports_about_staff_are_for_administrators_and_never_about_oneself(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    boss = make_staff(app, signed_up("boss"), "admin")
    make_staff(app, signed_up("deputy"), "admin")  # another administrator, who could act on boss's page
    other = make_staff(app, signed_up("other"), "moderator")
    about_moddy, about_other, about_boss = file(moddy, app), file(other, app), file(boss, app)
    for report_id, why in ((about_moddy, "your own page"), (about_other, "Only an administrator")):
        refused = moddy.client.post(f"/admin/reports/{report_id}/suspend", data={"csrf_token": moddy.csrf})
        assert refused.status_code == 403
        assert why in refused.get_data(as_text=True)
    mine = boss.client.post(f"/admin/reports/{about_boss}/dismiss", data={"csrf_token": boss.csrf})
    assert mine.status_code == 403 and "your own page" in mine.get_data(as_text=True)
    queue = moddy.client.get("/admin/reports").get_data(as_text=True)
    assert "not for you: Only an administrator" in queue
    assert "a report about boss, an admin." in queue and "a report about other, a moderator." in queue
    allowed = boss.client.post(f"/admin/reports/{about_other}/dismiss", data={"csrf_token": boss.csrf})
    assert allowed.status_code == 302
    assert [report(app, i).status for i in (about_moddy, about_other, about_boss)] == [
        "open",
        "dismissed",
        "open",
    ]


def test_a_report_keeps_the_pages_social_icons_and_embeds_for_staff_to_see(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    icons = [{"network": "mastodon", "handle": "@a@phish.example"}, {"network": "github", "handle": "ana"}]
    assert mallory.api("POST", "/api/blocks", {"kind": "social", "items": icons}).status_code == 201
    embed = {"kind": "embed", "url": "https://youtu.be/dQw4w9WgXcQ", "title": "Watch"}
    assert mallory.api("POST", "/api/blocks", embed).status_code == 201
    report_id = file(mallory, app)
    assert report(app, report_id).snapshot_links == [
        {
            "id": None,
            "title": "Mastodon: @a@phish.example",
            "url": "https://phish.example/@a",
            "kind": "social",
        },
        {"id": None, "title": "GitHub: ana", "url": "https://github.com/ana", "kind": "social"},
        {"id": None, "title": "Watch", "url": "https://youtu.be/dQw4w9WgXcQ", "kind": "embed"},
    ]
    html = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert "Social icon: Mastodon: @a@phish.example" in html and "https://phish.example/@a" in html
    assert "Embed: Watch" in html


def test_staff_hide_one_social_icon_of_a_row_and_it_stays_hidden_through_its_owners_edits(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory, bob = signed_up("mallory"), signed_up("bob")
    icons = [{"network": "mastodon", "handle": "@a@phish.example"}, {"network": "github", "handle": "ana"}]
    row = mallory.api("POST", "/api/blocks", {"kind": "social", "items": icons}).get_json()
    others = bob.api("POST", "/api/blocks", {"kind": "social", "items": icons[1:]}).get_json()
    report_id = file(mallory, app)
    html = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert 'aria-label="Hide Social icon: Mastodon: @a@phish.example"' in html

    url = f"/admin/reports/{report_id}/hide-item"
    seen = {"url": "https://phish.example/@a"}
    for refused, status in (
        ({"block_id": others["id"], "item": "0"}, 404),  # another user's row
        ({"block_id": row["id"], "item": "2"}, 404),  # no third icon
        ({"block_id": row["id"]}, 400),  # a row is hidden an icon at a time
        ({"block_id": "x", "item": "0"}, 400),
        ({"block_id": row["id"], "item": "-1"}, 400),
        ({"block_id": row["id"], "item": "1"}, 409),  # the GitHub icon is not what was seen
    ):
        assert (
            moddy.client.post(url, data={"csrf_token": moddy.csrf, **seen, **refused}).status_code == status
        )
    assert moddy.client.post(url, data={"block_id": row["id"], "item": "0", **seen}).status_code in (400, 403)
    hidden = moddy.client.post(
        url, data={"csrf_token": moddy.csrf, "block_id": row["id"], "item": "0", **seen}
    )
    assert hidden.status_code == 302

    page = app.test_client().get("/mallory").get_data(as_text=True)
    assert "phish.example" not in page and "https://github.com/ana" in page
    assert "https://github.com/ana" in app.test_client().get("/bob").get_data(as_text=True)
    assert report(app, report_id).status == "actioned"
    assert actions(app)[-2:] == ["block.hide", "report.actioned"]

    again = [*icons, {"network": "github", "handle": "ana2"}]  # the editor sends the whole row back
    edited = mallory.api("PATCH", f"/api/blocks/{row['id']}", {"items": again})
    assert edited.status_code == 200
    assert [entry.get("hidden_by_staff", False) for entry in edited.get_json()["items"]] == [
        True,
        False,
        False,
    ]
    page = app.test_client().get("/mallory").get_data(as_text=True)
    assert "phish.example" not in page and "https://github.com/ana2" in page
    forged = [{**icons[0], "hidden_by_staff": False}]
    assert mallory.api("PATCH", f"/api/blocks/{row['id']}", {"items": forged}).status_code == 422

    for spelled in ("https://PHISH.example/@A/", "http://phish.example/@a?ref=bio#top"):  # the same profile
        respelled = [{"network": "mastodon", "handle": spelled}, icons[1]]
        assert mallory.api("PATCH", f"/api/blocks/{row['id']}", {"items": respelled}).status_code == 200
        assert "phish.example" not in app.test_client().get("/mallory").get_data(as_text=True).lower()
    assert mallory.api("PATCH", f"/api/blocks/{row['id']}", {"items": icons[1:]}).status_code == 200
    assert mallory.api("PATCH", f"/api/blocks/{row['id']}", {"items": icons}).status_code == 200  # back
    assert "phish.example" not in app.test_client().get("/mallory").get_data(as_text=True)


def test_staff_hide_an_embed_and_its_owner_cannot_show_it_again(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    embed = {"kind": "embed", "url": "https://youtu.be/dQw4w9WgXcQ", "title": "Watch"}
    block = mallory.api("POST", "/api/blocks", embed).get_json()
    report_id = file(mallory, app)
    url = f"/admin/reports/{report_id}/hide-item"
    form = {"csrf_token": moddy.csrf, "block_id": block["id"], "url": block["url"]}
    wrong = moddy.client.post(url, data={**form, "item": "0"})
    assert wrong.status_code == 400 and "An embed is hidden whole" in wrong.get_data(as_text=True)
    link = mallory.add_link("Shop", "https://shop.example/")
    with app.app_context():
        link_block = db.session.scalar(select(PageBlock.id).where(PageBlock.link_id == link["id"]))
    refused = moddy.client.post(url, data={**form, "block_id": link_block})
    assert refused.status_code == 400 and "a link has its own Hide button" in refused.get_data(as_text=True)
    assert moddy.client.post(url, data=form).status_code == 302
    assert "Watch" not in app.test_client().get("/mallory").get_data(as_text=True)

    shown = mallory.api("PATCH", f"/api/blocks/{block['id']}", {"title": "Still here", "enabled": True})
    assert shown.status_code == 409  # as for a link or a product
    edited = mallory.api("PATCH", f"/api/blocks/{block['id']}", {"title": "Still here"})
    assert edited.status_code == 200 and edited.get_json()["hidden_by_staff"] is True
    assert "Still here" not in app.test_client().get("/mallory").get_data(as_text=True)
    assert mallory.api("PATCH", f"/api/blocks/{block['id']}", {"hidden_by_staff": False}).status_code == 422
    html = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert "hidden by a moderator" in html
