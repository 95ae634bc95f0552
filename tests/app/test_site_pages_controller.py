"""controllers/site_pages.py without HTTP: revision numbering, the publishing task's choice of pages, the
slug race, and visibility as the menus read it (``SitePage.public_at``). Marked ``database_matrix``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from conexoos.app.controllers import site_pages
from conexoos.app.controllers.site_pages import PageInput, PageInvalid
from conexoos.app.models.persistent.site_page import SitePage, SitePageRevision
from conexoos.framework import db

pytestmark = pytest.mark.database_matrix

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def numbers(page_id: int) -> list[int]:
    query = select(SitePageRevision.number).where(SitePageRevision.page_id == page_id)
    return list(db.session.scalars(query.order_by(SitePageRevision.number)))


def test_revisions_are_numbered_per_page_and_hold_the_whole_state(app: Flask) -> None:
    with app.app_context():
        terms = site_pages.create(PageInput("terms", "Terms", body="v1"), None, NOW)
        privacy = site_pages.create(PageInput("privacy", "Privacy"), None, NOW)
        site_pages.update(
            terms, PageInput("terms", "Terms", "Rules", body="v2", status="published"), None, NOW
        )
        assert numbers(terms.id) == [1, 2] and numbers(privacy.id) == [1]
        [(latest, _), (first, _)] = site_pages.revisions(terms.id, 10)
        assert (first.body, first.status, latest.body, latest.status) == ("v1", "draft", "v2", "published")
        assert latest.description == "Rules" and terms.published_at == NOW


def test_the_task_publishes_only_the_due_scheduled_pages(app: Flask) -> None:
    with app.app_context():
        for slug, hours in (("soon", 1), ("later", 5)):
            site_pages.create(
                PageInput(slug, slug, status="scheduled", publish_at=NOW + timedelta(hours=hours)), None, NOW
            )
        site_pages.create(PageInput("draft", "Draft"), None, NOW)
        later = NOW + timedelta(hours=2)
        public = set(db.session.scalars(select(SitePage.slug).where(SitePage.public_at(later))))
        assert public == {"soon"}  # due before the task runs
        assert site_pages.publish_due(later) == 1
        statuses = {
            slug: status for slug, status in db.session.execute(select(SitePage.slug, SitePage.status))
        }
        assert statuses == {"soon": "published", "later": "scheduled", "draft": "draft"}
        soon = site_pages.page_by_slug("soon")
        assert soon is not None and soon.published_at == NOW + timedelta(hours=1)


def test_a_slug_taken_between_the_check_and_the_commit_is_reported_not_raised(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        site_pages.create(PageInput("terms", "Terms"), None, NOW)
        monkeypatch.setattr(site_pages, "_slug_problem", lambda slug, page_id: None)
        with pytest.raises(PageInvalid) as raised:
            site_pages.create(PageInput("terms", "Second"), None, NOW)
        assert raised.value.errors == {
            "slug": "Another page already lives at /p/terms: choose another address."
        }
        assert db.session.scalar(select(SitePage.title).where(SitePage.slug == "terms")) == "Terms"


def test_restoring_keeps_the_status_and_writes_a_note(app: Flask) -> None:
    with app.app_context():
        page = site_pages.create(PageInput("help", "Help", body="old"), None, NOW)
        site_pages.update(page, PageInput("help", "Help!", body="new", status="published"), None, NOW)
        [(_, _), (first, _)] = site_pages.revisions(page.id, 10)
        site_pages.restore(page, first, None, NOW)
        assert (page.title, page.body, page.status) == ("Help", "old", "published")
        [(latest, _), *_] = site_pages.revisions(page.id, 10)
        assert (latest.number, latest.note, latest.status) == (3, "Restored revision 1", "published")


def test_the_diff_marks_added_and_removed_lines(app: Flask) -> None:
    with app.app_context():
        page = site_pages.create(PageInput("d", "D", body="--- a rule\nsame\n"), None, NOW)
        site_pages.update(page, PageInput("d", "D", body="+++ b rule\nsame\n"), None, NOW)
        [(second, _), (first, _)] = site_pages.revisions(page.id, 10)
        changes = site_pages.diff(first, second)
        kinds = [(line.kind, line.mark, line.text) for line in changes.body if line.kind != "gap"]
        assert kinds == [
            ("remove", "\u2212", "--- a rule"),
            ("add", "+", "+++ b rule"),
            ("same", " ", "same"),
        ]
        assert changes.fields == [] and not site_pages.diff(second, second).body
